/**
 * The message a reload puts on a loader's queue: the same EventBridge event the table's rule would have forwarded
 * for the object (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html), so the loader takes the
 * reload exactly as it takes a new export (handlers/loader/event.ts parses it).
 *
 * The key is written as is, not URL-encoded: every export key (`exports/{kind}/{table}/{YYYYMMDD}/{file}`, made
 * of `[a-z0-9_./]`) reads the same encoded or not, and the planner sends nothing else.
 */

export interface ObjectCreatedEventInput {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** Without quotes; omitted when unknown. */
  readonly etag?: string;
  /** The account and region of the deployment (from the loader queue's ARN). */
  readonly account: string;
  readonly region: string;
  readonly time: Date;
  /** The event's id; also its request-id, so one replay message is traceable end to end. */
  readonly id: string;
}

/** The event's JSON, in the field order EventBridge uses. */
export function objectCreatedEvent(input: ObjectCreatedEventInput): string {
  return JSON.stringify({
    version: "0",
    id: input.id,
    "detail-type": "Object Created",
    source: "aws.s3",
    account: input.account,
    // EventBridge's times have no milliseconds: 2024-03-01T02:03:04Z.
    time: input.time.toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: input.region,
    resources: [`arn:aws:s3:::${input.bucket}`],
    detail: {
      version: "0",
      bucket: { name: input.bucket },
      object: { key: input.key, size: input.size, ...(input.etag !== undefined ? { etag: input.etag } : {}) },
      "request-id": input.id,
      requester: input.account,
      reason: "PutObject",
    },
  });
}

/** The SQS message attribute that marks a replayed event (the loader ignores attributes; people and logs do not). */
export const REPLAY_MESSAGE_ATTRIBUTE = "replayed-by";
export const REPLAY_MESSAGE_ATTRIBUTE_VALUE = "controlshift-mirror replay";
