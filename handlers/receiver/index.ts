/**
 * Webhook receiver Lambda: API Gateway HTTP API (payload format 2.0) `POST /webhook` -> this handler.
 *
 * Verifies ControlShift's signature, checks the payload and queues one download job per bulk-data export on SQS; it
 * never downloads. The logic is in `receive.ts`; this file only reads the environment, builds the clients and maps
 * API Gateway's event to the core's request.
 *
 * Environment (names: facts/environment.ts; read once, at cold start, a missing or bad variable fails the init with a
 * message naming it):
 * - `SIGNING_SECRET_ARN`: ARN of the Secrets Manager secret whose AWSCURRENT SecretString is ControlShift's webhook
 *   signing secret, as a raw string (surrounding whitespace ignored). Until the operator fills it, every webhook gets 401.
 * - `DOWNLOAD_QUEUE_URL`: https URL of the SQS queue the download jobs go to.
 * - `TABLES`: comma-separated ControlShift table names to mirror (`petitions,signatures`); others are ignored.
 * - `CONTROLSHIFT_BUCKETS`: comma-separated bucket names whose presigned URLs may be downloaded
 *   (`agra-data-exports-production,agra-data-exports-production-eu-central-1`).
 * - `QUARANTINE_BUCKET`: the exports bucket; signed payloads the receiver cannot act on are stored under
 *   `quarantine/pending/` there and answered 200 (facts/quarantine.ts).
 * - `SECRET_CACHE_SECONDS`: how long the secret is cached; 0 reads it on every request.
 * - `MAX_BODY_BYTES`: signed bulk-data bodies over it are quarantined. Bodies over REQUEST_SIZE_GUARD_BYTES
 *   (10 MiB, API Gateway's own cap) are answered 413 before anything else.
 * - `POWERTOOLS_SERVICE_NAME`: service name in logs and metrics (the stack sets the function name).
 * - `POWERTOOLS_METRICS_NAMESPACE`: CloudWatch namespace of the metrics, the one the alarms read.
 *
 * Metrics (count 1 per request): WebhookAccepted, WebhookIgnored (dimension `reason`: event-type | unconfigured-table),
 * WebhookQuarantined, WebhookUnauthorized, WebhookRejected (413, over the size guard), WebhookQueueFailed,
 * WebhookQuarantineFailed, WebhookSecretUnavailable.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { S3QuarantineStore, SqsDownloadQueue, secretsManagerSigningSecret } from "./aws-adapters";
import { readReceiverEnvironment } from "./config";
import type { WebhookOutcome } from "./ports";
import { type ReceiverSettings, receiveWebhook } from "./receive";
import { CachedSigningSecret } from "./signing-secret-cache";

const environment = readReceiverEnvironment(process.env);

const logger = new Logger({ serviceName: environment.serviceName });
const metrics = new Metrics({ namespace: environment.metricsNamespace, serviceName: environment.serviceName });

const clock = () => new Date();
const settings: ReceiverSettings = {
  tables: new Set(environment.tables),
  buckets: environment.controlshiftBuckets,
  maxBodyBytes: environment.maxBodyBytes,
};
const secret = new CachedSigningSecret(
  secretsManagerSigningSecret(new SecretsManagerClient({}), environment.signingSecretArn),
  clock,
  environment.secretCacheSeconds * 1000,
);
const queue = new SqsDownloadQueue(new SQSClient({}), environment.downloadQueueUrl);
const quarantine = new S3QuarantineStore(new S3Client({}), environment.quarantineBucket);

export async function handler(
  event: APIGatewayProxyEventV2,
  context?: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  if (context !== undefined) logger.addContext(context);
  const request = {
    requestId: event.requestContext?.requestId,
    sourceIp: event.requestContext?.http?.sourceIp,
  };
  const report = (outcome: WebhookOutcome) => {
    logger[outcome.level](outcome.message, {
      request,
      statusCode: outcome.statusCode,
      metric: outcome.metric,
      ...outcome.details,
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      // A refused, failed or quarantined request points at its entry in the project's `help` file: the error's name
      // for a 5xx, the start of this message for a 4xx (which logs no error), the core's pointer for a quarantine.
      ...(outcome.help !== undefined
        ? { help: outcome.help }
        : outcome.statusCode >= 400
          ? { help: `see help: ${outcome.error?.name ?? `webhook answered ${outcome.statusCode}`}` }
          : {}),
    });
    if (outcome.dimensions !== undefined) {
      const single = metrics.singleMetric();
      for (const [name, value] of Object.entries(outcome.dimensions)) single.addDimension(name, value);
      single.addMetric(outcome.metric, MetricUnit.Count, 1);
    } else {
      metrics.addMetric(outcome.metric, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    }
  };
  try {
    const response = await receiveWebhook(
      { headers: event.headers ?? {}, body: event.body, isBase64Encoded: event.isBase64Encoded === true },
      settings,
      { secret, queue, quarantine, clock, report },
    );
    return { statusCode: response.statusCode, headers: { ...response.headers }, body: response.body };
  } catch (err) {
    // A bug, not an expected outcome: log it with the request, then let Lambda count the error and API Gateway answer
    // 500, which ControlShift retries.
    logger.error("webhook receiver failed unexpectedly", {
      request,
      error: err as Error,
      help: "see help: webhook receiver failed unexpectedly",
    });
    throw err;
  }
}
