/**
 * The replay CLI's errors. Each message names the bad value and says what to do next; the CLI prints it as is
 * (exit 1; a usage error, scripts/command-line.ts, exits 2) and never a stack trace.
 */

export class ReplayError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The table is not one this deployment mirrors, so it has no loaders. */
export class UnknownTableError extends ReplayError {
  constructor(readonly table: string, readonly prefix: string) {
    super(
      `table ${JSON.stringify(table)} is not in this deployment's tables (config.ts), so ${prefix} has no loader for it: ` +
        "check the spelling (ControlShift's table names are plural snake case, e.g. petitions, signatures)",
    );
  }
}

/** `--object` is not a key the downloader writes. */
export class NotAnExportKeyError extends ReplayError {
  constructor(readonly key: string, reason: string) {
    super(`--object ${JSON.stringify(key)} is not an export key: ${reason}. Keys look like exports/full/petitions/20240301/petitions_20240301020304.csv.bz2`);
  }
}

/** `--object` is an export of another table than the one named. */
export class ObjectOfAnotherTableError extends ReplayError {
  constructor(readonly key: string, readonly table: string, readonly objectTable: string) {
    super(
      `--object ${JSON.stringify(key)} is an export of ${objectTable}, not of ${table}: ` +
        `run \`reload ${objectTable} --object ${key}\` if that is the object you mean`,
    );
  }
}

/** `--object` names an export key that is not in the bucket. */
export class ObjectNotFoundError extends ReplayError {
  constructor(readonly key: string, readonly bucket: string) {
    super(
      `no object ${key} in bucket ${bucket}: list what there is with ` +
        `\`aws s3 ls s3://${bucket}/${key.slice(0, key.lastIndexOf("/") + 1)}\` (exports expire after exports.expireAfterDays)`,
    );
  }
}

/** A reload without `--object` needs a full export to start from. */
export class NoFullExportError extends ReplayError {
  constructor(readonly table: string, readonly bucket: string, readonly prefix: string) {
    super(`no full export of ${table} under ${prefix} in bucket ${bucket}: wait for the nightly export or pass --object`);
  }
}

/** ListBuckets found no exports bucket, or several, for the prefix. */
export class ExportsBucketNotFoundError extends ReplayError {
  constructor(readonly namePrefix: string, readonly candidates: readonly string[]) {
    super(
      candidates.length === 0
        ? `no bucket named ${namePrefix}* in this account: check --prefix, or pass --bucket <name> (the exports_bucket output of \`npx cdktf output\`)`
        : `${candidates.length} buckets are named ${namePrefix}* (${candidates.join(", ")}): pass --bucket <name> (the exports_bucket output of \`npx cdktf output\`)`,
    );
  }
}

/** The queue argument is not one of this deployment's dead-letter queues. */
export class UnknownQueueError extends ReplayError {
  constructor(readonly queue: string, reason: string) {
    super(`queue ${JSON.stringify(queue)} ${reason}`);
  }
}

/** The queue's name is right but SQS has no such queue (wrong prefix, region or account, or not deployed). */
export class QueueNotFoundError extends ReplayError {
  constructor(readonly queueName: string, readonly region: string) {
    super(
      `SQS has no queue ${queueName} in ${region}: check --prefix and --region (defaults from config.ts), ` +
        "the AWS account of your credentials, and that the stack is deployed",
    );
  }
}

/** The source queue does not send its dead letters to this DLQ: moving them there would be wrong. */
export class RedrivePolicyMismatchError extends ReplayError {
  constructor(readonly sourceQueue: string, readonly deadLetterQueueArn: string, actual: string | undefined) {
    super(
      actual === undefined
        ? `queue ${sourceQueue} has no redrive policy, so ${deadLetterQueueArn} is not its dead-letter queue: ` +
            "redrive refuses to move messages between unrelated queues; check the stack with `npx cdktf diff`"
        : `queue ${sourceQueue} sends its dead letters to ${actual}, not to ${deadLetterQueueArn}: ` +
            "redrive refuses to move messages between unrelated queues; check the stack with `npx cdktf diff`",
    );
  }
}

/** SQS runs at most one move task per dead-letter queue. */
export class MoveTaskRunningError extends ReplayError {
  constructor(readonly queueName: string, readonly taskHandle: string | undefined) {
    super(
      `a message move task is already running on ${queueName}${taskHandle ? ` (${taskHandle})` : ""}: ` +
        `follow it with \`npm run replay -- redrive ${queueName} --status\`, or cancel it with ` +
        "`aws sqs cancel-message-move-task --task-handle <handle>` before starting another",
    );
  }
}

/** `--execute` stopped part way: says what was done, so the operator knows where things stand. */
export class ExecutionError extends ReplayError {
  constructor(readonly done: number, readonly total: number, readonly failedAction: string, cause: unknown) {
    super(
      `${failedAction} failed after ${done} of ${total} action${total === 1 ? "" : "s"} succeeded: ${describeError(cause)}. ` +
        (done === 0
          ? "Nothing was changed; fix the cause and run the command again."
          : "Running the command again re-sends the done ones too, which is safe (a re-load of an already loaded export changes nothing)."),
      { cause },
    );
  }
}

/** `Name: message` of any thrown value, for messages. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.name && err.name !== "Error" ? `${err.name}: ${err.message}` : err.message;
  return String(err);
}
