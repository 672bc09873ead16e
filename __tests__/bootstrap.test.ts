/**
 * The bootstrap (handlers/bootstrap) against a Data API fake that keeps a catalog and enforces Redshift's ownership
 * and superuser rules (helpers/catalog-data-api.ts): the exact SQL, who runs it, idempotency, the existing-warehouse
 * path and its refusals.
 */
import { createHash } from "node:crypto";
import { GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { dataApiSession, generatePassword, secretsManagerLoaderSecret } from "../handlers/bootstrap/adapters";
import { runBootstrap, type BootstrapSettings } from "../handlers/bootstrap/bootstrap";
import { readBootstrapEnvironment } from "../handlers/bootstrap/config";
import { METADATA_MIGRATIONS, type MetadataMigration } from "../handlers/bootstrap/migrations";
import { replaceViewStatements } from "../schemas/migrations";
import { BootstrapError, md5PasswordHash, operatorGrants } from "../handlers/bootstrap/sql";
import { CatalogDataApi } from "./helpers/catalog-data-api";

const ADMIN_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:admin-AbCdEf";
const LOADER_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cs-mirror-warehouse-loader-AbCdEf";
const CLUSTER = { ClusterIdentifier: "cs-mirror-warehouse", Database: "controlshift" };
const WORKGROUP = { WorkgroupName: "cs-mirror-warehouse", Database: "controlshift" };
const noSleep = async () => undefined;

const settings = (over: Partial<BootstrapSettings> = {}): BootstrapSettings => ({
  mode: "cluster",
  login: "iam",
  loaderUser: "controlshift_loader",
  readerGroup: "controlshift_readers",
  dataSchema: "controlshift",
  metadataSchema: "controlshift_mirror_meta",
  tables: ["petitions", "signatures"],
  migrations: METADATA_MIGRATIONS,
  ...over,
});

function clusterPorts(api: CatalogDataApi) {
  return {
    admin: dataApiSession({ client: api.client, target: { ...CLUSTER, SecretArn: ADMIN_SECRET }, sleep: noSleep }),
    owner: dataApiSession({ client: api.client, target: { ...CLUSTER, DbUser: "controlshift_loader" }, sleep: noSleep }),
  };
}

const ADMIN_GRANTS = [
  'GRANT USAGE ON SCHEMA "controlshift" TO GROUP "controlshift_readers"',
  'ALTER DEFAULT PRIVILEGES FOR USER "controlshift_loader" IN SCHEMA "controlshift" GRANT SELECT ON TABLES TO GROUP "controlshift_readers"',
  'GRANT USAGE ON SCHEMA "controlshift_mirror_meta" TO GROUP "controlshift_readers"',
  'ALTER DEFAULT PRIVILEGES FOR USER "controlshift_loader" IN SCHEMA "controlshift_mirror_meta" GRANT SELECT ON TABLES TO GROUP "controlshift_readers"',
];
const OWNER_GRANTS = [
  'GRANT SELECT ON ALL TABLES IN SCHEMA "controlshift" TO GROUP "controlshift_readers"',
  'GRANT SELECT ON ALL TABLES IN SCHEMA "controlshift_mirror_meta" TO GROUP "controlshift_readers"',
];

describe("bootstrap on the stack's cluster", () => {
  let api: CatalogDataApi;
  beforeEach(() => {
    api = new CatalogDataApi({ [ADMIN_SECRET]: "admin" });
  });
  afterEach(() => api.restore());

  test("the admin creates the user, group and schemas; the loader user creates the tables and the metadata", async () => {
    const report = await runBootstrap(settings(), clusterPorts(api));

    const changes = api.changes;
    expect(changes[0]).toEqual({
      user: "admin",
      sqls: [
        'CREATE USER "controlshift_loader" PASSWORD DISABLE',
        'CREATE GROUP "controlshift_readers"',
        'CREATE SCHEMA IF NOT EXISTS "controlshift" AUTHORIZATION "controlshift_loader"',
        'CREATE SCHEMA IF NOT EXISTS "controlshift_mirror_meta" AUTHORIZATION "controlshift_loader"',
        ...ADMIN_GRANTS,
      ],
    });
    // Everything else runs as the loader user, through temporary credentials for it (DbUser).
    expect(changes.slice(1).every((c) => c.user === "controlshift_loader")).toBe(true);
    expect(api.fake.targets.filter((t) => t.SecretArn === undefined).every((t) => t.DbUser === "controlshift_loader")).toBe(true);
    expect(api.fake.targets.filter((t) => t.DbUser === undefined).map((t) => t.SecretArn)).toEqual([ADMIN_SECRET, ADMIN_SECRET]);
    expect(changes[1].sqls.map((s) => s.split(" (")[0])).toEqual([
      'CREATE TABLE IF NOT EXISTS "controlshift"."petitions"',
      'CREATE TABLE IF NOT EXISTS "controlshift"."signatures"',
    ]);
    expect(changes[2].sqls[0]).toMatch(/^CREATE TABLE IF NOT EXISTS "controlshift_mirror_meta"\."schema_migrations" \(/);
    expect(changes[3].sqls.at(-1)).toBe(
      `INSERT INTO "controlshift_mirror_meta"."schema_migrations" (version, name) VALUES (1, 'load ledger, load failures, table freshness')`,
    );
    expect(changes[4].sqls).toEqual([
      'ALTER TABLE "controlshift_mirror_meta"."load_ledger" ADD COLUMN values_at_limit BIGINT DEFAULT 0',
      `INSERT INTO "controlshift_mirror_meta"."schema_migrations" (version, name) VALUES (2, 'load ledger: values_at_limit')`,
    ]);
    expect(changes[5].sqls).toEqual(OWNER_GRANTS);

    // The loader owns everything it may later ALTER or replace, and is no superuser.
    expect(api.state.users.get("controlshift_loader")).toEqual({ superuser: false });
    expect(api.state.schemas.get("controlshift")).toBe("controlshift_loader");
    for (const [name, r] of api.state.relations) expect([name, r.owner]).toEqual([name, "controlshift_loader"]);
    expect([...api.state.relations.keys()].sort()).toEqual([
      "controlshift.petitions",
      "controlshift.signatures",
      "controlshift_mirror_meta.load_failures",
      "controlshift_mirror_meta.load_ledger",
      "controlshift_mirror_meta.schema_migrations",
      "controlshift_mirror_meta.table_freshness",
    ]);
    expect(report).toEqual({
      loaderUser: "controlshift_loader",
      adminStatements: 8,
      adminChanges: ["user controlshift_loader", "group controlshift_readers", "schema controlshift", "schema controlshift_mirror_meta"],
      createdTables: ["petitions", "signatures"],
      appliedMigrations: METADATA_MIGRATIONS.map((m) => m.version),
    });
  });

  test("a second run creates nothing: only the grants run again", async () => {
    await runBootstrap(settings(), clusterPorts(api));
    const before = structuredClone(api.state);
    const callsBefore = api.changes.length;
    const report = await runBootstrap(settings(), clusterPorts(api));

    expect(api.changes.slice(callsBefore)).toEqual([
      { user: "admin", sqls: ADMIN_GRANTS },
      { user: "controlshift_loader", sqls: OWNER_GRANTS },
    ]);
    expect({ ...api.state, grants: [] }).toEqual({ ...before, grants: [] });
    expect(report).toEqual({ loaderUser: "controlshift_loader", adminStatements: 4, adminChanges: [], createdTables: [], appliedMigrations: [] });
  });

  test("a table added to the config is created by the next run, and only it", async () => {
    await runBootstrap(settings(), clusterPorts(api));
    const n = api.changes.length;
    const report = await runBootstrap(settings({ tables: ["petitions", "signatures", "members"] }), clusterPorts(api));
    expect(report.createdTables).toEqual(["members"]);
    expect(api.changes.slice(n)[1].sqls).toHaveLength(1);
    expect(api.state.relations.get("controlshift.members")).toEqual({ owner: "controlshift_loader", kind: "table" });
  });

  test("a new metadata migration is applied by the next run, alone, as the loader user, with its record", async () => {
    await runBootstrap(settings(), clusterPorts(api));
    const n = api.changes.length;
    const next = METADATA_MIGRATIONS.at(-1)!.version + 1;
    const v2: MetadataMigration = {
      version: next,
      name: "freshness view with another column set",
      statements: (schema) => replaceViewStatements(schema, "table_freshness", "SELECT 1 AS table_name"),
    };
    const report = await runBootstrap(settings({ migrations: [...METADATA_MIGRATIONS, v2] }), clusterPorts(api));
    expect(report.appliedMigrations).toEqual([next]);
    expect(api.changes.slice(n).find((c) => c.sqls.includes('DROP VIEW IF EXISTS "controlshift_mirror_meta"."table_freshness"'))).toEqual({
      user: "controlshift_loader",
      sqls: [
        'DROP VIEW IF EXISTS "controlshift_mirror_meta"."table_freshness"',
        'CREATE VIEW "controlshift_mirror_meta"."table_freshness" AS\nSELECT 1 AS table_name',
        `INSERT INTO "controlshift_mirror_meta"."schema_migrations" (version, name) VALUES (${next}, 'freshness view with another column set')`,
      ],
    });
    expect(api.state.migrations.map((m) => m.version)).toEqual([...METADATA_MIGRATIONS.map((m) => m.version), next]);
    expect(api.state.relations.get("controlshift_mirror_meta.table_freshness")).toEqual({ owner: "controlshift_loader", kind: "view" });
  });

  test("objects an earlier admin loader created are handed to the loader user", async () => {
    api.state.schemas.set("controlshift", "admin");
    api.state.relations.set("controlshift.signatures", { owner: "admin", kind: "table" });
    await runBootstrap(settings(), clusterPorts(api));
    expect(api.changes[0].sqls.slice(0, 5)).toEqual([
      'CREATE USER "controlshift_loader" PASSWORD DISABLE',
      'CREATE GROUP "controlshift_readers"',
      'ALTER SCHEMA "controlshift" OWNER TO "controlshift_loader"',
      'CREATE SCHEMA IF NOT EXISTS "controlshift_mirror_meta" AUTHORIZATION "controlshift_loader"',
      'ALTER TABLE "controlshift"."signatures" OWNER TO "controlshift_loader"',
    ]);
    expect(api.state.relations.get("controlshift.signatures")?.owner).toBe("controlshift_loader");
  });

  test("a loader user that is a superuser is refused before anything runs", async () => {
    api.state.users.set("controlshift_loader", { superuser: true });
    await expect(runBootstrap(settings(), clusterPorts(api))).rejects.toThrow(
      new BootstrapError(
        "database user controlshift_loader is a superuser: the loaders must not be. Use another name or ALTER USER controlshift_loader NOCREATEUSER",
      ),
    );
    expect(api.changes).toEqual([]);
  });

  test("a failing batch names the statement that FAILED, not the ones ABORTED after it, and changes nothing", async () => {
    api.state.groups.set("controlshift_readers", new Set());
    // The catalog query is answered, then the group is made to look missing: CREATE GROUP fails as a duplicate.
    const session = clusterPorts(api);
    const realQuery = session.admin.query.bind(session.admin);
    session.admin.query = async (sql) => (await realQuery(sql)).filter((row) => row[0] !== "group");
    await expect(runBootstrap(settings(), session)).rejects.toThrow(
      'bootstrap: bootstrap:admin failed: group "controlshift_readers" already exists (in: CREATE GROUP "controlshift_readers")',
    );
    expect(api.state.users.has("controlshift_loader")).toBe(false);
  });
});

describe("bootstrap on Serverless: the loader logs in with a generated password kept in the loader secret", () => {
  test("the first run stores the password, then creates the user with its md5 hash; the next run reads it back", async () => {
    const sm = mockClient(SecretsManagerClient);
    let stored: string | undefined;
    sm.on(GetSecretValueCommand).callsFake(() => {
      if (stored === undefined) throw new ResourceNotFoundException({ message: "no AWSCURRENT", $metadata: {} });
      return { SecretString: stored };
    });
    sm.on(PutSecretValueCommand).callsFake((input: { SecretString: string }) => {
      stored = input.SecretString;
      return {};
    });
    const api = new CatalogDataApi({ [ADMIN_SECRET]: "admin", [LOADER_SECRET]: "controlshift_loader" });
    try {
      const ports = () => ({
        admin: dataApiSession({ client: api.client, target: { ...WORKGROUP, SecretArn: ADMIN_SECRET }, sleep: noSleep }),
        owner: dataApiSession({ client: api.client, target: { ...WORKGROUP, SecretArn: LOADER_SECRET }, sleep: noSleep }),
        loaderSecret: secretsManagerLoaderSecret(new SecretsManagerClient({ region: "us-east-1" }), LOADER_SECRET, () => "Password1FromTheTest"),
      });
      const report = await runBootstrap(settings({ mode: "serverless", login: "password" }), ports());
      const hash = `md5${createHash("md5").update("Password1FromTheTestcontrolshift_loader").digest("hex")}`;
      expect(JSON.parse(stored!)).toEqual({ username: "controlshift_loader", password: "Password1FromTheTest" });
      expect(api.changes[0].sqls[0]).toBe(`CREATE USER "controlshift_loader" PASSWORD '${hash}'`);
      expect(api.state.users.get("controlshift_loader")?.password).toBe(hash);
      // The report (the invocation's result, in Terraform's state) holds no password and no hash.
      expect(JSON.stringify(report)).not.toMatch(/md5|Password1/);

      // A second run reads the password back and sends no statement with a hash: only the grants.
      const before = api.changes.length;
      await runBootstrap(settings({ mode: "serverless", login: "password" }), ports());
      expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
      expect(api.changes.slice(before)[0].sqls).toEqual(ADMIN_GRANTS);
      expect(api.state.users.get("controlshift_loader")?.password).toBe(hash);

      // The secret lost its value while the user exists: a new password, stored first, then given to the user.
      stored = undefined;
      const third = secretsManagerLoaderSecret(new SecretsManagerClient({ region: "us-east-1" }), LOADER_SECRET, () => "Another2Password");
      await runBootstrap(settings({ mode: "serverless", login: "password" }), { ...ports(), loaderSecret: third });
      const newHash = `md5${createHash("md5").update("Another2Passwordcontrolshift_loader").digest("hex")}`;
      expect(JSON.parse(stored!).password).toBe("Another2Password");
      expect(api.changes.find((c) => c.sqls[0].startsWith("ALTER USER"))!.sqls[0]).toBe(`ALTER USER "controlshift_loader" PASSWORD '${newHash}'`);
      expect(api.state.users.get("controlshift_loader")?.password).toBe(newHash);
    } finally {
      api.restore();
      sm.restore();
    }
  });

  test("generated passwords meet Redshift's rules", () => {
    for (let i = 0; i < 50; i++) {
      const p = generatePassword();
      expect(p).toMatch(/^[A-Za-z0-9]{43}$/);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[a-z]/);
      expect(p).toMatch(/[0-9]/);
    }
  });
});

describe("bootstrap on an existing warehouse: no admin, the operator's grants", () => {
  let api: CatalogDataApi;
  beforeEach(() => {
    api = new CatalogDataApi({ [ADMIN_SECRET]: "admin", [LOADER_SECRET]: "controlshift_loader" });
  });
  afterEach(() => api.restore());
  const owner = () => dataApiSession({ client: api.client, target: { ...CLUSTER, SecretArn: LOADER_SECRET }, sleep: noSleep });

  test("before the grants ran, it stops with the message that points at them", async () => {
    api.state.users.set("controlshift_loader", { superuser: false });
    await expect(runBootstrap(settings({ mode: "existing", login: "password" }), { owner: owner() })).rejects.toThrow(
      "schema controlshift does not exist: run the grants for the loader user controlshift_loader (see help: Existing warehouse: the grants to run once)",
    );
    expect(api.changes).toEqual([]);
  });

  test("after the operator ran the generated grants, it creates the tables and metadata as the loader user", async () => {
    // What help prints, run by the operator as a superuser (the password's text is theirs).
    const grants = operatorGrants(settings(), { type: "password", placeholder: "" }).map((s) =>
      s.replace(/PASSWORD ''/, `PASSWORD 'md5${"0".repeat(32)}'`),
    );
    await dataApiSession({ client: api.client, target: { ...CLUSTER, SecretArn: ADMIN_SECRET }, sleep: noSleep }).batch(grants, "operator");
    const report = await runBootstrap(settings({ mode: "existing", login: "password" }), { owner: owner() });
    expect(report.createdTables).toEqual(["petitions", "signatures"]);
    expect(report.adminStatements).toBe(0);
    expect(api.changes.slice(1).every((c) => c.user === "controlshift_loader")).toBe(true);
  });

  test("a loader secret that logs in as a superuser is refused", async () => {
    api.secrets[LOADER_SECRET] = "admin";
    await expect(runBootstrap(settings({ mode: "existing", login: "password" }), { owner: owner() })).rejects.toThrow(
      "the loaders' database user admin is a superuser: loaders must not hold admin credentials.",
    );
  });
});

describe("the bootstrap's environment", () => {
  const base = {
    WAREHOUSE_MODE: "cluster",
    LOADER_DB_USER: "controlshift_loader",
    READER_GROUP: "controlshift_readers",
    DATA_SCHEMA: "controlshift",
    METADATA_SCHEMA: "controlshift_mirror_meta",
    TABLES: "petitions,signatures",
    WAREHOUSE_DATABASE: "controlshift",
    WAREHOUSE_CLUSTER_ID: "cs-mirror-warehouse",
    WAREHOUSE_DB_USER: "controlshift_loader",
    ADMIN_SECRET_ARN: ADMIN_SECRET,
    POWERTOOLS_SERVICE_NAME: "cs-mirror-bootstrap",
  };

  test("a cluster: the admin by its secret, the loader user by temporary credentials", () => {
    const env = readBootstrapEnvironment(base);
    expect(env.admin).toEqual({ ...CLUSTER, SecretArn: ADMIN_SECRET });
    expect(env.owner).toEqual({ ...CLUSTER, DbUser: "controlshift_loader" });
    expect(env.settings.login).toBe("iam");
  });

  test("every problem at once", () => {
    expect(() =>
      readBootstrapEnvironment({ ...base, WAREHOUSE_MODE: "existing", TABLES: "petitions,nope", WAREHOUSE_DB_USER: "" }),
    ).toThrow(
      "bootstrap: bad environment: TABLES names tables this bundle does not know: nope; exactly one of WAREHOUSE_SECRET_ARN (the loader secret) and " +
        "WAREHOUSE_DB_USER (IAM credentials) must be set; ADMIN_SECRET_ARN is set for an existing warehouse: the stack never holds its admin credentials",
    );
  });
});

describe("the password hash", () => {
  test("is Redshift's documented md5 form: md5 of the password followed by the user name, prefixed with md5", () => {
    // CREATE USER's own example: password ez, user user1 -> 'md5153c434b4b77c89e6b94f12c5393af5b'.
    expect(md5PasswordHash("ez", "user1")).toBe("md5153c434b4b77c89e6b94f12c5393af5b");
  });
});
