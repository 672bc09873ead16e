/**
 * Shared facts (see facts/README.md; new shared facts go in this folder): the names of every function's environment
 * variables. The stack (modules/) sets them through these constants and each function reads them through the same
 * constants (handlers/shared/environment.ts); __tests__/function-environment.test.ts feeds each synthesized
 * function's environment to its own reader, so a variable renamed on one side fails a test, not a deployment.
 */

/** Set on every function by modules/mirror-function.ts. */
export const COMMON_ENV = {
  /** Powertools' service name on logs and the `service` metric dimension: the function's name. */
  serviceName: "POWERTOOLS_SERVICE_NAME",
  /** The CloudWatch namespace of the function's metrics: deploymentMetricsNamespace(prefix) (facts/metrics.ts). */
  metricsNamespace: "POWERTOOLS_METRICS_NAMESPACE",
  nodeOptions: "NODE_OPTIONS",
} as const;

/** The webhook receiver's own variables. */
export const RECEIVER_ENV = {
  /** The Secrets Manager secret holding ControlShift's webhook signing secret. */
  signingSecretArn: "SIGNING_SECRET_ARN",
  /** The downloads queue's URL. */
  downloadQueueUrl: "DOWNLOAD_QUEUE_URL",
  /** Comma-separated configured tables. */
  tables: "TABLES",
  /** Comma-separated ControlShift export buckets whose presigned URLs may be downloaded. */
  controlshiftBuckets: "CONTROLSHIFT_BUCKETS",
  /** The exports bucket, where signed payloads the receiver cannot act on are quarantined (facts/quarantine.ts). */
  quarantineBucket: "QUARANTINE_BUCKET",
  secretCacheSeconds: "SECRET_CACHE_SECONDS",
  maxBodyBytes: "MAX_BODY_BYTES",
} as const;

/** The downloader's own variables. */
export const DOWNLOADER_ENV = {
  exportsBucket: "EXPORTS_BUCKET",
  /** The downloads dead-letter queue: permanent failures go there at once. */
  deadLetterQueueUrl: "DEAD_LETTER_QUEUE_URL",
  partSizeMib: "PART_SIZE_MIB",
  uploadQueueSize: "UPLOAD_QUEUE_SIZE",
} as const;

/** A loader's own variables; its warehouse access comes as WAREHOUSE_ENV. */
export const LOADER_ENV = {
  table: "TABLE",
  /** full | incremental */
  kind: "LOAD_KIND",
  dataSchema: "DATA_SCHEMA",
  metadataSchema: "METADATA_SCHEMA",
  exportsBucket: "EXPORTS_BUCKET",
} as const;

/** The warehouse access a Data API grant gives a function (modules/warehouse.ts): the loaders and the bootstrap. */
export const WAREHOUSE_ENV = {
  /** Set for a provisioned cluster: the Data API's ClusterIdentifier. */
  clusterId: "WAREHOUSE_CLUSTER_ID",
  /** Set for a Serverless workgroup: the Data API's WorkgroupName. */
  workgroup: "WAREHOUSE_WORKGROUP",
  database: "WAREHOUSE_DATABASE",
  /** Set with secret auth: the Data API's SecretArn. */
  secretArn: "WAREHOUSE_SECRET_ARN",
  /** Set with IAM auth on a cluster: the Data API's DbUser. Neither this nor the secret: IAM auth on a workgroup. */
  dbUser: "WAREHOUSE_DB_USER",
  /** The role the warehouse assumes for COPY. */
  copyRoleArn: "COPY_ROLE_ARN",
} as const;

/** The bootstrap function's own variables (modules/bootstrap.ts); its warehouse access comes as WAREHOUSE_ENV. */
export const BOOTSTRAP_ENV = {
  /** cluster | serverless | existing */
  mode: "WAREHOUSE_MODE",
  /** The admin's secret (Redshift-managed). Not set for an existing warehouse. */
  adminSecretArn: "ADMIN_SECRET_ARN",
  /** The loader database user's name. */
  loaderUser: "LOADER_DB_USER",
  /** The analysts' read-only group. */
  readerGroup: "READER_GROUP",
  /** Comma-separated configured tables. */
  tables: "TABLES",
  dataSchema: "DATA_SCHEMA",
  metadataSchema: "METADATA_SCHEMA",
} as const;
