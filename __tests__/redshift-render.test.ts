/**
 * The Redshift renderer (handlers/load/render-redshift.ts): the SQL of a full and an incremental plan, exactly as
 * plan.ts documents it (snapshots are the reviewable record), quoting, and the Data API's limits (40 statements per
 * batch, 100 KB per statement).
 */
import { LoadPlanError } from "../handlers/load/errors";
import { planLoad, type FileToLoad } from "../handlers/load/planner";
import { RedshiftPlanTooLargeError } from "../handlers/load/redshift-errors";
import {
  REDSHIFT_FILES_PER_TRANSACTION,
  REDSHIFT_MAX_BATCH_STATEMENTS,
  quoteRedshiftLiteral,
  redshiftFilesPerTransaction,
  redshiftTimestamp,
  renderRedshiftFailure,
  renderRedshiftFailureRecorded,
  renderRedshiftLedgerRows,
  renderRedshiftPlan,
  renderRedshiftTableColumns,
} from "../handlers/load/render-redshift";
import type { ExportKind } from "../facts/exports";
import { TABLE_SCHEMAS } from "../schemas/table-schemas";

const OPTIONS = {
  exportsBucket: "cs-mirror-exports",
  copyRoleArn: "arn:aws:iam::123456789012:role/cs-mirror-copy",
};

const COMMENTS_HEADER = [
  "signature_id", "text", "up_count", "id", "approved", "created_at", "updated_at", "featured", "flagged_at",
  "flagged_by_id", "flag_reason", "flag_recaptcha_score", "user_ip", "user_agent",
];
const ALL_COMMENT_COLUMNS = TABLE_SCHEMAS.comments.map((c) => c.name);

function key(kind: ExportKind, table: string, compact: string, bzip2 = false): string {
  return `exports/${kind}/${table}/${compact.slice(0, 8)}/${table}_${compact}.csv${bzip2 ? ".bz2" : ""}`;
}

function file(kind: ExportKind, compact: string, header: readonly string[] = COMMENTS_HEADER, bzip2 = false): FileToLoad {
  return { objectKey: key(kind, "comments", compact, bzip2), header, compression: bzip2 ? "bzip2" : "none" };
}

const EXISTING = [...ALL_COMMENT_COLUMNS, "_cs_exported_at"];

/** A plan of the comments table; `currentColumns: "missing"` for a table the warehouse does not have yet. */
function plan(kind: ExportKind, files: FileToLoad[], currentColumns: readonly string[] | "missing" = EXISTING) {
  return planLoad({
    schema: "controlshift",
    table: "comments",
    kind,
    files,
    knownColumns: TABLE_SCHEMAS.comments,
    currentColumns: currentColumns === "missing" ? undefined : currentColumns,
  });
}

describe("Redshift renderer", () => {
  it("renders a full load that creates the table, as plan.ts documents", () => {
    const rendered = renderRedshiftPlan(plan("full", [file("full", "20240301020304", COMMENTS_HEADER, true)], "missing"), OPTIONS);
    // No CREATE SCHEMA: the loader user may not create schemas; the bootstrap creates them, owned by it.
    // No metadata DDL either: schemas/migrations.ts, applied by the bootstrap at apply time.
    expect(Object.keys(rendered)).toEqual(["transaction"]);
    expect(rendered.transaction.filter((sql) => /^CREATE (SCHEMA|OR REPLACE VIEW)|^CREATE TABLE IF NOT EXISTS "controlshift_mirror_meta"/.test(sql))).toEqual([]);
    expect(rendered.transaction[0]).toMatch(/^CREATE TABLE IF NOT EXISTS "controlshift"."comments" \(\n  "id" INTEGER,/);
    expect(rendered.transaction).toMatchSnapshot();
  });

  it("renders an incremental load of two files that adds a column, in export-time order", () => {
    const withSentiment = [...COMMENTS_HEADER, "sentiment"];
    const rendered = renderRedshiftPlan(
      plan("incremental", [file("incremental", "20240305020304", withSentiment), file("incremental", "20240304020304")]),
      OPTIONS,
    );
    expect(rendered.transaction).toMatchSnapshot();
    expect(rendered.transaction.filter((s) => s.startsWith("COPY")).map((s) => /FROM '([^']+)'/.exec(s)?.[1])).toEqual([
      "s3://cs-mirror-exports/exports/incremental/comments/20240304/comments_20240304020304.csv",
      "s3://cs-mirror-exports/exports/incremental/comments/20240305/comments_20240305020304.csv",
    ]);
  });

  it("spells the COPY options: CSV, header skipped, BZIP2 per file, EMPTYASNULL, TIMEFORMAT auto, TRUNCATECOLUMNS", () => {
    const [bz2, plain] = [true, false].map(
      (bzip2) =>
        renderRedshiftPlan(plan("full", [file("full", "20240301020304", COMMENTS_HEADER, bzip2)]), OPTIONS).transaction.find((s) =>
          s.startsWith("COPY"),
        )!,
    );
    expect(bz2).toBe(
      'COPY "cs_stage_1" ("signature_id", "text", "up_count", "id", "approved", "created_at", "updated_at", "featured", ' +
        '"flagged_at", "flagged_by_id", "flag_reason", "flag_recaptcha_score", "user_ip", "user_agent") ' +
        "FROM 's3://cs-mirror-exports/exports/full/comments/20240301/comments_20240301020304.csv.bz2' " +
        "IAM_ROLE 'arn:aws:iam::123456789012:role/cs-mirror-copy' FORMAT AS CSV IGNOREHEADER 1 BZIP2 " +
        "EMPTYASNULL TIMEFORMAT 'auto' TRUNCATECOLUMNS COMPUPDATE OFF",
    );
    expect(plain).toContain("IGNOREHEADER 1 EMPTYASNULL");
    expect(plain).not.toContain("ACCEPTINVCHARS");
  });

  it("inserts one row per id: the latest updated_at when the file has it, one of the rows otherwise", () => {
    const withVersion = renderRedshiftPlan(plan("full", [file("full", "20240301020304")]), OPTIONS).transaction;
    const insert = withVersion.find((sql) => sql.startsWith('INSERT INTO "controlshift"."comments"'))!;
    expect(insert).toContain(
      `FROM (SELECT ${COMMENTS_HEADER.map((c) => `"${c}"`).join(", ")}, ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY "updated_at" DESC NULLS LAST) ` +
        `AS "cs_rank" FROM "cs_stage_1") AS "cs_one" WHERE "cs_one"."cs_rank" = 1 AND NOT EXISTS (SELECT 1 FROM "controlshift"."comments" ` +
        `WHERE "controlshift"."comments"."id" = "cs_one"."id") AND NOT EXISTS (`,
    );
    const header = COMMENTS_HEADER.filter((c) => c !== "updated_at");
    const without = renderRedshiftPlan(plan("full", [file("full", "20240301020304", header)]), OPTIONS).transaction;
    expect(without.find((sql) => sql.startsWith('INSERT INTO "controlshift"."comments"'))).toContain(
      'ROW_NUMBER() OVER (PARTITION BY "id") AS "cs_rank"',
    );
  });

  it("counts in the ledger the values that reached their VARCHAR column's size (what TRUNCATECOLUMNS leaves of a cut one)", () => {
    const rendered = renderRedshiftPlan(plan("full", [file("full", "20240301020304")]), OPTIONS).transaction;
    const record = rendered.find((sql) => sql.startsWith('INSERT INTO "controlshift_mirror_meta"."load_ledger_comments"'))!;
    expect(record).toContain(', "values_at_limit") SELECT ');
    // comments: text, flag_reason, user_ip and user_agent are VARCHAR(MAX) (65535 bytes); the others are not text.
    const at = (c: string) => `CASE WHEN OCTET_LENGTH("${c}") >= 65532 THEN 1 ELSE 0 END`;
    expect(record.endsWith(
      ` THEN 0 ELSE (SELECT COALESCE(SUM(${["text", "flag_reason", "user_ip", "user_agent"].map(at).join(" + ")}), 0) ` +
        `FROM "cs_stage_1") END`,
    )).toBe(true);
  });

  it("never uses TRUNCATE, BEGIN or COMMIT: the batch is the transaction", () => {
    const rendered = renderRedshiftPlan(plan("full", [file("full", "20240301020304")]), OPTIONS);
    for (const sql of rendered.transaction) {
      expect(sql).not.toMatch(/^\s*(TRUNCATE|BEGIN|COMMIT|END|ROLLBACK)\b/i);
      expect(sql).not.toMatch(/;\s*$/);
    }
    expect(rendered.transaction[0]).toBe('LOCK "controlshift"."comments"');
  });

  it("quotes literals with '' and refuses backslashes and NUL", () => {
    expect(quoteRedshiftLiteral("it's")).toBe("'it''s'");
    expect(() => quoteRedshiftLiteral("a\\'b")).toThrow(LoadPlanError);
    expect(() => quoteRedshiftLiteral("a\0b")).toThrow(LoadPlanError);
    expect(redshiftTimestamp("2024-03-01T02:03:04Z")).toBe("CAST('2024-03-01 02:03:04' AS TIMESTAMP)");
    expect(() => redshiftTimestamp("2024-03-01 02:03:04'; DROP TABLE x; --")).toThrow(LoadPlanError);
  });

  it("refuses a bucket or role that would not be a plain literal", () => {
    const p = plan("full", [file("full", "20240301020304")]);
    expect(() => renderRedshiftPlan(p, { ...OPTIONS, exportsBucket: "Bad_Bucket" })).toThrow(/not an S3 bucket name/);
    expect(() => renderRedshiftPlan(p, { ...OPTIONS, copyRoleArn: "arn:aws:iam::123456789012:role/x' --" })).toThrow(
      /not an IAM role ARN/,
    );
  });

  it("renders the adapter's queries with escaped literals", () => {
    const p = plan("incremental", [file("incremental", "20240305020304")]);
    expect(renderRedshiftTableColumns("controlshift", "comments")).toBe(
      `SELECT "column_name" FROM svv_columns WHERE "table_schema" = 'controlshift' AND "table_name" = 'comments' ORDER BY "ordinal_position"`,
    );
    expect(() => renderRedshiftTableColumns("controlshift", "comments' OR 1=1 --")).toThrow(LoadPlanError);
    expect(renderRedshiftLedgerRows(p)).toBe(
      `SELECT "object_key", "outcome", "rows_loaded" FROM "controlshift_mirror_meta"."load_ledger_comments" WHERE "load_id" = '${p.loadId}' ` +
        `ORDER BY "loaded_at" DESC, "finished_at" DESC`,
    );
    const statementId = "6f1b1f4e-1d5e-4c55-9a0e-2f4b5c6d7e8f";
    expect(renderRedshiftFailure(p, statementId)).toBe(
      `INSERT INTO "controlshift_mirror_meta"."load_failures" ("load_id", "table_name", "kind", "object_key", "exported_at", ` +
        `"error", "statement_id") VALUES ('${p.loadId}', 'comments', 'incremental', ` +
        `'exports/incremental/comments/20240305/comments_20240305020304.csv', CAST('2024-03-05 02:03:04' AS TIMESTAMP), :error, '${statementId}')`,
    );
    expect(renderRedshiftFailureRecorded(p.metadata, statementId)).toBe(
      `SELECT COUNT(*) FROM "controlshift_mirror_meta"."load_failures" WHERE "statement_id" = '${statementId}'`,
    );
    expect(() => renderRedshiftFailure(p, "x'); DROP TABLE y; --")).toThrow(LoadPlanError);
  });
});

describe("the Data API's 40 statements per batch", () => {
  const incrementals = (n: number, header: readonly string[] = COMMENTS_HEADER) =>
    Array.from({ length: n }, (_, i) => file("incremental", `202403${String(i + 1).padStart(2, "0")}020304`, header));

  it("fits 6 files when the table exists and gains no column, fewer when it is created or gains columns", () => {
    expect(REDSHIFT_FILES_PER_TRANSACTION).toBe(6);
    expect(redshiftFilesPerTransaction({ createsTable: true, addedColumns: 0 })).toBe(6);
    expect(redshiftFilesPerTransaction({ createsTable: false, addedColumns: 4 })).toBe(5);
    expect(redshiftFilesPerTransaction({ createsTable: true, addedColumns: 33 })).toBe(0);
    expect(renderRedshiftPlan(plan("incremental", incrementals(6)), OPTIONS).transaction).toHaveLength(37);
  });

  it("refuses 7 files with a typed error that says 6 fit", () => {
    let error: unknown;
    try {
      renderRedshiftPlan(plan("incremental", incrementals(7)), OPTIONS);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RedshiftPlanTooLargeError);
    expect(error).toMatchObject({ statements: 43, filesThatFit: 6, table: "comments" });
    expect((error as Error).message).toContain(`at most ${REDSHIFT_MAX_BATCH_STATEMENTS}`);
  });

  it("counts added columns: 4 new columns and 6 files need 41 statements, 5 files fit", () => {
    const header = [...COMMENTS_HEADER, "a1", "a2", "a3", "a4"];
    expect(() => renderRedshiftPlan(plan("incremental", incrementals(6, header)), OPTIONS)).toThrow(
      expect.objectContaining({ statements: 41, filesThatFit: 5 }),
    );
    expect(renderRedshiftPlan(plan("incremental", incrementals(5, header)), OPTIONS).transaction).toHaveLength(35);
  });

  it("says what to do when not even one file fits (34 new columns at once)", () => {
    const header = ["id", ...Array.from({ length: 34 }, (_, i) => `new_column_${i}`)];
    const tooWide = plan("incremental", [file("incremental", "20240305020304", header)], ["id", "_cs_exported_at"]);
    expect(() => renderRedshiftPlan(tooWide, OPTIONS)).toThrow(
      expect.objectContaining({
        name: "RedshiftPlanTooLargeError",
        filesThatFit: 0,
        message: expect.stringContaining("Add those columns by hand (ALTER TABLE controlshift.comments ADD COLUMN"),
      }),
    );
  });

  it("refuses a statement over the Data API's 100 KB", () => {
    // 1500 columns of 38 characters (Redshift takes 1600 columns of up to 127 bytes): the INSERT lists them twice.
    const header = ["id", ...Array.from({ length: 1500 }, (_, i) => `a_rather_long_column_name_number_${String(i).padStart(5, "0")}`)];
    const unknown = planLoad({
      schema: "controlshift",
      table: "wide_things",
      kind: "full",
      files: [{ objectKey: key("full", "wide_things", "20240301020304"), header, compression: "none" }],
      knownColumns: undefined,
      currentColumns: undefined,
    });
    expect(() => renderRedshiftPlan(unknown, OPTIONS)).toThrow(/is \d+ bytes; the Data API takes at most 102400/);
  });
});
