/**
 * The receiver's environment, read and checked once at cold start. Every problem is reported at once, naming the
 * variable, its value and what is expected, so a misconfigured deployment fails its first invocation loudly.
 */
import { TABLE_NAME_PATTERN } from "../shared/export-file";
import { S3_BUCKET_NAME_PATTERN } from "../shared/export-url";

export interface ReceiverEnvironment {
  /** SIGNING_SECRET_ARN */
  readonly signingSecretArn: string;
  /** DOWNLOAD_QUEUE_URL */
  readonly downloadQueueUrl: string;
  /** TABLES */
  readonly tables: readonly string[];
  /** CONTROLSHIFT_BUCKETS */
  readonly controlshiftBuckets: readonly string[];
  /** SECRET_CACHE_SECONDS, @default 300 */
  readonly secretCacheSeconds: number;
  /** MAX_BODY_BYTES, @default 65536 */
  readonly maxBodyBytes: number;
  /** POWERTOOLS_SERVICE_NAME, @default "webhook-receiver" */
  readonly serviceName: string;
  /** POWERTOOLS_METRICS_NAMESPACE, @default "ControlShiftMirror" */
  readonly metricsNamespace: string;
}

export const DEFAULT_SECRET_CACHE_SECONDS = 300;
export const DEFAULT_MAX_BODY_BYTES = 65_536;
export const DEFAULT_SERVICE_NAME = "webhook-receiver";
export const DEFAULT_METRICS_NAMESPACE = "ControlShiftMirror";

const SECRET_ARN_PATTERN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;

export class ReceiverConfigError extends Error {
  override readonly name: string = "ReceiverConfigError";
}

/** Reads the receiver's variables from `env`. Throws ReceiverConfigError listing every missing or bad one. */
export function readReceiverEnvironment(env: Readonly<Record<string, string | undefined>>): ReceiverEnvironment {
  const problems: string[] = [];
  const required = (name: string, what: string): string => {
    const value = env[name]?.trim() ?? "";
    if (value === "") problems.push(`${name} is not set: expected ${what}`);
    return value;
  };
  const check = (name: string, value: string, ok: boolean, what: string) => {
    if (value !== "" && !ok) problems.push(`${name} is ${JSON.stringify(value)}: expected ${what}`);
  };
  const list = (name: string, what: string, pattern: RegExp): string[] => {
    const raw = required(name, what);
    const items = raw.split(",").map((item) => item.trim()).filter((item) => item !== "");
    const bad = items.filter((item) => !pattern.test(item));
    if (raw !== "" && (items.length === 0 || bad.length > 0)) {
      problems.push(`${name} is ${JSON.stringify(raw)}: expected ${what}${bad.length > 0 ? `; bad: ${bad.join(", ")}` : ""}`);
    }
    return items;
  };
  const integer = (name: string, fallback: number, min: number): number => {
    const raw = env[name]?.trim() ?? "";
    if (raw === "") return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min) {
      problems.push(`${name} is ${JSON.stringify(raw)}: expected a whole number >= ${min} (default ${fallback})`);
      return fallback;
    }
    return value;
  };

  const signingSecretArn = required(
    "SIGNING_SECRET_ARN",
    "the ARN of the Secrets Manager secret holding ControlShift's webhook signing secret",
  );
  check("SIGNING_SECRET_ARN", signingSecretArn, SECRET_ARN_PATTERN.test(signingSecretArn), "a Secrets Manager secret ARN");
  const downloadQueueUrl = required("DOWNLOAD_QUEUE_URL", "the https URL of the downloads SQS queue");
  check("DOWNLOAD_QUEUE_URL", downloadQueueUrl, isHttpsUrl(downloadQueueUrl), "an https SQS queue URL");
  const tables = list("TABLES", "a comma-separated list of ControlShift table names", TABLE_NAME_PATTERN);
  const controlshiftBuckets = list(
    "CONTROLSHIFT_BUCKETS",
    "a comma-separated list of ControlShift export bucket names (e.g. agra-data-exports-production)",
    S3_BUCKET_NAME_PATTERN,
  );
  const secretCacheSeconds = integer("SECRET_CACHE_SECONDS", DEFAULT_SECRET_CACHE_SECONDS, 0);
  const maxBodyBytes = integer("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1);

  if (problems.length > 0) {
    throw new ReceiverConfigError(`webhook receiver: bad environment: ${problems.join("; ")}`);
  }
  return {
    signingSecretArn,
    downloadQueueUrl,
    tables,
    controlshiftBuckets,
    secretCacheSeconds,
    maxBodyBytes,
    serviceName: env.POWERTOOLS_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME,
    metricsNamespace: env.POWERTOOLS_METRICS_NAMESPACE?.trim() || DEFAULT_METRICS_NAMESPACE,
  };
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === "https:";
  } catch {
    return false;
  }
}
