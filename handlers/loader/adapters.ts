/**
 * The loader's real ports: Powertools metrics (by kind, and the freshness metric by table), and the header reader
 * over S3.
 */
import { MetricUnit, type Metrics } from "@aws-lambda-powertools/metrics";
import type { S3Client } from "@aws-sdk/client-s3";
import { readExportHeader, s3RangeReader } from "../load/header";
import type { Compression } from "../shared/export-file";
import type { ExportKind } from "../../facts/exports";
import type { LoaderMetrics } from "./load-batch";
import { KIND_DIMENSION, LOADER_METRICS, TABLE_DIMENSION } from "../../facts/metrics";

/**
 * Makes `metrics` carry exactly one dimension, `kind`. Powertools adds `service` (the function name) by default,
 * which would make a series per loader function: 126 functions x 5 metrics at $0.30 per series a month.
 * Per-table figures (rows, seconds, outcome) are in the ledger and in each load's log line.
 */
export function useKindDimension(metrics: Metrics, kind: ExportKind): Metrics {
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ [KIND_DIMENSION]: kind });
  return metrics;
}

/**
 * Per committed load: LoadSucceeded 1, RowsLoaded (rows merged), FilesSkippedStale, LoadSeconds (dimension
 * `kind`), and FullLoadSucceeded 1 (dimension `table` alone) when a full export's rows were merged. Per failed
 * load: LoadFailed 1. Stored, and flushed by the entry at the end of the invocation.
 */
export function powertoolsLoaderMetrics(metrics: Metrics, table: string): LoaderMetrics {
  return {
    loadSucceeded(summary) {
      metrics.addMetric(LOADER_METRICS.loadSucceeded, MetricUnit.Count, 1);
      metrics.addMetric(LOADER_METRICS.rowsLoaded, MetricUnit.Count, summary.rowsLoaded);
      metrics.addMetric(LOADER_METRICS.filesSkippedStale, MetricUnit.Count, summary.filesSkippedStale);
      metrics.addMetric(LOADER_METRICS.loadSeconds, MetricUnit.Seconds, summary.seconds);
      if (summary.fullLoaded) {
        // Its own EMF record, flushed at once, with `table` as its only dimension (not `kind`).
        const single = metrics.singleMetric();
        single.clearDefaultDimensions();
        single.addDimension(TABLE_DIMENSION, table);
        single.addMetric(LOADER_METRICS.fullLoadSucceeded, MetricUnit.Count, 1);
      }
    },
    loadFailed() {
      metrics.addMetric(LOADER_METRICS.loadFailed, MetricUnit.Count, 1);
    },
  };
}

/**
 * readExportHeader over ranged GETs on the exports bucket, and the version (ETag) each header was read from: the
 * Redshift adapter refuses to load another version (manifest.ts).
 */
export function s3HeaderReader(
  client: S3Client,
  bucket: string,
): {
  readHeader: (objectKey: string, compression: Compression) => Promise<readonly string[]>;
  headerVersion: (objectKey: string) => string | undefined;
} {
  const versions = new Map<string, string>();
  const readRange = s3RangeReader(client, bucket, versions);
  return {
    readHeader: (objectKey, compression) => readExportHeader(readRange, objectKey, compression),
    headerVersion: (objectKey) => versions.get(objectKey),
  };
}
