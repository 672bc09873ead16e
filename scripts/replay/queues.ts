/**
 * The deployment's queue names (modules/mirror-stack.ts, modules/table-loader.ts, modules/queue-with-dlq.ts), and
 * the operator's way of naming a dead-letter queue on the command line.
 */
import { loaderFunctionName } from "../../modules/config";
import type { ExportKind } from "../../facts/exports";
import { UnknownQueueError } from "./errors";

/** `<prefix>-downloads`: the receiver's jobs for the downloader. */
export function downloadsQueueName(prefix: string): string {
  return `${prefix}-downloads`;
}

/** `<prefix>-load-<kind>-<table>`: the queue of one table's loader of one kind (the function's name too). */
export function loaderQueueName(prefix: string, kind: ExportKind, table: string): string {
  return loaderFunctionName(prefix, kind, table);
}

/** Every queue's dead-letter queue is `<name>-dlq` (QueueWithDlq). */
export function deadLetterQueueName(queueName: string): string {
  return `${queueName}${DLQ_SUFFIX}`;
}

const DLQ_SUFFIX = "-dlq";
const LOADER_SHORT_NAME = /^load-(full|incremental)-([a-z][a-z0-9_]{0,62})$/;

/** Whose dead letters a DLQ holds: download jobs, or one loader's S3 events. */
export type DeadLetterSource =
  | { readonly type: "downloads" }
  | { readonly type: "loader"; readonly kind: ExportKind; readonly table: string };

export interface DeadLetterQueueRef {
  /** `<prefix>-downloads-dlq`, `<prefix>-load-full-petitions-dlq` */
  readonly deadLetterQueueName: string;
  /** The queue whose redrive policy sends its dead letters there, and where a redrive moves them back. */
  readonly sourceQueueName: string;
  readonly source: DeadLetterSource;
}

/**
 * Reads the operator's queue argument: a full name (`cs-mirror-downloads-dlq`), a short one (`downloads`,
 * `load-full-petitions`, with or without `-dlq`), the source queue's name, or a queue URL or ARN (the stack's
 * `download_dead_letter_queue_url` output). Throws UnknownQueueError unless it is a dead-letter queue of this
 * deployment (prefix, and for loaders a table of the config).
 */
export function resolveDeadLetterQueue(argument: string, prefix: string, tables: readonly string[]): DeadLetterQueueRef {
  // https://sqs.<region>.amazonaws.com/<account>/<name> or arn:aws:sqs:<region>:<account>:<name>
  const name = argument.trim().split(/[/:]/).pop() ?? "";
  const withoutDlq = name.endsWith(DLQ_SUFFIX) ? name.slice(0, -DLQ_SUFFIX.length) : name;
  const candidates = withoutDlq.startsWith(`${prefix}-`) ? [withoutDlq.slice(prefix.length + 1), withoutDlq] : [withoutDlq];

  for (const short of candidates) {
    if (short === "downloads") return ref(downloadsQueueName(prefix), { type: "downloads" });
    const m = LOADER_SHORT_NAME.exec(short);
    if (!m) continue;
    const [, kind, table] = m;
    if (!tables.includes(table)) {
      throw new UnknownQueueError(
        argument,
        `is the queue of a ${kind} loader of ${table}, which is not in this deployment's tables (config.ts): check the table's spelling`,
      );
    }
    return ref(loaderQueueName(prefix, kind as ExportKind, table), { type: "loader", kind: kind as ExportKind, table });
  }
  throw new UnknownQueueError(
    argument,
    `is not a dead-letter queue of the deployment ${prefix}: give downloads, load-<full|incremental>-<table>, or a ` +
      `full name such as ${deadLetterQueueName(downloadsQueueName(prefix))} (for another deployment, pass --prefix)`,
  );
}

function ref(sourceQueueName: string, source: DeadLetterSource): DeadLetterQueueRef {
  return { deadLetterQueueName: deadLetterQueueName(sourceQueueName), sourceQueueName, source };
}

/** `arn:aws:sqs:<region>:<account>:<name>` -> its parts (the partition may be aws-cn, aws-us-gov). */
export function parseQueueArn(arn: string): { region: string; account: string; name: string } | undefined {
  const m = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80})$/.exec(arn);
  return m ? { region: m[1], account: m[2], name: m[3] } : undefined;
}
