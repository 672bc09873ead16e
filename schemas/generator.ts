/**
 * Pure core of `scripts/generate-schemas.ts`: ControlShift's `schema.json` text -> a checked model -> the files of
 * `schemas/` (path relative to `schemas/` -> content). No file system here, so tests run it on fixtures.
 *
 * The input is ControlShift's `GET https://<instance>/api/bulk_data/schema.json`:
 * `{"tables":[{"table":{"name":"petitions","columns":{"id":{"type":"integer","sql_type":"bigint",...}, ...}}}]}`.
 */
import {
  EXPORTED_AT_COLUMN,
  IDENTIFIER_PATTERN,
  SCHEMA_PLACEHOLDER,
  renderCreateTable,
  type TableColumn,
} from "./ddl";
import { DEFAULT_METADATA_SCHEMA } from "../facts/warehouse";
import { metadataStatements } from "./metadata";
import { toRedshiftType, type ControlShiftColumn } from "./type-mapping";

export interface ModelColumn extends TableColumn {
  /** The column as `schema.json` described it (`type` and `sql_type`), kept for the record. */
  readonly source: { readonly type: string | null; readonly sqlType: string | null };
}

export interface ModelTable {
  readonly name: string;
  /** In ControlShift's order (`id` is not always first), without `_cs_exported_at`. */
  readonly columns: readonly ModelColumn[];
}

export interface SchemaModel {
  /** Sorted by name. */
  readonly tables: readonly ModelTable[];
}

/** Every problem found in a `schema.json`, listed at once. */
export class SchemaJsonError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(
      `schema.json cannot be used (${problems.length} problem${problems.length === 1 ? "" : "s"}); ` +
        `fix the file or report the names to ControlShift:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "SchemaJsonError";
    this.problems = problems;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const describeName = (name: string): string => JSON.stringify(name);
const PATTERN = IDENTIFIER_PATTERN.source;

/**
 * Parses and checks `schema.json`. Table and column names must match IDENTIFIER_PATTERN (they go into SQL);
 * every table needs an `id` column (the mirror's merge key) and must not carry `_cs_exported_at` (the mirror adds it).
 * Throws SchemaJsonError listing every problem, each naming the table and column.
 */
export function parseSchemaJson(text: string): SchemaModel {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    throw new SchemaJsonError([`not JSON: ${(err as Error).message}`]);
  }
  if (!isObject(root) || !Array.isArray(root.tables)) {
    throw new SchemaJsonError(['expected an object {"tables": [...]} at the top level']);
  }
  const problems: string[] = [];
  const tables: ModelTable[] = [];
  const seen = new Set<string>();
  root.tables.forEach((entry: unknown, index: number) => {
    const table = isObject(entry) ? entry.table : undefined;
    if (!isObject(table) || typeof table.name !== "string") {
      problems.push(`tables[${index}] is not {"table": {"name": "...", "columns": {...}}}`);
      return;
    }
    const name = table.name;
    if (!IDENTIFIER_PATTERN.test(name)) {
      problems.push(`table name ${describeName(name)} (tables[${index}]) does not match ${PATTERN}`);
      return;
    }
    if (name === "__proto__") {
      // Valid SQL, but as a key of TABLE_SCHEMAS' object literal it would set the prototype instead.
      problems.push(`table name ${describeName(name)} (tables[${index}]) is not allowed`);
      return;
    }
    if (seen.has(name)) {
      problems.push(`table ${describeName(name)} appears more than once`);
      return;
    }
    seen.add(name);
    if (!isObject(table.columns) || Object.keys(table.columns).length === 0) {
      problems.push(`table ${describeName(name)} has no "columns" object, or it is empty`);
      return;
    }
    const columns: ModelColumn[] = [];
    for (const [columnName, spec] of Object.entries(table.columns)) {
      if (!IDENTIFIER_PATTERN.test(columnName)) {
        problems.push(`table ${describeName(name)}: column name ${describeName(columnName)} does not match ${PATTERN}`);
        continue;
      }
      if (columnName === EXPORTED_AT_COLUMN) {
        problems.push(`table ${describeName(name)}: column ${EXPORTED_AT_COLUMN} is reserved for the mirror's export time`);
        continue;
      }
      const column = isObject(spec) ? (spec as ControlShiftColumn) : undefined;
      const type = typeof column?.type === "string" ? column.type : null;
      const sqlType = typeof column?.sql_type === "string" ? column.sql_type : null;
      if (!column || (type === null && sqlType === null)) {
        problems.push(`table ${describeName(name)}: column ${describeName(columnName)} has neither "type" nor "sql_type"`);
        continue;
      }
      columns.push({ name: columnName, type: toRedshiftType(column), source: { type, sqlType } });
    }
    if (!Object.prototype.hasOwnProperty.call(table.columns, "id")) {
      problems.push(`table ${describeName(name)} has no "id" column: the mirror merges rows by id`);
    }
    tables.push({ name, columns });
  });
  if (problems.length > 0) throw new SchemaJsonError(problems);
  tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { tables };
}

/** The command, written into every generated file. */
export const REGENERATE_COMMAND = "npx tsx scripts/generate-schemas.ts schemas/source/schema.json";

const GENERATED_NOTE = `GENERATED by scripts/generate-schemas.ts from ControlShift's schema.json: do not edit by hand.`;

/** Relative paths under `schemas/` that the generator owns. `tables/*.sql` not in the output are stale. */
export const GENERATED_TABLES_DIR = "tables";
export const TABLE_SCHEMAS_FILE = "table-schemas.ts";
export const CONTROLSHIFT_TABLES_FILE = "controlshift-tables.ts";
export const METADATA_SQL_FILE = "metadata.sql";

function renderTableSchemasTs(model: SchemaModel): string {
  const out: string[] = [
    "/**",
    ` * ${GENERATED_NOTE}`,
    ` * Regenerate: ${REGENERATE_COMMAND}`,
    " *",
    " * Every ControlShift table with its columns in ControlShift's order and their canonical Redshift types",
    " * (schemas/type-mapping.ts). The mirror's `_cs_exported_at TIMESTAMP NOT NULL` is not listed: createTableStatement",
    " * (schemas/ddl.ts) adds it. schemas/tables/<table>.sql show the resulting DDL.",
    " */",
    "",
    "export interface ColumnDef {",
    "  readonly name: string;",
    "  /** Canonical Redshift type: BIGINT, INTEGER, TIMESTAMP, NUMERIC(3,2), CHAR(36), VARCHAR(MAX), ... */",
    "  readonly type: string;",
    "}",
    "",
    "/** Frozen, without a prototype: `TABLE_SCHEMAS[\"constructor\"]` is undefined like any other unknown table. */",
    "export const TABLE_SCHEMAS: Readonly<Record<string, readonly ColumnDef[]>> = Object.freeze(",
    "  Object.assign(Object.create(null) as Record<string, readonly ColumnDef[]>, {",
  ];
  for (const table of model.tables) {
    out.push(`    ${table.name}: [`);
    for (const column of table.columns) {
      out.push(`      { name: ${JSON.stringify(column.name)}, type: ${JSON.stringify(column.type)} },`);
    }
    out.push("    ],");
  }
  out.push("  }),", ");", "");
  return out.join("\n");
}

function renderControlShiftTablesTs(model: SchemaModel): string {
  return [
    "/**",
    ` * ${GENERATED_NOTE}`,
    ` * Regenerate: ${REGENERATE_COMMAND}`,
    " *",
    ` * The tables ControlShift exports (${model.tables.length}), sorted: the default table list of the deployment config.`,
    " */",
    "export const CONTROLSHIFT_TABLES: readonly string[] = [",
    ...model.tables.map((t) => `  ${JSON.stringify(t.name)},`),
    "];",
    "",
  ].join("\n");
}

function renderTableSql(table: ModelTable): string {
  return [
    `-- ControlShift table ${table.name}, normalised for Amazon Redshift.`,
    `-- ${GENERATED_NOTE}`,
    `-- Regenerate: ${REGENERATE_COMMAND}`,
    `-- ${SCHEMA_PLACEHOLDER} is the data schema's name; to run this by hand: sed 's/${SCHEMA_PLACEHOLDER}/<schema>/g'.`,
    "-- The loaders create the table from schemas/table-schemas.ts with createTableStatement (schemas/ddl.ts): same SQL.",
    `${renderCreateTable(`"${SCHEMA_PLACEHOLDER}"`, table.name, table.columns, "redshift")};`,
    "",
  ].join("\n");
}

function renderMetadataSql(): string {
  return [
    `-- The mirror's metadata schema (${DEFAULT_METADATA_SCHEMA}) for Amazon Redshift: load ledger, failures, freshness view.`,
    `-- ${GENERATED_NOTE.replace("from ControlShift's schema.json", "from schemas/metadata.ts")}`,
    `-- Regenerate: ${REGENERATE_COMMAND}`,
    "-- Migration 1 of schemas/migrations.ts (metadataStatements of schemas/metadata.ts), applied by the bootstrap at",
    "-- apply time, never by the loaders; PostgreSQL differs only in the timestamp defaults.",
    "",
    metadataStatements(DEFAULT_METADATA_SCHEMA, "redshift")
      .map((s) => `${s};`)
      .join("\n\n"),
    "",
  ].join("\n");
}

/**
 * Every file the generator owns under `schemas/`, keyed by relative path (POSIX separators), in sorted order.
 * Same model, same bytes.
 */
export function renderSchemaFiles(model: SchemaModel): ReadonlyMap<string, string> {
  const files = new Map<string, string>();
  files.set(CONTROLSHIFT_TABLES_FILE, renderControlShiftTablesTs(model));
  files.set(METADATA_SQL_FILE, renderMetadataSql());
  files.set(TABLE_SCHEMAS_FILE, renderTableSchemasTs(model));
  for (const table of model.tables) files.set(`${GENERATED_TABLES_DIR}/${table.name}.sql`, renderTableSql(table));
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `schema.json` text -> files, in one call. */
export function generateSchemaFiles(schemaJsonText: string): ReadonlyMap<string, string> {
  return renderSchemaFiles(parseSchemaJson(schemaJsonText));
}
