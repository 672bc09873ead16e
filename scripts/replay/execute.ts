/**
 * Runs a plan's actions in order, or (dry run) only says what it would do. The only place that writes.
 * It stops at the first failure and says how far it got (ExecutionError).
 */
import { downloadJobMessage } from "../../handlers/receiver/aws-adapters";
import { resubmittedKey } from "../../handlers/shared/quarantine";
import { describeAction, type ReplayAction, type ResubmitQuarantinedAction, type SendObjectCreatedAction } from "./actions";
import { objectCreatedEvent } from "../object-created-event";

/** The SQS message attribute that marks a replayed event (the loader ignores attributes; people and logs do not). */
const REPLAY_MESSAGE_ATTRIBUTE = "replayed-by";
const REPLAY_MESSAGE_ATTRIBUTE_VALUE = "controlshift-mirror replay";
import { ExecutionError, ReplayError } from "./errors";
import type { MessageClock, MessageSender, MoveTaskStarter, ObjectStore, OutgoingMessage } from "./ports";
import { parseQueueArn } from "./queues";

export interface ExecutorPorts {
  readonly sender: MessageSender;
  readonly moveTasks: MoveTaskStarter;
  readonly clock: MessageClock;
  /** Moves re-submitted quarantine records; only `quarantine` plans need it. */
  readonly store?: ObjectStore;
}

/**
 * The SQS message for a re-submitted payload: the job as the receiver sends it (same body and table/kind
 * attributes, handlers/receiver/aws-adapters.ts), marked as a replay.
 */
export function quarantineJobMessage(action: ResubmitQuarantinedAction): OutgoingMessage {
  const message = downloadJobMessage(action.queue.url, action.job);
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  return {
    queueUrl: action.queue.url,
    body: message.MessageBody ?? "",
    attributes: { ...attributes, [REPLAY_MESSAGE_ATTRIBUTE]: REPLAY_MESSAGE_ATTRIBUTE_VALUE },
  };
}

export interface ExecuteOptions {
  /** false: a dry run, nothing is written. */
  readonly execute: boolean;
  readonly out: (line: string) => void;
}

export interface ExecutionResult {
  readonly executed: boolean;
  /** SendMessage's message ids, in order. */
  readonly messageIds: readonly string[];
  readonly taskHandles: readonly string[];
}

/** The SQS message for a send action: the object's EventBridge event, built now (time, id). */
export function messageFor(action: SendObjectCreatedAction, clock: MessageClock): OutgoingMessage {
  const arn = parseQueueArn(action.queue.arn);
  if (arn === undefined) {
    throw new ReplayError(`queue ${action.queue.name} has the ARN ${JSON.stringify(action.queue.arn)}, which is not an SQS queue ARN`);
  }
  return {
    queueUrl: action.queue.url,
    body: objectCreatedEvent({
      bucket: action.bucket,
      key: action.object.key,
      size: action.object.size,
      etag: action.object.etag,
      account: arn.account,
      region: arn.region,
      time: clock.now(),
      id: clock.newId(),
    }),
    attributes: { [REPLAY_MESSAGE_ATTRIBUTE]: REPLAY_MESSAGE_ATTRIBUTE_VALUE },
  };
}

export async function executeActions(
  actions: readonly ReplayAction[],
  ports: ExecutorPorts,
  options: ExecuteOptions,
): Promise<ExecutionResult> {
  const total = actions.length;
  const step = (i: number) => `[${i + 1}/${total}]`;
  if (!options.execute) {
    actions.forEach((action, i) => options.out(`${step(i)} would ${describeAction(action)}`));
    options.out(
      total === 0
        ? "dry run: nothing to do"
        : `dry run: nothing was changed; run the same command with --execute to do ${total === 1 ? "this" : `these ${total} actions`}`,
    );
    return { executed: false, messageIds: [], taskHandles: [] };
  }

  const messageIds: string[] = [];
  const taskHandles: string[] = [];
  for (const [i, action] of actions.entries()) {
    try {
      switch (action.type) {
        case "send-object-created": {
          const id = await ports.sender.send(messageFor(action, ports.clock));
          messageIds.push(id);
          options.out(`${step(i)} ${describeAction(action)}: sent, message id ${id}`);
          break;
        }
        case "start-message-move-task": {
          const handle = await ports.moveTasks.start({
            sourceArn: action.source.arn,
            destinationArn: action.destination.arn,
            ...(action.maxPerSecond !== undefined ? { maxPerSecond: action.maxPerSecond } : {}),
          });
          taskHandles.push(handle);
          options.out(`${step(i)} ${describeAction(action)}: started, task handle ${handle}`);
          options.out(`follow it with: npm run replay -- redrive ${action.source.name} --status`);
          break;
        }
        case "resubmit-quarantined": {
          if (ports.store === undefined) throw new ReplayError("no object store to move the quarantine record with");
          const id = await ports.sender.send(quarantineJobMessage(action));
          messageIds.push(id);
          // Queued first, then moved: a failure in between leaves the record pending, and a second run sends the
          // job again, which the downloader and loaders take as the redelivery it is.
          const record = { ...action.record, resubmitted: { at: ports.clock.now().toISOString(), messageId: id, queue: action.queue.name } };
          await ports.store.put(action.bucket, resubmittedKey(action.key), JSON.stringify(record, null, 2));
          await ports.store.delete(action.bucket, action.key);
          options.out(`${step(i)} ${describeAction(action)}: sent, message id ${id}; moved to ${resubmittedKey(action.key)}`);
          break;
        }
      }
    } catch (err) {
      throw new ExecutionError(i, total, `${step(i)} ${describeAction(action)}`, err);
    }
  }
  options.out(total === 0 ? "nothing to do" : `done: ${total} action${total === 1 ? "" : "s"}`);
  return { executed: true, messageIds, taskHandles };
}
