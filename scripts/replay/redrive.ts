/**
 * `redrive <queue>`: SQS's own dead-letter queue redrive (StartMessageMoveTask) from a DLQ back to the queue whose
 * redrive policy sent the messages there, and `redrive --status` (ListMessageMoveTasks).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html
 *
 * The planner only reads (attributes, move tasks, and with --peek a few messages left in place); the one write, the
 * move task, is an action for the executor.
 */
import { parseLoaderMessage } from "../../handlers/loader/event";
import type { StartMessageMoveTaskAction } from "./actions";
import {
  MoveTaskRunningError,
  QueueNotFoundError,
  RedrivePolicyMismatchError,
  describeError,
  type ReplayError,
} from "./errors";
import type { MessagePeeker, MoveTask, MoveTaskStarter, PeekedMessage, QueueDescription, QueueResolver } from "./ports";
import { DEAD_LETTER_ATTRIBUTES } from "../../facts/dead-letters";
import { resolveDeadLetterQueue, type DeadLetterQueueRef, type DeadLetterSource } from "./queues";

/** How long ControlShift's presigned export URLs stay valid (help, "The webhook ControlShift sends, and the export file name": valid 6 hours). */
export const EXPORT_URL_LIFETIME_MS = 6 * 3600 * 1000;

const { reason: FAILURE_REASON, status: FAILURE_STATUS } = DEAD_LETTER_ATTRIBUTES;

export interface RedriveRequest {
  readonly prefix: string;
  readonly region: string;
  readonly tables: readonly string[];
  readonly queue: string;
  /** Read up to `samples` messages with VisibilityTimeout 0. */
  readonly peek: boolean;
  readonly samples: number;
  readonly maxPerSecond?: number;
}

export interface RedrivePorts {
  readonly queues: QueueResolver;
  readonly peeker: MessagePeeker;
  readonly moveTasks: MoveTaskStarter;
}

/** The key facts of one dead letter, as label/value pairs (never the export URL). */
export interface SampleFacts {
  readonly messageId: string;
  readonly facts: ReadonlyArray<readonly [string, string]>;
}

export interface RedrivePlan {
  readonly ref: DeadLetterQueueRef;
  readonly deadLetterQueue: QueueDescription;
  readonly sourceQueue: QueueDescription;
  /** Only with --peek. */
  readonly samples?: readonly SampleFacts[];
  /** Empty when there is nothing to move, or when `problem` is set. */
  readonly actions: readonly StartMessageMoveTaskAction[];
  /** Why the redrive cannot start now; the CLI shows the plan, then this error. */
  readonly problem?: ReplayError;
}

async function describeOrThrow(queues: QueueResolver, name: string, region: string): Promise<QueueDescription> {
  const queue = await queues.describe(name);
  if (queue === undefined) throw new QueueNotFoundError(name, region);
  return queue;
}

export async function planRedrive(request: RedriveRequest, ports: RedrivePorts, now: Date): Promise<RedrivePlan> {
  const ref = resolveDeadLetterQueue(request.queue, request.prefix, request.tables);
  const deadLetterQueue = await describeOrThrow(ports.queues, ref.deadLetterQueueName, request.region);
  const sourceQueue = await describeOrThrow(ports.queues, ref.sourceQueueName, request.region);
  // Move the messages only where they came from: the source's redrive policy must name this DLQ.
  if (sourceQueue.deadLetterTargetArn !== deadLetterQueue.arn) {
    throw new RedrivePolicyMismatchError(sourceQueue.name, deadLetterQueue.arn, sourceQueue.deadLetterTargetArn);
  }

  const samples = request.peek
    ? (await ports.peeker.peek(deadLetterQueue.url, request.samples)).map((m) => sampleFacts(ref.source, m, now))
    : undefined;

  const running = (await ports.moveTasks.list(deadLetterQueue.arn)).find((t) => t.status === "RUNNING" || t.status === "CANCELLING");
  const problem = running ? new MoveTaskRunningError(deadLetterQueue.name, running.taskHandle) : undefined;

  const toQueueRef = (q: QueueDescription) => ({ name: q.name, url: q.url, arn: q.arn });
  const actions: StartMessageMoveTaskAction[] =
    problem || deadLetterQueue.visibleMessages === 0
      ? []
      : [
          {
            type: "start-message-move-task",
            source: toQueueRef(deadLetterQueue),
            destination: toQueueRef(sourceQueue),
            approximateMessages: deadLetterQueue.visibleMessages,
            ...(request.maxPerSecond !== undefined ? { maxPerSecond: request.maxPerSecond } : {}),
          },
        ];
  return { ref, deadLetterQueue, sourceQueue, samples, actions, problem };
}

function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What an operator needs to decide on a dead letter. Download jobs carry a presigned URL: only named fields are
 * read from them, never the URL.
 */
export function sampleFacts(source: DeadLetterSource, message: PeekedMessage, now: Date): SampleFacts {
  const facts: Array<readonly [string, string]> = [];
  if (source.type === "downloads") {
    const job = jsonObject(message.body);
    if (job === undefined) {
      facts.push(["job", "not a JSON object (a malformed job)"]);
    } else {
      for (const field of ["table", "kind", "fileName"] as const) {
        facts.push([field, typeof job[field] === "string" ? (job[field] as string) : "(missing)"]);
      }
      if (typeof job.receivedAt === "string") {
        const age = now.getTime() - Date.parse(job.receivedAt);
        const expired = Number.isFinite(age) && age > EXPORT_URL_LIFETIME_MS;
        facts.push([
          "receivedAt",
          job.receivedAt + (expired ? " (its export URL has expired: ControlShift's URLs last 6 hours, so this download fails again)" : ""),
        ]);
      }
    }
    const reason = message.attributes[FAILURE_REASON];
    facts.push([
      FAILURE_REASON,
      reason ?? "(none: SQS moved it after the downloader failed it repeatedly; see the downloader's logs)",
    ]);
    if (message.attributes[FAILURE_STATUS] !== undefined) facts.push([FAILURE_STATUS, message.attributes[FAILURE_STATUS]]);
  } else {
    try {
      const event = parseLoaderMessage(message.body);
      if (event.type === "object-created") {
        facts.push(["object", event.key]);
        if (event.size !== undefined) facts.push(["size", String(event.size)]);
      } else {
        facts.push(["event", `not an S3 Object Created event: ${event.description}`]);
      }
    } catch (err) {
      facts.push(["event", `unreadable: ${describeError(err)}`]);
    }
  }
  if (message.receiveCount !== undefined) facts.push(["receives", String(message.receiveCount)]);
  if (message.sentAt !== undefined) facts.push(["first sent", message.sentAt]);
  return { messageId: message.messageId, facts };
}

export function describeRedrivePlan(plan: RedrivePlan): string[] {
  const dlq = plan.deadLetterQueue;
  const lines = [
    `redrive ${dlq.name} -> ${plan.sourceQueue.name}`,
    `  ${dlq.name}: about ${dlq.visibleMessages} message(s) waiting, ${dlq.inFlightMessages} in flight (approximate counts, GetQueueAttributes)`,
  ];
  if (dlq.inFlightMessages > 0) {
    lines.push("  messages in flight are being read by someone else right now: a move task takes them only once they are visible again");
  }
  if (plan.samples !== undefined) {
    lines.push(`  ${plan.samples.length} message(s) peeked (left in the queue):`);
    for (const sample of plan.samples) {
      lines.push(`  - message ${sample.messageId}`);
      for (const [label, value] of sample.facts) lines.push(`      ${label}: ${value}`);
    }
  }
  if (!plan.problem && plan.actions.length === 0) {
    lines.push(`  nothing to move: ${dlq.name} has no visible messages (counts lag by up to a minute; try again if you just saw some)`);
  }
  return lines;
}

export interface QueueMoveTasks {
  readonly queue: QueueDescription;
  readonly tasks: readonly MoveTask[];
}

/**
 * `redrive [<queue>] --status`: the move tasks of one DLQ, or of every DLQ of the deployment (ListQueues with the
 * prefix, kept to the names resolveDeadLetterQueue accepts; each costs a GetQueueUrl, a GetQueueAttributes and a
 * ListMessageMoveTasks).
 */
export async function redriveStatus(
  request: Pick<RedriveRequest, "prefix" | "region" | "tables"> & { readonly queue?: string },
  ports: Pick<RedrivePorts, "queues" | "moveTasks">,
): Promise<QueueMoveTasks[]> {
  let names: string[];
  if (request.queue !== undefined) {
    names = [resolveDeadLetterQueue(request.queue, request.prefix, request.tables).deadLetterQueueName];
  } else {
    const all = await ports.queues.namesStartingWith(`${request.prefix}-`);
    names = all
      .filter((name) => {
        try {
          return resolveDeadLetterQueue(name, request.prefix, request.tables).deadLetterQueueName === name;
        } catch {
          return false; // another deployment's queue whose prefix starts like ours, or a table no longer in config
        }
      })
      .sort();
  }
  const result: QueueMoveTasks[] = [];
  for (const name of names) {
    const queue = await describeOrThrow(ports.queues, name, request.region);
    result.push({ queue, tasks: await ports.moveTasks.list(queue.arn) });
  }
  return result;
}

function describeTask(task: MoveTask, nameOf: (arn: string) => string): string {
  const parts = [task.status];
  if (task.moved !== undefined) {
    parts.push(task.toMove !== undefined ? `moved ${task.moved} of ${task.toMove}` : `moved ${task.moved}`);
  }
  if (task.startedAt !== undefined) parts.push(`started ${task.startedAt}`);
  parts.push(`to ${task.destinationArn !== undefined ? nameOf(task.destinationArn) : "the original source queues"}`);
  if (task.maxPerSecond !== undefined) parts.push(`at most ${task.maxPerSecond}/s`);
  if (task.failureReason) parts.push(`failure: ${task.failureReason}`);
  if (task.taskHandle) parts.push(`handle ${task.taskHandle}`);
  return parts.join(", ");
}

/** One queue's tasks; with several queues (no <queue> given), only those with messages or tasks. */
export function describeRedriveStatus(status: readonly QueueMoveTasks[], oneQueue: boolean): string[] {
  const nameOf = (arn: string) => arn.slice(arn.lastIndexOf(":") + 1);
  const lines: string[] = [];
  const shown = oneQueue ? status : status.filter((s) => s.tasks.length > 0 || s.queue.visibleMessages > 0 || s.queue.inFlightMessages > 0);
  for (const { queue, tasks } of shown) {
    lines.push(`${queue.name}: about ${queue.visibleMessages} message(s) waiting, ${queue.inFlightMessages} in flight`);
    if (tasks.length === 0) lines.push("  no message move task on record");
    for (const task of tasks) lines.push(`  ${describeTask(task, nameOf)}`);
  }
  if (!oneQueue) {
    lines.push(
      `${status.length} dead-letter queue(s) checked; ${shown.length} with messages or move tasks` +
        (status.length === 0 ? " (none found: check --prefix and --region)" : ""),
    );
  }
  return lines;
}
