/**
 * `npm run verify`, the core over ports: what the warehouse really does with the edge cases of ControlShift's CSV,
 * through the loaders' own COPY (handlers/load/render-redshift.ts, renderRedshiftCopy) as the loader user, next to
 * what the PostgreSQL adapter does with the same bytes (its COPY options, on PGlite); plus the database's isolation
 * level and the loader user's privileges.
 *
 * Scratch space: each case runs in one Data API batch (one session, one transaction) that creates a TEMP table,
 * COPYs the file into it and reads it back; a temporary table vanishes with its session, so nothing is left in the
 * warehouse. The files go to s3://<exports bucket>/exports/verify/<run id>/, which no loader's rule matches (they
 * match exports/full/<table>/ and exports/incremental/<table>/), and are deleted at the end.
 *
 * Dry by default: without `execute`, nothing is uploaded and no COPY runs; the read-only queries (isolation,
 * privileges) and the PostgreSQL side run, and the report shows what would run.
 */
import { Readable } from "node:stream";
import { quoteIdentifier } from "../../schemas/ddl";
import { toPostgresType } from "../../schemas/type-mapping";
import type { PostgresDriver } from "../../handlers/load/postgres-adapter";
import { POSTGRES_COPY_OPTIONS } from "../../handlers/load/render-postgres";
import { quoteRedshiftLiteral, renderRedshiftCopy } from "../../handlers/load/render-redshift";
import { EDGE_CASES, VERIFY_COLUMNS, type EdgeCase } from "./cases";

/** What a batch gave back: the rows of one of its statements, or the error of the statement that failed. */
export type BatchOutcome = { readonly rows: (string | null)[][] } | { readonly error: string };

export interface VerifyWarehouse {
  query(sql: string): Promise<(string | null)[][]>;
  /** The statements as one transaction; the rows of statement `resultOf` (1-based). */
  batch(sqls: readonly string[], resultOf: number): Promise<BatchOutcome>;
}

export interface VerifyPorts {
  readonly warehouse: VerifyWarehouse;
  /** Only with execute. */
  readonly objects?: {
    put(key: string, body: Buffer): Promise<void>;
    remove(key: string): Promise<void>;
  };
  readonly postgres: PostgresDriver;
}

export interface VerifySettings {
  readonly execute: boolean;
  readonly exportsBucket: string;
  readonly copyRoleArn: string;
  /** The database loaded into (WAREHOUSE_DATABASE): whose isolation level is reported. */
  readonly database: string;
  readonly dataSchema: string;
  readonly metadataSchema: string;
  /** Names this run's folder of files (a timestamp). */
  readonly runId: string;
  /** @default EDGE_CASES */
  readonly cases?: readonly EdgeCase[];
}

export type Outcome =
  | { readonly kind: "null" }
  | { readonly kind: "value"; readonly value: string; readonly bytes: number }
  | { readonly kind: "no-row" }
  | { readonly kind: "error"; readonly message: string }
  | { readonly kind: "not-run" };

export interface CaseResult {
  readonly edgeCase: EdgeCase;
  readonly objectKey: string;
  readonly statements: readonly string[];
  readonly redshift: Outcome;
  readonly postgres: Outcome;
}

export interface VerifyReport {
  readonly execute: boolean;
  readonly cases: readonly CaseResult[];
  /** STV_DB_ISOLATION_LEVEL's answer, or why there is none. */
  readonly isolationLevel: string;
  readonly privileges: readonly { readonly what: string; readonly answer: string }[];
}

export const VERIFY_PREFIX = "exports/verify/";

export function objectKeyOf(runId: string, edgeCase: EdgeCase): string {
  return `${VERIFY_PREFIX}${runId}/${edgeCase.name}.csv`;
}

const scratch = (edgeCase: EdgeCase) => `verify_${edgeCase.name}`;

/** The batch of one case: a TEMP table, the loaders' COPY into it, and what it holds. */
export function redshiftCaseStatements(settings: VerifySettings, edgeCase: EdgeCase): string[] {
  const table = quoteIdentifier(scratch(edgeCase));
  const columns = VERIFY_COLUMNS.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(", ");
  return [
    `CREATE TEMP TABLE ${table} (${columns})`,
    renderRedshiftCopy(
      { op: "copy", stage: scratch(edgeCase), columns: VERIFY_COLUMNS.map((c) => c.name), objectKey: objectKeyOf(settings.runId, edgeCase), compression: "none" },
      { exportsBucket: settings.exportsBucket, copyRoleArn: settings.copyRoleArn },
    ),
    `SELECT "id", "v", OCTET_LENGTH("v") FROM ${table} ORDER BY "id"`,
  ];
}

/**
 * Every database's isolation level (STV_DB_ISOLATION_LEVEL: "Serializable" or "Snapshot Isolation"); the row of the
 * mirror's database is picked here, so the query mixes no leader-node function into a system table's query.
 */
export const ISOLATION_QUERY = "SELECT TRIM(db_name), TRIM(isolation_level) FROM stv_db_isolation_level";

/**
 * The loader user's rights, each as yes/no, with documented functions (HAS_DATABASE_PRIVILEGE, HAS_SCHEMA_PRIVILEGE,
 * HAS_ASSUMEROLE_PRIVILEGE: whether it may COPY with the COPY role).
 */
export function privilegesQuery(dataSchema: string, metadataSchema: string, copyRoleArn: string): string {
  const yesNo = (condition: string) => `CASE WHEN ${condition} THEN 'yes' ELSE 'no' END`;
  const parts = [
    `SELECT 'user' AS what, current_user::VARCHAR AS answer`,
    `SELECT 'superuser', ${yesNo("usesuper")} FROM pg_user WHERE usename = current_user`,
    `SELECT 'CREATE on the database', ${yesNo("HAS_DATABASE_PRIVILEGE(current_database(), 'create')")}`,
    `SELECT 'TEMP on the database', ${yesNo("HAS_DATABASE_PRIVILEGE(current_database(), 'temp')")}`,
    `SELECT 'COPY with the COPY role', ${yesNo(`HAS_ASSUMEROLE_PRIVILEGE(${quoteRedshiftLiteral(copyRoleArn)}, 'copy')`)}`,
  ];
  for (const schema of [dataSchema, metadataSchema]) {
    quoteIdentifier(schema);
    parts.push(
      `SELECT 'owns schema ${schema}', ${yesNo("u.usename = current_user")} FROM pg_namespace n JOIN pg_user u ON u.usesysid = n.nspowner WHERE n.nspname = '${schema}'`,
      `SELECT 'CREATE on schema ${schema}', ${yesNo(`HAS_SCHEMA_PRIVILEGE('${schema}', 'create')`)}`,
    );
  }
  return parts.join("\nUNION ALL\n");
}

function outcomeOfRows(rows: (string | null)[][]): Outcome {
  if (rows.length === 0) return { kind: "no-row" };
  const [, value, bytes] = rows[0];
  return value === null ? { kind: "null" } : { kind: "value", value, bytes: Number(bytes) };
}

async function postgresCase(driver: PostgresDriver, edgeCase: EdgeCase): Promise<Outcome> {
  const table = quoteIdentifier(scratch(edgeCase));
  const columns = VERIFY_COLUMNS.map((c) => `${quoteIdentifier(c.name)} ${toPostgresType(c.type)}`).join(", ");
  return driver.withSession(async (session) => {
    await session.query(`DROP TABLE IF EXISTS ${table}`);
    await session.query(`CREATE TEMP TABLE ${table} (${columns})`);
    try {
      // The PostgreSQL adapter's own COPY options (render-postgres.ts), on the same bytes.
      await session.copyFrom(`${table} ("id", "v")`, POSTGRES_COPY_OPTIONS, Readable.from([edgeCase.bytes]));
      const rows = await session.query(`SELECT "id", "v", octet_length("v") AS bytes FROM ${table} ORDER BY "id"`);
      return outcomeOfRows(rows.map((r) => [String(r.id), r.v === null ? null : String(r.v), String(r.bytes)]));
    } catch (err) {
      return { kind: "error", message: (err as Error).message };
    } finally {
      await session.query(`DROP TABLE IF EXISTS ${table}`);
    }
  });
}

export async function runVerify(settings: VerifySettings, ports: VerifyPorts): Promise<VerifyReport> {
  const cases = settings.cases ?? EDGE_CASES;
  if (settings.execute && !ports.objects) throw new Error("verify --execute needs the object store");

  let isolationLevel: string;
  try {
    const rows = await ports.warehouse.query(ISOLATION_QUERY);
    isolationLevel =
      rows.find(([name]) => name === settings.database)?.[1] ??
      `unknown: STV_DB_ISOLATION_LEVEL shows this user no row for ${settings.database}`;
  } catch (err) {
    isolationLevel = `unknown: ${(err as Error).message}`;
  }
  const privileges = (await ports.warehouse.query(privilegesQuery(settings.dataSchema, settings.metadataSchema, settings.copyRoleArn))).map(
    ([what, answer]) => ({ what: what ?? "", answer: answer ?? "" }),
  );

  const results: CaseResult[] = [];
  const uploaded: string[] = [];
  try {
    for (const edgeCase of cases) {
      const objectKey = objectKeyOf(settings.runId, edgeCase);
      const statements = redshiftCaseStatements(settings, edgeCase);
      let redshift: Outcome = { kind: "not-run" };
      if (settings.execute) {
        await ports.objects!.put(objectKey, edgeCase.bytes);
        uploaded.push(objectKey);
        const out = await ports.warehouse.batch(statements, 3);
        redshift = "error" in out ? { kind: "error", message: out.error } : outcomeOfRows(out.rows);
      }
      results.push({ edgeCase, objectKey, statements, redshift, postgres: await postgresCase(ports.postgres, edgeCase) });
    }
  } finally {
    for (const key of uploaded) await ports.objects!.remove(key);
  }
  return { execute: settings.execute, cases: results, isolationLevel, privileges };
}

export function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case "null":
      return "NULL";
    case "value":
      return `${JSON.stringify(outcome.value)} (${outcome.bytes} bytes)`;
    case "no-row":
      return "no row loaded";
    case "error":
      return `error: ${outcome.message.split("\n")[0]}`;
    case "not-run":
      return "(dry run: not run)";
  }
}

/** Whether both sides did the same; undefined when the warehouse side did not run. */
export function sameOutcome(a: Outcome, b: Outcome): boolean | undefined {
  if (a.kind === "not-run" || b.kind === "not-run") return undefined;
  if (a.kind !== b.kind) return false;
  if (a.kind === "value" && b.kind === "value") return a.value === b.value;
  return true;
}

/** The report as text: one table, then the isolation level and the privileges, then what differs. */
export function formatReport(report: VerifyReport): string {
  const header = ["case", "wanted", "Redshift", "PostgreSQL adapter (PGlite)", "same"];
  const rows = report.cases.map((c) => {
    const same = sameOutcome(c.redshift, c.postgres);
    return [c.edgeCase.question, c.edgeCase.wanted, describeOutcome(c.redshift), describeOutcome(c.postgres), same === undefined ? "-" : same ? "yes" : "NO"];
  });
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i].length))));
  const line = (cells: string[]) => cells.map((cell, i) => (cell.length > widths[i] ? `${cell.slice(0, widths[i] - 1)}~` : cell.padEnd(widths[i]))).join(" | ").trimEnd();
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("-+-"), ...rows.map(line), ""];
  out.push(`isolation level: ${report.isolationLevel}`);
  out.push(`loader user: ${report.privileges.map((p) => `${p.what}: ${p.answer}`).join("; ")}`);
  const differ = report.cases.filter((c) => sameOutcome(c.redshift, c.postgres) === false);
  if (differ.length > 0) {
    out.push("", "The PostgreSQL adapter differs from Redshift on:");
    for (const c of differ) out.push(`  ${c.edgeCase.question}: Redshift ${describeOutcome(c.redshift)}, PostgreSQL ${describeOutcome(c.postgres)}`);
  }
  if (!report.execute) {
    out.push("", "Dry run: nothing was uploaded and no COPY ran. With --execute, each case uploads its file and runs, as the loader user:");
    for (const c of report.cases) out.push(`  s3://.../${c.objectKey}`, ...c.statements.map((s) => `    ${s}`));
  }
  return out.join("\n");
}
