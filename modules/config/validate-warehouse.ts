/** warehouse: a provisioned cluster, a Redshift Serverless workgroup, or an existing warehouse to load into. */
import {
  CLUSTER_ID_PATTERN,
  DATABASE_NAME_PATTERN,
  DB_USER_PATTERN,
  IAM_ROLE_ARN_PATTERN,
  SECRET_ARN_PATTERN,
  WORKGROUP_NAME_PATTERN,
} from "../../facts/aws-names";
import type { Checker } from "./checker";
import type { ExistingWarehouseAuth, ExistingWarehouseConfig, MirrorConfig, WarehouseMode } from "./types";

/**
 * What a provisioned node type looks like (family.size: ra3.large, ra3.xlplus, ra3.4xlarge, dc2.8xlarge). A pattern,
 * not a list, so a node type AWS adds later is accepted; AWS checks that it exists at apply.
 */
export const REDSHIFT_NODE_TYPE_PATTERN = /^[a-z]{2,3}[0-9]?\.[0-9]{0,2}(large|xlarge|xlplus)$/;
/**
 * Node types that run only as multi-node clusters (2 nodes or more).
 * https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-clusters.html#rs-node-type-info
 */
export const MULTI_NODE_ONLY_NODE_TYPES: readonly string[] = ["ra3.16xlarge", "dc2.8xlarge"];

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Redshift Serverless accepts these ports only.
const SERVERLESS_PORTS = "5431 to 5455 or 8191 to 8215";
const isServerlessPort = (p: number) => (p >= 5431 && p <= 5455) || (p >= 8191 && p <= 8215);

export function checkWarehouse(c: Checker, config: MirrorConfig): void {
  const w = config.warehouse;
  const modes: readonly WarehouseMode[] = ["cluster", "serverless", "existing"];
  if (!modes.includes(w.mode)) c.add("warehouse.mode", w.mode, 'must be "cluster", "serverless" or "existing"');

  if (typeof w.database !== "string" || !DATABASE_NAME_PATTERN.test(w.database)) {
    c.add("warehouse.database", w.database, "must be 1 to 64 characters of a-z, 0-9 and _, not starting with a digit");
  }
  if (typeof w.adminUsername !== "string" || !DB_USER_PATTERN.test(w.adminUsername)) {
    c.add("warehouse.adminUsername", w.adminUsername, "must be 1 to 128 characters of a-z, 0-9 and _, not starting with a digit");
  }
  if (w.mode === "serverless") {
    if (typeof w.port !== "number" || !Number.isInteger(w.port) || !isServerlessPort(w.port)) {
      c.add("warehouse.port", w.port, `must be a port Redshift Serverless accepts: ${SERVERLESS_PORTS}`);
    }
  } else {
    c.integer("warehouse.port", w.port, 1150, 65535);
  }

  if (w.mode === "cluster") {
    if (typeof w.nodeType !== "string" || !REDSHIFT_NODE_TYPE_PATTERN.test(w.nodeType)) {
      c.add("warehouse.nodeType", w.nodeType, 'must be a Redshift node type such as "ra3.large", "ra3.xlplus", "ra3.4xlarge" or "ra3.16xlarge"');
    }
    c.integer("warehouse.numberOfNodes", w.numberOfNodes, 1, 128);
    if (w.numberOfNodes === 1 && MULTI_NODE_ONLY_NODE_TYPES.includes(w.nodeType)) {
      c.add("warehouse.numberOfNodes", w.numberOfNodes, `must be at least 2: ${w.nodeType} runs only as a multi-node cluster`);
    }
    c.integer("warehouse.snapshotRetentionDays", w.snapshotRetentionDays, 1, 35);
  }
  if (w.mode === "serverless") {
    const rpu = (field: string, value: unknown, min: number, max: number) => {
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max || value % 8 !== 0) {
        c.add(field, value, `must be a multiple of 8 RPUs from ${min} to ${max}`);
      }
    };
    rpu("warehouse.baseCapacity", w.baseCapacity, 8, 1024);
    if (w.maxCapacity !== undefined) {
      rpu("warehouse.maxCapacity", w.maxCapacity, typeof w.baseCapacity === "number" ? Math.max(8, w.baseCapacity) : 8, 5632);
    }
  }
  if (w.mode !== "existing") {
    c.boolean("warehouse.enhancedVpcRouting", w.enhancedVpcRouting);
    c.boolean("warehouse.auditLogging", w.auditLogging);
  }

  if (w.mode === "cluster" && typeof config.prefix === "string" && config.prefix.includes("--")) {
    c.add("prefix", config.prefix, 'must not contain "--" with warehouse.mode "cluster": the cluster identifier <prefix>-warehouse would be refused');
  }

  if (w.mode !== "existing") {
    if (w.existing !== undefined) c.add("warehouse.existing", w.existing, 'is used only with warehouse.mode "existing": remove it, or set the mode');
    return;
  }
  checkExistingWarehouse(c, config, w.existing);
}

export function checkExistingWarehouse(c: Checker, config: MirrorConfig, e: ExistingWarehouseConfig | undefined): void {
  if (typeof e !== "object" || e === null) {
    c.add(
      "warehouse.existing",
      e,
      'must name the warehouse with warehouse.mode "existing": { clusterIdentifier, database, auth } or { workgroupName, workgroupId, database, auth }',
    );
    return;
  }
  const cluster = e.clusterIdentifier !== undefined;
  const workgroup = e.workgroupName !== undefined;
  if (cluster === workgroup) {
    c.add(
      "warehouse.existing",
      { clusterIdentifier: e.clusterIdentifier, workgroupName: e.workgroupName },
      "must name exactly one of clusterIdentifier (a provisioned cluster) and workgroupName (a Redshift Serverless workgroup)",
    );
  }
  if (cluster && (typeof e.clusterIdentifier !== "string" || !CLUSTER_ID_PATTERN.test(e.clusterIdentifier) || e.clusterIdentifier.endsWith("-"))) {
    c.add("warehouse.existing.clusterIdentifier", e.clusterIdentifier, "must be a Redshift cluster identifier: 1 to 63 characters of a-z, 0-9 and -, starting with a letter, no -- and no trailing -");
  }
  if (workgroup) {
    if (typeof e.workgroupName !== "string" || !WORKGROUP_NAME_PATTERN.test(e.workgroupName)) {
      c.add("warehouse.existing.workgroupName", e.workgroupName, "must be a Redshift Serverless workgroup name: 3 to 64 characters of a-z, 0-9 and -");
    }
    if (typeof e.workgroupId !== "string" || !UUID_PATTERN.test(e.workgroupId)) {
      c.add(
        "warehouse.existing.workgroupId",
        e.workgroupId,
        "must be the workgroup's id, a UUID (IAM names workgroups by id): aws redshift-serverless get-workgroup --workgroup-name <name> --query workgroup.workgroupId",
      );
    }
  } else if (e.workgroupId !== undefined) {
    c.add("warehouse.existing.workgroupId", e.workgroupId, "is used only with workgroupName");
  }
  if (typeof e.database !== "string" || !DATABASE_NAME_PATTERN.test(e.database)) {
    c.add("warehouse.existing.database", e.database, "must name the database to load into: 1 to 64 characters of a-z, 0-9 and _");
  }

  const auth = e.auth as (ExistingWarehouseAuth & Record<string, unknown>) | undefined;
  if (auth?.type === "secret") {
    const m = typeof auth.secretArn === "string" ? SECRET_ARN_PATTERN.exec(auth.secretArn) : null;
    if (!m) {
      c.add("warehouse.existing.auth.secretArn", auth.secretArn, "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)");
    } else if (m[2] !== config.region) {
      c.add("warehouse.existing.auth.secretArn", auth.secretArn, `must be a secret in the deployment region ${config.region}, where the loaders call the Data API`);
    }
  } else if (auth?.type === "iam") {
    if (workgroup) {
      c.add(
        "warehouse.existing.auth",
        auth,
        "must be { type: \"secret\", secretArn } for a workgroup: with IAM, Redshift Serverless makes each loader's role its own database user (IAMR:<role name>), and only one owner can ADD COLUMN or replace a view",
      );
    } else if (cluster && (typeof auth.dbUser !== "string" || !DB_USER_PATTERN.test(auth.dbUser))) {
      c.add("warehouse.existing.auth.dbUser", auth.dbUser, "must name the existing database user the loaders act as: 1 to 128 characters of a-z, 0-9 and _");
    }
  } else {
    c.add("warehouse.existing.auth", auth, 'must be { type: "secret", secretArn } or { type: "iam", dbUser } (dbUser only for a cluster)');
  }

  if (e.copyRoleArn !== undefined && (typeof e.copyRoleArn !== "string" || !IAM_ROLE_ARN_PATTERN.test(e.copyRoleArn))) {
    c.add("warehouse.existing.copyRoleArn", e.copyRoleArn, "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), or left out for the stack to create one");
  }
}
