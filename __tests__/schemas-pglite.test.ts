/**
 * The generated table DDL and the metadata schema, run for real on PostgreSQL (PGlite).
 *
 * PGlite loads its WebAssembly with a dynamic import(), which jest's module sandbox refuses unless node runs with
 * --experimental-vm-modules. So the SQL runs in a plain child `node` process, which works with or without the flag.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { CONTROLSHIFT_TABLES } from "../schemas/controlshift-tables";
import { EXPORTED_AT_COLUMN, createTableStatement } from "../schemas/ddl";
import { TABLE_FRESHNESS_COLUMNS, metadataStatements } from "../schemas/metadata";
import { TABLE_SCHEMAS } from "../schemas/table-schemas";

type Step = { readonly sql: string; readonly mode: "exec" | "query" | "error" };
type StepResult = Record<string, unknown>[] | string | null;

const RUNNER = `
const { PGlite } = require("@electric-sql/pglite");
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", async () => {
  const db = new PGlite();
  const results = [];
  try {
    for (const step of JSON.parse(input)) {
      if (step.mode === "query") { results.push((await db.query(step.sql)).rows); continue; }
      try { await db.exec(step.sql); results.push(step.mode === "error" ? "no error" : null); }
      catch (err) { if (step.mode !== "error") throw err; results.push(String(err.message)); }
    }
    process.stdout.write(JSON.stringify(results, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
  } catch (err) {
    process.stderr.write(String(err && err.message ? err.message : err));
    process.exitCode = 1;
  } finally {
    await db.close();
  }
});`;

/** Runs the steps in order on a fresh PGlite; returns each query's rows, each expected error's message. */
function runOnPglite(steps: readonly Step[]): Promise<StepResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", RUNNER], { cwd: join(__dirname, ".."), stdio: "pipe" });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`PGlite: ${err}`))));
    child.stdin.end(JSON.stringify(steps));
  });
}

const exec = (sql: string): Step => ({ sql, mode: "exec" });
const query = (sql: string): Step => ({ sql, mode: "query" });
const fails = (sql: string): Step => ({ sql, mode: "error" });

describe("the generated tables on PostgreSQL", () => {
  let results: StepResult[];
  beforeAll(async () => {
    const creates = CONTROLSHIFT_TABLES.map((t) => exec(createTableStatement("controlshift", t, TABLE_SCHEMAS[t], "postgres")));
    results = await runOnPglite([
      exec('CREATE SCHEMA "controlshift"'),
      ...creates,
      ...creates, // IF NOT EXISTS: a second run is harmless
      query(`SELECT table_name, column_name, data_type FROM information_schema.columns
             WHERE table_schema = 'controlshift' ORDER BY table_name, ordinal_position`),
      // ControlShift's CSV values are PostgreSQL text output: they must go into the mapped types as they are.
      exec(`INSERT INTO controlshift.share_clicks (id, page_type, created_at, token, auto_generated, _cs_exported_at)
            VALUES ('9007199254740993', 'Petition', '2024-03-01 02:03:04.123456', '0e37df36-f698-11e6-8dd4-cb9ced3df976',
                    't', '2024-03-01 02:03:04')`),
      exec(`INSERT INTO controlshift.locations (id, latitude, longitude, _cs_exported_at)
            VALUES ('1', '51.5072178000', '-0.1275862000', '2024-03-01 02:03:04')`),
      query(`SELECT id::text, created_at::text, token, auto_generated FROM controlshift.share_clicks`),
      query(`SELECT latitude::text, longitude::text FROM controlshift.locations`),
      fails(`INSERT INTO controlshift.locations (id) VALUES (2)`),
    ]);
  }, 60000);

  it("creates all 63 tables with ControlShift's column order plus _cs_exported_at", () => {
    const rows = results[1 + 2 * CONTROLSHIFT_TABLES.length] as { table_name: string; column_name: string; data_type: string }[];
    const byTable = new Map<string, string[]>();
    for (const r of rows) byTable.set(r.table_name, [...(byTable.get(r.table_name) ?? []), r.column_name]);
    expect([...byTable.keys()].sort()).toEqual(CONTROLSHIFT_TABLES);
    for (const table of CONTROLSHIFT_TABLES) {
      expect(byTable.get(table)).toEqual([...TABLE_SCHEMAS[table].map((c) => c.name), EXPORTED_AT_COLUMN]);
    }
    expect([...new Set(rows.map((r) => r.data_type))].sort()).toEqual([
      "bigint",
      "boolean",
      "character",
      "integer",
      "numeric",
      "text",
      "timestamp without time zone",
    ]);
  });

  it("accepts ControlShift's text values: bigint ids, microsecond timestamps, uuids, t/f, numeric(13,10)", () => {
    const n = 2 + 2 * CONTROLSHIFT_TABLES.length;
    expect(results[n + 2]).toEqual([
      {
        id: "9007199254740993",
        created_at: "2024-03-01 02:03:04.123456",
        token: "0e37df36-f698-11e6-8dd4-cb9ced3df976",
        auto_generated: true,
      },
    ]);
    expect(results[n + 3]).toEqual([{ latitude: "51.5072178000", longitude: "-0.1275862000" }]);
  });

  it("refuses a row without _cs_exported_at", () => {
    expect(results[2 + 2 * CONTROLSHIFT_TABLES.length + 4]).toMatch(/_cs_exported_at.*not-null|null value in column "_cs_exported_at"/);
  });
});

describe("the metadata schema on PostgreSQL", () => {
  const schema = "mirror_meta_test";
  const ledger = `"${schema}"."load_ledger"`;
  const failures = `"${schema}"."load_failures"`;
  const cols = "load_id, table_name, kind, object_key, exported_at, rows_loaded, outcome, statement_id, started_at, finished_at, loaded_at";
  const failureCols = "load_id, table_name, kind, object_key, exported_at, error, statement_id, failed_at";
  let results: StepResult[];

  beforeAll(async () => {
    results = await runOnPglite([
      ...metadataStatements(schema, "postgres").map(exec),
      ...metadataStatements(schema, "postgres").map(exec), // idempotent
      exec(`INSERT INTO ${ledger} (${cols}) VALUES
        ('l1', 'petitions', 'full', 'exports/full/petitions/20240301/petitions_20240301020000.csv.bz2', '2024-03-01 02:00:00', 10, 'loaded', NULL, '2024-03-01 02:05:00', '2024-03-01 02:09:00', '2024-03-01 02:10:00'),
        ('l2', 'petitions', 'full', 'exports/full/petitions/20240302/petitions_20240302020000.csv.bz2', '2024-03-02 02:00:00', 12, 'loaded', NULL, '2024-03-02 02:05:00', '2024-03-02 02:09:00', '2024-03-02 02:10:00'),
        ('l3', 'petitions', 'full', 'exports/full/petitions/20240301/petitions_20240301020000.csv.bz2', '2024-03-01 02:00:00', 0, 'skipped-stale', NULL, NULL, NULL, '2024-03-02 03:00:00'),
        ('l4', 'petitions', 'full', 'exports/full/petitions/20240305/petitions_20240305020000.csv.bz2', '2024-03-05 02:00:00', 0, 'skipped-stale', NULL, NULL, NULL, '2024-03-05 03:00:00'),
        ('l5', 'petitions', 'incremental', 'exports/incremental/petitions/20240302/petitions_20240302050000.csv', '2024-03-02 05:00:00', 3, 'loaded', NULL, NULL, NULL, '2024-03-02 05:01:00'),
        ('l6', 'petitions', 'incremental', 'exports/incremental/petitions/20240302/petitions_20240302060000.csv', '2024-03-02 06:00:00', 1, 'loaded', NULL, NULL, NULL, '2024-03-02 06:01:00'),
        ('l7', 'users', 'full', 'exports/full/users/20240302/users_20240302020000.csv', '2024-03-02 02:00:00', 5, 'loaded', 'f9b2c1d4-0000-4000-8000-000000000000:1', NULL, NULL, '2024-03-02 02:30:00')`),
      exec(`INSERT INTO ${failures} (${failureCols}) VALUES
        ('f1', 'petitions', 'incremental', 'exports/incremental/petitions/20240302/petitions_20240302070000.csv', '2024-03-02 07:00:00', 'earlier', NULL, '2024-03-02 07:01:00'),
        ('f2', 'petitions', 'full', 'exports/full/petitions/20240303/petitions_20240303020000.csv', '2024-03-03 02:00:00', 'later', 'abc:2', '2024-03-03 02:05:00'),
        ('f3', 'signatures', 'full', 'exports/full/signatures/20240303/signatures_20240303020000.csv.bz2', '2024-03-03 02:00:00', 'boom', NULL, '2024-03-03 04:00:00')`),
      query(`SELECT table_name, last_full_exported_at::text, last_full_object_key, last_full_rows_loaded::text,
               last_full_loaded_at::text, last_incremental_exported_at::text, last_incremental_loaded_at::text,
               last_failed_at::text, last_failure_kind, last_failure_error
             FROM "${schema}"."table_freshness" ORDER BY table_name`),
      // The defaults are UTC whatever the session's time zone.
      exec(`SET TIME ZONE 'America/New_York'`),
      exec(`INSERT INTO ${ledger} (load_id, table_name, kind, object_key, exported_at, rows_loaded, outcome)
            VALUES ('d1', 'defaults', 'full', 'k', '2024-03-01 00:00:00', 0, 'loaded')`),
      exec(`INSERT INTO ${failures} (load_id, table_name, kind, object_key, exported_at, error)
            VALUES ('d2', 'defaults', 'full', 'k', '2024-03-01 00:00:00', 'e')`),
      query(`SELECT (SELECT loaded_at::text FROM ${ledger} WHERE load_id = 'd1') AS loaded_at,
                    (SELECT failed_at::text FROM ${failures} WHERE load_id = 'd2') AS failed_at`),
      query(`SELECT column_name FROM information_schema.columns
             WHERE table_schema = '${schema}' AND table_name = 'table_freshness' ORDER BY ordinal_position`),
      fails(`INSERT INTO ${ledger} (load_id, table_name, kind, object_key, exported_at, rows_loaded, outcome)
             VALUES ('n1', 'petitions', 'full', 'k', NULL, 0, 'loaded')`),
    ]);
  }, 60000);

  const at = (offset: number): StepResult => results[8 + offset];

  it("shows per table the last successful full load, the last incremental and the last failure", () => {
    expect(at(2)).toEqual([
      {
        table_name: "petitions",
        last_full_exported_at: "2024-03-02 02:00:00",
        last_full_object_key: "exports/full/petitions/20240302/petitions_20240302020000.csv.bz2",
        last_full_rows_loaded: "12",
        last_full_loaded_at: "2024-03-02 02:10:00",
        last_incremental_exported_at: "2024-03-02 06:00:00",
        last_incremental_loaded_at: "2024-03-02 06:01:00",
        last_failed_at: "2024-03-03 02:05:00",
        last_failure_kind: "full",
        last_failure_error: "later",
      },
      {
        table_name: "signatures",
        last_full_exported_at: null,
        last_full_object_key: null,
        last_full_rows_loaded: null,
        last_full_loaded_at: null,
        last_incremental_exported_at: null,
        last_incremental_loaded_at: null,
        last_failed_at: "2024-03-03 04:00:00",
        last_failure_kind: "full",
        last_failure_error: "boom",
      },
      {
        table_name: "users",
        last_full_exported_at: "2024-03-02 02:00:00",
        last_full_object_key: "exports/full/users/20240302/users_20240302020000.csv",
        last_full_rows_loaded: "5",
        last_full_loaded_at: "2024-03-02 02:30:00",
        last_incremental_exported_at: null,
        last_incremental_loaded_at: null,
        last_failed_at: null,
        last_failure_kind: null,
        last_failure_error: null,
      },
    ]);
  });

  it("fills loaded_at and failed_at with the current UTC time", () => {
    const [row] = at(6) as { loaded_at: string; failed_at: string }[];
    for (const value of [row.loaded_at, row.failed_at]) {
      const asUtc = Date.parse(`${value.replace(" ", "T")}Z`);
      expect(Math.abs(asUtc - Date.now())).toBeLessThan(5 * 60 * 1000);
    }
  });

  it("exposes the view's columns as TABLE_FRESHNESS_COLUMNS says", () => {
    expect((at(7) as { column_name: string }[]).map((r) => r.column_name)).toEqual([...TABLE_FRESHNESS_COLUMNS]);
  });

  it("refuses a ledger row without an export time", () => {
    expect(at(8)).toMatch(/exported_at/);
  });
});
