/**
 * The load plan: what one load does to the warehouse, as plain data, for any SQL dialect.
 *
 * The planner (`planner.ts`) makes it from the config's table, the files' headers and what the warehouse has; a
 * renderer per dialect turns it into statements (`render-postgres.ts`, `render-redshift.ts`); an adapter runs those
 * statements as ONE transaction. The steps implement the mirror's semantics (help, "How loads work (what the mirror promises)"):
 *
 * - full export at T: skip when the ledger has a loaded full export of the table with a later export time; else
 *   delete the rows with `_cs_exported_at <= T` and insert the file's rows whose `id` is not in the table;
 * - incremental export at Ti: skip when the ledger has a loaded full export at or after Ti; else delete the rows with
 *   the same `id` and `_cs_exported_at <= Ti` and insert the file's rows whose `id` is not in the table.
 *
 * The Redshift Data API's `BatchExecuteStatement` runs a list of statements as one transaction without control flow
 * or bind parameters, so the "skip" is not a branch in the loader: every DELETE/INSERT carries the same `StaleGuard`
 * predicate, evaluated inside the transaction after the table lock, and the ledger row records which way it went.
 * The file is copied into staging either way (a skipped file costs one COPY, and the decision cannot race).
 *
 * Every identifier in a plan is either the config's table (TABLE_NAME_PATTERN), a schema name from the config, a
 * fixed name of this module, or a header column that matched IDENTIFIER_PATTERN; every literal is an object key that
 * parseExportObjectKey accepted or an export time in `YYYY-MM-DDTHH:MM:SSZ`. Renderers still quote both.
 *
 * Redshift SQL for each step is documented on the step; `render-redshift.ts` produces exactly that (identifiers
 * double-quoted, literals single-quoted with `'` doubled). Statement budget: a Data API batch holds at most 40
 * statements, so how many files one transaction takes is the warehouse port's `maxFilesPerTransaction`
 * (render-redshift.ts counts it from its own statements; PostgreSQL has no bound); the loader core splits a larger
 * batch into transactions of that many files.
 */
import type { Compression } from "../shared/export-file";
import type { ExportKind } from "../../facts/exports";
import type { ColumnDef } from "../../schemas/table-schemas";
import type { LoadOutcome } from "../../schemas/metadata";

export type { ColumnDef, LoadOutcome };
/**
 * IDENTIFIER_PATTERN (`^[a-z_][a-z0-9_]{0,126}$`: what Redshift allows, minus anything needing quotes) and the
 * mirror's `_cs_exported_at` column are the schemas' own: one definition for the DDL and the loads.
 */
export { IDENTIFIER_PATTERN, EXPORTED_AT_COLUMN, EXPORTED_AT_TYPE } from "../../schemas/ddl";

/** The key the merge matches rows on. ControlShift declares no primary key, but every table has an `id`. */
export const ID_COLUMN = "id";

/** The type of a column the file brings and the table lacks, and of every non-`id` column of a table made from a header. */
export const ADDED_COLUMN_TYPE = "VARCHAR(MAX)";

/** The type of `id` in a table made from a header (a table `schemas/` does not know). */
export const HEADER_ID_TYPE = "BIGINT";

/** A table or view of the warehouse. */
export interface TableRef {
  readonly schema: string;
  readonly name: string;
}

/** Where the loader keeps its records: `schemas/metadata.ts` defines the tables (and the freshness view). */
export interface MetadataRefs {
  readonly schema: string;
  /**
   * `load_ledger`: the shared history, one row per file per load of every table; the freshness view reads it. A
   * load never reads it inside its transaction (but its table's first, to seed that table's ledger), and writes
   * it only after the commit (a copy of its rows in the table's ledger): loads of different tables share nothing.
   */
  readonly ledger: TableRef;
  /** `load_ledger_<table>`: the table's own ledger, written inside the load's transaction; the stale check reads it. */
  readonly tableLedger: TableRef;
  /** `load_failures`: one row per file of a load that failed and was rolled back, written after the rollback. */
  readonly failures: TableRef;
}

/**
 * "A full export of `table` newer than this file was already loaded": the predicate that turns a file's DELETE,
 * INSERT and ledger outcome into a skip. Uncorrelated, so a database evaluates it once per statement.
 *
 * Redshift: `EXISTS (SELECT 1 FROM "meta"."load_ledger_<table>" WHERE table_name = '<table>' AND kind = 'full'
 *   AND outcome = 'loaded' AND exported_at <op> CAST('<exportedAt>' AS TIMESTAMP))` (CAST, never `::`, which the
 *   Data API would read as a parameter).
 * Steps carry it negated (`AND NOT EXISTS (...)`) on DELETE and INSERT, and as `CASE WHEN EXISTS (...)` in the ledger.
 */
export interface StaleGuard {
  readonly ledger: TableRef;
  /** The mirrored table's name as the ledger records it. */
  readonly table: string;
  /** `>` for a full export (an equal one is a redelivery, loaded again), `>=` for an incremental one. */
  readonly newerFullOperator: ">" | ">=";
  /** The file's export time, ISO 8601 UTC `YYYY-MM-DDTHH:MM:SSZ`. */
  readonly exportedAt: string;
}

/**
 * `createTableStatement(schema, table, columns, dialect)` of `schemas/ddl.ts`; Redshift:
 * `CREATE TABLE IF NOT EXISTS "s"."t" ("c1" BIGINT, ..., "_cs_exported_at" TIMESTAMP NOT NULL)`.
 * Only when the warehouse had no such table when the plan was made; IF NOT EXISTS covers a loader racing this one.
 */
export interface CreateTableStep {
  readonly op: "create-table";
  readonly table: TableRef;
  /** In order, without `_cs_exported_at` (the DDL adds it). */
  readonly columns: readonly ColumnDef[];
  /** Whether the columns come from `schemas/` or, for a table it does not know, from the file's header. */
  readonly from: "schemas" | "header";
}

/**
 * Redshift: `LOCK "s"."t"`. Serialises the full and the incremental loader of one table inside the warehouse
 * (Postgres: `LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE`, which conflicts with itself and with writers, not readers).
 */
export interface LockTableStep {
  readonly op: "lock-table";
  readonly table: TableRef;
}

/**
 * Redshift: `ALTER TABLE "s"."t" ADD COLUMN "c" VARCHAR(MAX)`. A column a file brings and the table lacks; the plan
 * lists these in `addedColumns` so the loader logs them. Redshift has no `ADD COLUMN IF NOT EXISTS`: a concurrent
 * loader that added the same column first makes this load fail and be retried, and the retry plans afresh.
 */
export interface AddColumnStep {
  readonly op: "add-column";
  readonly table: TableRef;
  readonly column: ColumnDef;
}

/**
 * Redshift: `CREATE TEMP TABLE "cs_stage_1" AS SELECT "c1", "c2", ... FROM "s"."t" WHERE 1 = 0`.
 * One staging table per file with the header's columns, typed like the target's (after columns were added), so a
 * value the column type rejects fails the COPY, before anything is changed. Not `(LIKE "s"."t")`: LIKE copies the
 * target's `"_cs_exported_at" ... NOT NULL`, which the COPY (header columns only) would then violate.
 * (Postgres: `CREATE TEMP TABLE ... ON COMMIT DROP AS SELECT ... WITH NO DATA`.)
 */
export interface CreateStageStep {
  readonly op: "create-stage";
  readonly stage: string;
  readonly like: TableRef;
  /** The file's header columns, in the file's order. */
  readonly columns: readonly string[];
}

/**
 * Redshift: `COPY "cs_stage_1" ("c1", "c2", ...) FROM 's3://<bucket>/<manifest key>' IAM_ROLE '<cluster role>'
 * MANIFEST FORMAT AS CSV IGNOREHEADER 1 [BZIP2] EMPTYASNULL TIMEFORMAT 'auto' TRUNCATECOLUMNS COMPUPDATE OFF`: the
 * manifest (handlers/load/manifest.ts) names exactly this object, never a key prefix (bucket and role are the
 * renderer's options).
 * The column list is the file's header, in the file's order: COPY maps by position, and ControlShift's header
 * order differs from the DDL's. Columns of the stage the file lacks stay NULL.
 */
export interface CopyStep {
  readonly op: "copy";
  readonly stage: string;
  readonly columns: readonly string[];
  readonly objectKey: string;
  readonly compression: Compression;
}

/**
 * The merge's delete, guarded by NOT EXISTS (stale guard). A row without an export time (a table adopted from an
 * earlier tool) counts as older than any export.
 *
 * Full, Redshift: `DELETE FROM "s"."t" WHERE ("_cs_exported_at" <= CAST('<T>' AS TIMESTAMP) OR "_cs_exported_at" IS NULL)
 *   AND NOT EXISTS (<guard>)`.
 * Incremental, Redshift: `DELETE FROM "s"."t" USING "cs_stage_1" WHERE "s"."t"."id" = "cs_stage_1"."id"
 *   AND ("s"."t"."_cs_exported_at" <= CAST('<Ti>' AS TIMESTAMP) OR "s"."t"."_cs_exported_at" IS NULL) AND NOT EXISTS (<guard>)`.
 */
export interface DeleteReplacedStep {
  readonly op: "delete-replaced";
  readonly table: TableRef;
  /** `all`: every row up to the export time (full). `ids-in-stage`: only rows whose id the file has (incremental). */
  readonly scope: "all" | "ids-in-stage";
  readonly stage: string;
  readonly exportedAt: string;
  readonly guard: StaleGuard;
}

/**
 * The merge's insert: the file's rows whose id is not in the table, stamped with the export time, ONE row per id.
 * A file that holds an id twice keeps the row with the latest `updated_at` (VERSION_COLUMN; NULL counts as the
 * oldest), when the file has that column. Rows of an id that tie (or a file without the column) are the same version
 * as far as the file can tell: one of them is kept, which one is not promised (Redshift's COPY keeps no line order;
 * PostgreSQL keeps the later line of a staged file).
 * Redshift: `INSERT INTO "s"."t" ("c1", ..., "_cs_exported_at") SELECT "c1", ..., CAST('<T>' AS TIMESTAMP)
 *   FROM (SELECT "c1", ..., ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY "updated_at" DESC NULLS LAST) AS
 *   "cs_rank" FROM "cs_stage_1") AS "cs_one" WHERE "cs_one"."cs_rank" = 1
 *   AND NOT EXISTS (SELECT 1 FROM "s"."t" WHERE "s"."t"."id" = "cs_one"."id") AND NOT EXISTS (<guard>)`.
 */
export interface InsertNewStep {
  readonly op: "insert-new";
  readonly table: TableRef;
  readonly stage: string;
  /** The file's header columns (every one exists in the table by now). */
  readonly columns: readonly string[];
  readonly exportedAt: string;
  readonly guard: StaleGuard;
  /** VERSION_COLUMN when the file has it: the later value wins among rows of one id. */
  readonly versionColumn?: string;
}

/** The column that says which of two rows of one id in a file is the newer. */
export const VERSION_COLUMN = "updated_at";

/**
 * The ledger row of one file, inside the transaction, after its merge (columns of `schemas/metadata.ts`).
 * Redshift: `INSERT INTO "meta"."load_ledger_<table>" (load_id, table_name, kind, object_key, exported_at, rows_loaded,
 *   outcome, statement_id, started_at, finished_at, values_at_limit) SELECT '<loadId>', '<table>', '<kind>',
 *   '<objectKey>', CAST('<T>' AS TIMESTAMP), CASE WHEN EXISTS (<guard>) THEN 0 ELSE (SELECT COUNT(*) FROM
 *   "cs_stage_1") END, CASE WHEN EXISTS (<guard>) THEN 'skipped-stale' ELSE 'loaded' END, NULL, SYSDATE, GETDATE(),
 *   <values at limit: the stage's values of limitedColumns whose OCTET_LENGTH reached their size>`
 * (SYSDATE is the transaction's start, GETDATE() the statement's; `loaded_at` takes its default.)
 * `rows_loaded` is the number of data rows in the file when it was merged, 0 when it was skipped.
 */
export interface RecordLoadStep {
  readonly op: "record-load";
  /** The table's own ledger. */
  readonly ledger: TableRef;
  /** The shared history (PostgreSQL writes it in the same statement; Redshift copies after the commit). */
  readonly history: TableRef;
  readonly table: string;
  readonly kind: ExportKind;
  readonly objectKey: string;
  readonly exportedAt: string;
  readonly stage: string;
  readonly guard: StaleGuard;
  /** The loader's id for this load (see LoadPlan.loadId). */
  readonly loadId: string;
  /**
   * The file's columns whose target type is VARCHAR(n) (n in bytes, 65535 for MAX): COPY's TRUNCATECOLUMNS cuts a
   * longer value to n, so the ledger's values_at_limit counts values that reached n (Redshift). The type is the one
   * schemas/ declares, else VARCHAR(MAX) (a column the loader added or made from a header).
   */
  readonly limitedColumns: readonly { readonly name: string; readonly bytes: number }[];
}

/**
 * The table's first load since per-table ledgers: creates `load_ledger_<table>` (ledgerTableStatement of
 * schemas/metadata.ts) and seeds it with the table's rows of the shared history, so the stale check still sees the
 * full exports loaded before. Redshift: `CREATE TABLE IF NOT EXISTS "meta"."load_ledger_t" (...)`, then
 * `INSERT INTO "meta"."load_ledger_t" (<columns>) SELECT <columns> FROM "meta"."load_ledger" WHERE "table_name" = 't'`.
 */
export interface CreateLedgerStep {
  readonly op: "create-ledger";
  readonly ledger: TableRef;
  readonly history: TableRef;
  readonly table: string;
}

/** Redshift: `DROP TABLE "cs_stage_1"`. Temporary tables would go with the session; dropping them frees space now. */
export interface DropStageStep {
  readonly op: "drop-stage";
  readonly stage: string;
}

export type LoadStep =
  | CreateTableStep
  | CreateLedgerStep
  | LockTableStep
  | AddColumnStep
  | CreateStageStep
  | CopyStep
  | DeleteReplacedStep
  | InsertNewStep
  | RecordLoadStep
  | DropStageStep;

/** One file of a plan, in the order the plan applies it. */
export interface PlannedFile {
  readonly objectKey: string;
  readonly exportedAt: string;
  readonly compression: Compression;
  readonly header: readonly string[];
  readonly stage: string;
}

/** What a `load_failures` row names: a failed plan, or a file refused before any plan (planner's refusalOf). */
export interface FailureSubject {
  readonly table: TableRef;
  readonly kind: ExportKind;
  readonly metadata: MetadataRefs;
  readonly loadId: string;
  readonly files: readonly Pick<PlannedFile, "objectKey" | "exportedAt">[];
}

/**
 * Everything one load does: `transaction`, in order, as ONE transaction (the adapter runs it between BEGIN and
 * COMMIT; a Data API batch is one transaction by itself) and rolls back on any error.
 *
 * No schema or metadata DDL: the schemas and the metadata objects exist before any load (schemas/migrations.ts,
 * applied by the bootstrap at apply time, or by PostgresWarehouse.migrate locally).
 */
export interface LoadPlan {
  readonly table: TableRef;
  readonly kind: ExportKind;
  readonly metadata: MetadataRefs;
  /** Goes into the ledger's and the failures' `load_id`: the loader's id for this attempt, or one derived from the files. */
  readonly loadId: string;
  /** In export-time order. */
  readonly files: readonly PlannedFile[];
  /** Whether the plan creates the table, and from what. */
  readonly createsTable: "schemas" | "header" | false;
  /** Columns the files bring that the table lacked (and `_cs_exported_at` on an adopted table): log them. */
  readonly addedColumns: readonly ColumnDef[];
  readonly transaction: readonly LoadStep[];
}
