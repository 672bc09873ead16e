/**
 * The downloader's core against real parts: a real HTTP server on loopback playing ControlShift's export bucket,
 * and a real S3-compatible server (s3rver) playing our exports bucket. Only the dead-letter queue is mocked (there
 * is no local SQS), and its calls are asserted exactly.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import unbzip2 from "unbzip2-stream";
import { exportObjectKey } from "../handlers/shared/export-file";
import { libStorageUploader, sqsDeadLetterQueue } from "../handlers/downloader/adapters";
import { processDownloadBatch, type BatchPorts } from "../handlers/downloader/process-batch";
import type { DownloaderLogger, DownloaderMetrics, DownloaderOutcome, Fetch, FailureKind } from "../handlers/downloader/ports";
import { makeDownloadJob, sqsRecord } from "./helpers/download-jobs";
import {
  FAKE_SIGNATURE,
  PRESIGNED_QUERY,
  s3ErrorBody,
  startExportServer,
  type ExportServer,
} from "./helpers/export-server";
import { generatedCsvSha256 } from "./helpers/generated-csv";
import { startLocalS3, type LocalS3 } from "./helpers/local-s3";

const BUCKET = "cs-mirror-exports";
const DLQ_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/cs-mirror-downloads-dlq";
const MIB = 1024 * 1024;
const PART_SIZE = 5 * MIB; // S3's minimum part size
const FIXTURES = join(__dirname, "fixtures", "exports");
const PETITIONS_CSV = readFileSync(join(FIXTURES, "petitions_20240301020304.csv"));
const SIGNATURES_BZ2 = readFileSync(join(FIXTURES, "signatures_20240301020304.csv.bz2"));

const path = (kind: string, table: string, stamp: string, ext = ".csv") =>
  `/acme-org/${kind}/${table}/${stamp.slice(0, 8)}/${table}_${stamp}${ext}`;

interface LogEntry {
  readonly level: "info" | "warn" | "error";
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

const sqsMock = mockClient(SQSClient);
let s3: LocalS3;
let source: ExportServer;
let elsewhere: ExportServer;
let logs: LogEntry[];
let failures: FailureKind[];
let downloaded: number[];

beforeAll(async () => {
  [s3, source, elsewhere] = await Promise.all([startLocalS3({ buckets: [BUCKET] }), startExportServer(), startExportServer()]);
});

afterAll(async () => {
  sqsMock.restore();
  await Promise.all([s3?.close(), source?.close(), elsewhere?.close()]);
});

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(SendMessageCommand).resolves({ MessageId: "dlq-message-1" });
  logs = [];
  failures = [];
  downloaded = [];
});

function ports(overrides: Partial<BatchPorts> = {}): BatchPorts {
  const record = (level: LogEntry["level"]) => (message: string, attributes: Record<string, unknown>) =>
    void logs.push({ level, message, attributes });
  const logger: DownloaderLogger = { info: record("info"), warn: record("warn"), error: record("error") };
  const metrics: DownloaderMetrics = {
    exportDownloaded: (bytes) => void downloaded.push(bytes),
    exportDownloadFailed: (kind) => void failures.push(kind),
  };
  let now = Date.parse("2024-03-01T02:04:00Z");
  return {
    fetch: (url, init) => fetch(url, init),
    uploader: libStorageUploader(s3.client, { partSizeBytes: PART_SIZE, queueSize: 4 }),
    deadLetters: sqsDeadLetterQueue(new SQSClient({ region: "us-east-1" }), DLQ_URL),
    logger,
    metrics,
    clock: { now: () => (now += 250) },
    ...overrides,
  };
}

const run = (records: ReturnType<typeof sqsRecord>[], overrides: Partial<BatchPorts> = {}, signal?: AbortSignal) =>
  processDownloadBatch(records, ports(overrides), { bucket: BUCKET, signal });

const dlqCalls = () => sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input);

describe("downloader: files land in the exports bucket", () => {
  it("streams a plain CSV to exports/{kind}/{table}/{YYYYMMDD}/{file}, byte for byte, with the loader's metadata", async () => {
    const p = path("full", "petitions", "20240301020304");
    source.route(p, { type: "body", body: PETITIONS_CSV, contentType: "text/csv" });
    const job = makeDownloadJob({ url: source.url(p) });

    const response = await run([sqsRecord(job)]);

    expect(response).toEqual({ batchItemFailures: [] });
    const key = "exports/full/petitions/20240301/petitions_20240301020304.csv";
    expect(exportObjectKey(job)).toBe(key);
    expect(await s3.getObjectBytes(BUCKET, key)).toEqual(PETITIONS_CSV);
    const head = await s3.headObject(BUCKET, key);
    expect(head.ContentType).toBe("text/csv");
    expect(head.Metadata).toEqual({
      "source-path": p,
      compression: "none",
      "exported-at": "2024-03-01T02:03:04Z",
      kind: "full",
      table: "petitions",
    });
    expect(downloaded).toEqual([PETITIONS_CSV.length]);
    expect(logs).toEqual([
      expect.objectContaining({
        level: "info",
        message: "export downloaded",
        attributes: expect.objectContaining({ key, bytes: PETITIONS_CSV.length, table: "petitions", sourcePath: p }),
      }),
    ]);
    expect(source.requests.at(-1)).toMatchObject({ method: "GET", path: p, query: PRESIGNED_QUERY });
    expect(dlqCalls()).toEqual([]);
  });

  it("stores a bzip2 export as it comes (no decompression), as application/x-bzip2", async () => {
    const p = path("incremental", "signatures", "20240301020304", ".csv.bz2");
    source.route(p, { type: "body", body: SIGNATURES_BZ2, contentType: "binary/octet-stream" });
    const job = makeDownloadJob({ url: source.url(p), kind: "incremental" });
    expect(job.compression).toBe("bzip2");

    expect(await run([sqsRecord(job)])).toEqual({ batchItemFailures: [] });

    const key = "exports/incremental/signatures/20240301/signatures_20240301020304.csv.bz2";
    const stored = await s3.getObjectBytes(BUCKET, key);
    expect(stored).toEqual(SIGNATURES_BZ2);
    const csv = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      Readable.from([stored])
        .pipe(unbzip2())
        .on("data", (chunk: Buffer) => chunks.push(chunk))
        .on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
        .on("error", reject);
    });
    expect(csv).toContain('"{""comment"":""Line one\nline two""}"');
    const head = await s3.headObject(BUCKET, key);
    expect(head.ContentType).toBe("application/x-bzip2");
    expect(head.Metadata).toMatchObject({ compression: "bzip2", kind: "incremental", table: "signatures" });
  });

  it("uploads a 20 MiB export in 5 MiB parts (multipart), byte for byte", async () => {
    const size = 20 * MIB + 12345;
    const p = path("full", "signatures", "20240302020304");
    source.route(p, { type: "body", body: { size, seed: 7 } });
    const eventsBefore = s3.events.length;

    expect(await run([sqsRecord(makeDownloadJob({ url: source.url(p) }))])).toEqual({ batchItemFailures: [] });

    const key = "exports/full/signatures/20240302/signatures_20240302020304.csv";
    expect(await s3.objectDigest(BUCKET, key)).toEqual({ sha256: generatedCsvSha256(size, 7), size });
    // s3rver names a completed multipart upload ObjectCreated:Post (a single PUT would be ObjectCreated:Put).
    expect(s3.events.slice(eventsBefore).map((e) => [e.eventName, e.s3.object.key])).toEqual([["ObjectCreated:Post", key]]);
    expect(downloaded).toEqual([size]);
    expect(await s3.listMultipartUploads(BUCKET)).toEqual([]);
  });

  it("overwrites the same object when the queue delivers the job again (no duplicates)", async () => {
    const p = path("full", "petitions", "20240303020304");
    source.route(p, { type: "body", body: PETITIONS_CSV });
    const job = makeDownloadJob({ url: source.url(p) });

    await run([sqsRecord(job)]);
    // A redelivery (same job, new message id, later receive count) and the same export with a fresh presigned query.
    await run([sqsRecord(job, { attributes: { ...sqsRecord(job).attributes, ApproximateReceiveCount: "2" } })]);
    await run([sqsRecord({ ...job, url: source.url(p, PRESIGNED_QUERY.replace("20240301T020304Z", "20240301T030000Z")) })]);

    expect(await s3.listKeys(BUCKET, "exports/full/petitions/20240303/")).toEqual([
      "exports/full/petitions/20240303/petitions_20240303020304.csv",
    ]);
    expect(downloaded).toEqual([PETITIONS_CSV.length, PETITIONS_CSV.length, PETITIONS_CSV.length]);
  });
});

describe("downloader: permanent failures go to the dead-letter queue at once", () => {
  it("sends a 403 (presigned URL expired after 6 hours) to the dead-letter queue and writes nothing", async () => {
    const p = path("full", "users", "20240301020304");
    source.route(p, { type: "status", status: 403, body: s3ErrorBody("AccessDenied", "Request has expired") });
    const record = sqsRecord(makeDownloadJob({ url: source.url(p) }));

    const response = await run([record]);

    // Processed: not reported for retry.
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dlqCalls()).toEqual([
      {
        QueueUrl: DLQ_URL,
        MessageBody: record.body,
        MessageAttributes: {
          "failure-reason": {
            DataType: "String",
            StringValue: expect.stringMatching(/answered 403 \(AccessDenied: Request has expired\).*expired/),
          },
          "failure-status": { DataType: "String", StringValue: "403" },
          "source-message-id": { DataType: "String", StringValue: record.messageId },
        },
      },
    ]);
    expect(await s3.listKeys(BUCKET, "exports/full/users/")).toEqual([]);
    expect(failures).toEqual(["permanent"]);
    expect(logs).toEqual([
      expect.objectContaining({
        level: "error",
        message: "export download failed permanently; sending the job to the dead-letter queue",
        attributes: expect.objectContaining({ status: "403", table: "users", sourcePath: p }),
      }),
    ]);
  });

  it.each([400, 404, 410])("sends a %i to the dead-letter queue", async (status) => {
    const p = path("full", "events", `20240401${String(status % 24).padStart(2, "0")}0000`);
    source.route(p, { type: "status", status });

    expect(await run([sqsRecord(makeDownloadJob({ url: source.url(p) }))])).toEqual({ batchItemFailures: [] });

    expect(dlqCalls().map((c) => c.MessageAttributes?.["failure-status"]?.StringValue)).toEqual([String(status)]);
    expect(failures).toEqual(["permanent"]);
  });

  it("refuses a redirect to another host: dead-letter queue, and the other host is never asked", async () => {
    const p = path("full", "members", "20240301020304");
    elsewhere.route(p, { type: "body", body: PETITIONS_CSV });
    source.route(p, { type: "redirect", status: 307, location: elsewhere.url(p) });
    const record = sqsRecord(makeDownloadJob({ url: source.url(p) }));

    expect(await run([record])).toEqual({ batchItemFailures: [] });

    expect(elsewhere.requests).toEqual([]);
    const [call] = dlqCalls();
    expect(call.MessageAttributes?.["failure-status"]?.StringValue).toBe("307");
    expect(call.MessageAttributes?.["failure-reason"]?.StringValue).toContain(`redirect to ${elsewhere.origin}${p}`);
    expect(await s3.listKeys(BUCKET, "exports/full/members/")).toEqual([]);
  });

  it("sends a malformed job to the dead-letter queue without trying to download anything", async () => {
    const requestsBefore = source.requests.length;
    const notJson = sqsRecord(`{"version":1,"url":"${source.url("/x.csv")}", oops`);
    const wrongTable = sqsRecord(JSON.stringify({ ...makeDownloadJob({ url: source.url(path("full", "petitions", "20240301020304")) }), table: "Petitions;DROP" }));

    expect(await run([notJson, wrongTable])).toEqual({ batchItemFailures: [] });

    expect(source.requests.length).toBe(requestsBefore);
    expect(dlqCalls().map((c) => [c.MessageBody, c.MessageAttributes?.["failure-status"]?.StringValue])).toEqual([
      [notJson.body, "none"],
      [wrongTable.body, "none"],
    ]);
    expect(dlqCalls()[1].MessageAttributes?.["failure-reason"]?.StringValue).toMatch(/^malformed download job: .*table/);
    expect(failures).toEqual(["permanent", "permanent"]);
  });

  it("reports the record for retry when the dead-letter queue cannot take the job (never loses a job)", async () => {
    sqsMock.on(SendMessageCommand).rejects(new Error("AWS.SimpleQueueService.NonExistentQueue"));
    const p = path("full", "users", "20240304020304");
    source.route(p, { type: "status", status: 403 });
    const record = sqsRecord(makeDownloadJob({ url: source.url(p) }));

    expect(await run([record])).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(logs.map((l) => l.message)).toEqual([
      "export download failed permanently; sending the job to the dead-letter queue",
      "could not send the job to the dead-letter queue; the queue will deliver it again",
    ]);
  });
});

describe("downloader: transient failures are left to the queue", () => {
  it.each([500, 503, 429])("reports a %i as a batch item failure and writes nothing", async (status) => {
    const p = path("full", "actions", `20240402${String(status % 24).padStart(2, "0")}0000`);
    source.route(p, { type: "status", status, body: s3ErrorBody("InternalError", "We encountered an internal error.") });
    const record = sqsRecord(makeDownloadJob({ url: source.url(p) }));

    expect(await run([record])).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });

    expect(dlqCalls()).toEqual([]);
    expect(failures).toEqual(["transient"]);
    expect(await s3.listKeys(BUCKET, "exports/full/actions/")).toEqual([]);
    expect(logs).toEqual([
      expect.objectContaining({
        level: "warn",
        message: "export download failed; the queue will deliver the job again",
        attributes: expect.objectContaining({
          error: expect.objectContaining({ name: "TransientDownloadError", status }),
        }),
      }),
    ]);
  });

  it("reports a connection reset mid-body (after parts were uploaded): no object, no multipart upload left", async () => {
    const p = path("full", "signatures", "20240305020304");
    // 20 MiB announced, 12 MiB sent: two 5 MiB parts reach S3 before the reset.
    source.route(p, { type: "reset", body: { size: 20 * MIB, seed: 3 }, afterBytes: 12 * MIB });
    const record = sqsRecord(makeDownloadJob({ url: source.url(p) }));
    const eventsBefore = s3.events.length;

    expect(await run([record])).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });

    expect(await s3.listKeys(BUCKET, "exports/full/signatures/20240305/")).toEqual([]);
    expect(await s3.listMultipartUploads(BUCKET)).toEqual([]);
    expect(s3.events.slice(eventsBefore)).toEqual([]);
    expect(dlqCalls()).toEqual([]);
    expect(failures).toEqual(["transient"]);
    const error = logs[0].attributes.error as { message: string };
    expect(error.message).toMatch(/broke off after \d+ bytes.*terminated/);
  });

  it("proves the reset test uploaded parts: the same reset with parts left on error leaves an upload behind", async () => {
    // Guards the test above against passing vacuously (e.g. if no part had been uploaded before the reset).
    const { Upload } = await import("@aws-sdk/lib-storage");
    const p = path("full", "signatures", "20240306020304");
    source.route(p, { type: "reset", body: { size: 20 * MIB, seed: 3 }, afterBytes: 12 * MIB });
    const leaky = {
      async upload(u: Parameters<BatchPorts["uploader"]["upload"]>[0]) {
        await new Upload({
          client: s3.client,
          params: { Bucket: u.bucket, Key: u.key, Body: u.body },
          partSize: PART_SIZE,
          leavePartsOnError: true,
        }).done();
      },
    };
    await run([sqsRecord(makeDownloadJob({ url: source.url(p) }))], { uploader: leaky });

    const left = await s3.listMultipartUploads(BUCKET);
    expect(left.map((u) => u.key)).toEqual(["exports/full/signatures/20240306/signatures_20240306020304.csv"]);
    // Clean up through the same API the uploader uses.
    const { AbortMultipartUploadCommand } = await import("@aws-sdk/client-s3");
    await s3.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: left[0].key, UploadId: left[0].uploadId }));
    expect(await s3.listMultipartUploads(BUCKET)).toEqual([]);
  });

  it("reports a reset inside the first part (a would-be single PUT): no object", async () => {
    const p = path("incremental", "signatures", "20240305020304", ".csv.bz2");
    source.route(p, { type: "reset", body: SIGNATURES_BZ2, afterBytes: 100 });
    const record = sqsRecord(makeDownloadJob({ url: source.url(p), kind: "incremental" }));

    expect(await run([record])).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(await s3.listKeys(BUCKET, "exports/incremental/signatures/20240305/")).toEqual([]);
  });

  it("reports a refused connection as a batch item failure", async () => {
    const closed = await startExportServer();
    const url = closed.url(path("full", "petitions", "20240307020304"));
    await closed.close();
    const record = sqsRecord(makeDownloadJob({ url }));

    expect(await run([record])).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect((logs[0].attributes.error as { message: string }).message).toMatch(/^could not fetch .*ECONNREFUSED/);
  });

  it("gives up on a stalled download when the deadline passes: retry, no object, no multipart upload", async () => {
    const p = path("full", "signatures", "20240308020304");
    source.route(p, { type: "stall", body: { size: 20 * MIB, seed: 5 }, afterBytes: 11 * MIB });
    const record = sqsRecord(makeDownloadJob({ url: source.url(p) }));

    const response = await run([record], {}, AbortSignal.timeout(1500));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(await s3.listKeys(BUCKET, "exports/full/signatures/20240308/")).toEqual([]);
    expect(await s3.listMultipartUploads(BUCKET)).toEqual([]);
    expect((logs[0].attributes.error as { message: string }).message).toMatch(/TimeoutError/);
  });

  it("fails the download when the body is shorter than its Content-Length", async () => {
    const shortFetch: Fetch = async () =>
      new Response("id,title\n1,only", { status: 200, headers: { "content-length": "1000" } });
    const record = sqsRecord(makeDownloadJob({ url: source.url(path("full", "petitions", "20240309020304")) }));

    expect(await run([record], { fetch: shortFetch })).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect((logs[0].attributes.error as { message: string }).message).toContain("sent 15 of the 1000 bytes its Content-Length announced");
    expect(await s3.listKeys(BUCKET, "exports/full/petitions/20240309/")).toEqual([]);
  });

  it("fails the download when the body is longer than its Content-Length", async () => {
    const longFetch: Fetch = async () =>
      new Response("id,title\n1,only", { status: 200, headers: { "content-length": "5" } });
    const record = sqsRecord(makeDownloadJob({ url: source.url(path("full", "petitions", "20240310020304")) }));

    expect(await run([record], { fetch: longFetch })).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect((logs[0].attributes.error as { message: string }).message).toContain("more than the 5 bytes");
    expect(await s3.listKeys(BUCKET, "exports/full/petitions/20240310/")).toEqual([]);
  });
});

describe("downloader: batches and secrets", () => {
  it("handles a batch of several records, reporting only the ones to retry", async () => {
    const ok = path("full", "petitions", "20240311020304");
    const expired = path("full", "users", "20240311020304");
    const broken = path("full", "actions", "20240311020304");
    source.route(ok, { type: "body", body: PETITIONS_CSV });
    source.route(expired, { type: "status", status: 403 });
    source.route(broken, { type: "status", status: 502 });
    const records = [ok, expired, broken, ok].map((p) => sqsRecord(makeDownloadJob({ url: source.url(p) })));

    const response = await run(records);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[2].messageId }] });
    expect(dlqCalls().map((c) => c.MessageBody)).toEqual([records[1].body]);
    expect(await s3.listKeys(BUCKET, "exports/full/petitions/20240311/")).toHaveLength(1);
    expect(downloaded).toEqual([PETITIONS_CSV.length, PETITIONS_CSV.length]);
    expect(failures).toEqual(["permanent", "transient"]);
  });

  it("never logs the presigned query, nor puts it in a failure reason", async () => {
    const expired = path("full", "users", "20240312020304");
    const reset = path("full", "actions", "20240312020304");
    const redirect = path("full", "members", "20240312020304");
    source.route(expired, { type: "status", status: 403 });
    source.route(reset, { type: "reset", body: PETITIONS_CSV, afterBytes: 50 });
    source.route(redirect, { type: "redirect", location: elsewhere.url(redirect) });
    const records = [
      ...[expired, reset, redirect].map((p) => sqsRecord(makeDownloadJob({ url: source.url(p) }))),
      // V8 quotes the text around a JSON syntax error: the URL must not leak through the parse error either.
      sqsRecord(`{"version":1,"url":"${source.url(expired)}" "kind":"full"}`),
      sqsRecord(`{"version":1,"url":"${source.url(expired).replace(/&/g, "\\u0026")}", "kind": 7}`),
    ];

    await run(records);

    const everything = JSON.stringify({ logs, reasons: dlqCalls().map((c) => c.MessageAttributes) });
    expect(logs.length).toBeGreaterThanOrEqual(records.length);
    expect(everything).not.toContain(FAKE_SIGNATURE);
    expect(everything).not.toContain("AKIAIOSFODNN7EXAMPLE");
    expect(everything).not.toMatch(/X-Amz-(Signature|Credential)=(?!<redacted>)/);
  });
});

describe("downloader: typed outcomes", () => {
  it("reports stored, retried, dead-lettered and dead-letter-failed, one per job, never with a presigned query", async () => {
    const ok = path("full", "petitions", "20240501020304");
    source.route(ok, { type: "body", body: PETITIONS_CSV, contentType: "text/csv" });
    const flaky = path("full", "actions", "20240501020304");
    source.route(flaky, { type: "status", status: 503, body: s3ErrorBody("SlowDown", "Please reduce your request rate.") });
    const expired = path("full", "users", "20240501020304");
    source.route(expired, { type: "status", status: 403, body: s3ErrorBody("AccessDenied", "Request has expired") });
    const records = [ok, flaky, expired].map((p) => sqsRecord(makeDownloadJob({ url: `${source.url(p)}?X-Amz-Signature=secret123` })));
    const outcomes: DownloaderOutcome[] = [];

    await run(records, { report: (o) => void outcomes.push(o) });
    sqsMock.on(SendMessageCommand).rejects(new Error("AccessDenied"));
    await run([records[2]], { report: (o) => void outcomes.push(o) });

    expect(outcomes).toEqual([
      { type: "stored", messageId: records[0].messageId, key: "exports/full/petitions/20240501/petitions_20240501020304.csv", bytes: PETITIONS_CSV.length, durationMs: expect.any(Number) },
      { type: "retried", messageId: records[1].messageId, reason: expect.stringMatching(/answered 503/) },
      { type: "dead-lettered", messageId: records[2].messageId, reason: expect.stringMatching(/answered 403/), status: "403" },
      { type: "dead-letter-failed", messageId: records[2].messageId, reason: expect.stringMatching(/answered 403/) },
    ]);
    expect(JSON.stringify(outcomes)).not.toContain("secret123");
  });
});
