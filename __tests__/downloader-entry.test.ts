/**
 * The Lambda entry (handlers/downloader/index.ts) as Lambda loads it: configuration from the environment at cold
 * start, the real S3 client (pointed at s3rver through the SDK's standard AWS_ENDPOINT_URL_S3), Powertools logs and
 * metrics on stdout. SQS (the dead-letter queue) is mocked with aws-sdk-client-mock.
 */
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { makeDownloadJob, sqsRecord } from "./helpers/download-jobs";
import { FAKE_SIGNATURE, s3ErrorBody, startExportServer, type ExportServer } from "./helpers/export-server";
import { LOCAL_S3_CREDENTIALS, LOCAL_S3_REGION, startLocalS3, type LocalS3 } from "./helpers/local-s3";
import { captureOutput, coldStart as coldStartWith } from "./helpers/lambda-entry";

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const BUCKET = "entry-exports";
const DLQ_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/cs-mirror-downloads-dlq";
const OK_PATH = "/acme-org/full/petitions/20240301/petitions_20240301020304.csv";
const EXPIRED_PATH = "/acme-org/full/users/20240301/users_20240301020304.csv";
const CSV = 'id,title\n1,"Save the park, please"\n2,"Two\nlines"\n';

const ENV = {
  EXPORTS_BUCKET: BUCKET,
  DEAD_LETTER_QUEUE_URL: DLQ_URL,
  PART_SIZE_MIB: "5",
  UPLOAD_QUEUE_SIZE: "2",
  POWERTOOLS_SERVICE_NAME: "cs-mirror-downloader",
  POWERTOOLS_METRICS_NAMESPACE: "ControlShiftMirror",
  AWS_REGION: LOCAL_S3_REGION,
  AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
  // s3rver needs these; the production client takes the SDK defaults.
  AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
} as const;

const context = {
  functionName: "cs-mirror-downloader",
  awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

let s3: LocalS3;
let source: ExportServer;
const savedEnv = { ...process.env };

interface ColdStart {
  readonly handler: Handler;
  /** The SQS client module of the same module registry as the handler, for aws-sdk-client-mock. */
  readonly sqs: typeof import("@aws-sdk/client-sqs");
}

/** Loads index.ts afresh (a cold start) with the given environment. */
function coldStart(env: Record<string, string | undefined>): ColdStart {
  return coldStartWith(env, () => ({
    sqs: require("@aws-sdk/client-sqs") as ColdStart["sqs"],
    handler: require("../handlers/downloader/index").handler,
  }));
}

beforeAll(async () => {
  [s3, source] = await Promise.all([
    startLocalS3({ buckets: [BUCKET] }),
    startExportServer({
      [OK_PATH]: { type: "body", body: CSV },
      [EXPIRED_PATH]: { type: "status", status: 403, body: s3ErrorBody("AccessDenied", "Request has expired") },
    }),
  ]);
});

afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([s3?.close(), source?.close()]);
});

describe("downloader entry", () => {
  it("fails the cold start naming every missing variable", () => {
    expect(() =>
      coldStart({ ...ENV, EXPORTS_BUCKET: undefined, DEAD_LETTER_QUEUE_URL: "", POWERTOOLS_METRICS_NAMESPACE: undefined }),
    ).toThrow(
      "downloader: bad environment: EXPORTS_BUCKET is not set: expected the exports bucket's name; " +
        "DEAD_LETTER_QUEUE_URL is not set: expected the URL of the downloads dead-letter queue; " +
        "POWERTOOLS_METRICS_NAMESPACE is not set: expected the CloudWatch namespace of the metrics (ControlShiftMirror/<prefix>)",
    );
  });

  it("fails the cold start on a part size below S3's 5 MiB minimum", () => {
    expect(() => coldStart({ ...ENV, PART_SIZE_MIB: "4" })).toThrow(
      'PART_SIZE_MIB is "4": expected a whole number from 5 to 512',
    );
  });

  it("downloads into the bucket, dead-letters an expired URL, and logs and counts both", async () => {
    const { handler, sqs } = coldStart({ ...ENV, AWS_ENDPOINT_URL_S3: s3.endpoint });
    const sqsMock = mockClient(sqs.SQSClient);
    sqsMock.on(sqs.SendMessageCommand).resolves({ MessageId: "dlq-1" });
    const ok = sqsRecord(makeDownloadJob({ url: source.url(OK_PATH) }));
    const expired = sqsRecord(makeDownloadJob({ url: source.url(EXPIRED_PATH) }));

    const { result, lines, raw } = await captureOutput(() => handler({ Records: [ok, expired] }, context));

    expect(result).toEqual({ batchItemFailures: [] });
    const key = "exports/full/petitions/20240301/petitions_20240301020304.csv";
    expect((await s3.getObjectBytes(BUCKET, key)).toString("utf8")).toBe(CSV);
    expect(await s3.listKeys(BUCKET, "exports/full/users/")).toEqual([]);
    expect(sqsMock.commandCalls(sqs.SendMessageCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({
        QueueUrl: DLQ_URL,
        MessageBody: expired.body,
        MessageAttributes: expect.objectContaining({ "failure-status": { DataType: "String", StringValue: "403" } }),
      }),
    ]);

    sqsMock.restore();

    // Powertools logs: structured, with the Lambda context, never the presigned query.
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: "INFO", message: "export downloaded", service: "cs-mirror-downloader", key, bytes: CSV.length }),
        expect.objectContaining({ level: "ERROR", function_request_id: context.awsRequestId, status: "403", table: "users" }),
      ]),
    );
    expect(raw).not.toContain(FAKE_SIGNATURE);

    // Powertools metrics (EMF): ExportDownloaded in bytes, ExportDownloadFailed by kind.
    const emf = lines.filter((line) => "_aws" in line);
    expect(emf).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ExportDownloaded: CSV.length,
          _aws: expect.objectContaining({
            CloudWatchMetrics: [expect.objectContaining({ Namespace: "ControlShiftMirror", Metrics: [{ Name: "ExportDownloaded", Unit: "Bytes" }] })],
          }),
        }),
        expect.objectContaining({
          ExportDownloadFailed: 1,
          kind: "permanent",
          _aws: expect.objectContaining({
            CloudWatchMetrics: [expect.objectContaining({ Dimensions: [expect.arrayContaining(["service", "kind"])] })],
          }),
        }),
      ]),
    );
  });
});
