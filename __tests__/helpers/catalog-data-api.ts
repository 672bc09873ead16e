/**
 * The Redshift catalog the bootstrap works on, simulated over the one Data API fake: a small CATALOG (users, groups, schemas and relations with
 * their owners, the metadata migrations table) and applies the bootstrap's statements to it with Redshift's rules
 * where the bootstrap relies on them:
 * - CREATE USER, CREATE GROUP, ALTER SCHEMA ... OWNER, ALTER TABLE ... OWNER, ALTER DEFAULT PRIVILEGES FOR USER
 *   need a superuser; CREATE USER and CREATE GROUP fail when the name exists (no IF NOT EXISTS in Redshift);
 * - a relation created in a schema needs its owner (or a superuser) and is owned by the session's user;
 * - a batch is one transaction: a failing statement leaves the catalog as it was, the failing sub-statement is
 *   FAILED and the ones after it ABORTED;
 * - the session's user comes from the target: DbUser (temporary credentials for that user, which must exist), or
 *   the SecretArn's user (`secrets`).
 * Statements finish at the first DescribeStatement; the fake keeps every call for exact assertions.
 */
import * as DataApiSdk from "@aws-sdk/client-redshift-data";
import type { Field } from "@aws-sdk/client-redshift-data";
import { FakeDataApi, type Fate, type FakeSqlExtension, type FakeStatement, type FakeTarget } from "./data-api-fake";

export interface CatalogState {
  users: Map<string, { superuser: boolean; password?: string }>;
  groups: Map<string, Set<string>>;
  schemas: Map<string, string>;
  /** `schema.name` -> owner and kind. */
  relations: Map<string, { owner: string; kind: "table" | "view" }>;
  migrations: { version: number; name: string }[];
  /** Statements that changed privileges, in order (GRANT, ALTER DEFAULT PRIVILEGES). */
  grants: string[];
}

/**
 * The catalog simulation as an extension of the one Data API fake (helpers/data-api-fake.ts): the fake keeps the
 * Data API's behaviour (ids, statuses, SubStatements, limits, targets), this keeps the catalog.
 */
export class CatalogDataApi implements FakeSqlExtension {
  readonly fake: FakeDataApi;
  readonly client: DataApiSdk.RedshiftDataClient;
  state: CatalogState;

  constructor(
    /** SecretArn -> the database user it logs in as. */
    readonly secrets: Record<string, string>,
    admin = "admin",
    /** The SDK module the code under test uses (a cold-started entry has its own module registry). */
    sdk: typeof DataApiSdk = DataApiSdk,
  ) {
    this.fake = new FakeDataApi(sdk);
    this.fake.extensions.push(this);
    this.client = new sdk.RedshiftDataClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
    this.state = {
      users: new Map([[admin, { superuser: true }]]),
      groups: new Map(),
      schemas: new Map([["public", admin]]),
      relations: new Map(),
      migrations: [],
      grants: [],
    };
  }

  restore(): void {
    this.fake.restore();
  }

  /** The statements that ran and changed something (not the catalog queries), each with the user that ran it. */
  get changes(): { user: string; sqls: string[] }[] {
    return this.fake.statements
      .filter((st) => st.applied && !/^\s*SELECT/.test(st.sqls[0] ?? ""))
      .map((st) => ({ user: this.userOf(st.target)!, sqls: st.sqls }));
  }

  /** The database user a target logs in as; undefined when it cannot log in. */
  private userOf(target: FakeTarget): string | undefined {
    // Temporary credentials for DbUser: without AutoCreate, the user must exist, or the connection fails.
    if (target.DbUser !== undefined) return this.state.users.has(target.DbUser) ? target.DbUser : undefined;
    return target.SecretArn !== undefined ? this.secrets[target.SecretArn] : undefined;
  }

  /** Runs the statements on a copy of the catalog: the copy and each statement's rows, or the failing statement. */
  private simulate(target: FakeTarget, sqls: readonly string[]): { state: CatalogState; rows: Field[][][] } | { failedAt: number; error: string } {
    const user = this.userOf(target);
    if (user === undefined) {
      return { failedAt: 1, error: `FATAL: user "${target.DbUser ?? target.SecretArn}" does not exist or cannot log in` };
    }
    const copy = structuredClone(this.state);
    const rows: Field[][][] = [];
    for (let i = 0; i < sqls.length; i++) {
      try {
        rows.push(this.applyOne(copy, user, sqls[i]));
      } catch (err) {
        return { failedAt: i + 1, error: (err as Error).message };
      }
    }
    return { state: copy, rows };
  }

  submit(statement: { readonly sqls: readonly string[]; readonly target: FakeTarget }): Fate | undefined {
    const out = this.simulate(statement.target, statement.sqls);
    return "error" in out ? { statuses: ["FAILED"], error: out.error, failedStatement: out.failedAt } : undefined;
  }

  apply(statement: FakeStatement): void {
    const out = this.simulate(statement.target, statement.sqls);
    if ("error" in out) throw new Error(`the catalog changed between submission and completion: ${out.error}`);
    this.state = out.state;
    if (statement.type === "execute") statement.records = out.rows[0];
    else out.rows.forEach((rows, i) => statement.subRecords.set(i + 1, rows));
  }

  private applyOne(s: CatalogState, user: string, sql: string): Field[][] {
    const superuser = s.users.get(user)?.superuser === true;
    const needSuper = (what: string) => {
      if (!superuser) throw new Error(`permission denied: ${what} needs a superuser (${user} is not)`);
    };
    const str = (v: string): Field => ({ stringValue: v });
    let m: RegExpExecArray | null;
    if (/^SELECT 'user' AS kind/.test(sql)) {
      const name = /usename = '([^']+)'/.exec(sql)![1];
      const group = /groname = '([^']+)'/.exec(sql)![1];
      const schemas = [...sql.matchAll(/IN \('([^']+)', '([^']+)'\)/g)][0].slice(1);
      const rows: Field[][] = [];
      const u = s.users.get(name);
      if (u) rows.push([str("user"), str(name), str(u.superuser ? "superuser" : "")]);
      if (s.groups.has(group)) rows.push([str("group"), str(group), str("")]);
      for (const sc of schemas) if (s.schemas.has(sc)) rows.push([str("schema"), str(sc), str(s.schemas.get(sc)!)]);
      for (const [q, r] of s.relations) if (schemas.includes(q.split(".")[0])) rows.push([str("relation"), str(q), str(r.owner)]);
      return rows;
    }
    if (/^SELECT 'me' AS kind/.test(sql)) {
      const schemas = [...sql.matchAll(/IN \('([^']+)', '([^']+)'\)/g)][0].slice(1);
      const rows: Field[][] = [[str("me"), str(user), str(superuser ? "superuser" : "")]];
      for (const sc of schemas) if (s.schemas.has(sc)) rows.push([str("schema"), str(sc), str(s.schemas.get(sc)!)]);
      for (const [q, r] of s.relations) if (r.kind === "table" && schemas.includes(q.split(".")[0])) rows.push([str("table"), str(q), str("")]);
      return rows;
    }
    if ((m = /^SELECT version FROM "([^"]+)"\."schema_migrations"/.exec(sql))) {
      return s.migrations.map((x) => [{ longValue: x.version }]);
    }
    if ((m = /^CREATE USER "([^"]+)" PASSWORD (DISABLE|'(md5[0-9a-f]{32})')$/.exec(sql))) {
      needSuper("CREATE USER");
      if (s.users.has(m[1])) throw new Error(`user "${m[1]}" already exists`);
      s.users.set(m[1], { superuser: false, ...(m[3] ? { password: m[3] } : {}) });
      return [];
    }
    if ((m = /^ALTER USER "([^"]+)" PASSWORD '(md5[0-9a-f]{32})'$/.exec(sql))) {
      needSuper("ALTER USER PASSWORD");
      const u = s.users.get(m[1]);
      if (!u) throw new Error(`user "${m[1]}" does not exist`);
      u.password = m[2];
      return [];
    }
    if ((m = /^CREATE GROUP "([^"]+)"$/.exec(sql))) {
      needSuper("CREATE GROUP");
      if (s.groups.has(m[1])) throw new Error(`group "${m[1]}" already exists`);
      s.groups.set(m[1], new Set());
      return [];
    }
    if ((m = /^CREATE SCHEMA IF NOT EXISTS "([^"]+)" AUTHORIZATION "([^"]+)"$/.exec(sql))) {
      needSuper("CREATE SCHEMA AUTHORIZATION");
      if (!s.users.has(m[2])) throw new Error(`user "${m[2]}" does not exist`);
      if (!s.schemas.has(m[1])) s.schemas.set(m[1], m[2]);
      return [];
    }
    if ((m = /^ALTER SCHEMA "([^"]+)" OWNER TO "([^"]+)"$/.exec(sql))) {
      needSuper("ALTER SCHEMA OWNER");
      if (!s.schemas.has(m[1])) throw new Error(`schema "${m[1]}" does not exist`);
      s.schemas.set(m[1], m[2]);
      return [];
    }
    if ((m = /^ALTER TABLE "([^"]+)"\."([^"]+)" OWNER TO "([^"]+)"$/.exec(sql))) {
      needSuper("ALTER TABLE OWNER");
      const r = s.relations.get(`${m[1]}.${m[2]}`);
      if (!r) throw new Error(`relation "${m[1]}.${m[2]}" does not exist`);
      r.owner = m[3];
      return [];
    }
    if ((m = /^ALTER TABLE "([^"]+)"\."([^"]+)" ADD COLUMN [a-z_]+ /.exec(sql))) {
      // Redshift: ALTER TABLE needs the table's owner (or a superuser).
      const r = s.relations.get(`${m[1]}.${m[2]}`);
      if (!r) throw new Error(`relation "${m[1]}.${m[2]}" does not exist`);
      if (r.owner !== user && !superuser) throw new Error(`must be owner of relation ${m[2]}`);
      return [];
    }
    if ((m = /^GRANT USAGE ON SCHEMA "([^"]+)" TO GROUP "([^"]+)"$/.exec(sql))) {
      if (!superuser && s.schemas.get(m[1]) !== user) throw new Error(`permission denied for schema ${m[1]}`);
      if (!s.groups.has(m[2])) throw new Error(`group "${m[2]}" does not exist`);
      s.grants.push(sql);
      return [];
    }
    if ((m = /^ALTER DEFAULT PRIVILEGES FOR USER "([^"]+)" IN SCHEMA "([^"]+)" GRANT SELECT ON TABLES TO GROUP "([^"]+)"$/.exec(sql))) {
      if (!superuser && m[1] !== user) throw new Error("permission denied: only a superuser can set default privileges for other users");
      s.grants.push(sql);
      return [];
    }
    if ((m = /^GRANT SELECT ON ALL TABLES IN SCHEMA "([^"]+)" TO GROUP "([^"]+)"$/.exec(sql))) {
      if (!s.groups.has(m[2])) throw new Error(`group "${m[2]}" does not exist`);
      for (const [q, r] of s.relations) {
        if (q.startsWith(`${m[1]}.`) && r.owner !== user && !superuser) throw new Error(`permission denied for relation ${q}`);
      }
      s.grants.push(sql);
      return [];
    }
    if ((m = /^DROP VIEW IF EXISTS "([^"]+)"\."([^"]+)"$/.exec(sql))) {
      const existing = s.relations.get(`${m[1]}.${m[2]}`);
      if (existing && existing.owner !== user && !superuser) throw new Error(`must be owner of relation ${m[2]}`);
      s.relations.delete(`${m[1]}.${m[2]}`);
      return [];
    }
    if ((m = /^CREATE VIEW "([^"]+)"\."([^"]+)" AS/.exec(sql))) {
      if (!s.schemas.has(m[1])) throw new Error(`schema "${m[1]}" does not exist`);
      if (!superuser && s.schemas.get(m[1]) !== user) throw new Error(`permission denied for schema ${m[1]}`);
      if (s.relations.has(`${m[1]}.${m[2]}`)) throw new Error(`relation "${m[2]}" already exists`);
      s.relations.set(`${m[1]}.${m[2]}`, { owner: user, kind: "view" });
      return [];
    }
    if ((m = /^CREATE (TABLE IF NOT EXISTS|OR REPLACE VIEW) "([^"]+)"\."([^"]+)"/.exec(sql))) {
      const [schema, name] = [m[2], m[3]];
      if (!s.schemas.has(schema)) throw new Error(`schema "${schema}" does not exist`);
      if (!superuser && s.schemas.get(schema) !== user) throw new Error(`permission denied for schema ${schema}`);
      const existing = s.relations.get(`${schema}.${name}`);
      if (existing && m[1] === "OR REPLACE VIEW" && existing.owner !== user && !superuser) {
        throw new Error(`must be owner of relation ${name}`);
      }
      if (!existing) s.relations.set(`${schema}.${name}`, { owner: user, kind: m[1].startsWith("TABLE") ? "table" : "view" });
      return [];
    }
    if ((m = /^INSERT INTO "([^"]+)"\."schema_migrations" \(version, name\) VALUES \((\d+), '((?:[^']|'')*)'\)$/.exec(sql))) {
      if (!s.relations.has(`${m[1]}.schema_migrations`)) throw new Error("relation schema_migrations does not exist");
      s.migrations.push({ version: Number(m[2]), name: m[3].replace(/''/g, "'") });
      return [];
    }
    throw new Error(`the fake does not know this statement: ${sql.slice(0, 120)}`);
  }
}
