/**
 * The real ports: S3 through lib-storage's Upload, the dead-letter queue through SQS, metrics through Powertools.
 */
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { Upload } from "@aws-sdk/lib-storage";
import { MetricUnit, type Metrics } from "@aws-lambda-powertools/metrics";
import { DEAD_LETTER_ATTRIBUTES } from "../../facts/dead-letters";
import { DOWNLOADER_METRICS, KIND_DIMENSION } from "../../facts/metrics";
import type { DeadLetterQueue, DownloaderMetrics, ExportUploader } from "./ports";

/**
 * The S3 client the downloader writes with. On AWS, the SDK's defaults are right (region and credentials from the
 * Lambda environment, CRC32 checksums on every part). Local S3 stand-ins pass an endpoint, path-style addressing
 * and `requestChecksumCalculation: "WHEN_REQUIRED"` (s3rver mangles bodies sent with checksum trailers).
 */
export function createExportsS3Client(config: S3ClientConfig = {}): S3Client {
  return new S3Client(config);
}

export interface UploaderSettings {
  /** Bytes per part: every part but the last has exactly this size. At least 5 MiB (S3's minimum). */
  readonly partSizeBytes: number;
  /** Parts in flight at once. Memory is about partSizeBytes x (queueSize + 1). */
  readonly queueSize: number;
}

/**
 * Streams a body into S3 as a multipart upload (a single PUT when the body is smaller than one part). lib-storage
 * buffers one part per uploader slot, never the whole body. With `leavePartsOnError: false` a failed upload is
 * aborted, so no parts linger (and no object appears).
 */
export function libStorageUploader(client: S3Client, settings: UploaderSettings): ExportUploader {
  return {
    async upload({ bucket, key, body, contentType, metadata }) {
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType, Metadata: { ...metadata } },
        partSize: settings.partSizeBytes,
        queueSize: settings.queueSize,
        leavePartsOnError: false,
      });
      await upload.done();
    },
  };
}

/** Sends a permanently failed job, body unchanged, to the downloads dead-letter queue. */
export function sqsDeadLetterQueue(sqs: SQSClient, queueUrl: string): DeadLetterQueue {
  return {
    async send({ body, reason, status, sourceMessageId }) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageAttributes: {
            [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: "String", StringValue: reason },
            [DEAD_LETTER_ATTRIBUTES.status]: { DataType: "String", StringValue: status },
            [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: { DataType: "String", StringValue: sourceMessageId },
          },
        }),
      );
    },
  };
}

/**
 * `ExportDownloaded` (unit Bytes, one sample per export: SampleCount = exports, Sum = bytes) and
 * `ExportDownloadFailed` (Count) with dimension `kind` = permanent | transient.
 */
export function powertoolsMetrics(metrics: Metrics): DownloaderMetrics {
  return {
    exportDownloaded(bytes) {
      metrics.addMetric(DOWNLOADER_METRICS.downloaded, MetricUnit.Bytes, bytes);
    },
    exportDownloadFailed(kind) {
      // A single metric carries its own dimension and is flushed at once.
      const single = metrics.singleMetric();
      single.addDimension(KIND_DIMENSION, kind);
      single.addMetric(DOWNLOADER_METRICS.failed, MetricUnit.Count, 1);
    },
  };
}
