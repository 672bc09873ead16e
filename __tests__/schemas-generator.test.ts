import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  SchemaJsonError,
  generateSchemaFiles,
  parseSchemaJson,
  renderSchemaFiles,
} from "../schemas/generator";
import { createTableStatement } from "../schemas/ddl";
import { generateSchemas, main, parseArgs } from "../scripts/generate-schemas";

const FIXTURE = join(__dirname, "fixtures", "schema-json", "small-schema.json");
const fixtureText = (): string => readFileSync(FIXTURE, "utf8");

/** The fixture, parsed, for tests that break one thing in it. */
function fixtureWith(edit: (doc: { tables: { table: { name: string; columns: Record<string, unknown> } }[] }) => void): string {
  const doc = JSON.parse(fixtureText());
  edit(doc);
  return JSON.stringify(doc);
}

function problemsOf(text: string): readonly string[] {
  try {
    parseSchemaJson(text);
  } catch (err) {
    expect(err).toBeInstanceOf(SchemaJsonError);
    return (err as SchemaJsonError).problems;
  }
  throw new Error("expected parseSchemaJson to throw");
}

describe("parseSchemaJson", () => {
  it("builds the model: tables sorted, columns in ControlShift's order, types normalised for Redshift", () => {
    const model = parseSchemaJson(fixtureText());
    const simple = model.tables.map((t) => ({ name: t.name, columns: t.columns.map((c) => [c.name, c.type]) }));
    expect(simple).toEqual([
      {
        name: "petitions",
        columns: [
          ["id", "INTEGER"],
          ["title", "VARCHAR(MAX)"],
          ["what", "VARCHAR(MAX)"],
          ["launched", "BOOLEAN"],
          ["goal", "BIGINT"],
          ["token", "CHAR(36)"],
          ["location", "GEOGRAPHY"],
          ["utm_params", "VARCHAR(MAX)"],
          ["label_ids", "VARCHAR(MAX)"],
          ["admin_status", "VARCHAR(MAX)"],
          ["ends_on", "DATE"],
          ["weight", "DOUBLE PRECISION"],
          ["amount", "VARCHAR(MAX)"],
          ["created_at", "TIMESTAMP"],
          ["updated_at", "TIMESTAMP"],
        ],
      },
      {
        name: "signatures",
        columns: [
          ["petition_id", "INTEGER"],
          ["email", "VARCHAR(MAX)"],
          ["created_at", "TIMESTAMP"],
          ["id", "BIGINT"],
          ["recaptcha_score", "NUMERIC(3,2)"],
          ["user_ip", "VARCHAR(MAX)"],
        ],
      },
    ]);
    expect(model.tables[0].columns[13].source).toEqual({ type: "datetime", sqlType: "timestamp(6) without time zone" });
  });

  it("ignores keys it does not know (a _source note, nullable, default_value)", () => {
    const text = fixtureWith((doc) => Object.assign(doc, { _source: "copied by hand", generated_at: 1 }));
    expect(parseSchemaJson(text)).toEqual(parseSchemaJson(fixtureText()));
  });

  it("rejects a hostile table name, naming it", () => {
    const text = fixtureWith((doc) => {
      doc.tables[0].table.name = 'signatures"; DROP TABLE users; --';
    });
    expect(() => parseSchemaJson(text)).toThrow(SchemaJsonError);
    expect(() => parseSchemaJson(text)).toThrow('table name "signatures\\"; DROP TABLE users; --"');
    expect(() => parseSchemaJson(text)).toThrow("^[a-z_][a-z0-9_]{0,126}$");
  });

  it("rejects a hostile column name, naming the table and the column", () => {
    const text = fixtureWith((doc) => {
      doc.tables[1].table.columns['title" VARCHAR); DROP TABLE petitions; --'] = { type: "string", sql_type: "text" };
    });
    expect(() => parseSchemaJson(text)).toThrow(
      'table "petitions": column name "title\\" VARCHAR); DROP TABLE petitions; --" does not match',
    );
  });

  it.each([
    ["upper case", "Petitions"],
    ["a leading digit", "1petitions"],
    ["a dash", "petition-flags"],
    ["a dot", "public.petitions"],
    ["a space", "petition flags"],
    ["non-ASCII", "pétitions"],
    ["128 characters", "a".repeat(128)],
    ["the empty string", ""],
  ])("rejects a table name with %s", (_label, name) => {
    const text = fixtureWith((doc) => {
      doc.tables[0].table.name = name;
    });
    expect(problemsOf(text)).toEqual([expect.stringContaining(`table name ${JSON.stringify(name)}`)]);
  });

  it("accepts a 127-character name, Redshift's limit", () => {
    const name = `t${"a".repeat(126)}`;
    const text = fixtureWith((doc) => {
      doc.tables[0].table.name = name;
    });
    expect(parseSchemaJson(text).tables.map((t) => t.name)).toContain(name);
  });

  it("reports every problem at once", () => {
    const text = fixtureWith((doc) => {
      doc.tables[0].table.name = "Bad Table";
      delete doc.tables[1].table.columns.id;
      doc.tables[1].table.columns["_cs_exported_at"] = { type: "datetime", sql_type: "timestamp without time zone" };
      doc.tables[1].table.columns["x-y"] = { type: "string", sql_type: "text" };
      doc.tables[1].table.columns.nothing = { nullable: true };
      doc.tables.push({ table: { name: "petitions", columns: { id: { type: "integer", sql_type: "integer" } } } });
    });
    const problems = problemsOf(text);
    expect(problems).toEqual([
      'table name "Bad Table" (tables[0]) does not match ^[a-z_][a-z0-9_]{0,126}$',
      'table "petitions": column _cs_exported_at is reserved for the mirror\'s export time',
      'table "petitions": column name "x-y" does not match ^[a-z_][a-z0-9_]{0,126}$',
      'table "petitions": column "nothing" has neither "type" nor "sql_type"',
      'table "petitions" has no "id" column: the mirror merges rows by id',
      'table "petitions" appears more than once',
    ]);
    expect(() => parseSchemaJson(text)).toThrow(/6 problems/);
  });

  it.each([
    ["not JSON", "{tables: []", /not JSON/],
    ["no tables array", '{"table": []}', /expected an object \{"tables": \[\.\.\.\]\}/],
    ["a table entry without a table", '{"tables": [{"name": "x"}]}', /tables\[0\] is not/],
    ["a table without columns", '{"tables": [{"table": {"name": "x", "columns": {}}}]}', /table "x" has no "columns"/],
    ["__proto__ as a table name", '{"tables": [{"table": {"name": "__proto__", "columns": {"id": {"type": "integer"}}}}]}', /"__proto__".*not allowed/],
  ])("rejects %s", (_label, text, message) => {
    expect(() => parseSchemaJson(text)).toThrow(message);
  });
});

describe("renderSchemaFiles", () => {
  const files = generateSchemaFiles(fixtureText());

  it("renders the files the generator owns, in sorted order", () => {
    expect([...files.keys()]).toEqual([
      "controlshift-tables.ts",
      "metadata.sql",
      "table-schemas.ts",
      "tables/petitions.sql",
      "tables/signatures.sql",
    ]);
  });

  it("renders a table's DDL: Redshift types, quoted identifiers, id where ControlShift puts it, _cs_exported_at last", () => {
    expect(files.get("tables/signatures.sql")).toBe(
      [
        "-- ControlShift table signatures, normalised for Amazon Redshift.",
        "-- GENERATED by scripts/generate-schemas.ts from ControlShift's schema.json: do not edit by hand.",
        "-- Regenerate: npx tsx scripts/generate-schemas.ts schemas/source/schema.json",
        "-- {{schema}} is the data schema's name; to run this by hand: sed 's/{{schema}}/<schema>/g'.",
        "-- The loaders create the table from schemas/table-schemas.ts with createTableStatement (schemas/ddl.ts): same SQL.",
        'CREATE TABLE IF NOT EXISTS "{{schema}}"."signatures" (',
        '  "petition_id" INTEGER,',
        '  "email" VARCHAR(MAX),',
        '  "created_at" TIMESTAMP,',
        '  "id" BIGINT,',
        '  "recaptcha_score" NUMERIC(3,2),',
        '  "user_ip" VARCHAR(MAX),',
        '  "_cs_exported_at" TIMESTAMP NOT NULL',
        ");",
        "",
      ].join("\n"),
    );
    const petitions = files.get("tables/petitions.sql") ?? "";
    expect(petitions).toContain('  "created_at" TIMESTAMP,\n  "updated_at" TIMESTAMP,\n  "_cs_exported_at" TIMESTAMP NOT NULL\n);');
    expect(petitions).toContain('  "location" GEOGRAPHY,');
    expect(petitions).not.toMatch(/timestamp\s*\(/i);
  });

  it("renders the DDL that createTableStatement gives the loaders, up to the schema name", () => {
    const model = parseSchemaJson(fixtureText());
    for (const table of model.tables) {
      const sql = files.get(`tables/${table.name}.sql`) ?? "";
      const statement = sql.slice(sql.indexOf("CREATE TABLE")).replace(/;\n$/, "");
      expect(statement.replaceAll("{{schema}}", "controlshift")).toBe(
        createTableStatement("controlshift", table.name, table.columns),
      );
    }
  });

  it("renders TABLE_SCHEMAS and CONTROLSHIFT_TABLES as TypeScript", () => {
    const ts = files.get("table-schemas.ts") ?? "";
    expect(ts).toMatch(/^\/\*\*\n \* GENERATED by scripts\/generate-schemas\.ts/);
    expect(ts).toContain("export interface ColumnDef {");
    expect(ts).toContain("export const TABLE_SCHEMAS: Readonly<Record<string, readonly ColumnDef[]>> = Object.freeze(");
    expect(ts).toContain('    signatures: [\n      { name: "petition_id", type: "INTEGER" },');
    expect(ts).not.toContain("_cs_exported_at\"");
    expect(files.get("controlshift-tables.ts")).toContain(
      'export const CONTROLSHIFT_TABLES: readonly string[] = [\n  "petitions",\n  "signatures",\n];\n',
    );
  });

  it("is deterministic: the same tables in another order give the same bytes", () => {
    const reordered = fixtureWith((doc) => doc.tables.reverse());
    expect(generateSchemaFiles(reordered)).toEqual(files);
    expect(renderSchemaFiles(parseSchemaJson(fixtureText()))).toEqual(files);
  });
});

describe("scripts/generate-schemas.ts", () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), "schemas-"));
  });
  afterEach(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it("writes the files under --out and removes the DDL of tables no longer in schema.json", () => {
    const tablesDir = join(out, "tables");
    mkdirSync(tablesDir);
    writeFileSync(join(tablesDir, "dropped_table.sql"), "-- old\n");
    writeFileSync(join(tablesDir, "README.md"), "not ours\n");

    const result = generateSchemas(FIXTURE, out);

    expect(result.removed).toEqual(["tables/dropped_table.sql"]);
    expect(readdirSync(tablesDir).sort()).toEqual(["README.md", "petitions.sql", "signatures.sql"]);
    for (const [rel, content] of generateSchemaFiles(fixtureText())) {
      expect(readFileSync(join(out, rel), "utf8")).toBe(content);
    }
  });

  it("parses its arguments: the input path, and --out in both spellings", () => {
    expect(parseArgs(["a.json", "--out", "/tmp/x"])).toEqual({ input: expect.stringMatching(/a\.json$/), outDir: "/tmp/x" });
    expect(parseArgs(["--out=/tmp/y", "a.json"]).outDir).toBe("/tmp/y");
    expect(parseArgs(["a.json"]).outDir).toBe(join(__dirname, "..", "schemas"));
    expect(() => parseArgs([])).toThrow(/missing the schema\.json path\nusage:/);
    expect(() => parseArgs(["a.json", "--force"])).toThrow(/unknown option --force/);
    expect(() => parseArgs(["a.json", "--out"])).toThrow(/--out needs a directory/);
  });

  it("exits 2 with the list of problems, and writes nothing, when schema.json has a hostile name", () => {
    const input = join(out, "schema.json");
    writeFileSync(input, fixtureWith((doc) => (doc.tables[0].table.name = "x; drop")));
    const errors: string[] = [];
    const spy = jest.spyOn(console, "error").mockImplementation((m: string) => void errors.push(m));
    try {
      expect(main([input, "--out", join(out, "schemas")])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join("\n")).toContain('table name "x; drop"');
    expect(existsSync(join(out, "schemas"))).toBe(false);
  });
});
