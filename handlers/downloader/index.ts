/**
 * Downloader Lambda (SQS "downloads" queue -> this function -> exports bucket).
 *
 * Streams each job's presigned ControlShift export URL into `exports/{kind}/{table}/{YYYYMMDD}/{file}`, where the
 * bucket's ObjectCreated events start the loaders. Configure the event source mapping with batch size 1 and
 * `FunctionResponseTypes: ["ReportBatchItemFailures"]`; the handler answers `{ batchItemFailures }`.
 *
 * Environment (names: facts/environment.ts; read once at cold start, a missing or invalid variable fails the cold
 * start, naming it):
 * - `EXPORTS_BUCKET` (required): bucket the exports are written to.
 * - `DEAD_LETTER_QUEUE_URL` (required): the downloads dead-letter queue; permanent failures are sent there at once.
 * - `PART_SIZE_MIB` (5..512): multipart part size.
 * - `UPLOAD_QUEUE_SIZE` (1..16): parts uploaded concurrently. Memory ~ PART_SIZE_MIB x (UPLOAD_QUEUE_SIZE + 1).
 * - `POWERTOOLS_SERVICE_NAME` (required): service name on logs and metrics.
 * - `POWERTOOLS_METRICS_NAMESPACE` (required): CloudWatch namespace of `ExportDownloaded` / `ExportDownloadFailed`.
 *
 * Permissions: s3:PutObject and s3:AbortMultipartUpload on `exports/*` of the bucket (plus kms:GenerateDataKey and
 * kms:Decrypt on its key if the bucket uses SSE-KMS: multipart uploads need both), sqs:SendMessage on the
 * dead-letter queue, and the event source mapping's receive/delete on the downloads queue. Give the downloads queue
 * a visibility timeout of at least 6x this function's timeout, as AWS advises for SQS event sources.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createExportsS3Client, libStorageUploader, powertoolsMetrics, sqsDeadLetterQueue } from "./adapters";
import { downloadBudgetMs, loadDownloaderConfig } from "./config";
import { processDownloadBatch, type BatchPorts } from "./process-batch";
import { systemClock } from "./ports";

const config = loadDownloaderConfig(process.env);
const logger = new Logger({ serviceName: config.serviceName });
const metrics = new Metrics({ namespace: config.metricsNamespace, serviceName: config.serviceName });

const ports: BatchPorts = {
  fetch: (url, init) => fetch(url, init),
  uploader: libStorageUploader(createExportsS3Client(), {
    partSizeBytes: config.partSizeBytes,
    queueSize: config.uploadQueueSize,
  }),
  deadLetters: sqsDeadLetterQueue(new SQSClient({}), config.deadLetterQueueUrl),
  logger,
  metrics: powertoolsMetrics(metrics),
  clock: systemClock,
};

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new Error("the Lambda is about to time out")),
    downloadBudgetMs(context.getRemainingTimeInMillis()),
  );
  try {
    return await processDownloadBatch(event.Records ?? [], ports, {
      bucket: config.exportsBucket,
      signal: deadline.signal,
    });
  } finally {
    clearTimeout(timer);
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
};
