/**
 * The loader on a real PostgreSQL (PGlite, on disk): the mirror's semantics, schema drift, failures that change
 * nothing, hostile headers, stale skips. Files are real-shaped fixtures (__tests__/fixtures/csv).
 */
import { TABLE_SCHEMAS } from "../schemas/table-schemas";
import { EmptyExportError, HostileHeaderError, InvalidHeaderError, LoadFailedError } from "../handlers/load/errors";
import { readExportHeader } from "../handlers/load/header";
import { loadExports } from "../handlers/load/load-exports";
import type { ColumnDef } from "../handlers/load/plan";
import { PostgresWarehouse } from "../handlers/load/postgres-adapter";
import type { ExportKind } from "../facts/exports";
import {
  columnsOf,
  exportKey,
  failuresOf,
  fixture,
  ledgerOf,
  MemoryObjectStore,
  rowsOf,
  startPglite,
  type TempPglite,
} from "./load-test-support";

let pg: TempPglite;
let n = 0;

beforeAll(async () => {
  pg = await startPglite();
});

afterAll(async () => {
  await pg.close();
});

/**
 * A fresh data schema and metadata schema per test: each test sees an empty warehouse.
 * `known` null: a table `schemas/` does not know.
 */
function setupWith(
  table = "comments",
  known: readonly ColumnDef[] | null = TABLE_SCHEMAS.comments,
  fullLoads: "direct" | "staged" = "direct",
) {
  const knownColumns = known ?? undefined;
  n += 1;
  const schema = `mirror_${n}`;
  const meta = `meta_${n}`;
  const store = new MemoryObjectStore();
  const warehouse = new PostgresWarehouse({ driver: pg.driver, openObject: store.openObject, fullLoads });
  // The schemas and metadata exist before any load (the bootstrap's job on Redshift).
  const migrated = warehouse.migrate(schema, meta);
  const ports = {
    warehouse,
    readHeader: (key: string, compression: "bzip2" | "none") => readExportHeader(store.readRange, key, compression),
  };
  const load = async (kind: ExportKind, keys: string[], loadId?: string) =>
    (await migrated) &&
    loadExports(ports, {
      schema,
      metadataSchema: meta,
      table,
      kind,
      files: keys.map((objectKey) => ({ objectKey, compression: objectKey.endsWith(".bz2") ? "bzip2" : "none" })),
      knownColumns,
      loadId,
    });
  /** Puts a fixture (or text) under the export key for `kind` and returns the key. */
  const put = (kind: ExportKind, compactTime: string, body?: string | Buffer, bzip2 = false): string => {
    const key = exportKey(kind, table, compactTime, bzip2);
    store.put(key, body ?? fixture(`${table}_${compactTime}.csv${bzip2 ? ".bz2" : ""}`));
    return key;
  };
  const snapshot = async () => ({
    columns: await columnsOf(pg.db, schema, table),
    rows: await rowsOf(pg.db, schema, table, { withExportedAt: true }),
    ledger: await ledgerOf(pg.db, meta, table),
  });
  return { schema, meta, store, load, put, snapshot, table, migrated };
}

describe.each(["direct", "staged"] as const)("loading ControlShift exports into PostgreSQL (%s full loads)", (fullLoads) => {
  const setup = (table?: string, known?: readonly ColumnDef[] | null) => setupWith(table, known, fullLoads);

  it("loads a full export whose header order differs from the DDL, with id not first, quoted newlines and commas", async () => {
    const t = setup();
    const key = t.put("full", "20240301020304");
    const result = await t.load("full", [key]);

    expect(result.createdTable).toBe("schemas");
    expect(result.files).toEqual([{ objectKey: key, outcome: "loaded", rowsLoaded: 4 }]);
    // The table has the DDL's column order, whatever the file's.
    expect(await columnsOf(pg.db, t.schema, "comments")).toEqual([
      ...TABLE_SCHEMAS.comments.map((c) => c.name),
      "_cs_exported_at",
    ]);
    const rows = await rowsOf(pg.db, t.schema, "comments", { withExportedAt: true });
    expect(rows.map((r) => r.id)).toEqual(["1", "2", "3", "4"]);
    expect(rows[0]).toMatchObject({
      signature_id: "101",
      text: "Great idea, count me in",
      up_count: "3",
      approved: "true",
      created_at: "2024-02-28 10:11:12.123456",
      flag_recaptcha_score: "0.90",
      user_agent: "Mozilla/5.0 (X11; Linux x86_64)",
      flagged_at: null,
      _cs_exported_at: "2024-03-01 02:03:04",
    });
    expect(rows[1].text).toBe('Line one\nline two, with a comma\nand "quotes"');
    expect(rows[1].user_agent).toBeNull();
    // A quoted empty field is an empty string; an unquoted empty field is NULL.
    expect(rows[2]).toMatchObject({ text: "", flag_reason: "", user_ip: null });
    expect(rows[3]).toMatchObject({ text: null, approved: null, flag_reason: null });
    // The merges match on id: the table it created is indexed on it.
    const indexes = await pg.db.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'comments'", [t.schema]);
    expect(indexes.rows.map((r) => r.indexdef)).toEqual([`CREATE INDEX comments_id_idx ON ${t.schema}.comments USING btree (id)`]);

    const ledger = await ledgerOf(pg.db, t.meta, "comments");
    expect(ledger).toEqual([
      expect.objectContaining({ kind: "full", object_key: key, exported_at: "2024-03-01 02:03:04", rows_loaded: "4", outcome: "loaded" }),
    ]);
  });

  it("follows schema drift: adds a new column, leaves dropped columns NULL, replaces updated and deleted rows", async () => {
    const t = setup();
    await t.load("full", [t.put("full", "20240301020304")]);
    const result = await t.load("full", [t.put("full", "20240302020304")]);

    expect(result.addedColumns).toEqual([{ name: "sentiment", type: "VARCHAR(MAX)" }]);
    const columns = await columnsOf(pg.db, t.schema, "comments");
    expect(columns).toContain("sentiment");
    const rows = await rowsOf(pg.db, t.schema, "comments", { withExportedAt: true });
    expect(rows.map((r) => r.id)).toEqual(["1", "3", "4", "5"]);
    expect(rows[0]).toMatchObject({
      text: "Great idea, count me in (edited)",
      up_count: "4",
      sentiment: "positive",
      user_ip: null,
      user_agent: null,
      _cs_exported_at: "2024-03-02 02:03:04",
    });
    expect(rows[3].text).toBe('Comma, "quote" and\r\nCRLF inside');
    expect(rows.every((r) => r.user_ip === null && r._cs_exported_at === "2024-03-02 02:03:04")).toBe(true);
  });

  it("leaves the table and the ledger exactly as before when a COPY fails on a bad row, and records the failure", async () => {
    const t = setup();
    await t.load("full", [t.put("full", "20240301020304")]);
    const before = await t.snapshot();

    const bad = t.put("full", "20240303020304");
    const error = await t.load("full", [bad]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoadFailedError);
    expect((error as LoadFailedError).objectKeys).toEqual([bad]);
    expect(((error as LoadFailedError).cause as Error).message).toMatch(/invalid input syntax for type integer: "lots"/);
    expect((error as LoadFailedError).statement).toMatch(
      fullLoads === "direct" ? /^COPY "mirror_\d+"\."comments" \(/ : /^COPY "cs_stage_1" \(/,
    );

    expect(await t.snapshot()).toEqual(before);
    const failures = await failuresOf(pg.db, t.meta, "comments");
    expect(failures).toEqual([
      expect.objectContaining({ object_key: bad, kind: "full", error: expect.stringMatching(/lots/) }),
    ]);
  });

  it("rolls back the columns a failing load would have added", async () => {
    const t = setup();
    await t.load("full", [t.put("full", "20240301020304")]);
    const before = await t.snapshot();
    const key = t.put(
      "full",
      "20240306000000",
      "id,brand_new_column,up_count\n1,x,1\n2,y,not-a-number\n",
    );
    await expect(t.load("full", [key])).rejects.toBeInstanceOf(LoadFailedError);
    expect(await t.snapshot()).toEqual(before);
    expect(await columnsOf(pg.db, t.schema, "comments")).not.toContain("brand_new_column");
  });

  it("rolls back when the object stream breaks mid-COPY, and the retry then loads", async () => {
    const t = setup();
    await t.load("full", [t.put("full", "20240301020304")]);
    const before = await t.snapshot();
    const key = t.put("full", "20240302020304");
    t.store.failNextStream(key, 200);
    const error = await t.load("full", [key]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoadFailedError);
    expect(((error as LoadFailedError).cause as Error).message).toMatch(/connection reset/);
    expect(await t.snapshot()).toEqual(before);
    expect(await failuresOf(pg.db, t.meta, "comments")).toHaveLength(1);

    await t.load("full", [key]);
    expect((await rowsOf(pg.db, t.schema, "comments")).map((r) => r.id)).toEqual(["1", "3", "4", "5"]);
  });

  it("empties the older rows with a header-only full export", async () => {
    const t = setup();
    await t.load("full", [t.put("full", "20240301020304")]);
    const result = await t.load("full", [t.put("full", "20240304020304")]);
    expect(result.files[0]).toMatchObject({ outcome: "loaded", rowsLoaded: 0 });
    expect(await rowsOf(pg.db, t.schema, "comments")).toEqual([]);
  });

  it("loads a bzip2 incremental export (multi-byte text, quoted newline) after a full", async () => {
    const t = setup();
    await t.load("full", [t.put("full", "20240301020304")]);
    const key = t.put("incremental", "20240305020304", undefined, true);
    const result = await t.load("incremental", [key]);
    expect(result.files).toEqual([{ objectKey: key, outcome: "loaded", rowsLoaded: 2 }]);
    const rows = await rowsOf(pg.db, t.schema, "comments", { withExportedAt: true });
    expect(rows.map((r) => r.id)).toEqual(["1", "2", "3", "4", "20", "21"]);
    expect(rows[4]).toMatchObject({ text: "Ça marche, «très» bien\n— 👍", _cs_exported_at: "2024-03-05 02:03:04" });
    expect(rows[5].text).toBe("");
    expect(rows[0]._cs_exported_at).toBe("2024-03-01 02:03:04");
  });

  it("loads a bzip2 full export (decompressed, then COPYed)", async () => {
    const t = setup();
    const key = t.put("full", "20240305020304", fixture("comments_20240305020304.csv.bz2"), true);
    const result = await t.load("full", [key]);
    expect(result.files).toEqual([{ objectKey: key, outcome: "loaded", rowsLoaded: 2 }]);
    const rows = await rowsOf(pg.db, t.schema, "comments", { withExportedAt: true });
    expect(rows.map((r) => [r.id, r.text, r._cs_exported_at])).toEqual([
      ["20", "Ça marche, «très» bien\n— 👍", "2024-03-05 02:03:04"],
      ["21", "", "2024-03-05 02:03:04"],
    ]);
  });

  it("creates a table schemas/ does not know from the header: id BIGINT, the rest text", async () => {
    const t = setup("widgets", null);
    const key = t.put("full", "20240301000000", "name,id,score\nanvil,2,10\n\"bolt, small\",1,\n");
    const result = await t.load("full", [key]);
    expect(result.createdTable).toBe("header");
    const types = await pg.db.query<{ column_name: string; data_type: string; is_nullable: string }>(
      "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'widgets' ORDER BY ordinal_position",
      [t.schema],
    );
    expect(types.rows).toEqual([
      { column_name: "name", data_type: "text", is_nullable: "YES" },
      { column_name: "id", data_type: "bigint", is_nullable: "YES" },
      { column_name: "score", data_type: "text", is_nullable: "YES" },
      { column_name: "_cs_exported_at", data_type: "timestamp without time zone", is_nullable: "NO" },
    ]);
    expect(await rowsOf(pg.db, t.schema, "widgets")).toEqual([
      { name: "bolt, small", id: "1", score: null },
      { name: "anvil", id: "2", score: "10" },
    ]);
  });

  it("adopts a table made by an earlier tool: adds _cs_exported_at, and a full replaces the rows that lack it", async () => {
    const t = setup();
    await pg.db.exec(
      `CREATE SCHEMA "${t.schema}"; CREATE TABLE "${t.schema}"."comments" (id integer, text text);
       INSERT INTO "${t.schema}"."comments" VALUES (1, 'old'), (99, 'gone at the source');`,
    );
    const result = await t.load("full", [t.put("full", "20240301020304")]);
    expect(result.addedColumns.map((c) => c.name)).toEqual([
      "_cs_exported_at",
      "signature_id",
      "up_count",
      "approved",
      "created_at",
      "updated_at",
      "featured",
      "flagged_at",
      "flagged_by_id",
      "flag_reason",
      "flag_recaptcha_score",
      "user_ip",
      "user_agent",
    ]);
    const rows = await rowsOf(pg.db, t.schema, "comments");
    expect(rows.map((r) => [r.id, r.text])).toEqual([
      ["1", "Great idea, count me in"],
      ["2", 'Line one\nline two, with a comma\nand "quotes"'],
      ["3", ""],
      ["4", null],
    ]);
  });

  describe("one row per id, whatever the file holds", () => {
    const HEADER = "id,name,updated_at\n";

    it.each(["full", "incremental"] as const)("keeps the row with the latest updated_at of an id a %s file holds twice, in either line order", async (kind) => {
      const t = setup("widgets", null);
      const older = "1,older,2024-01-01 00:00:00\n";
      const newer = "1,newer,2024-01-02 00:00:00\n";
      await t.load(kind, [t.put(kind, "20240301000000", `${HEADER}${older}2,two,2024-01-01 00:00:00\n${newer}`)]);
      await t.load(kind, [t.put(kind, "20240302000000", `${HEADER}${newer.replace("newer", "newest").replace("01-02", "01-03")}2,two,2024-01-01 00:00:00\n${older}`)]);
      expect(await rowsOf(pg.db, t.schema, "widgets")).toEqual([
        { id: "1", name: "newest", updated_at: "2024-01-03 00:00:00" },
        { id: "2", name: "two", updated_at: "2024-01-01 00:00:00" },
      ]);
    });

    it("counts a NULL updated_at as the oldest, and keeps one row of lines that are the same", async () => {
      const t = setup("widgets", null);
      const file = `${HEADER}1,dated,2024-01-01 00:00:00\n1,undated,\n2,same,2024-01-01 00:00:00\n2,same,2024-01-01 00:00:00\n`;
      await t.load("full", [t.put("full", "20240301000000", file)]);
      expect(await rowsOf(pg.db, t.schema, "widgets")).toEqual([
        { id: "1", name: "dated", updated_at: "2024-01-01 00:00:00" },
        { id: "2", name: "same", updated_at: "2024-01-01 00:00:00" },
      ]);
    });

    it("keeps one row of an id repeated in a file without updated_at", async () => {
      const t = setup("widgets", null);
      await t.load("full", [t.put("full", "20240301000000", "id,name\n1,a\n1,a\n2,b\n")]);
      expect(await rowsOf(pg.db, t.schema, "widgets")).toEqual([
        { id: "1", name: "a" },
        { id: "2", name: "b" },
      ]);
    });
  });

  describe("a ledger per table", () => {
    it("writes each load in the table's own ledger and the shared history; the first load seeds it from the history", async () => {
      const t = setup();
      // A deployment from before per-table ledgers: the history says a full export of 2024-03-04 was loaded.
      await t.migrated;
      await pg.db.query(
        `INSERT INTO "${t.meta}"."load_ledger" (load_id, table_name, kind, object_key, exported_at, rows_loaded, outcome) ` +
          `VALUES ('old', 'comments', 'full', 'exports/full/comments/20240304/comments_20240304020304.csv', '2024-03-04 02:03:04', 0, 'loaded')`,
      );
      const result = await t.load("full", [t.put("full", "20240301020304")]);
      expect(result.files[0].outcome).toBe("skipped-stale");
      const own = await pg.db.query<{ load_id: string; outcome: string }>(
        `SELECT load_id, outcome FROM "${t.meta}"."load_ledger_comments" ORDER BY loaded_at, load_id`,
      );
      expect(own.rows.map((r) => [r.load_id === "old" ? "old" : "new", r.outcome])).toEqual([
        ["old", "loaded"],
        ["new", "skipped-stale"],
      ]);
      const history = await ledgerOf(pg.db, t.meta, "comments");
      expect(history.map((r) => r.outcome)).toEqual(["loaded", "skipped-stale"]);
    });
  });

  describe("stale exports", () => {
    it("skips a full export older than a loaded full one, and says so in the ledger", async () => {
      const t = setup();
      await t.load("full", [t.put("full", "20240302020304")]);
      const before = await rowsOf(pg.db, t.schema, "comments", { withExportedAt: true });
      const older = t.put("full", "20240301020304");
      const result = await t.load("full", [older]);
      expect(result.files).toEqual([{ objectKey: older, outcome: "skipped-stale", rowsLoaded: 0 }]);
      expect(await rowsOf(pg.db, t.schema, "comments", { withExportedAt: true })).toEqual(before);
      expect((await ledgerOf(pg.db, t.meta, "comments")).map((l) => [l.object_key, l.outcome])).toEqual([
        [exportKey("full", "comments", "20240302020304"), "loaded"],
        [older, "skipped-stale"],
      ]);
    });

    it("skips an incremental export older than, or as old as, a loaded full export", async () => {
      const t = setup();
      await t.load("full", [t.put("full", "20240302020304")]);
      const before = await rowsOf(pg.db, t.schema, "comments", { withExportedAt: true });
      const older = t.put("incremental", "20240301120000", "id,text\n30,late\n");
      const same = t.put("incremental", "20240302020304", "id,text\n31,same second\n");
      const result = await t.load("incremental", [same, older]);
      expect(result.files).toEqual([
        { objectKey: older, outcome: "skipped-stale", rowsLoaded: 0 },
        { objectKey: same, outcome: "skipped-stale", rowsLoaded: 0 },
      ]);
      expect(await rowsOf(pg.db, t.schema, "comments", { withExportedAt: true })).toEqual(before);
    });

    it("loads a redelivered incremental export idempotently", async () => {
      const t = setup();
      await t.load("full", [t.put("full", "20240301020304")]);
      const key = t.put("incremental", "20240305020304", undefined, true);
      await t.load("incremental", [key]);
      const once = await rowsOf(pg.db, t.schema, "comments", { withExportedAt: true });
      await t.load("incremental", [key]);
      expect(await rowsOf(pg.db, t.schema, "comments", { withExportedAt: true })).toEqual(once);
      expect((await ledgerOf(pg.db, t.meta, "comments")).map((l) => l.outcome)).toEqual(["loaded", "loaded", "loaded"]);
    });

    it("keeps rows of newer incremental exports when an older full export is redelivered", async () => {
      const t = setup();
      const full = t.put("full", "20240301020304");
      await t.load("full", [full]);
      await t.load("incremental", [t.put("incremental", "20240305020304", undefined, true)]);
      const before = await rowsOf(pg.db, t.schema, "comments", { withExportedAt: true });
      await t.load("full", [full]);
      expect(await rowsOf(pg.db, t.schema, "comments", { withExportedAt: true })).toEqual(before);
    });
  });

  describe("batches of incremental exports", () => {
    it("applies the files in export-time order, whatever the order of the batch", async () => {
      const t = setup();
      const first = t.put("incremental", "20240301000100", "id,text\n40,first\n41,only in first\n");
      const second = t.put("incremental", "20240301000200", "text,id\nsecond,40\n");
      const result = await t.load("incremental", [second, first]);
      expect(result.files.map((f) => f.objectKey)).toEqual([first, second]);
      expect(await rowsOf(pg.db, t.schema, "comments", { withExportedAt: true })).toEqual([
        expect.objectContaining({ id: "40", text: "second", _cs_exported_at: "2024-03-01 00:02:00" }),
        expect.objectContaining({ id: "41", text: "only in first", _cs_exported_at: "2024-03-01 00:01:00" }),
      ]);
    });

    it("is one transaction: a bad file anywhere in the batch loads none of them", async () => {
      const t = setup();
      await t.load("full", [t.put("full", "20240301020304")]);
      const before = await t.snapshot();
      const good = t.put("incremental", "20240301030000", "id,text\n50,fine\n");
      const bad = t.put("incremental", "20240301040000", "id,up_count\n51,many\n");
      const error = await t.load("incremental", [good, bad]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LoadFailedError);
      expect(await t.snapshot()).toEqual(before);
      expect((await failuresOf(pg.db, t.meta, "comments")).map((f) => f.object_key)).toEqual([good, bad]);
    });
  });

  describe("hostile and invalid headers", () => {
    const cases: [string, string, abstract new (...args: never[]) => InvalidHeaderError, string][] = [
      ["an injection attempt", 'id,"name; DROP TABLE x"\n1,a\n', HostileHeaderError, "name; DROP TABLE x"],
      ["a quoted identifier", 'id,"""name"""\n1,a\n', HostileHeaderError, '"name"'],
      ["an upper-case name", "id,Name\n1,a\n", HostileHeaderError, "Name"],
      ["a 200-character name", `id,${"a".repeat(200)}\n1,a\n`, HostileHeaderError, "a".repeat(200)],
      ["a duplicate column", "id,name,name\n1,a,b\n", InvalidHeaderError, "name"],
      ["no id column", "name,text\na,b\n", InvalidHeaderError, "id"],
      ["the mirror's own column", "id,_cs_exported_at\n1,2024-01-01\n", InvalidHeaderError, "_cs_exported_at"],
    ];

    it.each(cases)("refuses %s, naming the column, and changes nothing", async (_what, body, errorClass, column) => {
      const t = setup();
      await t.load("full", [t.put("full", "20240301020304")]);
      const before = await t.snapshot();
      const key = t.put("full", "20240302000000", body);
      const error = await t.load("full", [key]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errorClass);
      expect((error as InvalidHeaderError).column).toBe(column);
      expect((error as Error).message).toContain(key);
      expect(await t.snapshot()).toEqual(before);
      expect(await failuresOf(pg.db, t.meta, "comments")).toEqual([]);
    });

    it("refuses an empty (0-byte) file with EmptyExportError and creates nothing", async () => {
      const t = setup();
      const key = t.put("full", "20240302000000", "");
      await expect(t.load("full", [key])).rejects.toThrow(EmptyExportError);
      expect(await columnsOf(pg.db, t.schema, "comments")).toEqual([]);
      expect(await ledgerOf(pg.db, t.meta, "comments")).toEqual([]);
    });
  });
});
