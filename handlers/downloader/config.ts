/**
 * The downloader's environment, read once at cold start by the shared reader (handlers/shared/environment.ts):
 * every problem at once, naming the variable, its value and what is allowed. Names: facts/environment.ts; part size
 * limits: facts/downloads.ts.
 */
import { DOWNLOADER_ENV } from "../../facts/environment";
import { PART_SIZE_MIB, UPLOAD_QUEUE_SIZE } from "../../facts/downloads";
import { type Env, EnvironmentReader } from "../shared/environment";

export interface DownloaderConfig {
  /** Bucket the exports are written to (EXPORTS_BUCKET). */
  readonly exportsBucket: string;
  /** Where permanently failing jobs go (DEAD_LETTER_QUEUE_URL). */
  readonly deadLetterQueueUrl: string;
  /** Multipart part size in bytes (PART_SIZE_MIB). */
  readonly partSizeBytes: number;
  /** Parts uploaded concurrently (UPLOAD_QUEUE_SIZE). */
  readonly uploadQueueSize: number;
  /** POWERTOOLS_SERVICE_NAME */
  readonly serviceName: string;
  /** POWERTOOLS_METRICS_NAMESPACE */
  readonly metricsNamespace: string;
}

/** Reads and checks the environment. Throws EnvironmentError listing every problem. */
export function loadDownloaderConfig(env: Env): DownloaderConfig {
  const read = new EnvironmentReader(env, "downloader");
  const exportsBucket = read.required(DOWNLOADER_ENV.exportsBucket, "the exports bucket's name");
  const deadLetterQueueUrl = read.required(DOWNLOADER_ENV.deadLetterQueueUrl, "the URL of the downloads dead-letter queue");
  const partSizeMib = read.integer(DOWNLOADER_ENV.partSizeMib, PART_SIZE_MIB.min, PART_SIZE_MIB.max);
  const uploadQueueSize = read.integer(DOWNLOADER_ENV.uploadQueueSize, UPLOAD_QUEUE_SIZE.min, UPLOAD_QUEUE_SIZE.max);
  const { serviceName, metricsNamespace } = read.powertools();
  return read.done(() => ({
    exportsBucket,
    deadLetterQueueUrl,
    partSizeBytes: partSizeMib * 1024 * 1024,
    uploadQueueSize,
    serviceName,
    metricsNamespace,
  }));
}

/** Time kept back from the Lambda timeout to abort the upload, answer SQS and flush logs and metrics. */
export const SHUTDOWN_MARGIN_MS = 10_000;

/** Milliseconds a batch may run before its downloads are aborted (and reported for retry). */
export function downloadBudgetMs(remainingMs: number): number {
  return Math.max(remainingMs - SHUTDOWN_MARGIN_MS, Math.floor(remainingMs * 0.8));
}
