/**
 * The PostgreSQL warehouse adapter: runs a LoadPlan on a real PostgreSQL, COPY fed from the object store.
 *
 * Two drivers behind `PostgresDriver`:
 * - a server by connection URL (`pg-server-driver.ts`: `pg` + `pg-copy-streams`, COPY FROM STDIN truly streamed,
 *   bounded memory whatever the file's size);
 * - PGlite in-process (`pglite-driver.ts`: the local and test path; its COPY reads a Blob, so the file is
 *   materialised in memory, decompressed; always on an on-disk data directory).
 *
 * `migrate` creates the schemas and applies the metadata migrations of schemas/migrations.ts (once, before the first
 * load: what the bootstrap does on Redshift). A load is BEGIN, the transaction's statements, COMMIT. On any failure: ROLLBACK, a `load_failures` row per file outside the transaction, and LoadFailedError with
 * the cause. The mirror and the ledger are then exactly as before.
 */
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PassThrough } from "node:stream";
import { quoteIdentifier } from "../../schemas/ddl";
import { DEFAULT_METADATA_SCHEMA } from "../../facts/warehouse";
import { truncateUtf8 } from "../../schemas/metadata";
import { METADATA_MIGRATIONS_TABLE, migrationsTableStatement, pendingMigrations } from "../../schemas/migrations";
import { bunzip2 } from "./bzip2";
import { appendCsvColumn } from "./csv-append-column";
import { LoadFailedError, messageOf } from "./errors";
import type { ObjectOpener } from "./header";
import { EXPORTED_AT_COLUMN, type FailureSubject, type LoadOutcome, type LoadPlan } from "./plan";
import {
  renderPostgresFailure,
  renderPostgresTransaction,
  type PostgresStatement,
} from "./render-postgres";
import type { FileLoadResult, LoadResult, Warehouse } from "./warehouse";

/** One connection, held by one caller at a time. */
export interface PostgresSession {
  query(sql: string, values?: readonly unknown[]): Promise<readonly Record<string, unknown>[]>;
  /**
   * Runs `COPY <target> FROM STDIN WITH <options>` with `data` as its input (a driver may use another source
   * clause: PGlite reads `'/dev/blob'`). Returns the rows copied. Rejects when the data stream fails.
   */
  copyFrom(target: string, options: string, data: Readable): Promise<number>;
}

export interface PostgresDriver {
  /** Runs `work` on one session that nobody else uses meanwhile. */
  withSession<T>(work: (session: PostgresSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PostgresWarehouseOptions {
  readonly driver: PostgresDriver;
  /** The object store: opens an export by key (S3 GetObject, a local folder, a test's in-memory map). */
  readonly openObject: ObjectOpener;
  /**
   * How full exports load (render-postgres.ts): `direct` COPYs into the table, `staged` as Redshift does.
   * @default "direct"
   */
  readonly fullLoads?: "direct" | "staged";
  /** Called after each statement that succeeded, with its duration: for logs and the benchmark. */
  readonly onStatement?: (event: { readonly op: string; readonly sql: string; readonly ms: number }) => void;
}

/**
 * The object's bytes as CSV text for the COPY: decompressed on the fly when it is bzip2, `_cs_exported_at` appended
 * to each record when the COPY goes straight into the table.
 */
async function openCsv(openObject: ObjectOpener, statement: Extract<PostgresStatement, { kind: "copy" }>): Promise<Readable> {
  const body = await openObject(statement.objectKey);
  const stages: NodeJS.ReadWriteStream[] = [];
  if (statement.compression === "bzip2") stages.push(bunzip2());
  if (statement.appendExportedAt !== undefined) {
    stages.push(appendCsvColumn(statement.appendExportedAt, EXPORTED_AT_COLUMN));
  }
  if (stages.length === 0) return body;
  const out = new PassThrough();
  // The pipeline's failure reaches the COPY through `out`; the COPY's failure destroys `out`, which ends this pipeline.
  pipeline([body, ...stages, out]).catch((err: Error) => out.destroy(err));
  return out;
}

export class PostgresWarehouse implements Warehouse {
  private readonly driver: PostgresDriver;
  private readonly openObject: ObjectOpener;
  private readonly onStatement: PostgresWarehouseOptions["onStatement"];
  private readonly fullLoads: "direct" | "staged";
  /** PostgreSQL takes a transaction of any number of statements. */
  readonly maxFilesPerTransaction = Number.POSITIVE_INFINITY;

  constructor(options: PostgresWarehouseOptions) {
    this.driver = options.driver;
    this.openObject = options.openObject;
    this.onStatement = options.onStatement;
    this.fullLoads = options.fullLoads ?? "direct";
  }

  async tableColumns(schema: string, table: string): Promise<readonly string[] | undefined> {
    return this.driver.withSession(async (session) => {
      const exists = await session.query(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2",
        [schema, table],
      );
      if (exists.length === 0) return undefined;
      const rows = await session.query(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 " +
          "ORDER BY ordinal_position",
        [schema, table],
      );
      return rows.map((r) => String(r.column_name));
    });
  }

  /**
   * Creates the data and metadata schemas if missing and applies the pending metadata migrations, each in one
   * transaction with its record (schemas/migrations.ts). Idempotent: run it before the first load.
   */
  async migrate(dataSchema: string, metadataSchema: string = DEFAULT_METADATA_SCHEMA): Promise<number[]> {
    const meta = quoteIdentifier(metadataSchema, "metadata schema");
    return this.driver.withSession(async (session) => {
      await session.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(dataSchema, "data schema")}`);
      await session.query(`CREATE SCHEMA IF NOT EXISTS ${meta}`);
      await session.query(migrationsTableStatement(metadataSchema, "postgres"));
      const rows = await session.query(`SELECT version FROM ${meta}.${quoteIdentifier(METADATA_MIGRATIONS_TABLE)}`);
      const applied = new Set(rows.map((r) => Number(r.version)));
      const done: number[] = [];
      for (const migration of pendingMigrations(applied)) {
        await session.query("BEGIN");
        try {
          for (const sql of migration.statements(metadataSchema, "postgres")) await session.query(sql);
          await session.query(
            `INSERT INTO ${meta}.${quoteIdentifier(METADATA_MIGRATIONS_TABLE)} (version, name) VALUES ($1, $2)`,
            [migration.version, migration.name],
          );
          await session.query("COMMIT");
        } catch (err) {
          await session.query("ROLLBACK").catch(() => undefined);
          throw err;
        }
        done.push(migration.version);
      }
      return done;
    });
  }

  async recordRefused(refusal: FailureSubject, error: string): Promise<void> {
    const failure = renderPostgresFailure(refusal, truncateUtf8(error.replace(/\0/g, "")) || "unknown error");
    await this.driver.withSession((session) => session.query(failure.sql, failure.values));
  }

  async run(plan: LoadPlan): Promise<LoadResult> {
    const statements = renderPostgresTransaction(plan, { fullLoads: this.fullLoads });
    const keys = plan.files.map((f) => f.objectKey);
    return this.driver.withSession(async (session) => {
      let current: string | undefined;
      let inTransaction = false;
      let copiedRows = 0;
      let stale = false;
      const files: FileLoadResult[] = [];
      try {
        current = "BEGIN";
        await session.query("BEGIN");
        inTransaction = true;
        for (const statement of statements) {
          if (statement.kind !== "stale-check" && statement.onlyWhenFresh && stale) {
            if (statement.kind === "copy") copiedRows = 0;
            continue;
          }
          current = statement.sql;
          const started = Date.now();
          if (statement.kind === "stale-check") {
            const [row] = await session.query(statement.sql);
            stale = row?.stale === true;
            this.onStatement?.({ op: statement.op, sql: statement.sql, ms: Date.now() - started });
            continue;
          }
          if (statement.kind === "copy") {
            const data = await openCsv(this.openObject, statement);
            try {
              copiedRows = await session.copyFrom(statement.target, statement.options, data);
            } finally {
              data.destroy();
            }
            this.onStatement?.({ op: statement.op, sql: statement.sql, ms: Date.now() - started });
            continue;
          }
          const rows = await session.query(statement.sql, statement.bindCopiedRows ? [copiedRows] : undefined);
          this.onStatement?.({ op: statement.op, sql: statement.sql, ms: Date.now() - started });
          if (statement.op === "record-load") {
            for (const r of rows) {
              files.push({
                objectKey: String(r.object_key),
                outcome: String(r.outcome) as LoadOutcome,
                rowsLoaded: Number(r.rows_loaded),
              });
            }
          }
        }
        current = "COMMIT";
        await session.query("COMMIT");
        inTransaction = false;
      } catch (err) {
        if (inTransaction) {
          try {
            await session.query("ROLLBACK");
          } catch {
            // The session is broken (connection lost): the server rolls back an abandoned transaction itself.
          }
        }
        const recordFailureError = await this.recordFailure(session, plan, err);
        throw new LoadFailedError(plan.table.name, keys, err, { statement: current, recordFailureError });
      }
      return {
        loadId: plan.loadId,
        schema: plan.table.schema,
        table: plan.table.name,
        kind: plan.kind,
        files,
        addedColumns: plan.addedColumns,
        createdTable: plan.createsTable,
      };
    });
  }

  /** Writes the failure outside the rolled-back transaction. Returns the error if even that fails, never throws. */
  private async recordFailure(
    session: PostgresSession,
    plan: LoadPlan,
    err: unknown,
  ): Promise<unknown> {
    try {
      const message = truncateUtf8(messageOf(err).replace(/\0/g, ""));
      const failure = renderPostgresFailure(plan, message);
      await session.query(failure.sql, failure.values);
      return undefined;
    } catch (recordErr) {
      return recordErr;
    }
  }
}
