/**
 * The loader's environment (handlers/loader/config.ts): read once, every problem reported at once, naming the
 * variable; the warehouse variables as modules/warehouse.ts sets them.
 */
import { readLoaderEnvironment } from "../handlers/loader/config";
import { EnvironmentError } from "../handlers/shared/environment";

const BASE = {
  TABLE: "signatures",
  LOAD_KIND: "incremental",
  EXPORTS_BUCKET: "cs-mirror-exports",
  COPY_ROLE_ARN: "arn:aws:iam::123456789012:role/cs-mirror-copy",
  WAREHOUSE_DATABASE: "mirror",
  WAREHOUSE_CLUSTER_ID: "cs-mirror-warehouse",
  WAREHOUSE_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cs-mirror-admin-AbCdEf",
  POWERTOOLS_SERVICE_NAME: "cs-mirror-load-incremental-signatures",
  POWERTOOLS_METRICS_NAMESPACE: "ControlShiftMirror",
  DATA_SCHEMA: "controlshift",
  METADATA_SCHEMA: "controlshift_mirror_meta",
};

function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    readLoaderEnvironment(env);
  } catch (err) {
    expect(err).toBeInstanceOf(EnvironmentError);
    return (err as EnvironmentError).problems;
  }
  throw new Error("expected an EnvironmentError");
}

describe("loader environment", () => {
  it("reads a cluster with a secret", () => {
    expect(readLoaderEnvironment(BASE)).toEqual({
      table: "signatures",
      kind: "incremental",
      dataSchema: "controlshift",
      metadataSchema: "controlshift_mirror_meta",
      exportsBucket: "cs-mirror-exports",
      copyRoleArn: BASE.COPY_ROLE_ARN,
      target: {
        type: "cluster",
        clusterIdentifier: "cs-mirror-warehouse",
        database: "mirror",
        secretArn: BASE.WAREHOUSE_SECRET_ARN,
      },
      serviceName: "cs-mirror-load-incremental-signatures",
      metricsNamespace: "ControlShiftMirror",
    });
  });

  it("reads a cluster with a database user, and a workgroup with a secret or with IAM alone", () => {
    expect(readLoaderEnvironment({ ...BASE, WAREHOUSE_SECRET_ARN: undefined, WAREHOUSE_DB_USER: "loader" }).target).toEqual({
      type: "cluster",
      clusterIdentifier: "cs-mirror-warehouse",
      database: "mirror",
      dbUser: "loader",
    });
    const serverless = { ...BASE, WAREHOUSE_CLUSTER_ID: undefined, WAREHOUSE_WORKGROUP: "cs-mirror" };
    expect(readLoaderEnvironment(serverless).target).toEqual({
      type: "workgroup",
      workgroupName: "cs-mirror",
      database: "mirror",
      secretArn: BASE.WAREHOUSE_SECRET_ARN,
    });
    expect(readLoaderEnvironment({ ...serverless, WAREHOUSE_SECRET_ARN: "" }).target).toEqual({
      type: "workgroup",
      workgroupName: "cs-mirror",
      database: "mirror",
    });
  });

  it("takes other schema names", () => {
    const env = readLoaderEnvironment({ ...BASE, DATA_SCHEMA: "cs", METADATA_SCHEMA: "cs_meta", LOAD_KIND: "full" });
    expect(env).toMatchObject({ dataSchema: "cs", metadataSchema: "cs_meta", kind: "full" });
  });

  it("reports every missing variable at once", () => {
    expect(problemsOf({})).toEqual([
      "TABLE is not set: expected the ControlShift table this loader loads (e.g. signatures)",
      "LOAD_KIND is not set: expected full or incremental",
      "DATA_SCHEMA is not set: expected a schema name matching ^[a-z_][a-z0-9_]{0,126}$",
      "METADATA_SCHEMA is not set: expected a schema name matching ^[a-z_][a-z0-9_]{0,126}$",
      "EXPORTS_BUCKET is not set: expected the exports bucket's name",
      "COPY_ROLE_ARN is not set: expected the ARN of the IAM role the warehouse assumes for COPY",
      "WAREHOUSE_DATABASE is not set: expected the warehouse's database name",
      "exactly one of WAREHOUSE_CLUSTER_ID (a provisioned cluster) and WAREHOUSE_WORKGROUP (Redshift Serverless) must be set; neither is",
      "POWERTOOLS_SERVICE_NAME is not set: expected the service name on logs and metrics (the function name)",
      "POWERTOOLS_METRICS_NAMESPACE is not set: expected the CloudWatch namespace of the metrics (ControlShiftMirror/<prefix>)",
    ]);
  });

  it("names bad values and what is expected", () => {
    expect(
      problemsOf({
        ...BASE,
        TABLE: "Signatures; DROP",
        LOAD_KIND: "nightly",
        DATA_SCHEMA: "Bad-Schema",
        COPY_ROLE_ARN: "arn:aws:iam::123:user/x",
        WAREHOUSE_SECRET_ARN: "my-secret",
      }),
    ).toEqual([
      'TABLE is "Signatures; DROP": expected a table name matching ^[a-z][a-z0-9_]{0,62}$',
      'LOAD_KIND is "nightly": expected full or incremental',
      'DATA_SCHEMA is "Bad-Schema": expected a schema name matching ^[a-z_][a-z0-9_]{0,126}$',
      'COPY_ROLE_ARN is "arn:aws:iam::123:user/x": expected an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
      'WAREHOUSE_SECRET_ARN is "my-secret": expected a Secrets Manager secret ARN',
    ]);
  });

  it("refuses ambiguous or incomplete warehouse settings", () => {
    expect(problemsOf({ ...BASE, WAREHOUSE_WORKGROUP: "cs-mirror" })).toEqual([
      "exactly one of WAREHOUSE_CLUSTER_ID (a provisioned cluster) and WAREHOUSE_WORKGROUP (Redshift Serverless) must be set; both are",
    ]);
    expect(problemsOf({ ...BASE, WAREHOUSE_DB_USER: "loader" })).toEqual([
      "WAREHOUSE_SECRET_ARN and WAREHOUSE_DB_USER are both set: expected at most one (secret or IAM credentials)",
    ]);
    expect(problemsOf({ ...BASE, WAREHOUSE_SECRET_ARN: undefined })).toEqual([
      "WAREHOUSE_CLUSTER_ID is set without WAREHOUSE_SECRET_ARN or WAREHOUSE_DB_USER: a cluster needs one of them",
    ]);
    expect(
      problemsOf({ ...BASE, WAREHOUSE_CLUSTER_ID: undefined, WAREHOUSE_WORKGROUP: "cs-mirror", WAREHOUSE_SECRET_ARN: "", WAREHOUSE_DB_USER: "x" }),
    ).toEqual([
      "WAREHOUSE_DB_USER is set for a workgroup: Redshift Serverless derives the user from the IAM role; set WAREHOUSE_SECRET_ARN or neither",
    ]);
  });
});
