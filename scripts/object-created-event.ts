/**
 * The one builder of the S3 "Object Created" event as EventBridge forwards it to a loader's queue
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html; handlers/loader/event.ts parses it): the
 * message `npm run replay -- reload` sends, the one `npm run local` queues for each new object, and the tests' events.
 *
 * The key is written as given: every export key (`exports/{kind}/{table}/{YYYYMMDD}/{file}`, made of `[a-z0-9_./]`)
 * reads the same URL-encoded or not; a test that wants S3's encoding passes the encoded key.
 */

export interface ObjectCreatedEventInput {
  readonly bucket: string;
  readonly key: string;
  /** Omitted when unknown. */
  readonly size?: number;
  /** Without quotes; omitted when unknown. */
  readonly etag?: string;
  /** The account and region of the deployment (from the loader queue's ARN). */
  readonly account: string;
  readonly region: string;
  readonly time: Date;
  /** The event's id; also its request-id, so one replay message is traceable end to end. */
  readonly id: string;
  /** What wrote the object. @default "PutObject" */
  readonly reason?: "PutObject" | "CompleteMultipartUpload" | "CopyObject";
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
      object: {
        key: input.key,
        ...(input.size !== undefined ? { size: input.size } : {}),
        ...(input.etag !== undefined ? { etag: input.etag } : {}),
      },
      "request-id": input.id,
      requester: input.account,
      reason: input.reason ?? "PutObject",
    },
  });
}
