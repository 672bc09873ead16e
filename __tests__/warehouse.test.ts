import { createTestApp, synthesizeInMemory } from "../modules/app";
import { MirrorConfigInput, resolveConfig } from "../modules/config";
import { HandlerBundles } from "../modules/handler-bundles";
import { MirrorFunction } from "../modules/mirror-function";
import { MirrorStack } from "../modules/mirror-stack";
import { WAREHOUSE_ENV } from "../facts/environment";
import { dataApiGrant } from "../modules/warehouse";
import { arnField } from "../modules/warehouse-existing";
import { Json, dataOf, fixtureBundleDir, refTarget, resourceAt, resourcesOf, walkStrings, FEW_TABLES } from "./helpers/synth";
import { STATEMENT_OWNER_SCOPED_ACTIONS, allViolations, secretValueViolations, wildcardViolations } from "./stack-invariants";

const office = { cidr: "203.0.113.7/32", description: "Berlin office" };
const EXISTING_CLUSTER_IAM: MirrorConfigInput = {
  warehouse: { mode: "existing", existing: { clusterIdentifier: "analytics", database: "reporting", auth: { type: "iam", dbUser: "cs_loader" } } },
};
const EXISTING_WORKGROUP_SECRET: MirrorConfigInput = {
  warehouse: {
    mode: "existing",
    existing: {
      workgroupName: "analytics",
      workgroupId: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
      database: "reporting",
      auth: { type: "secret", secretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:reporting-loader-AbCdEf" },
      copyRoleArn: "arn:aws:iam::123456789012:role/analytics-copy",
    },
  },
};
const EXISTING_WORKGROUP_IAM: MirrorConfigInput = {
  warehouse: {
    mode: "existing",
    existing: { workgroupName: "analytics", workgroupId: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", database: "reporting", auth: { type: "iam" } },
  },
};

/**
 * Synthesizes the stack with one extra function that uses the warehouse grant (as the loaders will), so the
 * grant's policy and variables can be read from the JSON and checked against the invariants.
 */
function synthWithProbe(input: MirrorConfigInput = {}): { tf: Json; stack: MirrorStack } {
  const config = resolveConfig({ tables: FEW_TABLES, ...input });
  const stack = new MirrorStack(createTestApp(), "test", { config, bundleDir: fixtureBundleDir() });
  const bundles = new HandlerBundles(stack, "probe-bundles", { directory: fixtureBundleDir() });
  const probe = new MirrorFunction(stack, "probe", {
    functionName: `${config.prefix}-probe`,
    description: "Uses the warehouse grant",
    bundle: bundles.get("loader"),
    memoryMiB: 256,
    timeoutSeconds: 60,
    logRetentionDays: 30,
    metricsNamespace: "ControlShiftMirror/test",
    grants: [stack.warehouse.grantDataApi()],
  });
  // Like every function of the stack (invariant alarmViolations).
  stack.alerts.alarmOnErrors("probe", probe, 1);
  return { tf: JSON.parse(synthesizeInMemory(stack)), stack };
}

const probeStatements = (tf: Json): Json[] => {
  const policy = resourceAt(tf, "aws_iam_role_policy", "probe/role-policy");
  return tf.data.aws_iam_policy_document[refTarget(policy.policy).split(".")[1]].statement.slice(1); // without its own logs
};
const probeEnv = (tf: Json): Record<string, string> => {
  const vars = { ...resourceAt(tf, "aws_lambda_function", "probe/function").environment.variables };
  for (const k of ["POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "NODE_OPTIONS"]) delete vars[k];
  return vars;
};
const docOf = (tf: Json, prefix: string): Json[] => {
  const found = dataOf(tf, "aws_iam_policy_document").filter(([n]) => n.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one policy document ${prefix}*, found ${found.length}`);
  return found[0][1].statement;
};

const FOLLOW_OWN = {
  sid: "FollowOwnStatements",
  effect: "Allow",
  actions: ["redshift-data:DescribeStatement", "redshift-data:GetStatementResult", "redshift-data:CancelStatement"],
  resources: ["*"],
  condition: [{ test: "StringEquals", variable: "redshift-data:statement-owner-iam-userid", values: ["&{aws:userid}"] }],
};

/** Invariants over any warehouse stack: what the issue asks the JSON to show. */
function warehouseViolations(tf: Json, allowPublicInternet = false): string[] {
  const out: string[] = [];
  for (const [name, rule] of resourcesOf(tf, "aws_vpc_security_group_ingress_rule")) {
    if (!allowPublicInternet && (rule.cidr_ipv4 === "0.0.0.0/0" || rule.cidr_ipv6 === "::/0")) out.push(`${name}: ingress from the internet`);
    if (!rule.description) out.push(`${name}: no description`);
  }
  for (const [name, sg] of resourcesOf(tf, "aws_security_group")) if (sg.ingress) out.push(`${name}: inline ingress`);
  for (const [name, c] of resourcesOf(tf, "aws_redshift_cluster")) {
    if (c.encrypted !== true) out.push(`${name}: not encrypted`);
    if (c.manage_master_password !== true) out.push(`${name}: password not managed by Redshift`);
    const pg = resourcesOf(tf, "aws_redshift_parameter_group").find(([n]) => refTarget(c.cluster_parameter_group_name) === `aws_redshift_parameter_group.${n}`);
    if (!pg?.[1].parameter.some((p: Json) => p.name === "require_ssl" && p.value === "true")) out.push(`${name}: SSL not required`);
  }
  for (const [name, ns] of resourcesOf(tf, "aws_redshiftserverless_namespace")) {
    if (ns.manage_admin_password !== true) out.push(`${name}: password not managed by Redshift`);
  }
  for (const [name, wg] of resourcesOf(tf, "aws_redshiftserverless_workgroup")) {
    if (!wg.config_parameter.some((p: Json) => p.parameter_key === "require_ssl" && p.parameter_value === "true")) out.push(`${name}: SSL not required`);
  }
  // The COPY role reads the exports bucket's exports/ (and lists it) and the loaders' manifests/: nothing else.
  for (const [name, role] of resourcesOf(tf, "aws_iam_role").filter(([n]) => n.includes("copy-role"))) {
    const trust = tf.data.aws_iam_policy_document[refTarget(role.assume_role_policy).split(".")[1]].statement;
    const principals = trust.flatMap((s: Json) => s.principals.flatMap((p: Json) => p.identifiers));
    if (!principals.every((p: string) => p === "redshift.amazonaws.com" || p === "redshift-serverless.amazonaws.com")) out.push(`${name}: trusts ${principals}`);
    const policies = resourcesOf(tf, "aws_iam_role_policy").filter(([, p]) => refTarget(p.role) === `aws_iam_role.${name}`);
    for (const [, p] of policies) {
      for (const s of tf.data.aws_iam_policy_document[refTarget(p.policy).split(".")[1]].statement) {
        const ok =
          (s.actions.join() === "s3:GetObject" && s.resources.every((r: string) => /^\$\{aws_s3_bucket\.exports_bucket_[A-F0-9]+\.arn\}\/(exports|manifests)\/\*$/.test(r))) ||
          (s.actions.join() === "s3:ListBucket" && s.resources.every((r: string) => /^\$\{aws_s3_bucket\.exports_bucket_[A-F0-9]+\.arn\}$/.test(r)));
        if (!ok) out.push(`${name}: ${s.actions} on ${s.resources}`);
      }
    }
  }
  return [...out, ...secretValueViolations(tf), ...wildcardViolations(tf)];
}

describe("provisioned cluster (default mode)", () => {
  let tf: Json;
  beforeAll(() => {
    tf = synthWithProbe().tf;
  });

  it("holds every stack invariant and every warehouse invariant, with the grant in use", () => {
    expect(allViolations(tf, "cs-mirror")).toEqual([]);
    expect(warehouseViolations(tf)).toEqual([]);
  });

  it("is a small encrypted single-node cluster with a Redshift-managed admin password and no password attribute", () => {
    const cluster = resourceAt(tf, "aws_redshift_cluster", "warehouse/cluster");
    expect(cluster).toMatchObject({
      cluster_identifier: "cs-mirror-warehouse",
      node_type: "ra3.large",
      cluster_type: "single-node",
      number_of_nodes: 1,
      database_name: "controlshift",
      master_username: "admin",
      manage_master_password: true,
      encrypted: true,
      port: 5439,
      publicly_accessible: false,
      enhanced_vpc_routing: false,
      automated_snapshot_retention_period: 7,
      skip_final_snapshot: false,
      final_snapshot_identifier: "cs-mirror-warehouse-final",
    });
    expect(cluster).not.toHaveProperty("master_password");
    expect(cluster).not.toHaveProperty("master_password_wo");
  });

  it("requires SSL through its own parameter group", () => {
    const pg = resourceAt(tf, "aws_redshift_parameter_group", "warehouse/parameter-group");
    expect(pg).toMatchObject({ name: "cs-mirror-warehouse", family: "redshift-1.0" });
    expect(pg.parameter).toContainEqual({ name: "require_ssl", value: "true" });
  });

  it("attaches the COPY role, as the default IAM role too", () => {
    const cluster = resourceAt(tf, "aws_redshift_cluster", "warehouse/cluster");
    const roleRef = `\${aws_iam_role.${resourcesOf(tf, "aws_iam_role").find(([n]) => n.startsWith("warehouse_copy-role"))![0]}.arn}`;
    expect(cluster.iam_roles).toEqual([roleRef]);
    expect(cluster.default_iam_role_arn).toBe(roleRef);
  });

  it("has a COPY role trusted by Redshift only, reading only exports/ and manifests/ of the exports bucket", () => {
    expect(docOf(tf, "warehouse_copy-role_trust")).toEqual([
      { effect: "Allow", actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["redshift.amazonaws.com"] }] },
    ]);
    const statements = docOf(tf, "warehouse_copy-role_policy");
    expect(statements.map((s) => [s.actions, s.resources.map((r: string) => r.replace(/_[A-F0-9]{8}/, ""))])).toEqual([
      [["s3:GetObject"], ["${aws_s3_bucket.exports_bucket.arn}/exports/*"]],
      [["s3:ListBucket"], ["${aws_s3_bucket.exports_bucket.arn}"]],
      [["s3:GetObject"], ["${aws_s3_bucket.exports_bucket.arn}/manifests/*"]],
    ]);
    expect(statements[1].condition).toEqual([{ test: "StringLike", variable: "s3:prefix", values: ["exports/*"] }]);
    expect(resourceAt(tf, "aws_iam_role", "warehouse/copy-role").name).toBe("cs-mirror-copy");
  });

  it("grants a function exactly the Data API on this cluster, its own statements, and temporary credentials for the loader user only", () => {
    const clusterName = resourcesOf(tf, "aws_redshift_cluster")[0][0];
    const arn = `aws_redshift_cluster.${clusterName}.arn`;
    expect(probeStatements(tf)).toEqual([
      {
        sid: "RunStatementsOnWarehouse",
        effect: "Allow",
        actions: ["redshift-data:ExecuteStatement", "redshift-data:BatchExecuteStatement"],
        resources: [`\${${arn}}`],
      },
      FOLLOW_OWN,
      {
        sid: "GetWarehouseCredentials",
        effect: "Allow",
        actions: ["redshift:GetClusterCredentials"],
        resources: [
          `\${replace(${arn}, ":cluster:cs-mirror-warehouse", ":dbuser:cs-mirror-warehouse")}/controlshift_loader`,
          `\${replace(${arn}, ":cluster:cs-mirror-warehouse", ":dbname:cs-mirror-warehouse")}/controlshift`,
        ],
      },
    ]);
  });

  it("tells the function where the warehouse is, and as whom", () => {
    const roleName = resourcesOf(tf, "aws_iam_role").find(([n]) => n.startsWith("warehouse_copy-role"))![0];
    expect(probeEnv(tf)).toEqual({
      WAREHOUSE_CLUSTER_ID: "cs-mirror-warehouse",
      WAREHOUSE_DATABASE: "controlshift",
      WAREHOUSE_DB_USER: "controlshift_loader",
      COPY_ROLE_ARN: `\${aws_iam_role.${roleName}.arn}`,
    });
  });

  it("outputs endpoint, port, database, the admin secret's ARN (not its value) and the COPY role", () => {
    const clusterName = resourcesOf(tf, "aws_redshift_cluster")[0][0];
    expect(tf.output.warehouse_endpoint.value).toBe(`\${aws_redshift_cluster.${clusterName}.dns_name}`);
    expect(tf.output.warehouse_port.value).toBe(5439);
    expect(tf.output.warehouse_database.value).toBe("controlshift");
    expect(tf.output.warehouse_admin_secret_arn.value).toBe(`\${aws_redshift_cluster.${clusterName}.master_password_secret_arn}`);
    expect(tf.output.copy_role_arn.value).toMatch(/^\$\{aws_iam_role\.warehouse_copy-role_[A-F0-9]+\.arn\}$/);
  });

  it("writes audit logs by default", () => {
    expect(resourceAt(tf, "aws_redshift_logging", "warehouse/audit-logging").log_exports).toEqual(["connectionlog", "userlog", "useractivitylog"]);
    expect(resourceAt(tf, "aws_redshift_parameter_group", "warehouse/parameter-group").parameter).toContainEqual({
      name: "enable_user_activity_logging",
      value: "true",
    });
  });

  it("writes no audit logs when the config opts out (and synth warns, see config tests)", () => {
    const { tf: off } = synthWithProbe({ warehouse: { auditLogging: false } });
    expect(resourcesOf(off, "aws_redshift_logging")).toEqual([]);
    expect(resourceAt(off, "aws_redshift_parameter_group", "warehouse/parameter-group").parameter).toContainEqual({
      name: "enable_user_activity_logging",
      value: "false",
    });
  });
});

describe("provisioned cluster, config branches", () => {
  it("sizes the cluster from the config: multi-node, node type, snapshots, port, database, admin name", () => {
    const { tf } = synthWithProbe({
      warehouse: { nodeType: "ra3.xlplus", numberOfNodes: 3, snapshotRetentionDays: 35, port: 5440, database: "mirror", adminUsername: "owner" },
    });
    expect(resourceAt(tf, "aws_redshift_cluster", "warehouse/cluster")).toMatchObject({
      node_type: "ra3.xlplus",
      cluster_type: "multi-node",
      number_of_nodes: 3,
      automated_snapshot_retention_period: 35,
      port: 5440,
      database_name: "mirror",
      master_username: "owner",
    });
    expect(probeEnv(tf).WAREHOUSE_DATABASE).toBe("mirror");
  });

  it("is publicly accessible exactly when the allow-list is non-empty", () => {
    const { tf } = synthWithProbe({ network: { allowedCidrs: [office] } });
    expect(resourceAt(tf, "aws_redshift_cluster", "warehouse/cluster").publicly_accessible).toBe(true);
    expect(warehouseViolations(tf)).toEqual([]);
  });

  it("exports audit logs to log groups it creates, with the stack's retention, and turns on user-activity logging", () => {
    const { tf } = synthWithProbe({ warehouse: { auditLogging: true }, logRetentionDays: 90 });
    const groups = resourcesOf(tf, "aws_cloudwatch_log_group").filter(([n]) => n.startsWith("warehouse_audit"));
    expect(groups.map(([, g]) => [g.name, g.retention_in_days])).toEqual([
      ["/aws/redshift/cluster/cs-mirror-warehouse/connectionlog", 90],
      ["/aws/redshift/cluster/cs-mirror-warehouse/useractivitylog", 90],
      ["/aws/redshift/cluster/cs-mirror-warehouse/userlog", 90],
    ]);
    const logging = resourceAt(tf, "aws_redshift_logging", "warehouse/audit-logging");
    expect(logging).toMatchObject({ log_destination_type: "cloudwatch", log_exports: ["connectionlog", "userlog", "useractivitylog"] });
    expect(logging.depends_on).toHaveLength(3);
    expect(resourceAt(tf, "aws_redshift_parameter_group", "warehouse/parameter-group").parameter).toContainEqual({
      name: "enable_user_activity_logging",
      value: "true",
    });
    expect(allViolations(tf, "cs-mirror")).toEqual([]);
  });
});

describe("Redshift Serverless", () => {
  let tf: Json;
  beforeAll(() => {
    tf = synthWithProbe({ warehouse: { mode: "serverless" } }).tf;
  });

  it("holds every stack invariant and every warehouse invariant, with the grant in use", () => {
    expect(allViolations(tf, "cs-mirror")).toEqual([]);
    expect(warehouseViolations(tf)).toEqual([]);
    expect(resourcesOf(tf, "aws_redshift_cluster")).toEqual([]);
  });

  it("has a namespace with a Redshift-managed admin password and the COPY role attached", () => {
    const ns = resourceAt(tf, "aws_redshiftserverless_namespace", "warehouse/namespace");
    const roleRef = `\${aws_iam_role.${resourcesOf(tf, "aws_iam_role").find(([n]) => n.startsWith("warehouse_copy-role"))![0]}.arn}`;
    expect(ns).toEqual({
      namespace_name: "cs-mirror-warehouse",
      db_name: "controlshift",
      admin_username: "admin",
      manage_admin_password: true,
      iam_roles: [roleRef],
      default_iam_role_arn: roleRef,
      log_exports: ["connectionlog", "userlog", "useractivitylog"],
    });
  });

  it("has a private workgroup of 8 RPUs on port 5439 that requires SSL", () => {
    const wg = resourceAt(tf, "aws_redshiftserverless_workgroup", "warehouse/workgroup");
    expect(wg).toMatchObject({ workgroup_name: "cs-mirror-warehouse", base_capacity: 8, port: 5439, publicly_accessible: false, enhanced_vpc_routing: false });
    expect(wg).not.toHaveProperty("max_capacity");
    expect(wg.config_parameter).toContainEqual({ parameter_key: "require_ssl", parameter_value: "true" });
    expect(refTarget(wg.security_group_ids[0])).toMatch(/^aws_security_group\.network_security-group_/);
  });

  it("has a COPY role trusted by Redshift and Redshift Serverless", () => {
    expect(docOf(tf, "warehouse_copy-role_trust")[0].principals).toEqual([
      { type: "Service", identifiers: ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"] },
    ]);
  });

  it("grants the Data API on this workgroup and the loader secret (never the admin's), and names the workgroup", () => {
    const wgName = resourcesOf(tf, "aws_redshiftserverless_workgroup")[0][0];
    const loaderSecret = `\${aws_secretsmanager_secret.${resourcesOf(tf, "aws_secretsmanager_secret").find(([n]) => n.startsWith("warehouse_loader-secret"))![0]}.arn}`;
    const statements = probeStatements(tf);
    expect(statements[0].resources).toEqual([`\${aws_redshiftserverless_workgroup.${wgName}.arn}`]);
    expect(statements[1]).toEqual(FOLLOW_OWN);
    expect(statements[2].resources).toEqual([loaderSecret]);
    expect(probeEnv(tf)).toMatchObject({
      WAREHOUSE_WORKGROUP: "cs-mirror-warehouse",
      WAREHOUSE_DATABASE: "controlshift",
      WAREHOUSE_SECRET_ARN: loaderSecret,
    });
    // Created empty: the bootstrap generates and stores the value, so it is never in Terraform's state.
    expect(resourceAt(tf, "aws_secretsmanager_secret", "warehouse/loader-secret").name).toBe("cs-mirror/warehouse-loader");
    expect(resourcesOf(tf, "aws_secretsmanager_secret_version")).toEqual([]);
    expect(probeEnv(tf)).not.toHaveProperty("WAREHOUSE_CLUSTER_ID");
  });

  it("outputs the workgroup's endpoint and the namespace's secret", () => {
    expect(tf.output.warehouse_endpoint.value).toMatch(/^\$\{aws_redshiftserverless_workgroup\.warehouse_workgroup_[A-F0-9]+\.endpoint\[0\]\.address\}$/);
    expect(tf.output.warehouse_admin_secret_arn.value).toMatch(/\.admin_password_secret_arn\}$/);
  });

  it("takes capacity, port, allow-list, audit logging and enhanced VPC routing from the config", () => {
    const { tf: custom } = synthWithProbe({
      network: { allowedCidrs: [office] },
      warehouse: { mode: "serverless", baseCapacity: 32, maxCapacity: 128, port: 5431, auditLogging: true, enhancedVpcRouting: true },
    });
    const wg = resourceAt(custom, "aws_redshiftserverless_workgroup", "warehouse/workgroup");
    expect(wg).toMatchObject({ base_capacity: 32, max_capacity: 128, port: 5431, publicly_accessible: true, enhanced_vpc_routing: true });
    expect(wg.config_parameter).toContainEqual({ parameter_key: "enable_user_activity_logging", parameter_value: "true" });
    expect(resourceAt(custom, "aws_redshiftserverless_namespace", "warehouse/namespace").log_exports).toEqual(["connectionlog", "userlog", "useractivitylog"]);
    expect(resourcesOf(custom, "aws_vpc_security_group_ingress_rule").map(([, r]) => [r.cidr_ipv4, r.from_port])).toEqual([["203.0.113.7/32", 5431]]);
    expect(warehouseViolations(custom)).toEqual([]);
  });
});

describe("existing warehouse", () => {
  it("creates no network or warehouse, only the COPY role (to attach) and the grant", () => {
    const { tf } = synthWithProbe(EXISTING_CLUSTER_IAM);
    for (const type of ["aws_vpc", "aws_security_group", "aws_redshift_cluster", "aws_redshift_parameter_group", "aws_redshiftserverless_namespace"]) {
      expect(resourcesOf(tf, type)).toEqual([]);
    }
    expect(resourceAt(tf, "aws_iam_role", "warehouse/copy-role").name).toBe("cs-mirror-copy");
    expect(docOf(tf, "warehouse_copy-role_trust")[0].principals[0].identifiers).toEqual(["redshift.amazonaws.com"]);
    expect(allViolations(tf, "cs-mirror")).toEqual([]);
    expect(warehouseViolations(tf)).toEqual([]);
  });

  it("with IAM auth on a cluster: credentials for the named user on the named database only, account from the COPY role", () => {
    const { tf } = synthWithProbe(EXISTING_CLUSTER_IAM);
    const role = resourcesOf(tf, "aws_iam_role").find(([n]) => n.startsWith("warehouse_copy-role"))![0];
    const part = (i: number) => `\${element(split(":", aws_iam_role.${role}.arn), ${i})}`;
    const redshift = `arn:${part(1)}:redshift:us-east-1:${part(4)}`;
    const statements = probeStatements(tf);
    expect(statements[0].resources).toEqual([`${redshift}:cluster:analytics`]);
    expect(statements[2]).toEqual({
      sid: "GetWarehouseCredentials",
      effect: "Allow",
      actions: ["redshift:GetClusterCredentials"],
      resources: [`${redshift}:dbuser:analytics/cs_loader`, `${redshift}:dbname:analytics/reporting`],
    });
    expect(probeEnv(tf)).toEqual({
      WAREHOUSE_CLUSTER_ID: "analytics",
      WAREHOUSE_DATABASE: "reporting",
      WAREHOUSE_DB_USER: "cs_loader",
      COPY_ROLE_ARN: `\${aws_iam_role.${role}.arn}`,
    });
  });

  it("with a given COPY role and a secret on a workgroup: literal ARNs, no role created", () => {
    const { tf } = synthWithProbe(EXISTING_WORKGROUP_SECRET);
    expect(resourcesOf(tf, "aws_iam_role").map(([n]) => n)).not.toContainEqual(expect.stringMatching(/copy-role/));
    const statements = probeStatements(tf);
    expect(statements[0].resources).toEqual(["arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"]);
    expect(statements[2]).toMatchObject({
      actions: ["secretsmanager:GetSecretValue"],
      resources: ["arn:aws:secretsmanager:us-east-1:123456789012:secret:reporting-loader-AbCdEf"],
    });
    expect(probeEnv(tf)).toEqual({
      WAREHOUSE_WORKGROUP: "analytics",
      WAREHOUSE_DATABASE: "reporting",
      WAREHOUSE_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:reporting-loader-AbCdEf",
      COPY_ROLE_ARN: "arn:aws:iam::123456789012:role/analytics-copy",
    });
    expect(Object.keys(tf.output).filter((k) => k.startsWith("warehouse") || k === "copy_role_arn").sort()).toEqual(["copy_role_arn", "warehouse_database", "warehouse_reader_group"]);
    expect(tf.output.copy_role_arn.value).toBe("arn:aws:iam::123456789012:role/analytics-copy");
  });

  it("refuses IAM auth on a workgroup: each loader's role would be its own database user", () => {
    expect(() => synthWithProbe(EXISTING_WORKGROUP_IAM)).toThrow(/must be \{ type: "secret", secretArn \} for a workgroup: with IAM, Redshift Serverless makes each loader's role its own database user/);
  });

  it("exposes typed attributes for the loaders", () => {
    const { stack } = synthWithProbe(EXISTING_CLUSTER_IAM);
    const w = stack.warehouse;
    expect([w.mode, w.clusterIdentifier, w.workgroupName, w.database, w.dbUser, w.secretArn, w.endpoint, w.adminSecretArn]).toEqual([
      "existing",
      "analytics",
      undefined,
      "reporting",
      "cs_loader",
      undefined,
      undefined,
      undefined,
    ]);
    expect(stack.network).toBeUndefined();
  });
});

describe("the Data API grant", () => {
  it("allows `*` only for the statement-owner-scoped actions, which the shared invariant lists", () => {
    const grant = dataApiGrant({
      target: { type: "cluster", clusterIdentifier: "c", arn: "arn:aws:redshift:us-east-1:123456789012:cluster:c" },
      database: "d",
      auth: { type: "secret", secretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf" },
      copyRoleArn: "arn:aws:iam::123456789012:role/r",
    });
    for (const s of grant.statements) {
      expect(s.actions.every((a) => !a.includes("*"))).toBe(true);
      if (s.resources.includes("*")) expect(s.actions.every((a) => STATEMENT_OWNER_SCOPED_ACTIONS.has(a))).toBe(true);
    }
    expect(grant.statements.filter((s) => s.resources.includes("*"))).toHaveLength(1);
    expect(Object.keys(grant.environment!)).toEqual([WAREHOUSE_ENV.clusterId, WAREHOUSE_ENV.database, WAREHOUSE_ENV.copyRoleArn, WAREHOUSE_ENV.secretArn]);
  });

  it("is caught by the invariant when a `*` resource slips into another statement", () => {
    const { tf } = synthWithProbe();
    const broken = JSON.parse(JSON.stringify(tf));
    const doc = refTarget(resourceAt(broken, "aws_iam_role_policy", "probe/role-policy").policy).split(".")[1];
    broken.data.aws_iam_policy_document[doc].statement[3].resources = ["*"];
    expect(wildcardViolations(broken)).toEqual([`${doc}: resource * for redshift:GetClusterCredentials`]);
  });

  it("reads the account and partition out of an ARN, at synth or at apply", () => {
    expect(arnField("arn:aws-us-gov:iam::123456789012:role/x", 1)).toBe("aws-us-gov");
    expect(arnField("arn:aws:iam::123456789012:role/x", 4)).toBe("123456789012");
  });
});

describe("no secret in the synthesized JSON, in any mode", () => {
  it.each([
    ["cluster", {}],
    ["public cluster with audit logs", { network: { allowedCidrs: [office] }, warehouse: { auditLogging: true } }],
    ["serverless", { warehouse: { mode: "serverless" } }],
    ["existing cluster", EXISTING_CLUSTER_IAM],
    ["existing workgroup", EXISTING_WORKGROUP_SECRET],
  ] as [string, MirrorConfigInput][])("%s", (_, input) => {
    const { tf } = synthWithProbe(input);
    expect(secretValueViolations(tf)).toEqual([]);
    const keys = [...walkStrings(tf)].map(([at]) => at);
    expect(keys.filter((k) => /password(_wo)?$|secret_string|secret_binary/.test(k) && !/secret_arn/.test(k))).toEqual([]);
    expect(tf.variable).toBeUndefined();
  });
});
