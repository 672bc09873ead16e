/**
 * The metadata migrations (schemas/migrations.ts): their shape, the rules a new one must follow, and PostgreSQL's
 * application of them (PostgresWarehouse.migrate, what npm run local and the tests run before loading) on PGlite.
 * The bootstrap's application on Redshift is tested in bootstrap.test.ts.
 */
import { PostgresWarehouse } from "../handlers/load/postgres-adapter";
import {
  METADATA_MIGRATIONS,
  METADATA_MIGRATIONS_TABLE,
  migrationsTableStatement,
  pendingMigrations,
  replaceViewStatements,
} from "../schemas/migrations";
import { LOAD_FAILURES_COLUMNS, LOAD_LEDGER_COLUMNS, TABLE_FRESHNESS_COLUMNS } from "../schemas/metadata";
import { columnsOf, MemoryObjectStore, startPglite, type TempPglite } from "./load-test-support";

describe("metadata migrations", () => {
  it("are numbered in increasing order, each idempotent DDL without CREATE SCHEMA, and fit one Data API batch", () => {
    const versions = METADATA_MIGRATIONS.map((m) => m.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    for (const m of METADATA_MIGRATIONS) {
      for (const dialect of ["redshift", "postgres"] as const) {
        const sqls = m.statements("meta", dialect);
        expect(sqls.length).toBeLessThanOrEqual(39);
        for (const sql of sqls) {
          expect(sql).not.toMatch(/^CREATE SCHEMA/);
          expect(sql).toMatch(/^(CREATE TABLE IF NOT EXISTS|CREATE OR REPLACE VIEW|DROP VIEW IF EXISTS|CREATE VIEW|ALTER TABLE)/);
        }
      }
    }
    // The bootstrap calls statements(schema) with one argument: Redshift.
    expect(METADATA_MIGRATIONS[0].statements("meta")).toEqual(METADATA_MIGRATIONS[0].statements("meta", "redshift"));
  });

  it("pendingMigrations returns what is not applied, in order, and refuses a list out of order", () => {
    expect(pendingMigrations(new Set()).map((m) => m.version)).toEqual(METADATA_MIGRATIONS.map((m) => m.version));
    expect(pendingMigrations(new Set(METADATA_MIGRATIONS.map((m) => m.version)))).toEqual([]);
    const statements = () => [];
    expect(() =>
      pendingMigrations(new Set(), [
        { version: 2, name: "b", statements },
        { version: 1, name: "a", statements },
      ]),
    ).toThrow(/versions must increase/);
  });

  it("changes a view's columns by DROP and CREATE (Redshift's REPLACE VIEW needs the same columns)", () => {
    expect(replaceViewStatements("meta", "table_freshness", "SELECT 1 AS x")).toEqual([
      'DROP VIEW IF EXISTS "meta"."table_freshness"',
      'CREATE VIEW "meta"."table_freshness" AS\nSELECT 1 AS x',
    ]);
    expect(migrationsTableStatement("meta")).toBe(
      `CREATE TABLE IF NOT EXISTS "meta"."${METADATA_MIGRATIONS_TABLE}" (\n  version INTEGER NOT NULL,\n` +
        "  name VARCHAR(256) NOT NULL,\n  applied_at TIMESTAMP NOT NULL DEFAULT GETDATE()\n)",
    );
  });
});

describe("PostgresWarehouse.migrate", () => {
  let pg: TempPglite;

  beforeAll(async () => {
    pg = await startPglite();
  });

  afterAll(async () => {
    await pg?.close();
  });

  it("creates both schemas and the metadata, records each migration once, and does nothing the second time", async () => {
    const warehouse = new PostgresWarehouse({ driver: pg.driver, openObject: new MemoryObjectStore().openObject });
    expect(await warehouse.migrate("data_m", "meta_m")).toEqual(METADATA_MIGRATIONS.map((m) => m.version));
    expect(await warehouse.migrate("data_m", "meta_m")).toEqual([]);

    const schemas = await pg.db.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname IN ('data_m', 'meta_m') ORDER BY nspname",
    );
    expect(schemas.rows.map((r) => r.nspname)).toEqual(["data_m", "meta_m"]);
    expect(await columnsOf(pg.db, "meta_m", "load_ledger")).toEqual([...LOAD_LEDGER_COLUMNS]);
    expect(await columnsOf(pg.db, "meta_m", "load_failures")).toEqual([...LOAD_FAILURES_COLUMNS]);
    expect(await columnsOf(pg.db, "meta_m", "table_freshness")).toEqual([...TABLE_FRESHNESS_COLUMNS]);
    const recorded = await pg.db.query<{ version: number; name: string }>(
      `SELECT version, name FROM meta_m.${METADATA_MIGRATIONS_TABLE} ORDER BY version`,
    );
    expect(recorded.rows).toEqual(METADATA_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  });
});
