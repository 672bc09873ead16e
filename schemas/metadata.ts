/**
 * The metadata schema: the load ledger, the failure log and the freshness view.
 *
 * - `load_ledger`: one row per export file per load, written by the loader INSIDE the load transaction, so a load
 *   and its ledger row commit or roll back together. The loaders' stale checks read it.
 * - `load_failures`: one row per file of a failed load, written OUTSIDE the (rolled back) load transaction: a failed
 *   load leaves the table and the ledger as they were, and the failure is still on record.
 * - `table_freshness`: per table, the last successful full load, the last incremental, the last failure.
 *
 * The statements run unchanged on Redshift and PostgreSQL except for the timestamp defaults (GETDATE() is
 * Redshift-only). The view uses only window functions, GROUP BY and joins (no DISTINCT ON, which Redshift lacks).
 * All are idempotent (`IF NOT EXISTS`, `CREATE OR REPLACE VIEW`): migration 1 of schemas/migrations.ts, which
 * the bootstrap applies at apply time (loaders never run metadata DDL).
 * Times are UTC: `exported_at` is the export time of the file name; GETDATE() is UTC on Redshift.
 */
import { DEFAULT_METADATA_SCHEMA } from "../facts/warehouse";
import { quoteIdentifier, type SqlDialect } from "./ddl";


export const LOAD_LEDGER_TABLE = "load_ledger";
export const LOAD_FAILURES_TABLE = "load_failures";
export const TABLE_FRESHNESS_VIEW = "table_freshness";

/** `loaded`: the file's rows were merged. `skipped-stale`: a newer full load made the file moot; nothing changed. */
export const LOAD_OUTCOMES = ["loaded", "skipped-stale"] as const;
export type LoadOutcome = (typeof LOAD_OUTCOMES)[number];

/** Columns of `load_ledger`, in table order. */
export const LOAD_LEDGER_COLUMNS = [
  "load_id",
  "table_name",
  "kind",
  "object_key",
  "exported_at",
  "rows_loaded",
  "outcome",
  "statement_id",
  "started_at",
  "finished_at",
  "loaded_at",
  "values_at_limit",
] as const;

/** Columns of `load_failures`, in table order. */
export const LOAD_FAILURES_COLUMNS = [
  "load_id",
  "table_name",
  "kind",
  "object_key",
  "exported_at",
  "error",
  "statement_id",
  "failed_at",
] as const;

/** Columns of the `table_freshness` view, in view order. */
export const TABLE_FRESHNESS_COLUMNS = [
  "table_name",
  "last_full_exported_at",
  "last_full_object_key",
  "last_full_rows_loaded",
  "last_full_loaded_at",
  "last_incremental_exported_at",
  "last_incremental_loaded_at",
  "last_failed_at",
  "last_failure_kind",
  "last_failure_error",
] as const;

/**
 * Size of `load_failures.error` (VARCHAR(65535), Redshift's largest VARCHAR; Redshift counts bytes). An insert of a
 * longer message fails, and the failure would go unrecorded: truncate with `truncateUtf8` first.
 */
export const LOAD_FAILURE_ERROR_MAX_BYTES = 65535;

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number = LOAD_FAILURE_ERROR_MAX_BYTES): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, "utf8");
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += ch.length;
  }
  return text.slice(0, end);
}

function nowDefault(dialect: SqlDialect): string {
  // GETDATE() is Redshift's current time (UTC; the statement's start). PostgreSQL's now() is a timestamptz in the
  // session's zone: convert to UTC so both warehouses store the same kind of value.
  return dialect === "redshift" ? "GETDATE()" : "(now() AT TIME ZONE 'UTC')";
}

/**
 * The ledger of one mirrored table (`load_ledger_<table>`): the only ledger its loads read and write inside their
 * transaction, so loads of different tables share no object (no serialization conflict, no lock queue). After each
 * commit its new rows are copied into the shared `load_ledger`, the history the freshness view and analysts read.
 */
export function tableLedgerName(table: string): string {
  return `${LOAD_LEDGER_TABLE}_${table}`;
}

/** The ledger's columns as a quoted list, the same for every ledger (for copying rows between them). */
export function ledgerColumnList(alias?: string): string {
  return LOAD_LEDGER_COLUMNS.map((c) => (alias === undefined ? `"${c}"` : `${alias}."${c}"`)).join(", ");
}

/**
 * `values_at_limit`: values of the file that reached their VARCHAR column's size in bytes (within 3 bytes, a UTF-8
 * character): cut by COPY's TRUNCATECOLUMNS, or exactly that long (Redshift cannot tell the two apart). 0 on
 * PostgreSQL, which cuts nothing. Added by migration 2; NULL in rows written before it.
 */
export const VALUES_AT_LIMIT_COLUMN = "values_at_limit";

/**
 * CREATE TABLE IF NOT EXISTS for a ledger (the shared history or a table's own): the columns of LOAD_LEDGER_COLUMNS.
 * `version` 1 is the shape migration 1 created (without values_at_limit, which migration 2 adds): frozen.
 */
export function ledgerTableStatement(schemaName: string, name: string, dialect: SqlDialect = "redshift", version: 1 | 2 = 2): string {
  const ledger = `${quoteIdentifier(schemaName, "metadata schema")}.${quoteIdentifier(name)}`;
  return `CREATE TABLE IF NOT EXISTS ${ledger} (
  load_id VARCHAR(256) NOT NULL,
  table_name VARCHAR(127) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  object_key VARCHAR(1024) NOT NULL,
  exported_at TIMESTAMP NOT NULL,
  rows_loaded BIGINT NOT NULL,
  outcome VARCHAR(32) NOT NULL,
  statement_id VARCHAR(128),
  started_at TIMESTAMP,
  finished_at TIMESTAMP,
  loaded_at TIMESTAMP NOT NULL DEFAULT ${nowDefault(dialect)}${version >= 2 ? `,
  ${VALUES_AT_LIMIT_COLUMN} BIGINT DEFAULT 0` : ""}
)`;
}

/**
 * The statements that create the metadata schema, its tables and the freshness view if missing, in order, without
 * trailing semicolons. Throws IdentifierError when `schemaName` is not a valid identifier.
 * @default schemaName DEFAULT_METADATA_SCHEMA
 * @default dialect "redshift"
 */
export function metadataStatements(
  schemaName: string = DEFAULT_METADATA_SCHEMA,
  dialect: SqlDialect = "redshift",
): string[] {
  const schema = quoteIdentifier(schemaName, "metadata schema");
  const ledger = `${schema}.${quoteIdentifier(LOAD_LEDGER_TABLE)}`;
  const failures = `${schema}.${quoteIdentifier(LOAD_FAILURES_TABLE)}`;
  const freshness = `${schema}.${quoteIdentifier(TABLE_FRESHNESS_VIEW)}`;
  const now = nowDefault(dialect);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${schema}`,
    ledgerTableStatement(schemaName, LOAD_LEDGER_TABLE, dialect, 1),
    `CREATE TABLE IF NOT EXISTS ${failures} (
  load_id VARCHAR(256) NOT NULL,
  table_name VARCHAR(127) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  object_key VARCHAR(1024) NOT NULL,
  exported_at TIMESTAMP NOT NULL,
  error VARCHAR(${LOAD_FAILURE_ERROR_MAX_BYTES}) NOT NULL,
  statement_id VARCHAR(128),
  failed_at TIMESTAMP NOT NULL DEFAULT ${now}
)`,
    // Latest row per table with ROW_NUMBER() (ties broken by the later load, then load_id, so the result is
    // deterministic); the table list is every table that has a ledger or a failure row.
    `CREATE OR REPLACE VIEW ${freshness} AS
WITH full_loads AS (
  SELECT table_name, exported_at, object_key, rows_loaded, loaded_at,
    ROW_NUMBER() OVER (PARTITION BY table_name ORDER BY exported_at DESC, loaded_at DESC, load_id DESC) AS rn
  FROM ${ledger}
  WHERE kind = 'full' AND outcome = 'loaded'
),
incremental_loads AS (
  SELECT table_name, MAX(exported_at) AS exported_at, MAX(loaded_at) AS loaded_at
  FROM ${ledger}
  WHERE kind = 'incremental' AND outcome = 'loaded'
  GROUP BY table_name
),
failures AS (
  SELECT table_name, failed_at, kind, error,
    ROW_NUMBER() OVER (PARTITION BY table_name ORDER BY failed_at DESC, load_id DESC, object_key DESC) AS rn
  FROM ${failures}
),
known_tables AS (
  SELECT table_name FROM ${ledger}
  UNION
  SELECT table_name FROM ${failures}
)
SELECT
  t.table_name,
  f.exported_at AS last_full_exported_at,
  f.object_key AS last_full_object_key,
  f.rows_loaded AS last_full_rows_loaded,
  f.loaded_at AS last_full_loaded_at,
  i.exported_at AS last_incremental_exported_at,
  i.loaded_at AS last_incremental_loaded_at,
  x.failed_at AS last_failed_at,
  x.kind AS last_failure_kind,
  x.error AS last_failure_error
FROM known_tables t
LEFT JOIN full_loads f ON f.table_name = t.table_name AND f.rn = 1
LEFT JOIN incremental_loads i ON i.table_name = t.table_name
LEFT JOIN failures x ON x.table_name = t.table_name AND x.rn = 1`,
  ];
}
