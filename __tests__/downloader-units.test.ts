/**
 * The downloader's small pure parts: configuration and redaction.
 */
import { downloadBudgetMs, loadDownloaderConfig } from "../handlers/downloader/config";
import { describeError, errorForLog, redactQueryStrings } from "../handlers/downloader/redact";
import { TransientDownloadError } from "../handlers/downloader/errors";
import { exportObjectMetadata } from "../handlers/downloader/download";
import { makeDownloadJob } from "./helpers/download-jobs";

const REQUIRED = {
  EXPORTS_BUCKET: "cs-mirror-exports",
  DEAD_LETTER_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/cs-mirror-downloads-dlq",
  POWERTOOLS_SERVICE_NAME: "cs-mirror-downloader",
  POWERTOOLS_METRICS_NAMESPACE: "ControlShiftMirror",
  PART_SIZE_MIB: "8",
  UPLOAD_QUEUE_SIZE: "4",
};

describe("downloader configuration", () => {
  it("reads every variable", () => {
    expect(loadDownloaderConfig(REQUIRED)).toEqual({
      exportsBucket: "cs-mirror-exports",
      deadLetterQueueUrl: REQUIRED.DEAD_LETTER_QUEUE_URL,
      partSizeBytes: 8 * 1024 * 1024,
      uploadQueueSize: 4,
      serviceName: "cs-mirror-downloader",
      metricsNamespace: "ControlShiftMirror",
    });
  });

  it("has no defaults: the config (modules/config.ts) holds them and the stack always sets them", () => {
    expect(() => loadDownloaderConfig({ ...REQUIRED, PART_SIZE_MIB: undefined })).toThrow(/PART_SIZE_MIB is not set/);
  });

  it("reads PART_SIZE_MIB and UPLOAD_QUEUE_SIZE", () => {
    expect(loadDownloaderConfig({ ...REQUIRED, PART_SIZE_MIB: "16", UPLOAD_QUEUE_SIZE: "6" })).toMatchObject({
      partSizeBytes: 16 * 1024 * 1024,
      uploadQueueSize: 6,
    });
  });

  it("reports every problem at once, naming the variable, its value and what is allowed", () => {
    expect(() => loadDownloaderConfig({ PART_SIZE_MIB: "8.5", UPLOAD_QUEUE_SIZE: "0" })).toThrow(
      "downloader: bad environment: " +
        "EXPORTS_BUCKET is not set: expected the exports bucket's name; " +
        "DEAD_LETTER_QUEUE_URL is not set: expected the URL of the downloads dead-letter queue; " +
        'PART_SIZE_MIB is "8.5": expected a whole number from 5 to 512; ' +
        'UPLOAD_QUEUE_SIZE is "0": expected a whole number from 1 to 16; ' +
        "POWERTOOLS_SERVICE_NAME is not set: expected the service name on logs and metrics (the function name); " +
        "POWERTOOLS_METRICS_NAMESPACE is not set: expected the CloudWatch namespace of the metrics (ControlShiftMirror/<prefix>)",
    );
  });
});

describe("redaction of presigned URLs", () => {
  const url =
    "https://agra-data-exports-production.s3.amazonaws.com/acme/full/petitions/20240301/petitions_20240301020304.csv.bz2" +
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20240301%2Fus-east-1%2Fs3%2Faws4_request" +
    "&X-Amz-Date=20240301T020304Z&X-Amz-Expires=21600&X-Amz-SignedHeaders=host&X-Amz-Signature=0123abcd";

  it("keeps a URL's path and drops its query", () => {
    expect(redactQueryStrings(`GET ${url} failed`)).toBe(
      "GET https://agra-data-exports-production.s3.amazonaws.com/acme/full/petitions/20240301/petitions_20240301020304.csv.bz2?<redacted> failed",
    );
  });

  it("redacts a URL inside JSON, with its ampersands escaped as ControlShift sends them", () => {
    const json = JSON.stringify({ url }).replace(/&/g, "\\u0026");
    const redacted = redactQueryStrings(json);
    expect(redacted).not.toContain("0123abcd");
    expect(redacted).not.toContain("AKIAEXAMPLE");
  });

  it("redacts SigV4 parameters in a slice of a URL (as quoted by a JSON parse error)", () => {
    expect(redactQueryStrings('..."e=host&X-Amz-Signature=0123abcd" is not valid JSON')).toBe(
      '..."e=host&X-Amz-Signature=<redacted>" is not valid JSON',
    );
  });

  it("describes an error with its causes, redacted", () => {
    const cause = Object.assign(new TypeError(`fetch failed for ${url}`), { code: "ECONNRESET" });
    const err = new TransientDownloadError("could not fetch", { cause, status: 503 });
    expect(describeError(err)).toBe(
      `TransientDownloadError: could not fetch <- caused by TypeError: fetch failed for ${url.split("?")[0]}?<redacted> (ECONNRESET)`,
    );
    expect(errorForLog(err)).toEqual({
      name: "TransientDownloadError",
      message: "could not fetch",
      status: 503,
      cause: `TypeError: fetch failed for ${url.split("?")[0]}?<redacted> (ECONNRESET)`,
    });
  });
});

describe("download budget", () => {
  it("keeps 10 s back from the Lambda timeout, or a fifth of a short one", () => {
    expect(downloadBudgetMs(900_000)).toBe(890_000);
    expect(downloadBudgetMs(20_000)).toBe(16_000);
  });
});

describe("object metadata", () => {
  it("records what the loader needs, with the source path as ASCII and without a query", () => {
    const job = makeDownloadJob({
      url: "https://agra-data-exports-production.s3.amazonaws.com/acme/incremental/signatures/20240301/signatures_20240301020304.csv.bz2?X-Amz-Signature=ab",
      kind: "incremental",
    });
    expect(exportObjectMetadata({ ...job, sourcePath: "/água/incremental/signatures/20240301/signatures_20240301020304.csv.bz2?x=1" })).toEqual({
      "source-path": "/%C3%A1gua/incremental/signatures/20240301/signatures_20240301020304.csv.bz2",
      compression: "bzip2",
      "exported-at": "2024-03-01T02:03:04Z",
      kind: "incremental",
      table: "signatures",
    });
  });
});
