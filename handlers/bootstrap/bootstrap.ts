/**
 * The bootstrap, over ports: look at the catalog, run what is missing, report what was done. Idempotent: a second
 * run finds the user, group, schemas, tables and migrations in place and runs only the (harmless) grants again.
 *
 * 1. As the admin (not for an existing warehouse): the loader user, the readers' group, the two schemas owned by the
 *    loader user, ownership of earlier objects, the readers' USAGE and default SELECT: one transaction.
 * 2. As the loader user: refuse a superuser or schemas it does not own; CREATE TABLE for each configured table
 *    missing; each pending metadata migration with its record; SELECT for the readers on what exists.
 *
 * The report holds names and counts only: it is the Lambda's result, which Terraform keeps in its state.
 */
import type { MetadataMigration } from "./migrations";
import {
  adminStatements,
  appliedMigrationsQuery,
  catalogQuery,
  checkOwner,
  md5PasswordHash,
  migrationBatches,
  migrationsTableStatement,
  ownerCatalogQuery,
  ownerGrantStatements,
  ownerTableBatches,
  parseAdminCatalog,
  parseOwnerCatalog,
  type BootstrapNames,
  type LoaderLogin,
} from "./sql";

/** One identity's connection to the warehouse (through the Data API in the Lambda). */
export interface SqlSession {
  /** Every row of a SELECT, each field as text (or null). */
  query(sql: string): Promise<(string | null)[][]>;
  /** The statements as one transaction: all or nothing. Throws when it does not finish. */
  batch(sqls: readonly string[], name: string): Promise<void>;
}

/** The loader user's generated password, kept in a secret the loaders read (Serverless): read it, or make it. */
export interface LoaderSecret {
  /**
   * The stored password, or a new one stored first (so a crash after it never leaves a user nobody can log in as);
   * `generated` says which.
   */
  passwordFor(user: string): Promise<{ readonly password: string; readonly generated: boolean }>;
}

export interface BootstrapSettings extends BootstrapNames {
  /** cluster and serverless: the stack's warehouse, with an admin. existing: the operator ran the grants. */
  readonly mode: "cluster" | "serverless" | "existing";
  /** How the loader user logs in: IAM temporary credentials (cluster) or the generated password (serverless). */
  readonly login: "iam" | "password";
  readonly tables: readonly string[];
  readonly migrations: readonly MetadataMigration[];
}

export interface BootstrapPorts {
  /** Absent for an existing warehouse. */
  readonly admin?: SqlSession;
  /** The loader user's own session. */
  readonly owner: SqlSession;
  /** Required with login "password" and an admin. */
  readonly loaderSecret?: LoaderSecret;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface BootstrapReport {
  readonly loaderUser: string;
  /** Statements the admin part ran (0 for an existing warehouse). */
  readonly adminStatements: number;
  /** What the admin part created or took over, e.g. "user controlshift_loader", "schema controlshift". */
  readonly adminChanges: readonly string[];
  readonly createdTables: readonly string[];
  readonly appliedMigrations: readonly number[];
}

/** What a statement of the admin part did, without its password hash. */
function describeAdminStatement(sql: string): string | undefined {
  const m =
    /^CREATE USER "([^"]+)"/.exec(sql) ??
    /^CREATE GROUP "([^"]+)"/.exec(sql) ??
    /^CREATE SCHEMA IF NOT EXISTS "([^"]+)"/.exec(sql) ??
    /^ALTER SCHEMA "([^"]+)" OWNER/.exec(sql) ??
    /^ALTER TABLE "([^"]+"\."[^"]+)" OWNER/.exec(sql);
  if (!m) return undefined;
  const what = sql.startsWith("CREATE USER")
    ? "user"
    : sql.startsWith("CREATE GROUP")
      ? "group"
      : sql.startsWith("CREATE SCHEMA")
        ? "schema"
        : sql.startsWith("ALTER SCHEMA")
          ? "schema owner"
          : "owner of";
  return `${what} ${m[1].replace('"."', ".")}`;
}

export async function runBootstrap(settings: BootstrapSettings, ports: BootstrapPorts): Promise<BootstrapReport> {
  const log = ports.log ?? (() => undefined);
  let adminCount = 0;
  const adminChanges: string[] = [];

  if (settings.mode !== "existing") {
    if (!ports.admin) throw new Error(`bootstrap: a ${settings.mode} warehouse needs the admin session`);
    let login: LoaderLogin = { type: "iam" };
    if (settings.login === "password") {
      if (!ports.loaderSecret) throw new Error("bootstrap: password login needs the loader secret");
      const { password, generated } = await ports.loaderSecret.passwordFor(settings.loaderUser);
      login = { type: "password", md5: md5PasswordHash(password, settings.loaderUser), generated };
    }
    const catalog = parseAdminCatalog(await ports.admin.query(catalogQuery(settings)));
    const statements = adminStatements(settings, login, catalog);
    await ports.admin.batch(statements, "bootstrap:admin");
    adminCount = statements.length;
    for (const s of statements) {
      const change = describeAdminStatement(s);
      if (change) adminChanges.push(change);
    }
    log("admin part done", { statements: adminCount, changes: adminChanges });
  }

  const owner = parseOwnerCatalog(settings, await ports.owner.query(ownerCatalogQuery(settings)));
  checkOwner(settings, owner);
  const createdTables: string[] = [];
  for (const [i, batch] of ownerTableBatches(settings, settings.tables, owner.dataTables).entries()) {
    await ports.owner.batch(batch, `bootstrap:tables:${i + 1}`);
    for (const sql of batch) createdTables.push(/^CREATE TABLE IF NOT EXISTS "[^"]+"\."([^"]+)"/.exec(sql)![1]);
  }

  let applied = new Set<number>();
  if (!owner.migrationsTableExists) {
    await ports.owner.batch([migrationsTableStatement(settings)], "bootstrap:migrations-table");
  } else {
    applied = new Set((await ports.owner.query(appliedMigrationsQuery(settings))).map(([v]) => Number(v)));
  }
  const appliedMigrations: number[] = [];
  for (const { migration, sqls } of migrationBatches(settings, settings.migrations, applied)) {
    await ports.owner.batch(sqls, `bootstrap:migration:${migration.version}`);
    appliedMigrations.push(migration.version);
    log("metadata migration applied", { version: migration.version, name: migration.name });
  }
  await ports.owner.batch(ownerGrantStatements(settings), "bootstrap:grants");

  const report = { loaderUser: owner.currentUser, adminStatements: adminCount, adminChanges, createdTables, appliedMigrations };
  log("bootstrap done", { ...report });
  return report;
}
