/**
 * Shared facts (see facts/README.md; new shared facts go in this folder): the warehouse names the config defaults to
 * and the functions, scripts and tests use.
 */

/** The database a stack-made warehouse (cluster or Serverless) creates unless the config names another. */
export const DEFAULT_DATABASE = "controlshift";
/** The schema the mirrored tables live in unless the config names another. */
export const DEFAULT_DATA_SCHEMA = "controlshift";
/** The metadata schema (load ledger, failures, freshness view) unless the config names another. */
export const DEFAULT_METADATA_SCHEMA = "controlshift_mirror_meta";
/** The loader user the stack creates unless the config names one. */
export const DEFAULT_LOADER_USER = "controlshift_loader";
/** The analysts' read-only group the stack creates unless the config names one. */
export const DEFAULT_READER_GROUP = "controlshift_readers";
