/**
 * The replay ports over the AWS SDK. Thin: one SDK call (or one paginated loop) per method, no decisions.
 */
import { randomUUID } from "node:crypto";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import type {
  BucketFinder,
  ListedObject,
  MessageClock,
  MessagePeeker,
  MessageSender,
  MoveTaskStarter,
  ObjectLister,
  ObjectStore,
  PeekedMessage,
  QueueResolver,
} from "./ports";

const unquote = (etag: string | undefined) => etag?.replace(/^"|"$/g, "");

export function s3ObjectLister(s3: S3Client): ObjectLister {
  return {
    async list(bucket, prefix) {
      const objects: ListedObject[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          const etag = unquote(o.ETag);
          objects.push({ key: o.Key, size: o.Size ?? 0, ...(etag ? { etag } : {}) });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return objects;
    },
  };
}

export function s3ObjectStore(s3: S3Client): ObjectStore {
  return {
    async get(bucket, key) {
      const result = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await result.Body?.transformToString("utf8")) ?? "";
    },
    async put(bucket, key, body) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "application/json" }));
    },
    async delete(bucket, key) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
  };
}

export function s3BucketFinder(s3: S3Client): BucketFinder {
  return {
    async bucketsNamed(namePrefix) {
      const names: string[] = [];
      let token: string | undefined;
      do {
        // With MaxBuckets, ListBuckets pages (and lists every bucket of the account, whatever the client's region).
        const page = await s3.send(new ListBucketsCommand({ Prefix: namePrefix, MaxBuckets: 1000, ContinuationToken: token }));
        // Filtered here too: not every S3-compatible store applies Prefix.
        names.push(...(page.Buckets ?? []).map((b) => b.Name ?? "").filter((n) => n.startsWith(namePrefix)));
        token = page.ContinuationToken;
      } while (token);
      return names;
    },
  };
}

export function sqsQueueResolver(sqs: SQSClient): QueueResolver {
  return {
    async describe(name) {
      let url: string | undefined;
      try {
        url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
      } catch (err) {
        if (err instanceof QueueDoesNotExist) return undefined;
        throw err;
      }
      if (url === undefined) return undefined;
      const attributes =
        (
          await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: url,
              AttributeNames: ["QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "RedrivePolicy"],
            }),
          )
        ).Attributes ?? {};
      let deadLetterTargetArn: string | undefined;
      if (attributes.RedrivePolicy) {
        const policy = JSON.parse(attributes.RedrivePolicy) as { deadLetterTargetArn?: unknown };
        if (typeof policy.deadLetterTargetArn === "string") deadLetterTargetArn = policy.deadLetterTargetArn;
      }
      return {
        name,
        url,
        arn: attributes.QueueArn ?? "",
        visibleMessages: Number(attributes.ApproximateNumberOfMessages ?? 0),
        inFlightMessages: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
        ...(deadLetterTargetArn !== undefined ? { deadLetterTargetArn } : {}),
      };
    },
    async namesStartingWith(namePrefix) {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: namePrefix, MaxResults: 1000, NextToken: token }));
        names.push(...(page.QueueUrls ?? []).map((url) => url.slice(url.lastIndexOf("/") + 1)));
        token = page.NextToken;
      } while (token);
      return names;
    },
  };
}

/**
 * ReceiveMessage with VisibilityTimeout 0 (the messages stay visible) and no wait. SQS short polling samples a
 * subset of its servers, so several calls may be needed, and may return the same message twice: ids are deduplicated
 * and reading stops when a call brings nothing new.
 */
export function sqsMessagePeeker(sqs: SQSClient): MessagePeeker {
  return {
    async peek(queueUrl, max) {
      const seen = new Map<string, PeekedMessage>();
      for (let attempt = 0; attempt < Math.ceil(max / 10) + 2 && seen.size < max; attempt++) {
        const page = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, max - seen.size),
            VisibilityTimeout: 0,
            WaitTimeSeconds: 0,
            MessageAttributeNames: ["All"],
            MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
          }),
        );
        let fresh = 0;
        for (const m of page.Messages ?? []) {
          if (m.MessageId === undefined || seen.has(m.MessageId) || seen.size >= max) continue;
          fresh++;
          const attributes: Record<string, string> = {};
          for (const [name, value] of Object.entries(m.MessageAttributes ?? {})) {
            if (value.StringValue !== undefined) attributes[name] = value.StringValue;
          }
          const receiveCount = m.Attributes?.ApproximateReceiveCount;
          const sent = m.Attributes?.SentTimestamp;
          seen.set(m.MessageId, {
            messageId: m.MessageId,
            body: m.Body ?? "",
            attributes,
            ...(receiveCount !== undefined ? { receiveCount: Number(receiveCount) } : {}),
            ...(sent !== undefined ? { sentAt: new Date(Number(sent)).toISOString() } : {}),
          });
        }
        if (fresh === 0) break;
      }
      return [...seen.values()];
    },
  };
}

export function sqsMessageSender(sqs: SQSClient): MessageSender {
  return {
    async send({ queueUrl, body, attributes }) {
      const result = await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageAttributes: Object.fromEntries(
            Object.entries(attributes).map(([name, value]) => [name, { DataType: "String", StringValue: value }]),
          ),
        }),
      );
      return result.MessageId ?? "";
    },
  };
}

export function sqsMoveTasks(sqs: SQSClient): MoveTaskStarter {
  return {
    async start({ sourceArn, destinationArn, maxPerSecond }) {
      const result = await sqs.send(
        new StartMessageMoveTaskCommand({
          SourceArn: sourceArn,
          // Named explicitly, not left to "the original source": the downloader puts its permanent failures on its
          // DLQ itself (SendMessage), and SQS knows no original source for those.
          DestinationArn: destinationArn,
          ...(maxPerSecond !== undefined ? { MaxNumberOfMessagesPerSecond: maxPerSecond } : {}),
        }),
      );
      return result.TaskHandle ?? "";
    },
    async list(sourceArn) {
      const result = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }));
      return (result.Results ?? []).map((t) => ({
        status: t.Status ?? "UNKNOWN",
        sourceArn: t.SourceArn ?? sourceArn,
        ...(t.TaskHandle !== undefined ? { taskHandle: t.TaskHandle } : {}),
        ...(t.DestinationArn !== undefined ? { destinationArn: t.DestinationArn } : {}),
        ...(t.MaxNumberOfMessagesPerSecond !== undefined ? { maxPerSecond: t.MaxNumberOfMessagesPerSecond } : {}),
        ...(t.ApproximateNumberOfMessagesMoved !== undefined ? { moved: t.ApproximateNumberOfMessagesMoved } : {}),
        ...(t.ApproximateNumberOfMessagesToMove !== undefined ? { toMove: t.ApproximateNumberOfMessagesToMove } : {}),
        ...(t.FailureReason ? { failureReason: t.FailureReason } : {}),
        ...(t.StartedTimestamp !== undefined ? { startedAt: new Date(t.StartedTimestamp).toISOString() } : {}),
      }));
    },
  };
}

export const systemMessageClock: MessageClock = { now: () => new Date(), newId: () => randomUUID() };

export interface AwsReplayPorts {
  readonly objects: ObjectLister;
  readonly store: ObjectStore;
  readonly buckets: BucketFinder;
  readonly queues: QueueResolver;
  readonly peeker: MessagePeeker;
  readonly sender: MessageSender;
  readonly moveTasks: MoveTaskStarter;
  readonly clock: MessageClock;
  close(): void;
}

/** Every port, over clients for the region (credentials from the SDK's default chain). */
export function awsReplayPorts(region: string): AwsReplayPorts {
  // ListBuckets lists every region's buckets; following redirects lets the listing reach the bucket wherever it is.
  const s3 = new S3Client({ region, followRegionRedirects: true });
  const sqs = new SQSClient({ region });
  return {
    objects: s3ObjectLister(s3),
    store: s3ObjectStore(s3),
    buckets: s3BucketFinder(s3),
    queues: sqsQueueResolver(sqs),
    peeker: sqsMessagePeeker(sqs),
    sender: sqsMessageSender(sqs),
    moveTasks: sqsMoveTasks(sqs),
    clock: systemMessageClock,
    close() {
      s3.destroy();
      sqs.destroy();
    },
  };
}
