/**
 * The loader's real ports: Powertools metrics with the table as their only dimension, and the header reader over S3.
 */
import { MetricUnit, type Metrics } from "@aws-lambda-powertools/metrics";
import type { S3Client } from "@aws-sdk/client-s3";
import { readExportHeader, s3RangeReader } from "../load/header";
import type { Compression } from "../shared/export-file";
import type { LoaderMetrics } from "./load-batch";

/** Metric names. The freshness alarm is built on FullLoadSucceeded: keep the names stable. */
export const LOADER_METRICS = {
  loadSucceeded: "LoadSucceeded",
  loadFailed: "LoadFailed",
  rowsLoaded: "RowsLoaded",
  filesSkippedStale: "FilesSkippedStale",
  loadSeconds: "LoadSeconds",
  fullLoadSucceeded: "FullLoadSucceeded",
} as const;

/** The one dimension of every loader metric. */
export const TABLE_DIMENSION = "table";

/**
 * Makes `metrics` carry exactly one dimension, `table`: Powertools adds `service` (the function name) by default,
 * which would make every alarm name the function too. One dimension, of bounded cardinality (the config's tables).
 */
export function useTableDimension(metrics: Metrics, table: string): Metrics {
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ [TABLE_DIMENSION]: table });
  return metrics;
}

/**
 * Per committed load: LoadSucceeded 1, RowsLoaded (rows merged), FilesSkippedStale, LoadSeconds, and
 * FullLoadSucceeded 1 when a full export's rows were merged. Per failed load: LoadFailed 1.
 * Stored, and flushed by the entry at the end of the invocation.
 */
export function powertoolsLoaderMetrics(metrics: Metrics): LoaderMetrics {
  return {
    loadSucceeded(summary) {
      metrics.addMetric(LOADER_METRICS.loadSucceeded, MetricUnit.Count, 1);
      metrics.addMetric(LOADER_METRICS.rowsLoaded, MetricUnit.Count, summary.rowsLoaded);
      metrics.addMetric(LOADER_METRICS.filesSkippedStale, MetricUnit.Count, summary.filesSkippedStale);
      metrics.addMetric(LOADER_METRICS.loadSeconds, MetricUnit.Seconds, summary.seconds);
      if (summary.fullLoaded) metrics.addMetric(LOADER_METRICS.fullLoadSucceeded, MetricUnit.Count, 1);
    },
    loadFailed() {
      metrics.addMetric(LOADER_METRICS.loadFailed, MetricUnit.Count, 1);
    },
  };
}

/** readExportHeader over ranged GETs on the exports bucket. */
export function s3HeaderReader(
  client: S3Client,
  bucket: string,
): (objectKey: string, compression: Compression) => Promise<readonly string[]> {
  const readRange = s3RangeReader(client, bucket);
  return (objectKey, compression) => readExportHeader(readRange, objectKey, compression);
}
