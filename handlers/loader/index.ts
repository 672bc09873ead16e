/**
 * Loader Lambda: one function per table and kind (full, incremental), sharing this bundle, configured by environment.
 * S3 Object Created -> EventBridge rule (the table's prefix) -> SQS queue (+ DLQ) -> this handler -> Redshift.
 *
 * The logic is in load-batch.ts (the batch) over handlers/load/ (plan, render, the Redshift adapter); this file reads
 * the environment once, builds the clients, and gives each invocation a warehouse adapter that follows the
 * invocation's remaining time. Configure the event source mapping with `FunctionResponseTypes:
 * ["ReportBatchItemFailures"]`, and a visibility timeout well above the function's timeout (a still-running load is
 * picked up again by the next delivery).
 *
 * Environment (names: facts/environment.ts; read once, at cold start, a missing or bad variable fails the init with a
 * message naming it):
 * - `TABLE`: the ControlShift table; `LOAD_KIND`: full | incremental.
 * - `DATA_SCHEMA`, `METADATA_SCHEMA`: the schemas of the mirrored tables and of the load ledger.
 * - `EXPORTS_BUCKET`: the bucket the exports are in; `COPY_ROLE_ARN`: the role the warehouse assumes for COPY.
 * - `WAREHOUSE_DATABASE`, exactly one of `WAREHOUSE_CLUSTER_ID` / `WAREHOUSE_WORKGROUP`, and `WAREHOUSE_SECRET_ARN`
 *   or `WAREHOUSE_DB_USER` (a cluster needs one; a workgroup takes the secret or neither, for IAM).
 * - `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`.
 *
 * Metrics: LoadSucceeded, LoadFailed, RowsLoaded, FilesSkippedStale, LoadSeconds (dimension `kind` only), and
 * FullLoadSucceeded (dimension `table` only: the freshness alarm's metric).
 *
 * Permissions: s3:GetObject on the table's prefix (header reads), the Data API grant of modules/warehouse.ts.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { S3Client } from "@aws-sdk/client-s3";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { TABLE_SCHEMAS } from "../../schemas/table-schemas";
import { s3ManifestStore } from "../load/manifest";
import { RedshiftWarehouse } from "../load/redshift-adapter";
import { powertoolsLoaderMetrics, s3HeaderReader, useKindDimension } from "./adapters";
import { readLoaderEnvironment } from "./config";
import { loadBatch, type LoaderSettings } from "./load-batch";

const environment = readLoaderEnvironment(process.env);

const logger = new Logger({ serviceName: environment.serviceName });
const metrics = useKindDimension(
  new Metrics({ namespace: environment.metricsNamespace, serviceName: environment.serviceName }),
  environment.kind,
);
const loaderMetrics = powertoolsLoaderMetrics(metrics, environment.table);

const dataApi = new RedshiftDataClient({});
const s3 = new S3Client({});
const { readHeader, headerVersion } = s3HeaderReader(s3, environment.exportsBucket);
const manifests = s3ManifestStore(s3, environment.exportsBucket);

const settings: LoaderSettings = {
  table: environment.table,
  kind: environment.kind,
  dataSchema: environment.dataSchema,
  metadataSchema: environment.metadataSchema,
  exportsBucket: environment.exportsBucket,
  knownColumns: TABLE_SCHEMAS[environment.table],
};

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  const warehouse = new RedshiftWarehouse({
    client: dataApi,
    target: environment.target,
    exportsBucket: environment.exportsBucket,
    copyRoleArn: environment.copyRoleArn,
    manifests,
    headerVersion,
    remainingTimeMs: () => context.getRemainingTimeInMillis(),
  });
  try {
    return await loadBatch(event.Records ?? [], settings, {
      warehouse,
      readHeader,
      logger,
      metrics: loaderMetrics,
      clock: Date.now,
    });
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
