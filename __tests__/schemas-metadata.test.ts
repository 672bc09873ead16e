import { IdentifierError, createTableStatement, quoteIdentifier } from "../schemas/ddl";
import { DEFAULT_METADATA_SCHEMA } from "../facts/warehouse";
import {
  LOAD_FAILURES_COLUMNS,
  LOAD_FAILURE_ERROR_MAX_BYTES,
  LOAD_LEDGER_COLUMNS,
  LOAD_OUTCOMES,
  TABLE_FRESHNESS_COLUMNS,
  metadataStatements,
  truncateUtf8,
} from "../schemas/metadata";

/** Column names of a `CREATE TABLE ... (\n  name TYPE,\n ...)` statement, in order. */
const columnsOf = (statement: string): string[] =>
  statement
    .split("\n")
    .slice(1, -1)
    .map((line) => line.trim().split(" ")[0]);

describe("metadataStatements", () => {
  const redshift = metadataStatements();
  const postgres = metadataStatements(DEFAULT_METADATA_SCHEMA, "postgres");

  it("creates the schema, the ledger, the failure log and the freshness view, in that order", () => {
    expect(DEFAULT_METADATA_SCHEMA).toBe("controlshift_mirror_meta");
    expect(redshift.map((s) => s.split("\n")[0])).toEqual([
      'CREATE SCHEMA IF NOT EXISTS "controlshift_mirror_meta"',
      'CREATE TABLE IF NOT EXISTS "controlshift_mirror_meta"."load_ledger" (',
      'CREATE TABLE IF NOT EXISTS "controlshift_mirror_meta"."load_failures" (',
      'CREATE OR REPLACE VIEW "controlshift_mirror_meta"."table_freshness" AS',
    ]);
  });

  it("declares the columns the exported constants list", () => {
    // Migration 1's ledger; migration 2 adds values_at_limit (schemas/migrations.ts).
    expect(columnsOf(redshift[1])).toEqual(LOAD_LEDGER_COLUMNS.filter((c) => c !== "values_at_limit"));
    expect(columnsOf(redshift[2])).toEqual([...LOAD_FAILURES_COLUMNS]);
    for (const column of TABLE_FRESHNESS_COLUMNS.slice(1)) expect(redshift[3]).toContain(` AS ${column}`);
    expect(LOAD_OUTCOMES).toEqual(["loaded", "skipped-stale"]);
  });

  it("differs between Redshift and PostgreSQL only in the timestamp defaults", () => {
    expect(redshift[1]).toContain("loaded_at TIMESTAMP NOT NULL DEFAULT GETDATE()");
    expect(redshift[2]).toContain("failed_at TIMESTAMP NOT NULL DEFAULT GETDATE()");
    expect(postgres[1]).toContain("loaded_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')");
    expect(postgres.map((s) => s.replaceAll("(now() AT TIME ZONE 'UTC')", "GETDATE()"))).toEqual(redshift);
  });

  it("uses only SQL both warehouses run: no DISTINCT ON, no :: casts, no TEXT, no trailing semicolons", () => {
    for (const statement of [...redshift, ...postgres]) {
      expect(statement).not.toMatch(/DISTINCT ON/i);
      expect(statement).not.toContain("::");
      expect(statement).not.toMatch(/\bTEXT\b/);
      expect(statement).not.toMatch(/;\s*$/);
    }
    expect(redshift[3]).toMatch(/ROW_NUMBER\(\) OVER \(PARTITION BY table_name ORDER BY exported_at DESC/);
  });

  it("sizes the error column for Redshift's largest VARCHAR", () => {
    expect(redshift[2]).toContain(`error VARCHAR(${LOAD_FAILURE_ERROR_MAX_BYTES}) NOT NULL`);
    expect(LOAD_FAILURE_ERROR_MAX_BYTES).toBe(65535);
  });

  it("quotes a chosen schema name, and refuses one that is not an identifier, naming it", () => {
    expect(metadataStatements("mirror_meta")[0]).toBe('CREATE SCHEMA IF NOT EXISTS "mirror_meta"');
    expect(() => metadataStatements('meta"; DROP SCHEMA public; --')).toThrow(IdentifierError);
    expect(() => metadataStatements("Meta")).toThrow('metadata schema "Meta" is not a valid identifier');
  });
});

describe("truncateUtf8", () => {
  it("leaves a short message as it is", () => {
    expect(truncateUtf8("COPY failed")).toBe("COPY failed");
  });

  it("cuts to the byte limit without splitting a character", () => {
    expect(truncateUtf8("abcdef", 4)).toBe("abcd");
    expect(truncateUtf8("ééé", 5)).toBe("éé"); // 2 bytes each
    expect(truncateUtf8("a😀b", 4)).toBe("a"); // the emoji is 4 bytes and 2 UTF-16 units
    expect(truncateUtf8("a😀b", 5)).toBe("a😀");
    const long = "é".repeat(40000);
    expect(Buffer.byteLength(truncateUtf8(long), "utf8")).toBe(LOAD_FAILURE_ERROR_MAX_BYTES - 1);
  });
});

describe("createTableStatement", () => {
  const columns = [
    { name: "id", type: "BIGINT" },
    { name: "body", type: "VARCHAR(MAX)" },
    { name: "location", type: "GEOGRAPHY" },
  ];

  it("renders Redshift DDL with quoted identifiers and _cs_exported_at", () => {
    expect(createTableStatement("controlshift", "petitions", columns)).toBe(
      [
        'CREATE TABLE IF NOT EXISTS "controlshift"."petitions" (',
        '  "id" BIGINT,',
        '  "body" VARCHAR(MAX),',
        '  "location" GEOGRAPHY,',
        '  "_cs_exported_at" TIMESTAMP NOT NULL',
        ")",
      ].join("\n"),
    );
  });

  it("renders PostgreSQL types for the PostgreSQL adapter", () => {
    expect(createTableStatement("controlshift", "petitions", columns, "postgres")).toContain(
      '  "body" TEXT,\n  "location" TEXT,',
    );
  });

  it.each([
    ["schema", () => createTableStatement("Public", "petitions", columns), 'schema "Public"'],
    ["table", () => createTableStatement("s", "petitions; --", columns), 'table "petitions; --"'],
    ["column", () => createTableStatement("s", "t", [{ name: 'a"b', type: "INTEGER" }]), 'column of t "a\\"b"'],
    ["_cs_exported_at", () => createTableStatement("s", "t", [{ name: "_cs_exported_at", type: "TIMESTAMP" }]), "added by the mirror"],
  ])("refuses a bad %s, naming it", (_label, render, message) => {
    expect(render).toThrow(IdentifierError);
    expect(render).toThrow(message);
  });

  it("quotes only what matches the identifier pattern", () => {
    expect(quoteIdentifier("_cs_exported_at")).toBe('"_cs_exported_at"');
    expect(() => quoteIdentifier("")).toThrow(/identifier "" is not a valid identifier/);
  });
});
