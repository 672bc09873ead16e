/**
 * What the replay core needs from AWS. scripts/replay/aws.ts implements these with the SDK; tests use a real
 * S3-compatible server for the object ports and small recording fakes for the SQS ones (no local SQS exists).
 * Reads (list, describe, peek, list tasks) happen in dry runs too; writes (send, start) only with --execute.
 */

/** One object of a listing. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  /** Without the quotes S3 puts around it. */
  readonly etag?: string;
}

export interface ObjectLister {
  /** Every object under the prefix (all pages of ListObjectsV2), in S3's key order. */
  list(bucket: string, prefix: string): Promise<ListedObject[]>;
}

/** Single objects of the exports bucket: the quarantine records. */
export interface ObjectStore {
  /** The object's body as UTF-8 text. */
  get(bucket: string, key: string): Promise<string>;
  put(bucket: string, key: string, body: string): Promise<void>;
  delete(bucket: string, key: string): Promise<void>;
}

export interface BucketFinder {
  /** The names of the account's buckets starting with `namePrefix` (ListBuckets). */
  bucketsNamed(namePrefix: string): Promise<string[]>;
}

/** A queue as SQS describes it (GetQueueUrl + GetQueueAttributes). */
export interface QueueDescription {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  /** ApproximateNumberOfMessages: available to receive (or to move). */
  readonly visibleMessages: number;
  /** ApproximateNumberOfMessagesNotVisible: received and not yet deleted, or not yet visible again. */
  readonly inFlightMessages: number;
  /** The `deadLetterTargetArn` of the queue's RedrivePolicy, when it has one. */
  readonly deadLetterTargetArn?: string;
}

export interface QueueResolver {
  /** The queue named so, or undefined when SQS has no such queue. */
  describe(name: string): Promise<QueueDescription | undefined>;
  /** The names of the queues whose name starts with `namePrefix` (ListQueues, all pages). */
  namesStartingWith(namePrefix: string): Promise<string[]>;
}

/** A message read with ReceiveMessage and VisibilityTimeout 0: it stays in the queue, visible to everyone. */
export interface PeekedMessage {
  readonly messageId: string;
  readonly body: string;
  /** String message attributes (the downloader's `failure-reason`, `failure-status`, `source-message-id`). */
  readonly attributes: Readonly<Record<string, string>>;
  readonly receiveCount?: number;
  /** When the message was first sent to any queue (SentTimestamp), ISO 8601. */
  readonly sentAt?: string;
}

export interface MessagePeeker {
  /** Up to `max` distinct messages, without consuming them. */
  peek(queueUrl: string, max: number): Promise<PeekedMessage[]>;
}

export interface OutgoingMessage {
  readonly queueUrl: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface MessageSender {
  /** SendMessage; returns the new message's id. */
  send(message: OutgoingMessage): Promise<string>;
}

/** One entry of ListMessageMoveTasks. */
export interface MoveTask {
  readonly taskHandle?: string;
  /** RUNNING, COMPLETED, CANCELLING, CANCELLED or FAILED. */
  readonly status: string;
  readonly sourceArn: string;
  readonly destinationArn?: string;
  readonly maxPerSecond?: number;
  readonly moved?: number;
  readonly toMove?: number;
  readonly failureReason?: string;
  /** ISO 8601. */
  readonly startedAt?: string;
}

export interface MoveTaskStarter {
  /** StartMessageMoveTask; returns the task handle. */
  start(task: { sourceArn: string; destinationArn: string; maxPerSecond?: number }): Promise<string>;
  /** ListMessageMoveTasks: the most recent tasks (up to 10) of a dead-letter queue. */
  list(sourceArn: string): Promise<MoveTask[]>;
}

/** Time and ids for the messages built at execution. */
export interface MessageClock {
  now(): Date;
  newId(): string;
}
