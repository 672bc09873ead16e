/**
 * The bootstrap in the synthesized stack: the only reader of the admin secret, the loaders' credentials for the
 * loader user only, the invocation that runs it at apply time, and what re-runs it.
 */
import { MirrorConfigInput } from "../modules/config";
import { bootstrapNames, bootstrapTriggers } from "../modules/bootstrap";
import { Json, FEW_TABLES, dataOf, refTarget, resourceAt, resourcesOf, synthStack } from "./helpers/synth";
import { allViolations } from "./stack-invariants";

/** Every statement of every function role's policy, with the function's name. */
function functionStatements(tf: Json): { fn: string; statement: Json }[] {
  const out: { fn: string; statement: Json }[] = [];
  const docs = Object.fromEntries(dataOf(tf, "aws_iam_policy_document"));
  for (const [, fn] of resourcesOf(tf, "aws_lambda_function")) {
    const role = refTarget(fn.role).split(".")[1];
    for (const [, policy] of resourcesOf(tf, "aws_iam_role_policy").filter(([, p]) => refTarget(p.role) === `aws_iam_role.${role}`)) {
      for (const statement of docs[refTarget(policy.policy).split(".")[1]].statement) out.push({ fn: fn.function_name, statement });
    }
  }
  return out;
}

const readersOf = (tf: Json, secretRef: string) =>
  functionStatements(tf)
    .filter(({ statement }) => statement.actions.includes("secretsmanager:GetSecretValue") && statement.resources.includes(secretRef))
    .map(({ fn }) => fn);

/** `${type.<logical name>.<attribute>}` of the one resource of a type. */
const ref = (tf: Json, type: string, attribute?: string) => {
  const found = resourcesOf(tf, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return attribute === undefined ? `${type}.${found[0][0]}` : `\${${type}.${found[0][0]}.${attribute}}`;
};

describe.each([
  ["cluster", {}, ["aws_redshift_cluster", "master_password_secret_arn"]],
  ["serverless", { warehouse: { mode: "serverless" } }, ["aws_redshiftserverless_namespace", "admin_password_secret_arn"]],
] as [string, MirrorConfigInput, [string, string]][])("%s: the admin secret", (_, input, [type, attribute]) => {
  const tf = synthStack({ tables: FEW_TABLES, ...input });
  const adminSecret = ref(tf, type, attribute);

  it("is readable by the bootstrap function only", () => {
    expect(tf.output.warehouse_admin_secret_arn.value).toBe(adminSecret);
    expect(readersOf(tf, adminSecret)).toEqual(["cs-mirror-bootstrap"]);
    expect(resourceAt(tf, "aws_lambda_function", "bootstrap/function").environment.variables.ADMIN_SECRET_ARN).toBe(adminSecret);
  });

  it("holds every stack invariant, the bootstrap's alarm included", () => {
    expect(allViolations(tf, "cs-mirror")).toEqual([]);
    expect(resourcesOf(tf, "aws_cloudwatch_metric_alarm").map(([, a]) => a.alarm_name)).toContain("cs-mirror-bootstrap-errors");
  });
});

describe("cluster: the loaders", () => {
  const tf = synthStack({ tables: FEW_TABLES });
  const cluster = `${ref(tf, "aws_redshift_cluster")}.arn`;
  const dbuser = `\${replace(${cluster}, ":cluster:cs-mirror-warehouse", ":dbuser:cs-mirror-warehouse")}/controlshift_loader`;
  const dbname = `\${replace(${cluster}, ":cluster:cs-mirror-warehouse", ":dbname:cs-mirror-warehouse")}/controlshift`;

  it("get temporary credentials for the loader user on the mirror's database, nothing else, and no secret", () => {
    const loaders = functionStatements(tf).filter(({ fn }) => fn.startsWith("cs-mirror-load-"));
    expect(new Set(loaders.map(({ fn }) => fn)).size).toBe(4);
    const credentials = loaders.filter(({ statement }) => statement.actions.includes("redshift:GetClusterCredentials"));
    expect(credentials).toHaveLength(4);
    for (const { statement } of credentials) {
      expect(statement).toEqual({
        sid: "GetWarehouseCredentials",
        effect: "Allow",
        actions: ["redshift:GetClusterCredentials"],
        resources: [dbuser, dbname],
      });
    }
    expect(loaders.filter(({ statement }) => statement.actions.some((a: string) => a.startsWith("secretsmanager:")))).toEqual([]);
    for (const [, fn] of resourcesOf(tf, "aws_lambda_function").filter(([, f]) => f.function_name.startsWith("cs-mirror-load-"))) {
      expect(fn.environment.variables.WAREHOUSE_DB_USER).toBe("controlshift_loader");
      expect(fn.environment.variables).not.toHaveProperty("WAREHOUSE_SECRET_ARN");
    }
  });

  it("no other function may get credentials as anyone but the loader user", () => {
    const all = functionStatements(tf).filter(({ statement }) => statement.actions.includes("redshift:GetClusterCredentials"));
    expect(new Set(all.flatMap(({ statement }) => statement.resources))).toEqual(new Set([dbuser, dbname]));
  });
});

describe("serverless: the loaders", () => {
  const tf = synthStack({ tables: FEW_TABLES, warehouse: { mode: "serverless" } });
  it("read the loader secret, which only the bootstrap may write", () => {
    const loaderSecret = `\${aws_secretsmanager_secret.${resourcesOf(tf, "aws_secretsmanager_secret").find(([n]) => n.startsWith("warehouse_loader-secret"))![0]}.arn}`;
    const all = functionStatements(tf);
    expect(readersOf(tf, loaderSecret).sort()).toEqual([
      "cs-mirror-bootstrap",
      "cs-mirror-load-full-petitions",
      "cs-mirror-load-full-signatures",
      "cs-mirror-load-incremental-petitions",
      "cs-mirror-load-incremental-signatures",
    ]);
    expect(all.filter(({ statement }) => statement.actions.includes("secretsmanager:PutSecretValue"))).toEqual([
      {
        fn: "cs-mirror-bootstrap",
        statement: { sid: "StoreLoaderPassword", effect: "Allow", actions: ["secretsmanager:PutSecretValue"], resources: [loaderSecret] },
      },
    ]);
  });
});

describe("the invocation", () => {
  const invocationOf = (tf: Json) => resourceAt(tf, "aws_lambda_invocation", "bootstrap/run");

  it("invokes the bootstrap after the warehouse exists, with trigger hashes only", () => {
    const tf = synthStack({ tables: FEW_TABLES });
    const invocation = invocationOf(tf);
    const fn = `aws_lambda_function.${resourcesOf(tf, "aws_lambda_function").find(([n]) => n.startsWith("bootstrap_function"))![0]}`;
    expect(invocation.function_name).toBe(`\${${fn}.function_name}`);
    expect(invocation).not.toHaveProperty("lifecycle_scope");
    expect(invocation.depends_on).toEqual([fn, ref(tf, "aws_redshift_cluster")]);
    const { warehouse, ...hashes } = invocation.triggers;
    expect(JSON.parse(invocation.input)).toEqual({ trigger: hashes });
    expect(Object.keys(hashes).sort()).toEqual(["code", "ddl", "tables"]);
    expect(Object.values(hashes).every((v) => /^[0-9a-f]{64}$|^[A-Za-z0-9+/=]{44}$/.test(v as string))).toBe(true);
    // A replaced cluster is empty: its new namespace ARN re-runs the bootstrap.
    expect(warehouse).toBe(`\${${ref(tf, "aws_redshift_cluster")}.cluster_namespace_arn}`);
  });

  it("re-runs on a new Serverless namespace, and names an existing warehouse by its identifiers", () => {
    const serverless = invocationOf(synthStack({ tables: FEW_TABLES, warehouse: { mode: "serverless" } }));
    expect(serverless.triggers.warehouse).toMatch(/^\$\{aws_redshiftserverless_namespace\.[^.]+\.namespace_id\}$/);
    const existing = invocationOf(
      synthStack({
        tables: FEW_TABLES,
        warehouse: { mode: "existing", existing: { clusterIdentifier: "analytics", database: "reporting", auth: { type: "iam", dbUser: "cs_loader" } } },
      }),
    );
    expect(existing.triggers.warehouse).toBe("cluster/analytics/reporting");
  });

  it("waits for the namespace and the workgroup on Serverless, and for nothing on an existing warehouse", () => {
    const serverless = synthStack({ tables: FEW_TABLES, warehouse: { mode: "serverless" } });
    const fn = (tf: Json) => `aws_lambda_function.${resourcesOf(tf, "aws_lambda_function").find(([n]) => n.startsWith("bootstrap_function"))![0]}`;
    expect(invocationOf(serverless).depends_on).toEqual([
      fn(serverless),
      ref(serverless, "aws_redshiftserverless_namespace"),
      ref(serverless, "aws_redshiftserverless_workgroup"),
    ]);
    const existing = synthStack({
      tables: FEW_TABLES,
      warehouse: { mode: "existing", existing: { clusterIdentifier: "analytics", database: "reporting", auth: { type: "iam", dbUser: "cs_loader" } } },
    });
    expect(invocationOf(existing).depends_on).toEqual([fn(existing)]);
    const env = resourceAt(existing, "aws_lambda_function", "bootstrap/function").environment.variables;
    expect(env).not.toHaveProperty("ADMIN_SECRET_ARN");
    expect(env).toMatchObject({ WAREHOUSE_MODE: "existing", WAREHOUSE_DB_USER: "cs_loader", LOADER_DB_USER: "cs_loader" });
  });

  it("changes its triggers when the table list changes, and only the ones it should", () => {
    const a = invocationOf(synthStack({ tables: FEW_TABLES })).triggers;
    const b = invocationOf(synthStack({ tables: [...FEW_TABLES, "members"] })).triggers;
    expect(b.tables).not.toBe(a.tables);
    expect(b.ddl).not.toBe(a.ddl);
    expect(b.code).toBe(a.code);
  });

  it("changes the DDL trigger when a schema name (so every statement) changes, and when the table DDL or migrations do", () => {
    const a = invocationOf(synthStack({ tables: FEW_TABLES })).triggers;
    const b = invocationOf(synthStack({ tables: FEW_TABLES, loaders: { dataSchema: "mirror" } })).triggers;
    expect(b.ddl).not.toBe(a.ddl);
    expect(b.tables).toBe(a.tables);
    // The same names and tables give the same hash; another DDL gives another.
    const names = bootstrapNames({ warehouse: { loaderUser: "controlshift_loader" } as never, dataSchema: "controlshift", metadataSchema: "meta" });
    expect(bootstrapTriggers(names, ["petitions"], "x")).toEqual(bootstrapTriggers(names, ["petitions"], "x"));
    expect(bootstrapTriggers(names, ["petitions"], "x").ddl).not.toBe(bootstrapTriggers({ ...names, readerGroup: "other" }, ["petitions"], "x").ddl);
  });
});
