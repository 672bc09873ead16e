/**
 * The bootstrap's SQL, pure: what the warehouse must hold for the loaders to work as a least-privilege user, computed
 * from what the catalog says is there already, so a second run finds nothing to create.
 *
 * Two parts, run by two identities:
 * - the ADMIN part (`adminStatements`): the loader user, the analysts' read-only group, the data and metadata schemas
 *   owned by the loader user, ownership of objects an earlier (admin) loader created, and the group's read access.
 *   Only the bootstrap runs it, as the admin user; for an existing warehouse the operator runs the same statements
 *   once (`operatorGrants`, printed in `help`).
 * - the OWNER part (`ownerTableStatements`, `migrationBatches`, `ownerGrantStatements`): the configured tables and the
 *   metadata objects, run AS THE LOADER USER, so the loader owns every object it will later ALTER (ADD COLUMN) or
 *   replace (a view): Redshift lets only the owner do either.
 *
 * Names are quoted after matching IDENTIFIER_PATTERN (schemas/ddl.ts); the one literal (a password hash) is hex.
 */
import { createHash } from "node:crypto";
import { createTableStatement, IDENTIFIER_PATTERN, quoteIdentifier } from "../../schemas/ddl";
import { TABLE_SCHEMAS } from "../../schemas/table-schemas";
import {
  METADATA_MIGRATIONS_TABLE,
  migrationsTableStatement as schemaMigrationsTableStatement,
  pendingMigrations,
} from "../../schemas/migrations";
import type { MetadataMigration } from "./migrations";

/** Redshift's Data API runs at most 40 statements in one BatchExecuteStatement. */
export const MAX_BATCH_STATEMENTS = 40;

/** How the loader user proves who it is: IAM temporary credentials (no password at all) or a generated password. */
export type LoaderLogin =
  | { readonly type: "iam" }
  | {
      readonly type: "password";
      readonly md5: string;
      /** The password was generated on this run (the secret had none): an existing user must be given it. */
      readonly generated: boolean;
    };

export interface BootstrapNames {
  /** The database user every loader acts as; owns the data and metadata schemas and everything in them. */
  readonly loaderUser: string;
  /** The analysts' group: USAGE on both schemas and SELECT on every table and view in them, nothing else. */
  readonly readerGroup: string;
  readonly dataSchema: string;
  readonly metadataSchema: string;
}

/** What the admin's catalog query found (`catalogQuery`). */
export interface AdminCatalog {
  /** The loader user, when it exists. */
  readonly loaderUser?: { readonly superuser: boolean };
  readonly readerGroupExists: boolean;
  /** Owner of each schema that exists, by schema name. */
  readonly schemaOwners: ReadonlyMap<string, string>;
  /** Tables and views in the two schemas: `schema.name` -> owner. */
  readonly relationOwners: ReadonlyMap<string, string>;
}

export class BootstrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BootstrapError";
  }
}

/** `md5` + md5(password + user name): the form CREATE USER and ALTER USER take instead of the clear password. */
export function md5PasswordHash(password: string, user: string): string {
  return `md5${createHash("md5").update(password + user, "utf8").digest("hex")}`;
}

function checkNames(names: BootstrapNames): void {
  const { loaderUser, readerGroup, dataSchema, metadataSchema } = names;
  for (const [what, value] of Object.entries({ loaderUser, readerGroup, dataSchema, metadataSchema })) {
    if (!IDENTIFIER_PATTERN.test(value)) {
      throw new BootstrapError(`${what} ${JSON.stringify(value)} is not a valid identifier: it must match ${IDENTIFIER_PATTERN.source}`);
    }
  }
  if (names.dataSchema === names.metadataSchema) {
    throw new BootstrapError(`the data and metadata schemas must differ (both are ${JSON.stringify(names.dataSchema)})`);
  }
}

function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * One query, run as the admin, that tells `adminStatements` what exists: rows of (kind, name, detail). pg_user,
 * pg_group, pg_namespace, pg_tables and pg_views are the PostgreSQL catalog views Redshift keeps.
 */
export function catalogQuery(names: BootstrapNames): string {
  checkNames(names);
  const schemas = `(${sqlString(names.dataSchema)}, ${sqlString(names.metadataSchema)})`;
  return [
    `SELECT 'user' AS kind, usename::VARCHAR AS name, CASE WHEN usesuper THEN 'superuser' ELSE '' END AS detail FROM pg_user WHERE usename = ${sqlString(names.loaderUser)}`,
    `SELECT 'group', groname::VARCHAR, '' FROM pg_group WHERE groname = ${sqlString(names.readerGroup)}`,
    `SELECT 'schema', n.nspname::VARCHAR, u.usename::VARCHAR FROM pg_namespace n JOIN pg_user u ON u.usesysid = n.nspowner WHERE n.nspname IN ${schemas}`,
    `SELECT 'relation', (schemaname || '.' || tablename)::VARCHAR, tableowner::VARCHAR FROM pg_tables WHERE schemaname IN ${schemas}`,
    `SELECT 'relation', (schemaname || '.' || viewname)::VARCHAR, viewowner::VARCHAR FROM pg_views WHERE schemaname IN ${schemas}`,
  ].join("\nUNION ALL\n");
}

/** Reads `catalogQuery`'s rows. */
export function parseAdminCatalog(rows: readonly (readonly (string | null)[])[]): AdminCatalog {
  let loaderUser: AdminCatalog["loaderUser"];
  let readerGroupExists = false;
  const schemaOwners = new Map<string, string>();
  const relationOwners = new Map<string, string>();
  for (const [kind, name, detail] of rows) {
    if (name === null || kind === null) continue;
    if (kind === "user") loaderUser = { superuser: detail === "superuser" };
    else if (kind === "group") readerGroupExists = true;
    else if (kind === "schema") schemaOwners.set(name, detail ?? "");
    else if (kind === "relation") relationOwners.set(name, detail ?? "");
  }
  return { loaderUser, readerGroupExists, schemaOwners, relationOwners };
}

/** A warehouse with none of the mirror's objects: what `operatorGrants` is written for. */
export const EMPTY_CATALOG: AdminCatalog = {
  readerGroupExists: false,
  schemaOwners: new Map(),
  relationOwners: new Map(),
};

/**
 * The admin part, in order, for one transaction: everything missing is created, everything owned by someone else
 * is given to the loader user, and the group's read access is (re)granted (GRANT and ALTER DEFAULT PRIVILEGES
 * repeat harmlessly). Refuses a loader user that is a superuser: the point is that loaders are not.
 */
export function adminStatements(names: BootstrapNames, login: LoaderLogin, catalog: AdminCatalog): string[] {
  checkNames(names);
  const user = quoteIdentifier(names.loaderUser);
  const group = quoteIdentifier(names.readerGroup);
  const out: string[] = [];
  if (catalog.loaderUser?.superuser) {
    throw new BootstrapError(
      `database user ${names.loaderUser} is a superuser: the loaders must not be. Use another name or ALTER USER ${names.loaderUser} NOCREATEUSER`,
    );
  }
  if (login.type === "iam") {
    // Only temporary credentials from redshift:GetClusterCredentials can log in as this user.
    if (!catalog.loaderUser) out.push(`CREATE USER ${user} PASSWORD DISABLE`);
  } else if (!catalog.loaderUser) {
    out.push(`CREATE USER ${user} PASSWORD '${login.md5}'`);
  } else if (login.generated) {
    // The secret had lost its value (or never had one) while the user exists: give the user the new password. Only
    // then: a statement with a password hash is not repeated on every run (the user-activity log keeps each query).
    out.push(`ALTER USER ${user} PASSWORD '${login.md5}'`);
  }
  if (!catalog.readerGroupExists) out.push(`CREATE GROUP ${group}`);
  for (const schemaName of [names.dataSchema, names.metadataSchema]) {
    const schema = quoteIdentifier(schemaName);
    const owner = catalog.schemaOwners.get(schemaName);
    if (owner === undefined) out.push(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${user}`);
    else if (owner !== names.loaderUser) out.push(`ALTER SCHEMA ${schema} OWNER TO ${user}`);
  }
  // Tables and views an earlier loader created as the admin: the loader user must own them to ADD COLUMN or to
  // drop and re-create a view.
  for (const [qualified, owner] of [...catalog.relationOwners].sort(([a], [b]) => a.localeCompare(b))) {
    if (owner === names.loaderUser) continue;
    const [schemaName, relation] = qualified.split(".");
    out.push(`ALTER TABLE ${quoteIdentifier(schemaName)}.${quoteIdentifier(relation)} OWNER TO ${user}`);
  }
  for (const schemaName of [names.dataSchema, names.metadataSchema]) {
    const schema = quoteIdentifier(schemaName);
    out.push(`GRANT USAGE ON SCHEMA ${schema} TO GROUP ${group}`);
    out.push(`ALTER DEFAULT PRIVILEGES FOR USER ${user} IN SCHEMA ${schema} GRANT SELECT ON TABLES TO GROUP ${group}`);
  }
  return out;
}

/**
 * What an operator runs once, as a superuser, on a warehouse the stack does not manage (warehouse.mode "existing"):
 * the admin part for an empty warehouse, where re-running is harmless. `password` is for a loader that logs in with
 * a secret: the text put in the statement (e.g. `<the password in your loader secret>`).
 */
export function operatorGrants(names: BootstrapNames, login: { type: "iam" } | { type: "password"; placeholder: string }): string[] {
  const statements = adminStatements(names, login.type === "iam" ? login : { type: "password", md5: "", generated: true }, EMPTY_CATALOG);
  return login.type === "iam" ? statements : statements.map((s) => s.replace(/ PASSWORD ''$/, ` PASSWORD '${login.placeholder}'`));
}

/** What the owner's catalog query found (`ownerCatalogQuery`). */
export interface OwnerCatalog {
  /** `current_user`: the identity the owner part runs as. */
  readonly currentUser: string;
  readonly superuser: boolean;
  readonly schemaOwners: ReadonlyMap<string, string>;
  /** Tables of the data schema. */
  readonly dataTables: ReadonlySet<string>;
  /** Whether the migrations table exists in the metadata schema. */
  readonly migrationsTableExists: boolean;
}

/** The table that records which metadata migrations ran (in the metadata schema). */
export const MIGRATIONS_TABLE = METADATA_MIGRATIONS_TABLE;

export function ownerCatalogQuery(names: BootstrapNames): string {
  checkNames(names);
  const schemas = `(${sqlString(names.dataSchema)}, ${sqlString(names.metadataSchema)})`;
  return [
    `SELECT 'me' AS kind, usename::VARCHAR AS name, CASE WHEN usesuper THEN 'superuser' ELSE '' END AS detail FROM pg_user WHERE usename = current_user`,
    `SELECT 'schema', n.nspname::VARCHAR, u.usename::VARCHAR FROM pg_namespace n JOIN pg_user u ON u.usesysid = n.nspowner WHERE n.nspname IN ${schemas}`,
    `SELECT 'table', (schemaname || '.' || tablename)::VARCHAR, '' FROM pg_tables WHERE schemaname IN ${schemas}`,
  ].join("\nUNION ALL\n");
}

export function parseOwnerCatalog(names: BootstrapNames, rows: readonly (readonly (string | null)[])[]): OwnerCatalog {
  let currentUser = "";
  let superuser = false;
  const schemaOwners = new Map<string, string>();
  const dataTables = new Set<string>();
  let migrationsTableExists = false;
  for (const [kind, name, detail] of rows) {
    if (name === null || kind === null) continue;
    if (kind === "me") {
      currentUser = name;
      superuser = detail === "superuser";
    } else if (kind === "schema") schemaOwners.set(name, detail ?? "");
    else if (kind === "table") {
      const [schemaName, table] = name.split(".");
      if (schemaName === names.dataSchema) dataTables.add(table);
      if (schemaName === names.metadataSchema && table === MIGRATIONS_TABLE) migrationsTableExists = true;
    }
  }
  return { currentUser, superuser, schemaOwners, dataTables, migrationsTableExists };
}

/**
 * Refuses to go on when the owner part would not run as the schemas' owner: a superuser (the loaders must not be
 * one), or schemas missing or owned by someone else (the admin part, or the operator's grants, did not run).
 */
export function checkOwner(names: BootstrapNames, catalog: OwnerCatalog): void {
  if (catalog.superuser) {
    throw new BootstrapError(
      `the loaders' database user ${catalog.currentUser} is a superuser: loaders must not hold admin credentials. ` +
        "Give them a user of their own (see help: Existing warehouse: the grants to run once)",
    );
  }
  for (const schemaName of [names.dataSchema, names.metadataSchema]) {
    const owner = catalog.schemaOwners.get(schemaName);
    if (owner !== catalog.currentUser) {
      throw new BootstrapError(
        owner === undefined
          ? `schema ${schemaName} does not exist: run the grants for the loader user ${catalog.currentUser} (see help: Existing warehouse: the grants to run once)`
          : `schema ${schemaName} is owned by ${owner}, not by the loader user ${catalog.currentUser}: run the grants (see help: Existing warehouse: the grants to run once)`,
      );
    }
  }
}

/** CREATE TABLE for each configured table the data schema lacks, in batches of at most MAX_BATCH_STATEMENTS. */
export function ownerTableBatches(names: BootstrapNames, tables: readonly string[], existing: ReadonlySet<string>): string[][] {
  const statements = tables
    .filter((t) => !existing.has(t))
    .map((t) => {
      const columns = TABLE_SCHEMAS[t];
      if (!columns) throw new BootstrapError(`table ${JSON.stringify(t)} is not a ControlShift table this bundle knows`);
      return createTableStatement(names.dataSchema, t, columns, "redshift");
    });
  const batches: string[][] = [];
  for (let i = 0; i < statements.length; i += MAX_BATCH_STATEMENTS) batches.push(statements.slice(i, i + MAX_BATCH_STATEMENTS));
  return batches;
}

/** The migrations table, as schemas/migrations.ts defines it (the PostgreSQL path creates the same). */
export function migrationsTableStatement(names: BootstrapNames): string {
  return schemaMigrationsTableStatement(names.metadataSchema, "redshift");
}

export function appliedMigrationsQuery(names: BootstrapNames): string {
  return `SELECT version FROM ${quoteIdentifier(names.metadataSchema)}.${quoteIdentifier(MIGRATIONS_TABLE)} ORDER BY version`;
}

/**
 * One batch (one transaction) per pending migration: its statements and the row that records it, so a migration
 * is applied and recorded together or not at all.
 */
export function migrationBatches(
  names: BootstrapNames,
  migrations: readonly MetadataMigration[],
  applied: ReadonlySet<number>,
): { migration: MetadataMigration; sqls: string[] }[] {
  const table = `${quoteIdentifier(names.metadataSchema)}.${quoteIdentifier(MIGRATIONS_TABLE)}`;
  // pendingMigrations also checks that versions increase strictly.
  return pendingMigrations(applied, migrations)
    .map((migration) => {
      const sqls = [
        ...migration.statements(names.metadataSchema, "redshift"),
        `INSERT INTO ${table} (version, name) VALUES (${migration.version}, ${sqlString(migration.name)})`,
      ];
      if (sqls.length > MAX_BATCH_STATEMENTS) {
        throw new BootstrapError(`metadata migration ${migration.version} has ${sqls.length - 1} statements: split it (a batch runs ${MAX_BATCH_STATEMENTS})`);
      }
      return { migration, sqls };
    });
}

/** SELECT on every current table and view of both schemas for the analysts (later ones: the default privileges). */
export function ownerGrantStatements(names: BootstrapNames): string[] {
  const group = quoteIdentifier(names.readerGroup);
  return [names.dataSchema, names.metadataSchema].map(
    (s) => `GRANT SELECT ON ALL TABLES IN SCHEMA ${quoteIdentifier(s)} TO GROUP ${group}`,
  );
}
