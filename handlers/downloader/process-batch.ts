/**
 * One SQS batch of download jobs -> what SQS should do with each message.
 *
 * The event source mapping uses batch size 1 and `ReportBatchItemFailures`, but any batch size works: records are
 * handled one after another (one download at a time keeps memory bounded), and only the records that should be
 * retried are reported. A permanent failure goes to the dead-letter queue at once and counts as processed; if that
 * send fails, the record is reported as failed so the job is never lost.
 * See https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
import type { SQSBatchItemFailure, SQSBatchResponse, SQSRecord } from "aws-lambda";
import { DownloadJobError, parseDownloadJob, type DownloadJob } from "../shared/export-file";
import { downloadExport, type DownloadPorts } from "./download";
import { PermanentDownloadError, TransientDownloadError } from "./errors";
import type { DeadLetterQueue, DownloaderLogger, DownloaderMetrics, DownloaderOutcome } from "./ports";
import { describeError, errorForLog, redactQueryStrings } from "./redact";

export interface BatchPorts extends DownloadPorts {
  readonly deadLetters: DeadLetterQueue;
  readonly logger: DownloaderLogger;
  readonly metrics: DownloaderMetrics;
  /** Told each job's outcome, as it happens (npm run local prints them). @default nothing */
  readonly report?: (outcome: DownloaderOutcome) => void;
}

export interface BatchSettings {
  readonly bucket: string;
  /** Aborts whatever is still running when the Lambda is about to time out. */
  readonly signal?: AbortSignal;
}

/** The slice of an SQS record the downloader reads. */
export type DownloadRecord = Pick<SQSRecord, "messageId" | "body"> & {
  readonly attributes?: Partial<SQSRecord["attributes"]>;
};

type Outcome = "done" | "retry";

export async function processDownloadBatch(
  records: readonly DownloadRecord[],
  ports: BatchPorts,
  settings: BatchSettings,
): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchItemFailure[] = [];
  for (const record of records) {
    const outcome = await processRecord(record, ports, settings);
    if (outcome === "retry") batchItemFailures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures };
}

async function processRecord(record: DownloadRecord, ports: BatchPorts, settings: BatchSettings): Promise<Outcome> {
  const base = {
    messageId: record.messageId,
    receiveCount: record.attributes?.ApproximateReceiveCount,
  };

  let job: DownloadJob;
  try {
    job = parseDownloadJob(record.body);
  } catch (err) {
    // The job body holds the presigned URL: log only the (redacted) parse error, never the body.
    const reason =
      err instanceof DownloadJobError
        ? `malformed download job: ${redactQueryStrings(err.message)}`
        : `could not read the download job: ${describeError(err)}`;
    return deadLetter(record, new PermanentDownloadError(reason, { cause: err }), base, ports);
  }

  const context = {
    ...base,
    kind: job.kind,
    table: job.table,
    fileName: job.fileName,
    sourcePath: job.sourcePath.split("?")[0],
  };

  try {
    const result = await downloadExport(job, ports, settings);
    const seconds = result.durationMs / 1000;
    ports.logger.info("export downloaded", {
      ...context,
      bucket: settings.bucket,
      key: result.key,
      bytes: result.bytes,
      durationMs: result.durationMs,
      mibPerSecond: seconds > 0 ? Math.round((result.bytes / 1024 / 1024 / seconds) * 10) / 10 : undefined,
    });
    ports.metrics.exportDownloaded(result.bytes);
    ports.report?.({ type: "stored", messageId: record.messageId, key: result.key, bytes: result.bytes, durationMs: result.durationMs });
    return "done";
  } catch (err) {
    if (err instanceof PermanentDownloadError) return deadLetter(record, err, context, ports);
    const transient =
      err instanceof TransientDownloadError
        ? err
        : new TransientDownloadError(`unexpected failure: ${describeError(err)}`, { cause: err });
    ports.logger.warn("export download failed; the queue will deliver the job again", {
      ...context,
      error: errorForLog(transient),
      help: `see help: ${transient.name}`,
    });
    ports.metrics.exportDownloadFailed("transient");
    ports.report?.({ type: "retried", messageId: record.messageId, reason: redactQueryStrings(transient.message) });
    return "retry";
  }
}

async function deadLetter(
  record: DownloadRecord,
  error: PermanentDownloadError,
  context: Record<string, unknown>,
  ports: BatchPorts,
): Promise<Outcome> {
  const reason = redactQueryStrings(error.message);
  const status = error.status === undefined ? "none" : String(error.status);
  ports.logger.error("export download failed permanently; sending the job to the dead-letter queue", {
    ...context,
    reason,
    status,
    error: errorForLog(error),
    help: `see help: ${error.name}`,
  });
  ports.metrics.exportDownloadFailed("permanent");
  try {
    await ports.deadLetters.send({ body: record.body, reason, status, sourceMessageId: record.messageId });
    ports.report?.({ type: "dead-lettered", messageId: record.messageId, reason, status });
    return "done";
  } catch (err) {
    ports.logger.error("could not send the job to the dead-letter queue; the queue will deliver it again", {
      ...context,
      reason,
      error: errorForLog(err),
      help: "see help: could not send the job to the dead-letter queue",
    });
    ports.report?.({ type: "dead-letter-failed", messageId: record.messageId, reason });
    return "retry";
  }
}
