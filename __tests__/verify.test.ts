/**
 * npm run verify (scripts/verify): the exact Data API calls against a mocked Data API (which answers what a
 * Redshift would: here, scripted per case, since no Redshift is reachable), and the PostgreSQL side on a real PGlite.
 */
import { ExecuteStatementCommand, GetStatementResultCommand, RedshiftDataClient, type Field } from "@aws-sdk/client-redshift-data";
import { dataApiVerifyWarehouse } from "../scripts/verify/aws";
import { EDGE_CASES } from "../scripts/verify/cases";
import { verifyEnvironment } from "../scripts/verify/main";
import { existingWarehouseGrants } from "../scripts/verify/grants";
import { resolveConfig } from "../modules/config";
import { ISOLATION_QUERY, formatReport, objectKeyOf, privilegesQuery, runVerify, type VerifySettings } from "../scripts/verify/verify";
import { FakeDataApi, type FakeSqlExtension } from "./helpers/data-api-fake";
import { startPglite, type TempPglite } from "./load-test-support";

const TARGET = { ClusterIdentifier: "cs-mirror-warehouse", Database: "controlshift", DbUser: "controlshift_loader" };
const SETTINGS: VerifySettings = {
  execute: false,
  exportsBucket: "cs-mirror-exports-123456789012",
  copyRoleArn: "arn:aws:iam::123456789012:role/cs-mirror-copy",
  database: "controlshift",
  dataSchema: "controlshift",
  metadataSchema: "controlshift_mirror_meta",
  runId: "20260101T000000000Z",
};
const s = (v: string): Field => ({ stringValue: v });
const NULL: Field = { isNull: true };

/** What the mocked warehouse answers per case: the row read back (id, v, bytes), or a COPY error. */
const REDSHIFT: Record<string, Field[] | { error: string }> = {
  quoted_empty: [s("1"), NULL, NULL],
  unquoted_empty: [s("2"), NULL, NULL],
  backslash_n: [s("3"), s("\\N"), s("2")],
  crlf: [s("4"), s("crlf"), s("4")],
  bom: [s("5"), s("bom"), s("3")],
  four_byte_utf8: [s("6"), s("\u{1F600}"), s("4")],
  too_long: [s("7"), s("abcdefgh"), s("8")],
};

/**
 * The one Data API fake, with what a Redshift answers to verify's statements (scripted per case: no Redshift is
 * reachable here; the point is what verify sends and how it reads the answers).
 */
function mockDataApi() {
  const fake = new FakeDataApi();
  const caseOf = (sqls: readonly string[]) => /"verify_([a-z0-9_]+)"/.exec(sqls[0])?.[1];
  const verifyAnswers: FakeSqlExtension = {
    submit({ type, sqls }) {
      const answer = type === "batch" ? REDSHIFT[caseOf(sqls) ?? ""] : undefined;
      return answer !== undefined && "error" in answer ? { statuses: ["FAILED"], error: answer.error, failedStatement: 2 } : undefined;
    },
    apply(statement) {
      if (statement.type === "execute" && statement.sqls[0] === ISOLATION_QUERY) statement.records = [[s("dev"), s("Serializable")], [s("controlshift"), s("Snapshot Isolation")]];
      else if (statement.type === "execute") {
        statement.records = [[s("user"), s("controlshift_loader")], [s("superuser"), s("no")], [s("CREATE on the database"), s("no")]];
      } else statement.subRecords.set(3, [REDSHIFT[caseOf(statement.sqls)!] as Field[]]);
    },
  };
  fake.extensions.push(verifyAnswers);
  const client = new RedshiftDataClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
  return { fake, client, batches: () => fake.batches() };
}

describe("npm run verify", () => {
  let pg: TempPglite;
  let api: ReturnType<typeof mockDataApi>;
  beforeAll(async () => {
    pg = await startPglite();
  });
  afterAll(async () => pg.close());
  beforeEach(() => {
    api = mockDataApi();
  });
  afterEach(() => api.fake.restore());
  const warehouse = () => dataApiVerifyWarehouse(api.client, TARGET, async () => undefined);

  test("dry by default: reads isolation and privileges, uploads nothing, runs no COPY; PGlite shows what the Postgres adapter does", async () => {
    const puts: string[] = [];
    const report = await runVerify(SETTINGS, {
      warehouse: warehouse(),
      objects: { put: async (k) => void puts.push(k), remove: async () => undefined },
      postgres: pg.driver,
    });
    expect(puts).toEqual([]);
    expect(api.batches()).toEqual([]);
    expect(api.fake.inputsOf(ExecuteStatementCommand)).toEqual([
      { ...TARGET, Sql: ISOLATION_QUERY },
      { ...TARGET, Sql: privilegesQuery("controlshift", "controlshift_mirror_meta", SETTINGS.copyRoleArn) },
    ]);
    expect(report.isolationLevel).toBe("Snapshot Isolation");
    // The PostgreSQL adapter's COPY options on PGlite, for real.
    expect(Object.fromEntries(report.cases.map((c) => [c.edgeCase.name, c.postgres]))).toEqual({
      quoted_empty: { kind: "value", value: "", bytes: 0 },
      unquoted_empty: { kind: "null" },
      backslash_n: { kind: "value", value: "\\N", bytes: 2 },
      crlf: { kind: "value", value: "crlf", bytes: 4 },
      bom: { kind: "value", value: "bom", bytes: 3 },
      four_byte_utf8: { kind: "value", value: "\u{1F600}", bytes: 4 },
      too_long: { kind: "error", message: "value too long for type character varying(8)" },
    });
    const text = formatReport(report);
    expect(text).toContain("Dry run: nothing was uploaded and no COPY ran.");
    expect(text).toContain("isolation level: Snapshot Isolation");
    expect(text).toContain("loader user: user: controlshift_loader; superuser: no; CREATE on the database: no");
  });

  test("with --execute: each case's file, the loaders' COPY into a TEMP table in one batch, its rows read by <id>:3, and the differences", async () => {
    const puts: string[] = [];
    const removed: string[] = [];
    const report = await runVerify(
      { ...SETTINGS, execute: true },
      {
        warehouse: warehouse(),
        objects: { put: async (k) => void puts.push(k), remove: async (k) => void removed.push(k) },
        postgres: pg.driver,
      },
    );
    expect(puts).toEqual(EDGE_CASES.map((c) => objectKeyOf(SETTINGS.runId, c)));
    expect(removed).toEqual(puts);
    expect(api.batches()[0]).toEqual({
      ...TARGET,
      StatementName: "controlshift-mirror:verify",
      Sqls: [
        'CREATE TEMP TABLE "verify_quoted_empty" ("id" INTEGER, "v" VARCHAR(8))',
        `COPY "verify_quoted_empty" ("id", "v") FROM 's3://cs-mirror-exports-123456789012/exports/verify/20260101T000000000Z/quoted_empty.csv' ` +
          "IAM_ROLE 'arn:aws:iam::123456789012:role/cs-mirror-copy' FORMAT AS CSV IGNOREHEADER 1 EMPTYASNULL TIMEFORMAT 'auto' TRUNCATECOLUMNS COMPUPDATE OFF",
        'SELECT "id", "v", OCTET_LENGTH("v") FROM "verify_quoted_empty" ORDER BY "id"',
      ],
    });
    const statementIds = api.fake.statements.map((st) => st.id);
    expect(api.fake.inputsOf(GetStatementResultCommand).map((input) => input.Id)).toEqual([
      statementIds[0],
      statementIds[1],
      ...statementIds.slice(2).map((id) => `${id}:3`),
    ]);
    const text = formatReport(report);
    expect(text).toContain("The PostgreSQL adapter differs from Redshift on:");
    expect(text).toContain('  a quoted empty string "": Redshift NULL, PostgreSQL "" (0 bytes)');
    expect(text).toContain('  a value longer than its column (10 bytes into VARCHAR(8)): Redshift "abcdefgh" (8 bytes), PostgreSQL error: value too long for type character varying(8)');
    expect(text).not.toContain("CRLF line endings: Redshift");
    expect(text.split("\n")[0]).toMatch(/^case +\| wanted +\| Redshift +\| PostgreSQL adapter \(PGlite\) +\| same$/);
  });

  test("a COPY that fails reports the failed statement's error, not the aborted one after it", async () => {
    REDSHIFT.too_long = { error: "Load into table 'verify_too_long' failed. Check 'stl_load_errors' system table for details." };
    try {
      const report = await runVerify({ ...SETTINGS, execute: true }, {
        warehouse: warehouse(),
        objects: { put: async () => undefined, remove: async () => undefined },
        postgres: pg.driver,
      });
      expect(report.cases.at(-1)!.redshift).toEqual({
        kind: "error",
        message: "Load into table 'verify_too_long' failed. Check 'stl_load_errors' system table for details.",
      });
    } finally {
      REDSHIFT.too_long = [s("7"), s("abcdefgh"), s("8")];
    }
  });

  test("asks for the loader user's rights, the COPY role's included, with documented functions", () => {
    const sql = privilegesQuery("controlshift", "controlshift_mirror_meta", SETTINGS.copyRoleArn);
    expect(sql).toContain("HAS_ASSUMEROLE_PRIVILEGE('arn:aws:iam::123456789012:role/cs-mirror-copy', 'copy')");
    expect(sql).toContain("HAS_SCHEMA_PRIVILEGE('controlshift_mirror_meta', 'create')");
    expect(sql.split("\nUNION ALL\n")).toHaveLength(9);
  });

  test("reads the loaders' own variables, and names every missing one", () => {
    expect(
      verifyEnvironment({
        WAREHOUSE_CLUSTER_ID: "cs-mirror-warehouse",
        WAREHOUSE_DATABASE: "controlshift",
        WAREHOUSE_DB_USER: "controlshift_loader",
        EXPORTS_BUCKET: "b",
        COPY_ROLE_ARN: "r",
      }),
    ).toEqual({ target: TARGET, exportsBucket: "b", copyRoleArn: "r", dataSchema: "controlshift", metadataSchema: "controlshift_mirror_meta" });
    expect(() => verifyEnvironment({})).toThrow(
      "verify: set WAREHOUSE_DATABASE, EXPORTS_BUCKET, COPY_ROLE_ARN, exactly one of WAREHOUSE_CLUSTER_ID and WAREHOUSE_WORKGROUP, " +
        "exactly one of WAREHOUSE_DB_USER and WAREHOUSE_SECRET_ARN (see npm run verify -- --help)",
    );
  });
});

describe("npm run verify -- --grants", () => {
  test("prints the bootstrap's admin part for an empty warehouse, with this config's loader user and schemas", () => {
    const config = resolveConfig({
      loaders: { dataSchema: "mirror", metadataSchema: "mirror_meta" },
      warehouse: { mode: "existing", existing: { clusterIdentifier: "analytics", database: "reporting", auth: { type: "iam", dbUser: "cs_loader" } } },
    });
    expect(existingWarehouseGrants(config)).toEqual([
      'CREATE USER "cs_loader" PASSWORD DISABLE;',
      'CREATE GROUP "controlshift_readers";',
      'CREATE SCHEMA IF NOT EXISTS "mirror" AUTHORIZATION "cs_loader";',
      'CREATE SCHEMA IF NOT EXISTS "mirror_meta" AUTHORIZATION "cs_loader";',
      'GRANT USAGE ON SCHEMA "mirror" TO GROUP "controlshift_readers";',
      'ALTER DEFAULT PRIVILEGES FOR USER "cs_loader" IN SCHEMA "mirror" GRANT SELECT ON TABLES TO GROUP "controlshift_readers";',
      'GRANT USAGE ON SCHEMA "mirror_meta" TO GROUP "controlshift_readers";',
      'ALTER DEFAULT PRIVILEGES FOR USER "cs_loader" IN SCHEMA "mirror_meta" GRANT SELECT ON TABLES TO GROUP "controlshift_readers";',
    ]);
  });

  test("with a loader secret, the user gets the secret's password", () => {
    const config = resolveConfig({
      warehouse: {
        mode: "existing",
        existing: {
          workgroupName: "analytics",
          workgroupId: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
          database: "reporting",
          auth: { type: "secret", secretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:loader-AbCdEf" },
        },
      },
    });
    expect(existingWarehouseGrants(config)[0]).toBe(`CREATE USER "controlshift_loader" PASSWORD '<the password in your loader secret>';`);
  });
});
