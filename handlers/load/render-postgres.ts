/**
 * Renders a LoadPlan for PostgreSQL (the PostgreSQL adapter: tests, local runs, Postgres reporting databases).
 *
 * Differences from Redshift's SQL (plan.ts documents Redshift's for every step):
 * - types through `toPostgresType` (VARCHAR(MAX) and GEOGRAPHY are TEXT);
 * - COPY reads `FROM STDIN` in CSV format with a header line; PostgreSQL's CSV defaults already give ControlShift's
 *   semantics: an unquoted empty field is NULL, a quoted empty string (`""`) is an empty string;
 * - the staging table is `ON COMMIT DROP`; it is not ANALYZEd (0.3 s per million rows): for a table never analyzed,
 *   PostgreSQL estimates rows from its actual size, which is what the merge's hash joins need;
 * - the ledger's `rows_loaded` is the row count the COPY reported, bound as `$1` (`COUNT(*)` of the stage would scan
 *   it again);
 * - `LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE`: conflicts with itself and with writers, lets readers read;
 * - `ADD COLUMN IF NOT EXISTS` (a concurrent loader may have added it since the plan was made);
 * - identifiers are limited to 63 bytes (PostgreSQL silently truncates longer ones, which could merge two columns).
 *
 * Full exports load "direct" by default: PostgreSQL's INSERT ... SELECT writes row by row (no multi-insert, one WAL
 * record per row), which made stage-then-insert cost about 1.7 times a plain COPY. A PostgreSQL adapter can branch,
 * so a full export's file is instead, in the same transaction and with the same outcome:
 *   1. `SELECT EXISTS (<stale guard>)`: when true, steps 3 and 4 are skipped (the ledger says skipped-stale);
 *   2. the guarded DELETE of the rows with `_cs_exported_at <= T` (unchanged);
 *   3. COPY straight into the table, `_cs_exported_at` appended to each record on the way (csv-append-column.ts);
 *      after step 2 the only rows at T are the ones just copied;
 *   4. DELETE the just-copied rows whose id has a row newer than T (from a later incremental export): together with
 *      step 3 this is "insert the file's rows whose id is not in the table";
 *   5. the ledger row (unchanged).
 * Incremental exports (small, and merged on their ids) keep the staging table. `fullLoads: "staged"` renders fulls
 * the way Redshift runs them, too.
 */
import type { Compression } from "../shared/export-file";
import { createTableStatement, quoteIdentifier } from "../../schemas/ddl";
import { ledgerColumnList, ledgerTableStatement } from "../../schemas/metadata";
import { toPostgresType } from "../../schemas/type-mapping";
import { InvalidHeaderError, LoadPlanError, quoteForMessage } from "./errors";
import {
  EXPORTED_AT_COLUMN,
  ID_COLUMN,
  type CopyStep,
  type DeleteReplacedStep,
  type FailureSubject,
  type InsertNewStep,
  type LoadPlan,
  type LoadStep,
  type RecordLoadStep,
  type StaleGuard,
  type TableRef,
} from "./plan";

/** PostgreSQL's NAMEDATALEN - 1. */
export const POSTGRES_MAX_IDENTIFIER_BYTES = 63;

/** One statement of a rendered plan. COPY is separate: its data comes from the object store, not from the SQL. */
export type PostgresStatement =
  | {
      readonly kind: "sql";
      readonly op: LoadStep["op"];
      readonly sql: string;
      /** Bind `$1` to the row count of the latest COPY (the ledger row of the file just copied). */
      readonly bindCopiedRows?: true;
      /** Skipped when the file's latest stale check said stale. */
      readonly onlyWhenFresh?: true;
    }
  | {
      /** `SELECT EXISTS (<guard>) AS "stale"`: decides the `onlyWhenFresh` statements of the file that follow. */
      readonly kind: "stale-check";
      readonly op: "delete-replaced";
      readonly sql: string;
    }
  | {
      readonly kind: "copy";
      readonly op: "copy";
      /** `"cs_stage_1" ("a", "b")`: the driver writes `COPY <target> FROM STDIN WITH <options>` (or its own source). */
      readonly target: string;
      readonly options: string;
      readonly objectKey: string;
      readonly compression: Compression;
      /** The full statement as a server runs it, for messages. */
      readonly sql: string;
      /** Append this value as a last field of every record (the header gets `_cs_exported_at`). */
      readonly appendExportedAt?: string;
      readonly onlyWhenFresh?: true;
    };

export interface RenderPostgresOptions {
  /**
   * How full exports load: `direct` (COPY into the table, see the module comment) or `staged` (as Redshift does).
   * @default "direct"
   */
  readonly fullLoads?: "direct" | "staged";
}

export const POSTGRES_COPY_OPTIONS = "(FORMAT csv, HEADER true, ENCODING 'UTF8')";

function ident(name: string): string {
  if (Buffer.byteLength(name, "utf8") > POSTGRES_MAX_IDENTIFIER_BYTES) {
    throw new LoadPlanError(`identifier ${quoteForMessage(name)} is longer than PostgreSQL's 63 bytes`);
  }
  return quoteIdentifier(name);
}

function table(ref: TableRef): string {
  return `${ident(ref.schema)}.${ident(ref.name)}`;
}

/** `<table>_id_idx`, cut to PostgreSQL's 63-byte identifiers (table names are ASCII). */
export function idIndexName(table: string): string {
  const suffix = "_id_idx";
  return table.slice(0, POSTGRES_MAX_IDENTIFIER_BYTES - suffix.length) + suffix;
}

/** `'it''s'`. For values the planner validated (object keys, export times, names); refuses NUL, which text cannot hold. */
export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw new LoadPlanError("a literal contains a NUL character");
  return `'${value.replace(/'/g, "''")}'`;
}

/** `2024-03-01T02:03:04Z` -> `2024-03-01 02:03:04` (UTC, as `_cs_exported_at` holds it). */
export function timestampText(isoUtc: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})Z$/.exec(isoUtc);
  if (!m) throw new LoadPlanError(`export time ${quoteForMessage(isoUtc)} is not YYYY-MM-DDTHH:MM:SSZ`);
  return `${m[1]} ${m[2]}`;
}

/** `2024-03-01T02:03:04Z` -> `TIMESTAMP '2024-03-01 02:03:04'`. */
export function timestampLiteral(isoUtc: string): string {
  return `TIMESTAMP '${timestampText(isoUtc)}'`;
}

function guardSql(guard: StaleGuard): string {
  return (
    `EXISTS (SELECT 1 FROM ${table(guard.ledger)} AS l WHERE l."table_name" = ${quoteLiteral(guard.table)} ` +
    `AND l."kind" = 'full' AND l."outcome" = 'loaded' AND l."exported_at" ${guard.newerFullOperator} ` +
    `${timestampLiteral(guard.exportedAt)})`
  );
}

/** Newest first among rows of one id: the version column (NULL oldest) when the file has it, then the later line. */
function versionOrder(alias: string, versionColumn: string | undefined): string {
  const byLine = `${alias}.ctid DESC`;
  return versionColumn === undefined ? byLine : `${alias}.${ident(versionColumn)} DESC NULLS LAST, ${byLine}`;
}

const UTC_NOW_TRANSACTION = "(transaction_timestamp() AT TIME ZONE 'UTC')";
const UTC_NOW_CLOCK = "(clock_timestamp() AT TIME ZONE 'UTC')";

function renderStep(step: LoadStep): PostgresStatement[] {
  const sql = (text: string): PostgresStatement => ({ kind: "sql", op: step.op, sql: text });
  switch (step.op) {
    case "create-table":
      ident(step.table.schema);
      ident(step.table.name);
      for (const c of step.columns) ident(c.name);
      return [sql(createTableStatement(step.table.schema, step.table.name, step.columns, "postgres"))];
    case "create-ledger":
      return [
        sql(ledgerTableStatement(step.ledger.schema, step.ledger.name, "postgres")),
        sql(
          `INSERT INTO ${table(step.ledger)} (${ledgerColumnList()}) SELECT ${ledgerColumnList()} FROM ${table(step.history)} ` +
            `WHERE "table_name" = ${quoteLiteral(step.table)}`,
        ),
      ];
    case "lock-table":
      return [sql(`LOCK TABLE ${table(step.table)} IN SHARE ROW EXCLUSIVE MODE`)];
    case "add-column":
      return [
        sql(
          `ALTER TABLE ${table(step.table)} ADD COLUMN IF NOT EXISTS ${ident(step.column.name)} ` +
            toPostgresType(step.column.type),
        ),
      ];
    case "create-stage":
      return [
        sql(
          `CREATE TEMP TABLE ${ident(step.stage)} ON COMMIT DROP AS SELECT ${step.columns.map(ident).join(", ")} ` +
            `FROM ${table(step.like)} WITH NO DATA`,
        ),
      ];
    case "copy": {
      const target = `${ident(step.stage)} (${step.columns.map(ident).join(", ")})`;
      return [
        {
          kind: "copy",
          op: "copy",
          target,
          options: POSTGRES_COPY_OPTIONS,
          objectKey: step.objectKey,
          compression: step.compression,
          sql: `COPY ${target} FROM STDIN WITH ${POSTGRES_COPY_OPTIONS}`,
        },
      ];
    }
    case "delete-replaced": {
      const at = timestampLiteral(step.exportedAt);
      const exportedAt = ident(EXPORTED_AT_COLUMN);
      if (step.scope === "all") {
        return [
          sql(
            `DELETE FROM ${table(step.table)} AS t WHERE (t.${exportedAt} <= ${at} OR t.${exportedAt} IS NULL) ` +
              `AND NOT ${guardSql(step.guard)}`,
          ),
        ];
      }
      return [
        sql(
          `DELETE FROM ${table(step.table)} AS t USING ${ident(step.stage)} AS s WHERE t.${ident(ID_COLUMN)} = s.${ident(ID_COLUMN)} ` +
            `AND (t.${exportedAt} <= ${at} OR t.${exportedAt} IS NULL) AND NOT ${guardSql(step.guard)}`,
        ),
      ];
    }
    case "insert-new": {
      // One row per id (plan.ts, InsertNewStep): the newest version, and among equals the later line (the stage is
      // a fresh temporary table filled by one COPY, so its physical order, ctid, is the file's line order).
      const columns = step.columns.map(ident);
      const id = ident(ID_COLUMN);
      return [
        sql(
          `INSERT INTO ${table(step.table)} (${[...columns, ident(EXPORTED_AT_COLUMN)].join(", ")}) ` +
            `SELECT ${columns.map((c) => `s.${c}`).join(", ")}, ${timestampLiteral(step.exportedAt)} ` +
            `FROM (SELECT ${columns.map((c) => `x.${c}`).join(", ")}, ROW_NUMBER() OVER (PARTITION BY x.${id} ` +
            `ORDER BY ${versionOrder("x", step.versionColumn)}) AS cs_rank FROM ${ident(step.stage)} AS x) AS s ` +
            `WHERE s.cs_rank = 1 AND NOT EXISTS (SELECT 1 FROM ${table(step.table)} AS t WHERE t.${id} = s.${id}) ` +
            `AND NOT ${guardSql(step.guard)}`,
        ),
      ];
    }
    case "record-load": {
      const stale = guardSql(step.guard);
      return [
        {
          kind: "sql",
          op: step.op,
          bindCopiedRows: true,
          // The table's own ledger and, in the same statement, the shared history (PostgreSQL's data-modifying CTE;
          // at READ COMMITTED, inserts into one table by two transactions neither wait nor conflict).
          sql:
            `WITH "own" AS (INSERT INTO ${table(step.ledger)} ("load_id", "table_name", "kind", "object_key", "exported_at", ` +
            `"rows_loaded", "outcome", "statement_id", "started_at", "finished_at", "values_at_limit") ` +
            `SELECT ${quoteLiteral(step.loadId)}, ${quoteLiteral(step.table)}, ${quoteLiteral(step.kind)}, ` +
            `${quoteLiteral(step.objectKey)}, ${timestampLiteral(step.exportedAt)}, ` +
            `CASE WHEN ${stale} THEN 0 ELSE $1::bigint END, ` +
            // values_at_limit 0: PostgreSQL cuts nothing (TEXT holds any length; a VARCHAR(n) overflow fails the COPY).
            `CASE WHEN ${stale} THEN 'skipped-stale' ELSE 'loaded' END, NULL, ${UTC_NOW_TRANSACTION}, ${UTC_NOW_CLOCK}, 0 ` +
            `RETURNING ${ledgerColumnList()}), "history" AS (INSERT INTO ${table(step.history)} (${ledgerColumnList()}) ` +
            `SELECT ${ledgerColumnList()} FROM "own") SELECT "object_key", "outcome", "rows_loaded" FROM "own"`,
        },
      ];
    }
    case "drop-stage":
      return [sql(`DROP TABLE IF EXISTS ${ident(step.stage)}`)];
  }
}

/** A full export's file, rendered direct (see the module comment), from its steps in the plan. */
function renderDirectFull(
  copy: CopyStep,
  del: DeleteReplacedStep,
  insert: InsertNewStep,
  record: RecordLoadStep,
): PostgresStatement[] {
  const target = table(insert.table);
  const at = timestampLiteral(insert.exportedAt);
  const exportedAt = ident(EXPORTED_AT_COLUMN);
  const id = ident(ID_COLUMN);
  const copyTarget = `${target} (${[...copy.columns.map(ident), exportedAt].join(", ")})`;
  return [
    { kind: "stale-check", op: "delete-replaced", sql: `SELECT ${guardSql(del.guard)} AS "stale"` },
    ...renderStep(del),
    {
      kind: "copy",
      op: "copy",
      target: copyTarget,
      options: POSTGRES_COPY_OPTIONS,
      objectKey: copy.objectKey,
      compression: copy.compression,
      sql: `COPY ${copyTarget} FROM STDIN WITH ${POSTGRES_COPY_OPTIONS}`,
      appendExportedAt: timestampText(insert.exportedAt),
      onlyWhenFresh: true,
    },
    {
      // One row per id (plan.ts, InsertNewStep): of the just-copied rows of an id the file holds more than once, all
      // but the newest go (ties: the one last in the table's physical order).
      kind: "sql",
      op: "insert-new",
      onlyWhenFresh: true,
      sql:
        `DELETE FROM ${target} AS d USING (SELECT x.ctid AS row_id, ROW_NUMBER() OVER (PARTITION BY x.${id} ` +
        `ORDER BY ${versionOrder("x", insert.versionColumn)}) AS cs_rank FROM ${target} AS x WHERE x.${exportedAt} = ${at} ` +
        `AND x.${id} IN (SELECT y.${id} FROM ${target} AS y WHERE y.${exportedAt} = ${at} GROUP BY y.${id} ` +
        `HAVING COUNT(*) > 1)) AS dup WHERE d.ctid = dup.row_id AND dup.cs_rank > 1`,
    },
    {
      kind: "sql",
      op: "insert-new",
      onlyWhenFresh: true,
      sql:
        `DELETE FROM ${target} AS n WHERE n.${exportedAt} = ${at} ` +
        `AND n.${id} IN (SELECT o.${id} FROM ${target} AS o WHERE o.${exportedAt} > ${at})`,
    },
    ...renderStep(record),
  ];
}

/** Header columns PostgreSQL would truncate are refused like any other unloadable header. */
function checkPostgresHeaders(plan: LoadPlan): void {
  for (const file of plan.files) {
    for (const column of file.header) {
      if (Buffer.byteLength(column, "utf8") > POSTGRES_MAX_IDENTIFIER_BYTES) {
        throw new InvalidHeaderError(
          `header column ${quoteForMessage(column)} is longer than PostgreSQL's 63-byte identifier limit; ` +
            `nothing was loaded`,
          { column, objectKey: file.objectKey },
        );
      }
    }
  }
}

/** The plan's transaction, in order, without BEGIN/COMMIT (the adapter brackets it). */
export function renderPostgresTransaction(plan: LoadPlan, options: RenderPostgresOptions = {}): PostgresStatement[] {
  checkPostgresHeaders(plan);
  const direct = plan.kind === "full" && (options.fullLoads ?? "direct") === "direct";
  const out: PostgresStatement[] = [];
  const steps = plan.transaction;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    if (direct && step.op === "create-stage") {
      // A file's steps come as create-stage, copy, delete-replaced, insert-new, record-load, drop-stage.
      const [copy, del, insert, record, drop] = steps.slice(i + 1, i + 6);
      if (
        copy?.op !== "copy" ||
        del?.op !== "delete-replaced" ||
        insert?.op !== "insert-new" ||
        record?.op !== "record-load" ||
        drop?.op !== "drop-stage"
      ) {
        throw new LoadPlanError(`plan for ${plan.table.name}: unexpected steps after create-stage ${step.stage}`);
      }
      out.push(...renderDirectFull(copy, del, insert, record));
      i += 5;
      continue;
    }
    out.push(...renderStep(step));
  }
  // Every merge matches rows by id: without an index each incremental file scans the whole table. Last in the
  // transaction, so a new (or adopted) table's first load builds it in one pass over the loaded rows instead of
  // maintaining it row by row during the COPY; afterwards it is a catalog check under the lock already held.
  // (Redshift has no indexes; its scans are columnar and zone-mapped.)
  out.push({
    kind: "sql",
    op: "create-table",
    sql: `CREATE INDEX IF NOT EXISTS ${ident(idIndexName(plan.table.name))} ON ${table(plan.table)} (${ident(ID_COLUMN)})`,
  });
  return out;
}

/**
 * The `load_failures` insert for a failed load: one row per file, with bind parameters ($1, $2, ...) because the
 * error text is free text. Returns the statement and its values.
 */
export function renderPostgresFailure(plan: FailureSubject, error: string): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const rows = plan.files.map((file) => {
    const base = values.length;
    values.push(plan.loadId, plan.table.name, plan.kind, file.objectKey, file.exportedAt.replace("T", " ").replace("Z", ""), error);
    return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}::timestamp, $${base + 6}, NULL)`;
  });
  return {
    sql:
      `INSERT INTO ${table(plan.metadata.failures)} ("load_id", "table_name", "kind", "object_key", "exported_at", ` +
      `"error", "statement_id") VALUES ${rows.join(", ")}`,
    values,
  };
}
