/**
 * The receiver's environment, read and checked once at cold start by the shared reader (handlers/shared/environment.ts):
 * every problem at once, naming the variable, its value and what is expected. Names: facts/environment.ts.
 */
import { SECRET_ARN_PATTERN, S3_BUCKET_NAME_PATTERN } from "../../facts/aws-names";
import { RECEIVER_ENV } from "../../facts/environment";
import { TABLE_NAME_PATTERN } from "../../facts/exports";
import { type Env, EnvironmentReader, isHttpsUrl } from "../shared/environment";

export interface ReceiverEnvironment {
  /** SIGNING_SECRET_ARN */
  readonly signingSecretArn: string;
  /** DOWNLOAD_QUEUE_URL */
  readonly downloadQueueUrl: string;
  /** TABLES */
  readonly tables: readonly string[];
  /** CONTROLSHIFT_BUCKETS */
  readonly controlshiftBuckets: readonly string[];
  /** QUARANTINE_BUCKET: where signed payloads the receiver cannot act on are kept (the exports bucket). */
  readonly quarantineBucket: string;
  /** SECRET_CACHE_SECONDS */
  readonly secretCacheSeconds: number;
  /** MAX_BODY_BYTES: signed bulk-data bodies over it are quarantined */
  readonly maxBodyBytes: number;
  /** POWERTOOLS_SERVICE_NAME */
  readonly serviceName: string;
  /** POWERTOOLS_METRICS_NAMESPACE */
  readonly metricsNamespace: string;
}

/** Reads the receiver's variables from `env`. Throws EnvironmentError listing every missing or bad one. */
export function readReceiverEnvironment(env: Env): ReceiverEnvironment {
  const read = new EnvironmentReader(env, "webhook receiver");
  const signingSecretArn = read.required(
    RECEIVER_ENV.signingSecretArn,
    "the ARN of the Secrets Manager secret holding ControlShift's webhook signing secret",
  );
  read.check(RECEIVER_ENV.signingSecretArn, signingSecretArn, SECRET_ARN_PATTERN.test(signingSecretArn), "a Secrets Manager secret ARN");
  const downloadQueueUrl = read.required(RECEIVER_ENV.downloadQueueUrl, "the https URL of the downloads SQS queue");
  read.check(RECEIVER_ENV.downloadQueueUrl, downloadQueueUrl, isHttpsUrl(downloadQueueUrl), "an https SQS queue URL");
  const tables = read.list(RECEIVER_ENV.tables, "a comma-separated list of ControlShift table names", TABLE_NAME_PATTERN);
  const controlshiftBuckets = read.list(
    RECEIVER_ENV.controlshiftBuckets,
    "a comma-separated list of ControlShift export bucket names (e.g. agra-data-exports-production)",
    S3_BUCKET_NAME_PATTERN,
  );
  const quarantineBucket = read.matching(
    RECEIVER_ENV.quarantineBucket,
    "the name of the exports bucket, where signed payloads the receiver cannot act on are quarantined",
    S3_BUCKET_NAME_PATTERN,
  );
  const secretCacheSeconds = read.integer(RECEIVER_ENV.secretCacheSeconds, 0);
  const maxBodyBytes = read.integer(RECEIVER_ENV.maxBodyBytes, 1);
  const { serviceName, metricsNamespace } = read.powertools();
  return read.done(() => ({
    signingSecretArn,
    downloadQueueUrl,
    tables,
    controlshiftBuckets,
    quarantineBucket,
    secretCacheSeconds,
    maxBodyBytes,
    serviceName,
    metricsNamespace,
  }));
}
