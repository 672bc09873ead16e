/**
 * The PostgreSQL adapter's server driver (pg + pg-copy-streams) against a real PostgreSQL 15 server started for this
 * file (bench/load.ts's startTempPostgres: a temp data directory, a free port on 127.0.0.1). Skipped where the server
 * binaries are not installed, except under CI, which fails naming the install step (scripts/tools.ts).
 */
import pg from "pg";
import { TABLE_SCHEMAS } from "../schemas/table-schemas";
import { startTempPostgres, type TempPostgres } from "../bench/load";
import { toolAvailable } from "../scripts/tools";
import { LoadFailedError } from "../handlers/load/errors";
import { readExportHeader } from "../handlers/load/header";
import { loadExports } from "../handlers/load/load-exports";
import { pgServerDriver } from "../handlers/load/pg-server-driver";
import { PostgresWarehouse } from "../handlers/load/postgres-adapter";
import type { PostgresDriver } from "../handlers/load/postgres-adapter";
import type { ExportKind } from "../facts/exports";
import { exportKey, fixture, MemoryObjectStore } from "./load-test-support";

const describeServer = toolAvailable("postgres", "the PostgreSQL server tests (load-postgres-server.test.ts)") ? describe : describe.skip;

describeServer("the PostgreSQL adapter on a PostgreSQL server", () => {
  let server: TempPostgres;
  let driver: PostgresDriver;
  let client: pg.Client;
  const store = new MemoryObjectStore();
  let n = 0;

  beforeAll(async () => {
    server = await startTempPostgres();
    driver = pgServerDriver({ connectionString: server.connectionString });
    client = new pg.Client({ connectionString: server.connectionString });
    await client.connect();
  }, 60_000);

  afterAll(async () => {
    await client?.end();
    await driver?.close();
    await server?.stop();
  });

  function setup(fullLoads: "direct" | "staged" = "direct") {
    n += 1;
    const schema = `srv_${n}`;
    const meta = `srv_meta_${n}`;
    const warehouse = new PostgresWarehouse({ driver, openObject: store.openObject, fullLoads });
    const migrated = warehouse.migrate(schema, meta);
    const put = (kind: ExportKind, time: string, body: Buffer | string, bzip2 = false) => {
      const key = exportKey(kind, "comments", time, bzip2);
      store.put(key, body);
      return key;
    };
    const load = async (kind: ExportKind, keys: string[]) =>
      (await migrated) &&
      loadExports(
        { warehouse, readHeader: (key, compression) => readExportHeader(store.readRange, key, compression) },
        {
          schema,
          metadataSchema: meta,
          table: "comments",
          kind,
          files: keys.map((objectKey) => ({ objectKey, compression: objectKey.endsWith(".bz2") ? "bzip2" : "none" })),
          knownColumns: TABLE_SCHEMAS.comments,
        },
      );
    const rows = async () =>
      (await client.query(`SELECT id::text AS id, text, _cs_exported_at::text AS at FROM "${schema}"."comments" AS c ORDER BY c.id`)).rows;
    const ledger = async () =>
      (await client.query(`SELECT object_key, outcome, rows_loaded::int FROM "${meta}"."load_ledger" ORDER BY loaded_at, object_key`))
        .rows;
    return { schema, meta, put, load, rows, ledger };
  }

  it.each(["direct", "staged"] as const)("loads a full and a bzip2 incremental export (%s full loads)", async (mode) => {
    const t = setup(mode);
    await t.load("full", [t.put("full", "20240301020304", fixture("comments_20240301020304.csv"))]);
    await t.load("incremental", [
      t.put("incremental", "20240305020304", fixture("comments_20240305020304.csv.bz2"), true),
    ]);
    expect((await t.rows()).map((r) => r.id)).toEqual(["1", "2", "3", "4", "20", "21"]);
    expect((await t.rows())[1].text).toBe('Line one\nline two, with a comma\nand "quotes"');
    expect((await t.ledger()).map((l) => [l.outcome, l.rows_loaded])).toEqual([
      ["loaded", 4],
      ["loaded", 2],
    ]);
  });

  it("rolls back a bad row and records the failure; the session is usable afterwards", async () => {
    const t = setup();
    await t.load("full", [t.put("full", "20240301020304", fixture("comments_20240301020304.csv"))]);
    const before = { rows: await t.rows(), ledger: await t.ledger() };
    const bad = t.put("full", "20240303020304", fixture("comments_20240303020304.csv"));
    await expect(t.load("full", [bad])).rejects.toBeInstanceOf(LoadFailedError);
    expect({ rows: await t.rows(), ledger: await t.ledger() }).toEqual(before);
    const failures = await client.query(`SELECT object_key FROM "${t.meta}"."load_failures"`);
    expect(failures.rows).toEqual([{ object_key: bad }]);
    await t.load("full", [t.put("full", "20240304020304", fixture("comments_20240304020304.csv"))]);
    expect(await t.rows()).toEqual([]);
  });

  it("rolls back when the object stream breaks in the middle of a streamed COPY", async () => {
    const t = setup();
    await t.load("full", [t.put("full", "20240301020304", fixture("comments_20240301020304.csv"))]);
    const before = await t.rows();
    const lines = ["id,text"];
    for (let i = 100; i < 20_100; i++) lines.push(`${i},"row ${i}, long enough to need many chunks"`);
    const key = t.put("full", "20240302000000", lines.join("\n") + "\n");
    store.failNextStream(key, 300_000);
    const error = await t.load("full", [key]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoadFailedError);
    expect(((error as LoadFailedError).cause as Error).message).toMatch(/connection reset/);
    expect(await t.rows()).toEqual(before);
    // The retry streams the whole file.
    await t.load("full", [key]);
    expect((await t.rows()).length).toBe(20_000);
  });

  it("serialises concurrent loads of one table on its lock: the outcome is the sequential one", async () => {
    const t = setup();
    const full = t.put("full", "20240301020304", fixture("comments_20240301020304.csv"));
    const incremental = t.put("incremental", "20240305020304", fixture("comments_20240305020304.csv.bz2"), true);
    await t.load("full", [full]);
    const expected = await t.rows();
    await t.load("incremental", [incremental]);
    const withIncremental = await t.rows();
    // Redeliver both at once: each is idempotent, and the lock keeps them from interleaving.
    await Promise.all([t.load("full", [full]), t.load("incremental", [incremental]), t.load("full", [full])]);
    expect(await t.rows()).toEqual(withIncremental);
    expect(expected.length).toBe(4);
  });
});
