/**
 * CREATE TABLE statements for mirrored tables, for Redshift and for the PostgreSQL adapter.
 *
 * The loaders call `createTableStatement` with the columns of `TABLE_SCHEMAS` (Lambdas are bundled and cannot read
 * the `.sql` files); the generator renders the very same statement, with a `{{schema}}` placeholder, into
 * `schemas/tables/<table>.sql` for review and for operators.
 */
import { toPostgresType } from "./type-mapping";

export type SqlDialect = "redshift" | "postgres";

/**
 * What a table, column or schema name must look like before it goes into SQL: lower-case snake case, at most
 * 127 characters (Redshift's identifier limit, https://docs.aws.amazon.com/redshift/latest/dg/r_names.html).
 * Nothing else is quoted into a statement, so quoting never has to escape.
 */
export const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]{0,126}$/;

/** The column every mirrored table carries: the export time parsed from the file name (UTC). */
export const EXPORTED_AT_COLUMN = "_cs_exported_at";
export const EXPORTED_AT_TYPE = "TIMESTAMP";

/** Stands for the data schema's name in the rendered `.sql` files: `"{{schema}}"."members"`. */
export const SCHEMA_PLACEHOLDER = "{{schema}}";

export class IdentifierError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IdentifierError";
  }
}

/** `members` -> `"members"`. Throws IdentifierError, naming the value, when it does not match IDENTIFIER_PATTERN. */
export function quoteIdentifier(name: string, what = "identifier"): string {
  if (!IDENTIFIER_PATTERN.test(name)) {
    throw new IdentifierError(
      `${what} ${JSON.stringify(name)} is not a valid identifier: it must match ${IDENTIFIER_PATTERN.source}`,
    );
  }
  return `"${name}"`;
}

/** A column of a mirrored table, as in `TABLE_SCHEMAS`: its canonical Redshift type. */
export interface TableColumn {
  readonly name: string;
  readonly type: string;
}

/** Renders with an already-quoted schema; shared by `createTableStatement` and the generator's placeholder form. */
export function renderCreateTable(
  quotedSchema: string,
  table: string,
  columns: readonly TableColumn[],
  dialect: SqlDialect,
): string {
  const typeOf = (t: string): string => (dialect === "postgres" ? toPostgresType(t) : t);
  const lines = columns.map((c) => `  ${quoteIdentifier(c.name, `column of ${table}`)} ${typeOf(c.type)}`);
  lines.push(`  ${quoteIdentifier(EXPORTED_AT_COLUMN)} ${EXPORTED_AT_TYPE} NOT NULL`);
  return `CREATE TABLE IF NOT EXISTS ${quotedSchema}.${quoteIdentifier(table, "table")} (\n${lines.join(",\n")}\n)`;
}

/**
 * `CREATE TABLE IF NOT EXISTS "<schema>"."<table>" (<columns>, "_cs_exported_at" TIMESTAMP NOT NULL)`, without a
 * trailing semicolon (the Data API takes one statement per list entry). `columns` must not contain
 * `_cs_exported_at`: the statement adds it. Throws IdentifierError for any name outside IDENTIFIER_PATTERN.
 * @default dialect "redshift"
 */
export function createTableStatement(
  schemaName: string,
  table: string,
  columns: readonly TableColumn[],
  dialect: SqlDialect = "redshift",
): string {
  if (columns.some((c) => c.name === EXPORTED_AT_COLUMN)) {
    throw new IdentifierError(`table ${JSON.stringify(table)}: column ${EXPORTED_AT_COLUMN} is added by the mirror`);
  }
  return renderCreateTable(quoteIdentifier(schemaName, "schema"), table, columns, dialect);
}
