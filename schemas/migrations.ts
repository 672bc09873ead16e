/**
 * The metadata schema's versioned migrations: the only way the metadata objects (ledger, failures, the freshness
 * view) are created or changed. Loaders never run metadata DDL; it runs once per change:
 * - on Redshift, by the bootstrap function at `terraform apply` time (handlers/bootstrap applies this list, in version
 *   order, each pending migration in one transaction with the row that records it in METADATA_MIGRATIONS_TABLE);
 * - on PostgreSQL (npm run local, the tests), by PostgresWarehouse.migrate before the first load.
 *
 * Rules for a new migration (append; never edit or renumber a released one):
 * - applied atomically with its record (one transaction), and idempotent where the dialect allows it (`IF NOT
 *   EXISTS`, `DROP ... IF EXISTS`; Redshift has no ADD COLUMN IF NOT EXISTS);
 * - a view whose column set changes is dropped and re-created (`replaceViewStatements`): "You can only replace a view
 *   with a new query that generates the identical set of columns, using the same column names and data types."
 *   (CREATE VIEW, OR REPLACE, https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_VIEW.html);
 * - at most 39 statements (a Data API batch runs 40, one is the record);
 * - the same statements for both dialects except where `dialect` says otherwise.
 */
import { quoteIdentifier, type SqlDialect } from "./ddl";
import { LOAD_LEDGER_TABLE, VALUES_AT_LIMIT_COLUMN, metadataStatements } from "./metadata";

export interface MetadataMigration {
  /** Applied in increasing order; never renumbered, never edited once released. */
  readonly version: number;
  readonly name: string;
  /** The statements for the metadata schema `schema`, without trailing semicolons. @default dialect "redshift" */
  readonly statements: (schema: string, dialect?: SqlDialect) => string[];
}

/** The table, in the metadata schema, that records which migrations ran. */
export const METADATA_MIGRATIONS_TABLE = "schema_migrations";

/** `DROP VIEW IF EXISTS` then `CREATE VIEW`: how a migration changes a view's columns. */
export function replaceViewStatements(schema: string, view: string, select: string): string[] {
  const name = `${quoteIdentifier(schema, "metadata schema")}.${quoteIdentifier(view)}`;
  return [`DROP VIEW IF EXISTS ${name}`, `CREATE VIEW ${name} AS\n${select}`];
}

export const METADATA_MIGRATIONS: readonly MetadataMigration[] = [
  {
    version: 1,
    name: "load ledger, load failures, table freshness",
    // The schema itself is created by whoever owns the database (the bootstrap's admin part, or migrate on
    // PostgreSQL); the loader user, which runs this, owns it but may not create schemas.
    statements: (schema, dialect = "redshift") => metadataStatements(schema, dialect).filter((s) => !s.startsWith("CREATE SCHEMA")),
  },
  {
    version: 2,
    name: "load ledger: values_at_limit",
    // New tables' own ledgers have the column from the start (ledgerTableStatement); the history gets it here.
    statements: (schema, dialect = "redshift") => [
      `ALTER TABLE ${quoteIdentifier(schema, "metadata schema")}.${quoteIdentifier(LOAD_LEDGER_TABLE)} ADD COLUMN ` +
        `${dialect === "postgres" ? "IF NOT EXISTS " : ""}${VALUES_AT_LIMIT_COLUMN} BIGINT DEFAULT 0`,
    ],
  },
];

/** CREATE TABLE IF NOT EXISTS for METADATA_MIGRATIONS_TABLE. */
export function migrationsTableStatement(schema: string, dialect: SqlDialect = "redshift"): string {
  const now = dialect === "redshift" ? "GETDATE()" : "(now() AT TIME ZONE 'UTC')";
  return (
    `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(schema, "metadata schema")}.${quoteIdentifier(METADATA_MIGRATIONS_TABLE)} (\n` +
    `  version INTEGER NOT NULL,\n  name VARCHAR(256) NOT NULL,\n  applied_at TIMESTAMP NOT NULL DEFAULT ${now}\n)`
  );
}

/** The migrations not in `applied`, in version order (checked: versions increase strictly). */
export function pendingMigrations(
  applied: ReadonlySet<number>,
  migrations: readonly MetadataMigration[] = METADATA_MIGRATIONS,
): MetadataMigration[] {
  migrations.forEach((m, i) => {
    if (i > 0 && m.version <= migrations[i - 1].version) {
      throw new Error(`metadata migration ${m.version} comes after ${migrations[i - 1].version}: versions must increase`);
    }
  });
  return migrations.filter((m) => !applied.has(m.version));
}
