/**
 * The PostgreSQL rendering of a plan: quoting, literals, and the exact statements of a full and an incremental load.
 */
import { InvalidHeaderError, LoadPlanError } from "../handlers/load/errors";
import { planLoad, type PlanLoadInput } from "../handlers/load/planner";
import {
  quoteLiteral,
  renderPostgresFailure,
  idIndexName,
  renderPostgresTransaction,
  timestampLiteral,
} from "../handlers/load/render-postgres";
import { exportKey } from "./load-test-support";

function plan(overrides: Partial<PlanLoadInput> = {}) {
  return planLoad({
    schema: "cs",
    metadataSchema: "meta",
    table: "comments",
    kind: "full",
    files: [{ objectKey: exportKey("full", "comments", "20240301020304"), header: ["text", "id"], compression: "none" }],
    knownColumns: [
      { name: "id", type: "INTEGER" },
      { name: "text", type: "VARCHAR(MAX)" },
    ],
    currentColumns: undefined,
    loadId: "load-1",
    ...overrides,
  });
}

/** The ledger's columns, as every statement that copies ledger rows lists them. */
const LEDGER_COLUMNS =
  '"load_id", "table_name", "kind", "object_key", "exported_at", "rows_loaded", "outcome", "statement_id", ' +
  '"started_at", "finished_at", "loaded_at", "values_at_limit"';

describe("renderPostgres", () => {
  it("indexes id on a table it creates, with the index name cut to 63 bytes", () => {
    expect(idIndexName("petitions")).toBe("petitions_id_idx");
    expect(idIndexName("t".repeat(63))).toBe(`${"t".repeat(56)}_id_idx`);
  });

  it("doubles single quotes in literals and refuses NUL", () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral("''; DROP TABLE x; --")).toBe("'''''; DROP TABLE x; --'");
    expect(() => quoteLiteral("a\0b")).toThrow(LoadPlanError);
  });

  it("writes export times as TIMESTAMP literals, and only well-formed ones", () => {
    expect(timestampLiteral("2024-03-01T02:03:04Z")).toBe("TIMESTAMP '2024-03-01 02:03:04'");
    expect(() => timestampLiteral("2024-03-01 02:03:04'; DROP TABLE x; --")).toThrow(LoadPlanError);
  });

  it("renders no schema or metadata DDL: the migrations (schemas/migrations.ts) ran before any load", () => {
    const sql = renderPostgresTransaction(plan()).map((s) => s.sql).join("\n");
    expect(sql).not.toContain("CREATE SCHEMA");
    expect(sql).not.toMatch(/CREATE TABLE IF NOT EXISTS "meta"/);
    expect(sql).not.toContain("CREATE OR REPLACE VIEW");
  });

  it("renders a staged full load (as Redshift runs it)", () => {
    const statements = renderPostgresTransaction(plan(), { fullLoads: "staged" });
    const guard =
      `EXISTS (SELECT 1 FROM "meta"."load_ledger_comments" AS l WHERE l."table_name" = 'comments' AND l."kind" = 'full' ` +
      `AND l."outcome" = 'loaded' AND l."exported_at" > TIMESTAMP '2024-03-01 02:03:04')`;
    expect(statements.map((s) => s.sql)).toEqual([
      'CREATE TABLE IF NOT EXISTS "cs"."comments" (\n  "id" INTEGER,\n  "text" TEXT,\n  "_cs_exported_at" TIMESTAMP NOT NULL\n)',
      'LOCK TABLE "cs"."comments" IN SHARE ROW EXCLUSIVE MODE',
      'CREATE TEMP TABLE "cs_stage_1" ON COMMIT DROP AS SELECT "text", "id" FROM "cs"."comments" WITH NO DATA',
      `COPY "cs_stage_1" ("text", "id") FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')`,
      `DELETE FROM "cs"."comments" AS t WHERE (t."_cs_exported_at" <= TIMESTAMP '2024-03-01 02:03:04' OR t."_cs_exported_at" IS NULL) AND NOT ${guard}`,
      `INSERT INTO "cs"."comments" ("text", "id", "_cs_exported_at") SELECT s."text", s."id", TIMESTAMP '2024-03-01 02:03:04' ` +
        `FROM (SELECT x."text", x."id", ROW_NUMBER() OVER (PARTITION BY x."id" ORDER BY x.ctid DESC) AS cs_rank ` +
        `FROM "cs_stage_1" AS x) AS s WHERE s.cs_rank = 1 ` +
        `AND NOT EXISTS (SELECT 1 FROM "cs"."comments" AS t WHERE t."id" = s."id") AND NOT ${guard}`,
      `WITH "own" AS (INSERT INTO "meta"."load_ledger_comments" ("load_id", "table_name", "kind", "object_key", "exported_at", "rows_loaded", "outcome", ` +
        `"statement_id", "started_at", "finished_at", "values_at_limit") SELECT 'load-1', 'comments', 'full', ` +
        `'exports/full/comments/20240301/comments_20240301020304.csv', TIMESTAMP '2024-03-01 02:03:04', ` +
        `CASE WHEN ${guard} THEN 0 ELSE $1::bigint END, ` +
        `CASE WHEN ${guard} THEN 'skipped-stale' ELSE 'loaded' END, NULL, (transaction_timestamp() AT TIME ZONE 'UTC'), ` +
        `(clock_timestamp() AT TIME ZONE 'UTC'), 0 RETURNING ${LEDGER_COLUMNS}), "history" AS (INSERT INTO "meta"."load_ledger" ` +
        `(${LEDGER_COLUMNS}) SELECT ${LEDGER_COLUMNS} FROM "own") SELECT "object_key", "outcome", "rows_loaded" FROM "own"`,
      'DROP TABLE IF EXISTS "cs_stage_1"',
      'CREATE INDEX IF NOT EXISTS "comments_id_idx" ON "cs"."comments" ("id")',
    ]);
    expect(statements[6]).toMatchObject({ op: "record-load", bindCopiedRows: true });
    expect(statements[3]).toMatchObject({
      kind: "copy",
      target: '"cs_stage_1" ("text", "id")',
      objectKey: "exports/full/comments/20240301/comments_20240301020304.csv",
      compression: "none",
    });
  });

  it("renders a direct full load: stale check, delete, COPY into the table, drop rows a newer export has, ledger", () => {
    const statements = renderPostgresTransaction(plan());
    const guard =
      `EXISTS (SELECT 1 FROM "meta"."load_ledger_comments" AS l WHERE l."table_name" = 'comments' AND l."kind" = 'full' ` +
      `AND l."outcome" = 'loaded' AND l."exported_at" > TIMESTAMP '2024-03-01 02:03:04')`;
    expect(statements.map((s) => [s.kind, s.op])).toEqual([
      ["sql", "create-table"],
      ["sql", "lock-table"],
      ["stale-check", "delete-replaced"],
      ["sql", "delete-replaced"],
      ["copy", "copy"],
      ["sql", "insert-new"],
      ["sql", "insert-new"],
      ["sql", "record-load"],
      ["sql", "create-table"],
    ]);
    expect(statements[8].sql).toBe('CREATE INDEX IF NOT EXISTS "comments_id_idx" ON "cs"."comments" ("id")');
    expect(statements[2].sql).toBe(`SELECT ${guard} AS "stale"`);
    expect(statements[4]).toEqual({
      kind: "copy",
      op: "copy",
      target: '"cs"."comments" ("text", "id", "_cs_exported_at")',
      options: "(FORMAT csv, HEADER true, ENCODING 'UTF8')",
      objectKey: "exports/full/comments/20240301/comments_20240301020304.csv",
      compression: "none",
      sql: `COPY "cs"."comments" ("text", "id", "_cs_exported_at") FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')`,
      appendExportedAt: "2024-03-01 02:03:04",
      onlyWhenFresh: true,
    });
    // One row per id: of the just-copied rows of a repeated id, all but one go (no updated_at here: the last one).
    expect(statements[5]).toEqual({
      kind: "sql",
      op: "insert-new",
      onlyWhenFresh: true,
      sql:
        `DELETE FROM "cs"."comments" AS d USING (SELECT x.ctid AS row_id, ROW_NUMBER() OVER (PARTITION BY x."id" ` +
        `ORDER BY x.ctid DESC) AS cs_rank FROM "cs"."comments" AS x WHERE x."_cs_exported_at" = TIMESTAMP '2024-03-01 02:03:04' ` +
        `AND x."id" IN (SELECT y."id" FROM "cs"."comments" AS y WHERE y."_cs_exported_at" = TIMESTAMP '2024-03-01 02:03:04' ` +
        `GROUP BY y."id" HAVING COUNT(*) > 1)) AS dup WHERE d.ctid = dup.row_id AND dup.cs_rank > 1`,
    });
    expect(statements[6]).toEqual({
      kind: "sql",
      op: "insert-new",
      onlyWhenFresh: true,
      sql:
        `DELETE FROM "cs"."comments" AS n WHERE n."_cs_exported_at" = TIMESTAMP '2024-03-01 02:03:04' ` +
        `AND n."id" IN (SELECT o."id" FROM "cs"."comments" AS o WHERE o."_cs_exported_at" > TIMESTAMP '2024-03-01 02:03:04')`,
    });
  });

  it("renders an incremental load's delete on the file's ids, and an added column", () => {
    const statements = renderPostgresTransaction(
      plan({
        kind: "incremental",
        currentColumns: ["id", "text", "_cs_exported_at"],
        files: [
          {
            objectKey: exportKey("incremental", "comments", "20240301020304", true),
            header: ["id", "sentiment"],
            compression: "bzip2",
          },
        ],
      }),
    );
    expect(statements[1].sql).toBe('ALTER TABLE "cs"."comments" ADD COLUMN IF NOT EXISTS "sentiment" TEXT');
    expect(statements.find((s) => s.op === "delete-replaced")!.sql).toMatch(
      /^DELETE FROM "cs"\."comments" AS t USING "cs_stage_1" AS s WHERE t\."id" = s\."id" AND \(t\."_cs_exported_at" <= TIMESTAMP '2024-03-01 02:03:04' OR t\."_cs_exported_at" IS NULL\) AND NOT EXISTS \(.* l\."exported_at" >= TIMESTAMP '2024-03-01 02:03:04'\)$/,
    );
    expect(statements.find((s) => s.kind === "copy")).toMatchObject({ compression: "bzip2" });
  });

  it("refuses a header column longer than PostgreSQL's 63-byte identifiers (Redshift would take it)", () => {
    const long = "c".repeat(64);
    const p = plan({
      files: [{ objectKey: exportKey("full", "comments", "20240301020304"), header: ["id", long], compression: "none" }],
    });
    expect(() => renderPostgresTransaction(p)).toThrow(InvalidHeaderError);
  });

  it("records failures with bind parameters, one row per file", () => {
    const failure = renderPostgresFailure(plan(), "invalid input syntax for type integer: \"x'); DROP TABLE y; --\"");
    expect(failure.sql).toBe(
      'INSERT INTO "meta"."load_failures" ("load_id", "table_name", "kind", "object_key", "exported_at", "error", "statement_id") ' +
        "VALUES ($1, $2, $3, $4, $5::timestamp, $6, NULL)",
    );
    expect(failure.values).toEqual([
      "load-1",
      "comments",
      "full",
      "exports/full/comments/20240301/comments_20240301020304.csv",
      "2024-03-01 02:03:04",
      "invalid input syntax for type integer: \"x'); DROP TABLE y; --\"",
    ]);
  });
});
