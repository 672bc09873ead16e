/**
 * The bootstrap function's environment variable names: set by modules/bootstrap.ts, read by config.ts. The
 * warehouse's own variables (WAREHOUSE_CLUSTER_ID, ...) are the loaders' (modules/warehouse.ts, WAREHOUSE_ENV): the
 * bootstrap's owner part authenticates exactly as the loaders do.
 */
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

/** The loader user the stack creates unless the config names one. */
export const DEFAULT_LOADER_USER = "controlshift_loader";
/** The analysts' read-only group the stack creates unless the config names one. */
export const DEFAULT_READER_GROUP = "controlshift_readers";
