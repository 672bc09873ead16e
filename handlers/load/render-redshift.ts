/**
 * Renders a LoadPlan for Amazon Redshift, exactly as plan.ts documents each step, for the Data API: `transaction` runs
 * as one BatchExecuteStatement (a batch is one transaction by itself: no BEGIN/COMMIT). No schema or metadata DDL:
 * the loaders act as the loader user, which owns the schemas but may not create one; the bootstrap creates the
 * schemas and applies schemas/migrations.ts at apply time.
 *
 * No bind parameters: BatchExecuteStatement takes none (https://docs.aws.amazon.com/redshift/latest/mgmt/data-api.html,
 * "Only the execute-statement operation supports SQL statements with parameters"). So every identifier is
 * double-quoted after matching IDENTIFIER_PATTERN (quoteIdentifier of schemas/ddl.ts), and every literal is a value
 * the planner validated (object keys, export times, names, the load id), single-quoted with `'` doubled. Redshift
 * reads a backslash in a literal as an escape, so a literal holding one (or a NUL) is refused, never escaped.
 *
 * The Data API's limits shape a load (same page, "Considerations"):
 * - a BatchExecuteStatement runs at most 40 SQL statements (REDSHIFT_MAX_BATCH_STATEMENTS). A plan's transaction is
 *   `[create-table] [create-ledger (2)] lock [add-column...]` plus 6 statements per file, so at most 6 files fit in one transaction
 *   (redshiftFilesPerTransaction). The renderer refuses a bigger plan with RedshiftPlanTooLargeError, which says how
 *   many of its files fit; the loader (handlers/loader/load-batch.ts) loads a larger batch of files as consecutive
 *   transactions of that many files, in export-time order. Each is atomic, and the mirror's semantics hold, since
 *   each file's merge depends only on the ledger's full loads and the table, never on a later file of the batch.
 * - a statement is at most 100 KB (REDSHIFT_MAX_STATEMENT_BYTES): checked too (a header of hundreds of long column
 *   names could exceed it in the COPY, CREATE and INSERT statements).
 */
import { createTableStatement, quoteIdentifier } from "../../schemas/ddl";
import { ledgerColumnList, ledgerTableStatement } from "../../schemas/metadata";
import { LoadPlanError, quoteForMessage } from "./errors";
import { EXPORTED_AT_COLUMN, ID_COLUMN, type CopyStep, type FailureSubject, type LoadPlan, type LoadStep, type MetadataRefs, type StaleGuard, type TableRef } from "./plan";
import { RedshiftPlanTooLargeError } from "./redshift-errors";

/** Most SQL statements one BatchExecuteStatement runs. */
export const REDSHIFT_MAX_BATCH_STATEMENTS = 40;

/** Largest SQL statement the Data API takes. */
export const REDSHIFT_MAX_STATEMENT_BYTES = 100 * 1024;

/** Statements per file in a transaction: create-stage, copy, delete-replaced, insert-new, record-load, drop-stage. */
export const REDSHIFT_STATEMENTS_PER_FILE = 6;

/** What a plan's transaction holds besides its files. */
export interface RedshiftTransactionShape {
  /** Whether the plan creates the table (one CREATE TABLE statement). */
  readonly createsTable: boolean;
  /** Whether the plan creates the table's own ledger (CREATE TABLE and the seeding INSERT: two statements). */
  readonly createsLedger?: boolean;
  /** ADD COLUMN statements (one per column the files bring, and `_cs_exported_at` on an adopted table). */
  readonly addedColumns: number;
}

/** Statements of the transaction before its files: [create-table], lock, add-columns. */
export function redshiftFixedStatements(shape: RedshiftTransactionShape): number {
  return (shape.createsTable ? 1 : 0) + (shape.createsLedger ? 2 : 0) + 1 + shape.addedColumns;
}

/**
 * How many files fit in one BatchExecuteStatement for a plan of this shape: 6 for an existing table that gains no
 * column, fewer when the plan creates the table or adds columns, 0 when not even one file fits (33 or more columns
 * added at once).
 */
export function redshiftFilesPerTransaction(shape: RedshiftTransactionShape): number {
  return Math.max(0, Math.floor((REDSHIFT_MAX_BATCH_STATEMENTS - redshiftFixedStatements(shape)) / REDSHIFT_STATEMENTS_PER_FILE));
}

/** The default number of files a loader puts in one transaction: what fits when the table exists and gains nothing. */
export const REDSHIFT_FILES_PER_TRANSACTION = redshiftFilesPerTransaction({ createsTable: false, addedColumns: 0 });

/** Where COPY reads from and with which role: the renderer's options (plan.ts leaves them out of the plan). */
export interface RedshiftRenderOptions {
  /** The exports bucket (EXPORTS_BUCKET). */
  readonly exportsBucket: string;
  /** The role the warehouse assumes to read it (COPY_ROLE_ARN). */
  readonly copyRoleArn: string;
  /**
   * The manifest (manifest.ts) each export object is COPYed through, by object key. A file with one is read
   * `FROM 's3://<bucket>/<manifest key>' ... MANIFEST`: exactly that object. The loaders always give one.
   */
  readonly manifestKeys?: ReadonlyMap<string, string>;
}

export interface RedshiftRenderedPlan {
  /** One BatchExecuteStatement: the load's transaction, at most REDSHIFT_MAX_BATCH_STATEMENTS statements. */
  readonly transaction: string[];
}

/**
 * COPY's options after the source and the role, and why:
 * - `FORMAT AS CSV IGNOREHEADER 1`: RFC 4180 with quoted newlines, commas and quotes; the header row is skipped (the
 *   column list comes from it instead).
 * - `BZIP2` when the file is `.csv.bz2` (added per file).
 * - `EMPTYASNULL`: an empty unquoted field is NULL in ControlShift's files (Postgres text output). Without it Redshift
 *   loads an empty string into CHAR/VARCHAR columns (other types load NULL either way). Redshift's documentation
 *   speaks only of "two delimiters in succession": whether a quoted `""` also turns NULL is for the Redshift fidelity
 *   check to settle; the PostgreSQL adapter keeps `""` and NULL apart.
 * - `TIMEFORMAT 'auto'`: `YYYY-MM-DD HH:MM:SS[.ffffff]`, with or without fractions.
 * - `TRUNCATECOLUMNS`: yes. VARCHAR(MAX) holds 65535 bytes; one longer value (a long petition text) would otherwise
 *   fail the table's load, and the same row is in every nightly full export, so the table would never refresh. With
 *   it, that one value is cut to the column's size, silently (Redshift reports no truncation). A complete table with
 *   one truncated value beats a stale table (operators should know: Redshift keeps no record of it).
 * - no `ACCEPTINVCHARS`: ControlShift's exports come from PostgreSQL, which only stores valid UTF-8, so an invalid
 *   byte sequence means a corrupt or foreign file, which should fail loudly. ACCEPTINVCHARS would also rewrite code
 *   points Redshift otherwise loads as they are (U+FDD0..U+FDEF, U+xFFFE/U+xFFFF: "valid UTF-8, COPY operations don't
 *   return an error if the ACCEPTINVCHARS option is not set",
 *   https://docs.aws.amazon.com/redshift/latest/dg/multi-byte-character-load-errors.html).
 * - `COMPUPDATE OFF`: the staging table is dropped at the end of the transaction; analysing its compression is
 *   wasted work. Statistics are left at the default (computed for an initially empty table), which the merge's joins use.
 * - MAXERROR stays 0: one bad row fails the load, the transaction rolls back, the failure is recorded.
 */
export const REDSHIFT_COPY_FORMAT = "FORMAT AS CSV IGNOREHEADER 1";
export const REDSHIFT_COPY_CONVERSIONS = "EMPTYASNULL TIMEFORMAT 'auto' TRUNCATECOLUMNS COMPUPDATE OFF";

/** `members` -> `"members"`; throws LoadPlanError naming the value when it is not a plain identifier. */
function ident(name: string): string {
  try {
    return quoteIdentifier(name);
  } catch (err) {
    throw new LoadPlanError((err as Error).message);
  }
}

function table(ref: TableRef): string {
  return `${ident(ref.schema)}.${ident(ref.name)}`;
}

/**
 * `'it''s'`. For values the planner or the config validated. Refuses a backslash (Redshift reads it as an escape in
 * a literal) and NUL rather than guessing at escapes.
 */
export function quoteRedshiftLiteral(value: string): string {
  if (value.includes("\\") || value.includes("\0")) {
    throw new LoadPlanError(`literal ${quoteForMessage(value)} holds a backslash or NUL, which the loader never puts into SQL`);
  }
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * `2024-03-01T02:03:04Z` -> `CAST('2024-03-01 02:03:04' AS TIMESTAMP)` (UTC, as `_cs_exported_at` holds it).
 * CAST, never `::`: the Data API reads `:name` in a statement with parameters as a parameter, and `'...'::TIMESTAMP`
 * holds `:TIMESTAMP`. One spelling everywhere, so no statement can mix them.
 */
export function redshiftTimestamp(isoUtc: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})Z$/.exec(isoUtc);
  if (!m) throw new LoadPlanError(`export time ${quoteForMessage(isoUtc)} is not YYYY-MM-DDTHH:MM:SSZ`);
  return `CAST('${m[1]} ${m[2]}' AS TIMESTAMP)`;
}

/** The stale guard of plan.ts, uncorrelated: `EXISTS (SELECT 1 FROM "meta"."load_ledger" WHERE ...)`. */
function guardSql(guard: StaleGuard): string {
  return (
    `EXISTS (SELECT 1 FROM ${table(guard.ledger)} WHERE "table_name" = ${quoteRedshiftLiteral(guard.table)} ` +
    `AND "kind" = 'full' AND "outcome" = 'loaded' AND "exported_at" ${guard.newerFullOperator} ` +
    `${redshiftTimestamp(guard.exportedAt)})`
  );
}

function s3Url(bucket: string, key: string): string {
  return quoteRedshiftLiteral(`s3://${bucket}/${key}`);
}

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_\/-]{1,512}$/;

function checkOptions(options: RedshiftRenderOptions): void {
  if (!BUCKET_PATTERN.test(options.exportsBucket)) {
    throw new LoadPlanError(`exports bucket ${quoteForMessage(options.exportsBucket)} is not an S3 bucket name`);
  }
  if (!ROLE_ARN_PATTERN.test(options.copyRoleArn)) {
    throw new LoadPlanError(`COPY role ${quoteForMessage(options.copyRoleArn)} is not an IAM role ARN`);
  }
}

/**
 * The COPY of one file into a staging table, exactly as a load runs it (`npm run verify` runs this same statement
 * on edge-case files).
 */
export function renderRedshiftCopy(step: CopyStep, options: RedshiftRenderOptions): string {
  checkOptions(options);
  const manifest = options.manifestKeys?.get(step.objectKey);
  return (
    `COPY ${ident(step.stage)} (${step.columns.map(ident).join(", ")}) ` +
    `FROM ${s3Url(options.exportsBucket, manifest ?? step.objectKey)} ` +
    `IAM_ROLE ${quoteRedshiftLiteral(options.copyRoleArn)}${manifest !== undefined ? " MANIFEST" : ""} ${REDSHIFT_COPY_FORMAT}` +
    `${step.compression === "bzip2" ? " BZIP2" : ""} ${REDSHIFT_COPY_CONVERSIONS}`
  );
}

function renderStep(step: LoadStep, options: RedshiftRenderOptions): string[] {
  switch (step.op) {
    case "create-table":
      ident(step.table.schema);
      ident(step.table.name);
      for (const c of step.columns) ident(c.name);
      return [createTableStatement(step.table.schema, step.table.name, step.columns, "redshift")];
    case "lock-table":
      return [`LOCK ${table(step.table)}`];
    case "create-ledger":
      ident(step.ledger.schema);
      ident(step.ledger.name);
      return [
        ledgerTableStatement(step.ledger.schema, step.ledger.name, "redshift"),
        `INSERT INTO ${table(step.ledger)} (${ledgerColumnList()}) SELECT ${ledgerColumnList()} FROM ${table(step.history)} ` +
          `WHERE "table_name" = ${quoteRedshiftLiteral(step.table)}`,
      ];
    case "add-column":
      return [`ALTER TABLE ${table(step.table)} ADD COLUMN ${ident(step.column.name)} ${step.column.type}`];
    case "create-stage":
      return [
        `CREATE TEMP TABLE ${ident(step.stage)} AS SELECT ${step.columns.map(ident).join(", ")} ` +
          `FROM ${table(step.like)} WHERE 1 = 0`,
      ];
    case "copy":
      return [renderRedshiftCopy(step, options)];
    case "delete-replaced": {
      const target = table(step.table);
      const at = redshiftTimestamp(step.exportedAt);
      const exportedAt = ident(EXPORTED_AT_COLUMN);
      if (step.scope === "all") {
        return [
          `DELETE FROM ${target} WHERE (${exportedAt} <= ${at} OR ${exportedAt} IS NULL) AND NOT ${guardSql(step.guard)}`,
        ];
      }
      const stage = ident(step.stage);
      const id = ident(ID_COLUMN);
      return [
        `DELETE FROM ${target} USING ${stage} WHERE ${target}.${id} = ${stage}.${id} ` +
          `AND (${target}.${exportedAt} <= ${at} OR ${target}.${exportedAt} IS NULL) AND NOT ${guardSql(step.guard)}`,
      ];
    }
    case "insert-new": {
      // One row per id (plan.ts, InsertNewStep): the newest version of an id the file holds twice.
      const target = table(step.table);
      const stage = ident(step.stage);
      const id = ident(ID_COLUMN);
      const columns = step.columns.map(ident);
      const one = ident("cs_one");
      // "order_list: expression | column_name [ ASC | DESC ] [ NULLS FIRST | NULLS LAST ]"; without a version column
      // the ORDER BY (optional for ROW_NUMBER) is left out: "Rows with equal values for the ORDER BY expressions
      // receive the different row numbers nondeterministically" (r_WF_ROW_NUMBER), so one of an id's rows is kept.
      const order = step.versionColumn !== undefined ? ` ORDER BY ${ident(step.versionColumn)} DESC NULLS LAST` : "";
      return [
        `INSERT INTO ${target} (${[...columns, ident(EXPORTED_AT_COLUMN)].join(", ")}) ` +
          `SELECT ${columns.join(", ")}, ${redshiftTimestamp(step.exportedAt)} FROM (SELECT ${columns.join(", ")}, ` +
          `ROW_NUMBER() OVER (PARTITION BY ${id}${order}) AS "cs_rank" FROM ${stage}) AS ${one} ` +
          `WHERE ${one}."cs_rank" = 1 AND NOT EXISTS (SELECT 1 FROM ${target} WHERE ${target}.${id} = ${one}.${id}) ` +
          `AND NOT ${guardSql(step.guard)}`,
      ];
    }
    case "record-load": {
      // COUNT(*) of the stage (plan.ts), rather than pg_last_copy_count(): the row count
      // of a fresh columnar temp table is cheap, and it cannot be caught mixing a session-information function into
      // a statement that reads the ledger (a user table) on the compute nodes.
      // values_at_limit: the stage's values at their VARCHAR column's size (within 3 bytes: TRUNCATECOLUMNS cuts
      // whole UTF-8 characters), which is what a cut value looks like after the COPY.
      const stale = guardSql(step.guard);
      const atLimit =
        step.limitedColumns.length === 0
          ? "0"
          : `(SELECT COALESCE(SUM(${step.limitedColumns
              .map((c) => `CASE WHEN OCTET_LENGTH(${ident(c.name)}) >= ${Math.max(0, c.bytes - 3)} THEN 1 ELSE 0 END`)
              .join(" + ")}), 0) FROM ${ident(step.stage)})`;
      return [
        `INSERT INTO ${table(step.ledger)} ("load_id", "table_name", "kind", "object_key", "exported_at", "rows_loaded", ` +
          `"outcome", "statement_id", "started_at", "finished_at", "values_at_limit") ` +
          `SELECT ${quoteRedshiftLiteral(step.loadId)}, ${quoteRedshiftLiteral(step.table)}, ${quoteRedshiftLiteral(step.kind)}, ` +
          `${quoteRedshiftLiteral(step.objectKey)}, ${redshiftTimestamp(step.exportedAt)}, ` +
          `CASE WHEN ${stale} THEN 0 ELSE (SELECT COUNT(*) FROM ${ident(step.stage)}) END, ` +
          `CASE WHEN ${stale} THEN 'skipped-stale' ELSE 'loaded' END, NULL, SYSDATE, GETDATE(), ` +
          `CASE WHEN ${stale} THEN 0 ELSE ${atLimit} END`,
      ];
    }
    case "drop-stage":
      return [`DROP TABLE ${ident(step.stage)}`];
  }
}

/** The transaction's shape, from the plan itself. */
export function redshiftPlanShape(plan: LoadPlan): RedshiftTransactionShape {
  return {
    createsTable: plan.transaction.some((s) => s.op === "create-table"),
    createsLedger: plan.transaction.some((s) => s.op === "create-ledger"),
    addedColumns: plan.transaction.filter((s) => s.op === "add-column").length,
  };
}

/**
 * Renders the plan. Throws RedshiftPlanTooLargeError when the transaction needs more than 40 statements (its
 * `filesThatFit` says how many of the plan's files would fit) or a statement exceeds 100 KB, and LoadPlanError for
 * a name or literal that cannot go into SQL.
 */
export function renderRedshiftPlan(plan: LoadPlan, options: RedshiftRenderOptions): RedshiftRenderedPlan {
  checkOptions(options);
  const transaction = plan.transaction.flatMap((step) => renderStep(step, options));
  const objectKeys = plan.files.map((f) => f.objectKey);
  const shape = redshiftPlanShape(plan);
  const filesThatFit = Math.min(plan.files.length, redshiftFilesPerTransaction(shape));

  if (transaction.length > REDSHIFT_MAX_BATCH_STATEMENTS) {
    const fixed = redshiftFixedStatements(shape);
    const added = plan.addedColumns.map((c) => c.name);
    const message =
      filesThatFit > 0
        ? `a load of ${plan.files.length} files of ${plan.table.name} needs ${transaction.length} SQL statements; one ` +
          `Data API batch runs at most ${REDSHIFT_MAX_BATCH_STATEMENTS}: load at most ${filesThatFit} files per transaction`
        : `a load of ${plan.table.name} needs ${fixed} statements before its first file (${
            shape.createsTable ? "CREATE TABLE, " : ""
          }LOCK and ${shape.addedColumns} ADD COLUMN: ${added.join(", ")}), so not even one file fits in a Data API ` +
          `batch of ${REDSHIFT_MAX_BATCH_STATEMENTS} statements. Add those columns by hand (ALTER TABLE ` +
          `${plan.table.schema}.${plan.table.name} ADD COLUMN <name> VARCHAR(MAX)), or regenerate schemas/ from a ` +
          `current schema.json, then let the queue retry the file`;
    throw new RedshiftPlanTooLargeError(message, {
      table: plan.table.name,
      objectKeys,
      statements: transaction.length,
      filesThatFit: Math.max(0, filesThatFit),
    });
  }
  for (const sql of transaction) {
    const bytes = Buffer.byteLength(sql, "utf8");
    if (bytes > REDSHIFT_MAX_STATEMENT_BYTES) {
      throw new RedshiftPlanTooLargeError(
        `a statement of the load of ${plan.table.name} is ${bytes} bytes; the Data API takes at most ` +
          `${REDSHIFT_MAX_STATEMENT_BYTES}: ${sql.slice(0, 120)}...`,
        { table: plan.table.name, objectKeys, statements: transaction.length, filesThatFit: 0 },
      );
    }
  }
  return { transaction };
}

/** Statement ids of the Data API: a UUID, `:<n>` for a statement of a batch. Only such values go into a literal. */
const STATEMENT_ID_PATTERN = /^[A-Za-z0-9-]{1,64}(?::\d{1,3})?$/;

export function checkStatementId(statementId: string): string {
  if (!STATEMENT_ID_PATTERN.test(statementId)) {
    throw new LoadPlanError(`statement id ${quoteForMessage(statementId)} is not a Data API statement id`);
  }
  return statementId;
}

/** The table's columns in table order (no rows: no such table). For ExecuteStatement. */
export function renderRedshiftTableColumns(schema: string, tableName: string): string {
  ident(schema);
  ident(tableName);
  return (
    `SELECT "column_name" FROM svv_columns WHERE "table_schema" = ${quoteRedshiftLiteral(schema)} ` +
    `AND "table_name" = ${quoteRedshiftLiteral(tableName)} ORDER BY "ordinal_position"`
  );
}

/** The ledger rows of one load, newest first (a load re-run after its token expired has two rows per file). */
export function renderRedshiftLedgerRows(plan: LoadPlan): string {
  return (
    `SELECT "object_key", "outcome", "rows_loaded" FROM ${table(plan.metadata.tableLedger)} ` +
    `WHERE "load_id" = ${quoteRedshiftLiteral(plan.loadId)} ORDER BY "loaded_at" DESC, "finished_at" DESC`
  );
}

/**
 * After a load committed: its rows of the table's own ledger into the shared history (`load_ledger`), as a
 * statement of its own (it reads only the table's ledger and only writes the history: no conflict with another
 * table's load). The rows of this commit only: a load re-run with the same id (a token expired) has older rows too.
 */
export function renderRedshiftHistoryCopy(plan: LoadPlan): string {
  const own = table(plan.metadata.tableLedger);
  const id = quoteRedshiftLiteral(plan.loadId);
  return (
    `INSERT INTO ${table(plan.metadata.ledger)} (${ledgerColumnList()}) SELECT ${ledgerColumnList()} FROM ${own} ` +
    `WHERE "load_id" = ${id} AND "started_at" = (SELECT MAX("started_at") FROM ${own} WHERE "load_id" = ${id})`
  );
}

/** Whether `load_failures` already has the failure of this statement (see the adapter's re-submission rule). */
export function renderRedshiftFailureRecorded(metadata: MetadataRefs, statementId: string): string {
  return (
    `SELECT COUNT(*) FROM ${table(metadata.failures)} ` +
    `WHERE "statement_id" = ${quoteRedshiftLiteral(checkStatementId(statementId))}`
  );
}

/** The name of the error parameter in renderRedshiftFailure's statement. */
export const FAILURE_ERROR_PARAMETER = "error";

/**
 * The `load_failures` rows of a failed load, one per file, for ExecuteStatement (which takes bind parameters): the
 * error text, free text from Redshift, is the `:error` parameter; everything else is a validated literal.
 */
export function renderRedshiftFailure(plan: FailureSubject, statementId: string | undefined): string {
  const id = statementId === undefined ? "NULL" : quoteRedshiftLiteral(checkStatementId(statementId));
  const rows = plan.files.map(
    (file) =>
      `(${quoteRedshiftLiteral(plan.loadId)}, ${quoteRedshiftLiteral(plan.table.name)}, ${quoteRedshiftLiteral(plan.kind)}, ` +
      `${quoteRedshiftLiteral(file.objectKey)}, ${redshiftTimestamp(file.exportedAt)}, :${FAILURE_ERROR_PARAMETER}, ${id})`,
  );
  return (
    `INSERT INTO ${table(plan.metadata.failures)} ("load_id", "table_name", "kind", "object_key", "exported_at", ` +
    `"error", "statement_id") VALUES ${rows.join(", ")}`
  );
}
