/**
 * Shared facts (see facts/README.md; new shared facts go in this folder): where exports live in our bucket.
 *
 * Every export object is `exports/{kind}/{table}/{YYYYMMDD}/{file}`: the downloader writes there, the bucket's
 * lifecycle rule expires that prefix, each loader's EventBridge rule and IAM scope are one table's prefix of one kind.
 */

/** The two kinds of ControlShift export: the nightly full table and the minutely incremental one. */
export const EXPORT_KINDS = ["full", "incremental"] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** The first path segment of every export object in our bucket. */
export const EXPORTS_PREFIX = "exports";

/** The key prefix every export object starts with (lifecycle rule, the downloader's write scope). */
export const EXPORTS_KEY_PREFIX = `${EXPORTS_PREFIX}/`;

/** The key prefix of one table's exports of one kind: a loader's EventBridge filter and its read scope. */
export function exportTablePrefix(kind: ExportKind, table: string): string {
  return `${EXPORTS_KEY_PREFIX}${kind}/${table}/`;
}

/** A table name as ControlShift publishes them: lower-case snake case. Also what is safe as an SQL identifier. */
export const TABLE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * The first path segment of the COPY manifests the loaders write: one small JSON object per export version they
 * load, naming that one object (Redshift's COPY reads an object path as a prefix; a manifest names exact objects).
 */
export const MANIFESTS_PREFIX = "manifests";

/** The key prefix every manifest starts with (the COPY role reads it). */
export const MANIFESTS_KEY_PREFIX = `${MANIFESTS_PREFIX}/`;

/** The key prefix of one table's manifests of one kind: the only place that table's loader may write. */
export function manifestTablePrefix(kind: ExportKind, table: string): string {
  return `${MANIFESTS_KEY_PREFIX}${kind}/${table}/`;
}
