/**
 * The downloader's environment, read once at cold start. Every problem is reported at once, naming the variable,
 * its value and what is allowed, so a misconfigured deployment fails on its first invocation with a readable error
 * instead of half-working.
 */

/** S3's minimum part size (all parts but the last): https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html */
export const MIN_PART_SIZE_MIB = 5;
/** S3's maximum part size. */
export const MAX_PART_SIZE_MIB = 5 * 1024;
export const DEFAULT_PART_SIZE_MIB = 8;
export const DEFAULT_UPLOAD_QUEUE_SIZE = 4;
/** Each queued part is a buffer of PART_SIZE_MIB: keep the product well inside the function's memory. */
export const MAX_UPLOAD_QUEUE_SIZE = 32;

export interface DownloaderConfig {
  /** Bucket the exports are written to (EXPORTS_BUCKET). */
  readonly exportsBucket: string;
  /** Where permanently failing jobs go (DEAD_LETTER_QUEUE_URL). */
  readonly deadLetterQueueUrl: string;
  /** Multipart part size in bytes (PART_SIZE_MIB). */
  readonly partSizeBytes: number;
  /** Parts uploaded concurrently (UPLOAD_QUEUE_SIZE). */
  readonly uploadQueueSize: number;
}

export class DownloaderConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`downloader configuration is invalid: ${problems.join("; ")}`);
    this.name = "DownloaderConfigError";
  }
}

const REQUIRED = ["EXPORTS_BUCKET", "DEAD_LETTER_QUEUE_URL", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"] as const;

function integerSetting(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} is ${JSON.stringify(raw)}: expected a whole number from ${min} to ${max} (default ${fallback})`);
    return fallback;
  }
  return value;
}

/** Reads and checks the environment. Throws DownloaderConfigError listing every problem. */
export function loadDownloaderConfig(env: Readonly<Record<string, string | undefined>>): DownloaderConfig {
  const problems: string[] = [];
  const missing = REQUIRED.filter((name) => !env[name]?.trim());
  if (missing.length > 0) problems.push(`missing environment variable(s): ${missing.join(", ")}`);
  const partSizeMib = integerSetting(env, "PART_SIZE_MIB", DEFAULT_PART_SIZE_MIB, MIN_PART_SIZE_MIB, MAX_PART_SIZE_MIB, problems);
  const uploadQueueSize = integerSetting(env, "UPLOAD_QUEUE_SIZE", DEFAULT_UPLOAD_QUEUE_SIZE, 1, MAX_UPLOAD_QUEUE_SIZE, problems);
  if (problems.length > 0) throw new DownloaderConfigError(problems);
  return {
    exportsBucket: env.EXPORTS_BUCKET!.trim(),
    deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL!.trim(),
    partSizeBytes: partSizeMib * 1024 * 1024,
    uploadQueueSize,
  };
}

/** Time kept back from the Lambda timeout to abort the upload, answer SQS and flush logs and metrics. */
export const SHUTDOWN_MARGIN_MS = 10_000;

/** Milliseconds a batch may run before its downloads are aborted (and reported for retry). */
export function downloadBudgetMs(remainingMs: number): number {
  return Math.max(remainingMs - SHUTDOWN_MARGIN_MS, Math.floor(remainingMs * 0.8));
}
