import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { CONTROLSHIFT_TABLES } from "../schemas/controlshift-tables";
import { EXPORTED_AT_COLUMN, createTableStatement } from "../schemas/ddl";
import { generateSchemaFiles } from "../schemas/generator";
import { TABLE_SCHEMAS } from "../schemas/table-schemas";

const SCHEMAS_DIR = join(__dirname, "..", "schemas");
const generated = generateSchemaFiles(readFileSync(join(SCHEMAS_DIR, "source", "schema.json"), "utf8"));
const tableSqlFiles = [...generated.keys()].filter((rel) => rel.startsWith("tables/"));

describe("the committed schemas/", () => {
  it.each([...generated.keys()])(
    "%s is exactly what the generator makes of schemas/source/schema.json (else: run the regenerate command)",
    (rel) => {
      expect(readFileSync(join(SCHEMAS_DIR, rel), "utf8")).toBe(generated.get(rel));
    },
  );

  it("has no table DDL the generator would not write", () => {
    const committed = readdirSync(join(SCHEMAS_DIR, "tables")).map((f) => `tables/${f}`);
    expect(committed.sort()).toEqual(tableSqlFiles);
  });

  it("covers ControlShift's 63 tables, sorted, in CONTROLSHIFT_TABLES and TABLE_SCHEMAS alike", () => {
    expect(CONTROLSHIFT_TABLES).toHaveLength(63);
    expect([...CONTROLSHIFT_TABLES]).toEqual([...CONTROLSHIFT_TABLES].sort());
    expect(Object.keys(TABLE_SCHEMAS).sort()).toEqual(CONTROLSHIFT_TABLES);
    expect(tableSqlFiles).toEqual(CONTROLSHIFT_TABLES.map((t) => `tables/${t}.sql`));
  });

  it.each([...CONTROLSHIFT_TABLES])("%s has an id column and ends with _cs_exported_at", (table) => {
    expect(TABLE_SCHEMAS[table].map((c) => c.name)).toContain("id");
    expect(TABLE_SCHEMAS[table].map((c) => c.name)).not.toContain(EXPORTED_AT_COLUMN);
    const sql = generated.get(`tables/${table}.sql`) ?? "";
    expect(sql).toContain('  "id" ');
    expect(sql).toMatch(/\n {2}"_cs_exported_at" TIMESTAMP NOT NULL\n\);\n$/);
  });

  it("keeps id where ControlShift puts it (members: column 11, signatures: column 45)", () => {
    expect(TABLE_SCHEMAS.members.findIndex((c) => c.name === "id")).toBe(10);
    expect(TABLE_SCHEMAS.signatures.findIndex((c) => c.name === "id")).toBe(44);
    expect(TABLE_SCHEMAS.signatures).toHaveLength(49);
  });

  it("has no timestamp precision anywhere in the generated DDL (Redshift rejects timestamp(6))", () => {
    for (const rel of tableSqlFiles) expect(generated.get(rel)).not.toMatch(/timestamp\s*\(/i);
    for (const columns of Object.values(TABLE_SCHEMAS)) {
      for (const c of columns) expect(c.type).not.toMatch(/^timestamp\s*\(/i);
    }
    // The source does carry them: the normalisation is doing the work.
    expect(readFileSync(join(SCHEMAS_DIR, "source", "schema.json"), "utf8")).toContain("timestamp(6) without time zone");
  });

  it("keeps ControlShift's precise types: uuid as CHAR(36), numeric(p,s) as NUMERIC(p,s)", () => {
    expect(TABLE_SCHEMAS.share_clicks.find((c) => c.name === "token")?.type).toBe("CHAR(36)");
    expect(TABLE_SCHEMAS.locations.find((c) => c.name === "latitude")?.type).toBe("NUMERIC(13,10)");
    expect(TABLE_SCHEMAS.signatures.find((c) => c.name === "recaptcha_score")?.type).toBe("NUMERIC(3,2)");
    expect(TABLE_SCHEMAS.campaign_admins.find((c) => c.name === "created_at")?.type).toBe("TIMESTAMP");
  });

  it("gives unknown table names undefined, even names of Object.prototype's members", () => {
    expect(Object.isFrozen(TABLE_SCHEMAS)).toBe(true);
    expect(TABLE_SCHEMAS["constructor"]).toBeUndefined();
    expect(TABLE_SCHEMAS["to_string"]).toBeUndefined();
    expect("toString" in TABLE_SCHEMAS).toBe(false);
  });

  it("renders the .sql files from the same statement the loaders run", () => {
    for (const table of CONTROLSHIFT_TABLES) {
      const sql = generated.get(`tables/${table}.sql`) ?? "";
      const statement = sql.slice(sql.indexOf("CREATE TABLE")).replace(/;\n$/, "");
      expect(statement.replaceAll("{{schema}}", "controlshift")).toBe(
        createTableStatement("controlshift", table, TABLE_SCHEMAS[table]),
      );
    }
  });
});
