/**
 * The bootstrap Lambda's entry (handlers/bootstrap/index.ts) as Terraform's aws_lambda_invocation runs it: a cold
 * start with the environment modules/bootstrap.ts sets, against the catalog-keeping Data API fake and a mocked
 * Secrets Manager.
 */
import type * as DataApiSdk from "@aws-sdk/client-redshift-data";
import type * as SecretsManagerSdk from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { CatalogDataApi } from "./helpers/catalog-data-api";
import { captureOutput, coldStart } from "./helpers/lambda-entry";

const ADMIN_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:admin-AbCdEf";
const LOADER_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cs-mirror/warehouse-loader-AbCdEf";
const ENV = {
  WAREHOUSE_MODE: "serverless",
  LOADER_DB_USER: "controlshift_loader",
  READER_GROUP: "controlshift_readers",
  DATA_SCHEMA: "controlshift",
  METADATA_SCHEMA: "controlshift_mirror_meta",
  TABLES: "petitions,signatures",
  WAREHOUSE_DATABASE: "controlshift",
  WAREHOUSE_WORKGROUP: "cs-mirror-warehouse",
  WAREHOUSE_SECRET_ARN: LOADER_SECRET,
  ADMIN_SECRET_ARN: ADMIN_SECRET,
  POWERTOOLS_SERVICE_NAME: "cs-mirror-bootstrap",
  AWS_REGION: "us-east-1",
};
const savedEnv = { ...process.env };
afterAll(() => {
  process.env = savedEnv;
});

function start() {
  return coldStart(ENV, () => ({
    dataApi: require("@aws-sdk/client-redshift-data") as typeof DataApiSdk,
    secrets: require("@aws-sdk/client-secrets-manager") as typeof SecretsManagerSdk,
    handler: require("../handlers/bootstrap/index").handler as (event: unknown) => Promise<unknown>,
  }));
}

describe("bootstrap entry", () => {
  it("sets up the warehouse, stores the loader password once, returns names and counts, and logs each part", async () => {
    const { dataApi, secrets, handler } = start();
    const api = new CatalogDataApi({ [ADMIN_SECRET]: "admin", [LOADER_SECRET]: "controlshift_loader" }, "admin", dataApi);
    const sm = mockClient(secrets.SecretsManagerClient);
    let stored: string | undefined;
    sm.on(secrets.GetSecretValueCommand).callsFake(() => {
      if (stored === undefined) throw new secrets.ResourceNotFoundException({ message: "no AWSCURRENT version", $metadata: {} });
      return { SecretString: stored };
    });
    sm.on(secrets.PutSecretValueCommand).callsFake((input: { SecretString: string }) => {
      stored = input.SecretString;
      return {};
    });
    try {
      const { result, lines } = await captureOutput(() => handler({ trigger: { tables: "x", ddl: "y", code: "z" } }));
      expect(result).toEqual({
        loaderUser: "controlshift_loader",
        adminStatements: 8,
        adminChanges: ["user controlshift_loader", "group controlshift_readers", "schema controlshift", "schema controlshift_mirror_meta"],
        createdTables: ["petitions", "signatures"],
        appliedMigrations: [1, 2],
      });
      expect(JSON.parse(stored!).username).toBe("controlshift_loader");
      expect(lines.map((l) => l.message)).toEqual(["bootstrap started", "admin part done", "metadata migration applied", "metadata migration applied", "bootstrap done"]);
      expect(lines[0].input).toEqual({ trigger: { tables: "x", ddl: "y", code: "z" } });
      // Nothing it logs holds the password or its hash.
      expect(JSON.stringify(lines)).not.toContain(JSON.parse(stored!).password);
      expect(JSON.stringify(lines)).not.toMatch(/md5[0-9a-f]{32}/);

      const again = await captureOutput(() => handler({}));
      // Only the grants again: the stored password is read back, and no statement carries its hash.
      expect(again.result).toMatchObject({ adminStatements: 4, adminChanges: [], createdTables: [], appliedMigrations: [] });
      expect(sm.commandCalls(secrets.PutSecretValueCommand)).toHaveLength(1);
    } finally {
      api.restore();
      sm.restore();
    }
  });

  it("fails the invocation with the error, logged with its help pointer", async () => {
    const { dataApi, secrets, handler } = start();
    const api = new CatalogDataApi({ [ADMIN_SECRET]: "admin", [LOADER_SECRET]: "controlshift_loader" }, "admin", dataApi);
    api.state.users.set("controlshift_loader", { superuser: true });
    const sm = mockClient(secrets.SecretsManagerClient);
    sm.on(secrets.GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: "controlshift_loader", password: "Abc123456789" }) });
    try {
      let thrown: unknown;
      const { lines } = await captureOutput(() => handler({}).catch((err) => (thrown = err)));
      expect((thrown as Error).name).toBe("BootstrapError");
      expect(lines.at(-1)).toMatchObject({ level: "ERROR", message: "bootstrap failed", help: "see help: BootstrapError" });
    } finally {
      api.restore();
      sm.restore();
    }
  });

  it("fails the cold start naming every bad variable", () => {
    expect(() => coldStart({ ...ENV, TABLES: "", ADMIN_SECRET_ARN: undefined }, () => require("../handlers/bootstrap/index"))).toThrow(
      "bootstrap: bad environment: TABLES is not set: expected the configured tables, comma-separated; ADMIN_SECRET_ARN is not set (needed with a serverless warehouse)",
    );
  });
});
