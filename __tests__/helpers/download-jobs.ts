/**
 * Download jobs as the receiver puts them on the downloads queue, and SQS records carrying them.
 */
import type { SQSRecord } from "aws-lambda";
import { parseExportFileName, type Compression, type DownloadJob } from "../../handlers/shared/export-file";
import type { ExportKind } from "../../facts/exports";

export interface JobSpec {
  /** The export URL (presigned-looking, see export-server.ts). */
  readonly url: string;
  readonly kind?: ExportKind;
  readonly table?: string;
  /** `<table>_<YYYYMMDDHHMMSS>.csv[.bz2]`; derived from the URL's last path segment when omitted. */
  readonly fileName?: string;
  readonly compression?: Compression;
}

/** A valid DownloadJob for the URL. */
export function makeDownloadJob(spec: JobSpec): DownloadJob {
  const path = new URL(spec.url).pathname;
  const fileName = spec.fileName ?? decodeURIComponent(path.slice(path.lastIndexOf("/") + 1));
  const table = spec.table ?? fileName.replace(/_\d{14}\.csv(\.bz2)?$/, "");
  const kind = spec.kind ?? "full";
  return {
    version: 1,
    ...parseExportFileName(kind, table, fileName),
    url: spec.url,
    compression: spec.compression ?? (fileName.endsWith(".bz2") ? "bzip2" : "none"),
    sourcePath: path,
    receivedAt: "2024-03-01T02:03:30.000Z",
  };
}

let sequence = 0;

/** An SQS record as Lambda delivers it, with `body` as given (a job, or any string for malformed-job tests). */
export function sqsRecord(body: DownloadJob | string, overrides: Partial<SQSRecord> = {}): SQSRecord {
  sequence += 1;
  const now = String(Date.parse("2024-03-01T02:03:31Z"));
  return {
    messageId: `0e5c1a3f-0000-4000-8000-${String(sequence).padStart(12, "0")}`,
    receiptHandle: `AQEB${sequence}receipt`,
    body: typeof body === "string" ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: now,
      SenderId: "AROAEXAMPLE:receiver",
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:cs-mirror-downloads",
    awsRegion: "us-east-1",
    ...overrides,
  };
}
