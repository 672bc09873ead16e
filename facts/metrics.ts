/**
 * Shared facts (see facts/README.md; new shared facts go in this folder): the custom metrics the functions publish
 * (Powertools EMF) and the alarms read (modules/alerts.ts). An alarm on a name, namespace or dimension nobody
 * publishes stays quiet forever, and no plan shows it: both sides import these.
 */

/** The base of every deployment's namespace. */
export const METRICS_NAMESPACE = "ControlShiftMirror";

/**
 * The namespace one deployment's functions publish in (POWERTOOLS_METRICS_NAMESPACE) and its alarms read:
 * `ControlShiftMirror/<prefix>`. Per deployment, so staging's full loads can never keep production's freshness alarm
 * quiet (the loaders' freshness metric carries only `table`).
 */
export function deploymentMetricsNamespace(prefix: string): string {
  return `${METRICS_NAMESPACE}/${prefix}`;
}

/** Powertools' default dimension: POWERTOOLS_SERVICE_NAME, which the stack sets to the function name. */
export const SERVICE_DIMENSION = "service";
/** The dimension of the loaders' freshness metric: one series per table. */
export const TABLE_DIMENSION = "table";
/** The dimension of every other loader metric (full | incremental) and of ExportDownloadFailed (permanent | transient). */
export const KIND_DIMENSION = "kind";
/** The dimension of WebhookIgnored: event-type | unconfigured-table. */
export const REASON_DIMENSION = "reason";

/** The receiver's metrics, count 1 per request, dimension `service`. */
export const RECEIVER_METRICS = {
  accepted: "WebhookAccepted",
  ignored: "WebhookIgnored",
  unauthorized: "WebhookUnauthorized",
  /** 413: a body over the size guard, before the signature. */
  rejected: "WebhookRejected",
  /** A signed payload the receiver cannot act on, stored under quarantine/pending/ and answered 200. */
  quarantined: "WebhookQuarantined",
  queueFailed: "WebhookQueueFailed",
  /** 503: a payload to quarantine could not be stored. */
  quarantineFailed: "WebhookQuarantineFailed",
  secretUnavailable: "WebhookSecretUnavailable",
} as const;
export type WebhookMetric = (typeof RECEIVER_METRICS)[keyof typeof RECEIVER_METRICS];

/**
 * The downloader's metrics: ExportDownloaded (unit Bytes, one sample per export) and ExportDownloadFailed (Count,
 * dimension `kind` = permanent | transient).
 */
export const DOWNLOADER_METRICS = {
  downloaded: "ExportDownloaded",
  failed: "ExportDownloadFailed",
} as const;

/**
 * The loaders' metrics: all with dimension `kind` alone, except FullLoadSucceeded (dimension `table` alone), which
 * the freshness alarm counts.
 */
export const LOADER_METRICS = {
  loadSucceeded: "LoadSucceeded",
  loadFailed: "LoadFailed",
  rowsLoaded: "RowsLoaded",
  filesSkippedStale: "FilesSkippedStale",
  loadSeconds: "LoadSeconds",
  fullLoadSucceeded: "FullLoadSucceeded",
} as const;
