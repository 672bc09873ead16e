/**
 * The replay's SQS adapters (scripts/replay/aws.ts) through the real SDK client, against a small SQS endpoint on
 * loopback that speaks SQS's JSON protocol and records each request (no local SQS exists; this checks the requests
 * the SDK actually sends: VisibilityTimeout 0 on peeks, both ARNs on the move task). The S3 adapters run against
 * s3rver in replay-reload.test.ts.
 */
import { createHash } from "node:crypto";
import { SQSClient } from "@aws-sdk/client-sqs";
import { LoopbackSqs } from "./helpers/loopback-sqs";
import { sqsMessagePeeker, sqsMessageSender, sqsMoveTasks, sqsQueueResolver } from "../scripts/replay/aws";

const ACCOUNT = "123456789012";
const arnOf = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;
const md5 = (text: string) => createHash("md5").update(text).digest("hex");

const sqsServer = new LoopbackSqs();
let client: SQSClient;

beforeAll(async () => {
  await sqsServer.start();
  client = new SQSClient({
    endpoint: sqsServer.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client?.destroy();
  await sqsServer.close();
});

beforeEach(() => {
  sqsServer.requests.length = 0;
  sqsServer.replies.clear();
});

const urlOf = (name: string) => `${sqsServer.endpoint}/${ACCOUNT}/${name}`;

describe("sqsQueueResolver", () => {
  it("describes a queue: its URL, ARN, approximate counts and redrive target", async () => {
    sqsServer.reply("GetQueueUrl", () => ({ body: { QueueUrl: urlOf("cs-mirror-downloads") } }));
    sqsServer.reply("GetQueueAttributes", () => ({
      body: {
        Attributes: {
          QueueArn: arnOf("cs-mirror-downloads"),
          ApproximateNumberOfMessages: "3",
          ApproximateNumberOfMessagesNotVisible: "1",
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf("cs-mirror-downloads-dlq"), maxReceiveCount: 5 }),
        },
      },
    }));

    expect(await sqsQueueResolver(client).describe("cs-mirror-downloads")).toEqual({
      name: "cs-mirror-downloads",
      url: urlOf("cs-mirror-downloads"),
      arn: arnOf("cs-mirror-downloads"),
      visibleMessages: 3,
      inFlightMessages: 1,
      deadLetterTargetArn: arnOf("cs-mirror-downloads-dlq"),
    });
    expect(sqsServer.requests).toEqual([
      { action: "GetQueueUrl", input: { QueueName: "cs-mirror-downloads" } },
      {
        action: "GetQueueAttributes",
        input: {
          QueueUrl: urlOf("cs-mirror-downloads"),
          AttributeNames: ["QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "RedrivePolicy"],
        },
      },
    ]);
  });

  it("answers undefined for a queue SQS does not have (QueueDoesNotExist, as SQS sends it)", async () => {
    sqsServer.reply("GetQueueUrl", () => ({
      status: 400,
      headers: { "x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender" },
      body: { __type: "com.amazonaws.sqs#QueueDoesNotExist", message: "The specified queue does not exist." },
    }));
    expect(await sqsQueueResolver(client).describe("cs-mirror-nope-dlq")).toBeUndefined();
  });

  it("lets other errors through", async () => {
    sqsServer.reply("GetQueueUrl", () => ({
      status: 400,
      body: { __type: "com.amazon.coral.service#AccessDeniedException", message: "not authorized to perform sqs:getqueueurl" },
    }));
    await expect(sqsQueueResolver(client).describe("cs-mirror-downloads-dlq")).rejects.toThrow("not authorized");
  });

  it("lists queue names by prefix, every page", async () => {
    sqsServer.reply(
      "ListQueues",
      () => ({ body: { QueueUrls: [urlOf("cs-mirror-downloads"), urlOf("cs-mirror-downloads-dlq")], NextToken: "t2" } }),
      () => ({ body: { QueueUrls: [urlOf("cs-mirror-load-full-petitions-dlq")] } }),
    );
    expect(await sqsQueueResolver(client).namesStartingWith("cs-mirror-")).toEqual([
      "cs-mirror-downloads",
      "cs-mirror-downloads-dlq",
      "cs-mirror-load-full-petitions-dlq",
    ]);
    expect(sqsServer.requests.map((r) => r.input)).toEqual([
      { QueueNamePrefix: "cs-mirror-", MaxResults: 1000 },
      { QueueNamePrefix: "cs-mirror-", MaxResults: 1000, NextToken: "t2" },
    ]);
  });
});

const message = (id: string, body: string) => ({
  MessageId: id,
  ReceiptHandle: `rh-${id}`,
  Body: body,
  MD5OfBody: md5(body),
  Attributes: { ApproximateReceiveCount: "2", SentTimestamp: "1709604300000" },
  MessageAttributes: {
    "failure-reason": { DataType: "String", StringValue: "the export URL answered 403" },
    "binary-thing": { DataType: "Binary", BinaryValue: "AAEC" },
  },
});

describe("sqsMessagePeeker", () => {
  it("receives with VisibilityTimeout 0 and no wait, and keeps string attributes", async () => {
    sqsServer.reply("ReceiveMessage", () => ({ body: { Messages: [message("m-1", '{"table":"petitions"}')] } }));
    sqsServer.reply("ReceiveMessage", () => ({ body: {} }));

    const peeked = await sqsMessagePeeker(client).peek(urlOf("cs-mirror-downloads-dlq"), 3);

    expect(peeked).toEqual([
      {
        messageId: "m-1",
        body: '{"table":"petitions"}',
        attributes: { "failure-reason": "the export URL answered 403" },
        receiveCount: 2,
        sentAt: "2024-03-05T02:05:00.000Z",
      },
    ]);
    expect(sqsServer.requests[0]).toEqual({
      action: "ReceiveMessage",
      input: {
        QueueUrl: urlOf("cs-mirror-downloads-dlq"),
        MaxNumberOfMessages: 3,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
      },
    });
  });

  it("asks again for the rest (10 at most a call), skips a message seen twice, and stops when nothing new comes", async () => {
    const ten = Array.from({ length: 10 }, (_, i) => message(`m-${i}`, `body ${i}`));
    sqsServer.reply(
      "ReceiveMessage",
      () => ({ body: { Messages: ten } }),
      () => ({ body: { Messages: [ten[3]] } }), // short polling sampled the same server: nothing new
      () => ({ body: { Messages: [message("m-late", "late")] } }),
    );

    const peeked = await sqsMessagePeeker(client).peek(urlOf("cs-mirror-downloads-dlq"), 12);

    expect(peeked.map((m) => m.messageId)).toEqual(ten.map((m) => m.MessageId));
    expect(sqsServer.requests.map((r) => r.input.MaxNumberOfMessages)).toEqual([10, 2]);
  });
});

describe("sqsMessageSender", () => {
  it("sends the body with string message attributes, and returns the message id", async () => {
    sqsServer.reply("SendMessage", (input) => ({ body: { MessageId: "new-1", MD5OfMessageBody: md5(String(input.MessageBody)) } }));

    const id = await sqsMessageSender(client).send({
      queueUrl: urlOf("cs-mirror-load-full-petitions"),
      body: '{"source":"aws.s3"}',
      attributes: { "replayed-by": "controlshift-mirror replay" },
    });

    expect(id).toBe("new-1");
    expect(sqsServer.requests).toEqual([
      {
        action: "SendMessage",
        input: {
          QueueUrl: urlOf("cs-mirror-load-full-petitions"),
          MessageBody: '{"source":"aws.s3"}',
          MessageAttributes: { "replayed-by": { DataType: "String", StringValue: "controlshift-mirror replay" } },
        },
      },
    ]);
  });
});

describe("sqsMoveTasks", () => {
  it("starts a move task from the DLQ's ARN to the named destination ARN, with the rate when given", async () => {
    sqsServer.reply("StartMessageMoveTask", () => ({ body: { TaskHandle: "h-1" } }), () => ({ body: { TaskHandle: "h-2" } }));
    const tasks = sqsMoveTasks(client);

    expect(await tasks.start({ sourceArn: arnOf("cs-mirror-downloads-dlq"), destinationArn: arnOf("cs-mirror-downloads") })).toBe("h-1");
    expect(
      await tasks.start({ sourceArn: arnOf("cs-mirror-downloads-dlq"), destinationArn: arnOf("cs-mirror-downloads"), maxPerSecond: 25 }),
    ).toBe("h-2");
    expect(sqsServer.requests.map((r) => r.input)).toEqual([
      { SourceArn: arnOf("cs-mirror-downloads-dlq"), DestinationArn: arnOf("cs-mirror-downloads") },
      { SourceArn: arnOf("cs-mirror-downloads-dlq"), DestinationArn: arnOf("cs-mirror-downloads"), MaxNumberOfMessagesPerSecond: 25 },
    ]);
  });

  it("lists a DLQ's move tasks", async () => {
    sqsServer.reply("ListMessageMoveTasks", () => ({
      body: {
        Results: [
          {
            TaskHandle: "h-1",
            Status: "RUNNING",
            SourceArn: arnOf("cs-mirror-downloads-dlq"),
            DestinationArn: arnOf("cs-mirror-downloads"),
            ApproximateNumberOfMessagesMoved: 4,
            ApproximateNumberOfMessagesToMove: 10,
            StartedTimestamp: 1709604300000,
          },
          { Status: "FAILED", SourceArn: arnOf("cs-mirror-downloads-dlq"), FailureReason: "AccessDenied", MaxNumberOfMessagesPerSecond: 5 },
        ],
      },
    }));

    expect(await sqsMoveTasks(client).list(arnOf("cs-mirror-downloads-dlq"))).toEqual([
      {
        status: "RUNNING",
        sourceArn: arnOf("cs-mirror-downloads-dlq"),
        taskHandle: "h-1",
        destinationArn: arnOf("cs-mirror-downloads"),
        moved: 4,
        toMove: 10,
        startedAt: "2024-03-05T02:05:00.000Z",
      },
      { status: "FAILED", sourceArn: arnOf("cs-mirror-downloads-dlq"), maxPerSecond: 5, failureReason: "AccessDenied" },
    ]);
    expect(sqsServer.requests).toEqual([
      { action: "ListMessageMoveTasks", input: { SourceArn: arnOf("cs-mirror-downloads-dlq"), MaxResults: 10 } },
    ]);
  });
});
