import { Construct } from "constructs";
import { Fn, ITerraformDependable } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { RedshiftCluster } from "@cdktf/provider-aws/lib/redshift-cluster";
import { RedshiftLogging } from "@cdktf/provider-aws/lib/redshift-logging";
import { RedshiftParameterGroup } from "@cdktf/provider-aws/lib/redshift-parameter-group";
import { ExportsBucket } from "./exports-bucket";
import { DEFAULT_REDSHIFT_PORT, defaultConfig } from "./config";
import { Network } from "./network";
import { Warehouse, WarehouseAuth, WarehouseTarget } from "./warehouse";
import { DEFAULT_DATABASE, DEFAULT_LOADER_USER } from "../facts/warehouse";
import { REDSHIFT_PRINCIPAL, WarehouseCopyRole } from "./warehouse-copy-role";

export interface ClusterWarehouseProps {
  /** Physical names start with it: the cluster is `<prefix>-warehouse`, the COPY role `<prefix>-copy`. */
  readonly prefix: string;
  /** Subnet group and security group; its allow-list decides whether the cluster is publicly accessible. */
  readonly network: Network;
  /** The bucket COPY reads from. */
  readonly exportsBucket: ExportsBucket;
  /** @default DEFAULT_DATABASE (facts/warehouse.ts) */
  readonly database?: string;
  /** The admin user; Redshift generates and keeps its password in Secrets Manager. @default "admin" */
  readonly adminUsername?: string;
  /** @default 5439 */
  readonly port?: number;
  /** @default "ra3.large" */
  readonly nodeType?: string;
  /** @default 1 (single-node) */
  readonly numberOfNodes?: number;
  /** Days automated snapshots are kept. @default 7 */
  readonly snapshotRetentionDays?: number;
  /** @default false */
  readonly enhancedVpcRouting?: boolean;
  /** Connection, user and user-activity logs to CloudWatch Logs. @default true */
  readonly auditLogging?: boolean;
  /** The database user the loaders act as, through IAM temporary credentials. @default "controlshift_loader" */
  readonly loaderUser?: string;
  /** Retention of the audit log groups. @default 30 */
  readonly logRetentionDays?: number;
}

/** The audit logs a cluster exports to CloudWatch, each to `/aws/redshift/cluster/<id>/<log>`. */
export const CLUSTER_AUDIT_LOGS = ["connectionlog", "userlog", "useractivitylog"] as const;

/**
 * The cluster's parameters: connections without TLS are refused; user-activity logging follows audit logging
 * (the user-activity log stays empty without it).
 */
export function clusterParameters(auditLogging: boolean): { name: string; value: string }[] {
  return [
    { name: "require_ssl", value: "true" },
    { name: "enable_user_activity_logging", value: String(auditLogging) },
  ];
}

/**
 * A provisioned Redshift cluster: encrypted, TLS-only through its parameter group, automated snapshots kept, a final
 * snapshot on delete, and an admin password that Redshift generates and keeps in Secrets Manager
 * (`manage_master_password`): no password in a Terraform variable or in state. The COPY role is attached and is the
 * cluster's default IAM role.
 */
export class ClusterWarehouse extends Warehouse {
  readonly mode = "cluster" as const;
  readonly target: WarehouseTarget;
  readonly database: string;
  readonly auth: WarehouseAuth;
  readonly copyRoleArn: string;
  readonly endpoint: string;
  readonly port: number;
  readonly adminSecretArn: string;
  readonly loaderUser: string;
  readonly loaderSecretArn = undefined;
  readonly readyWhen: readonly ITerraformDependable[];
  readonly identity: string;
  readonly cluster: RedshiftCluster;
  readonly parameterGroup: RedshiftParameterGroup;
  readonly copyRole: WarehouseCopyRole;

  constructor(scope: Construct, id: string, props: ClusterWarehouseProps) {
    super(scope, id);
    const p = props.prefix;
    const clusterIdentifier = `${p}-warehouse`;
    // Every default is defaultConfig()'s (modules/config/defaults.ts), so a construct built without a config agrees.
    const defaults = defaultConfig();
    const numberOfNodes = props.numberOfNodes ?? defaults.warehouse.numberOfNodes;
    const auditLogging = props.auditLogging ?? defaults.warehouse.auditLogging;
    const subnetGroup = props.network.subnetGroup;
    if (!subnetGroup) throw new Error(`Cluster ${clusterIdentifier} needs a network with a Redshift subnet group.`);
    this.database = props.database ?? DEFAULT_DATABASE;
    this.port = props.port ?? DEFAULT_REDSHIFT_PORT;

    this.copyRole = new WarehouseCopyRole(this, "copy-role", {
      roleName: `${p}-copy`,
      exportsBucket: props.exportsBucket,
      servicePrincipals: [REDSHIFT_PRINCIPAL],
    });
    this.copyRoleArn = this.copyRole.arn;

    this.parameterGroup = new RedshiftParameterGroup(this, "parameter-group", {
      name: `${p}-warehouse`,
      family: "redshift-1.0",
      description: `${clusterIdentifier}: TLS required`,
      parameter: clusterParameters(auditLogging),
    });

    this.cluster = new RedshiftCluster(this, "cluster", {
      clusterIdentifier,
      nodeType: props.nodeType ?? defaults.warehouse.nodeType,
      clusterType: numberOfNodes === 1 ? "single-node" : "multi-node",
      numberOfNodes,
      databaseName: this.database,
      masterUsername: props.adminUsername ?? defaults.warehouse.adminUsername,
      // Redshift generates the password and keeps it in a secret it rotates: never in Terraform or its state.
      manageMasterPassword: true,
      encrypted: true,
      port: this.port,
      publiclyAccessible: props.network.publicAccess,
      clusterSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [props.network.securityGroup.id],
      clusterParameterGroupName: this.parameterGroup.name,
      iamRoles: [this.copyRole.arn],
      defaultIamRoleArn: this.copyRole.arn,
      enhancedVpcRouting: props.enhancedVpcRouting ?? defaults.warehouse.enhancedVpcRouting,
      automatedSnapshotRetentionPeriod: props.snapshotRetentionDays ?? defaults.warehouse.snapshotRetentionDays,
      // The mirror's history cannot be re-downloaded after ControlShift's URLs expire: keep a snapshot on delete.
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: `${clusterIdentifier}-final`,
    });

    if (auditLogging) {
      // Created here (not by Redshift) so the audit logs expire like every other log group of the stack.
      const groups = CLUSTER_AUDIT_LOGS.map(
        (log) =>
          new CloudwatchLogGroup(this, `audit-${log}`, {
            name: `/aws/redshift/cluster/${clusterIdentifier}/${log}`,
            retentionInDays: props.logRetentionDays ?? defaults.logRetentionDays,
          }),
      );
      new RedshiftLogging(this, "audit-logging", {
        clusterIdentifier: this.cluster.clusterIdentifier,
        logDestinationType: "cloudwatch",
        logExports: [...CLUSTER_AUDIT_LOGS],
        dependsOn: groups,
      });
    }

    this.readyWhen = [this.cluster];
    // A replaced cluster gets a new namespace ARN (known after apply), an in-place change keeps it.
    this.identity = this.cluster.clusterNamespaceArn;
    this.target = { type: "cluster", clusterIdentifier, arn: this.cluster.arn };
    this.adminSecretArn = this.cluster.masterPasswordSecretArn;
    this.loaderUser = props.loaderUser ?? DEFAULT_LOADER_USER;
    // redshift:GetClusterCredentials for the loader user on this database only (the bootstrap creates the user,
    // with PASSWORD DISABLE: temporary credentials are its only way in).
    // arn:<partition>:redshift:<region>:<account>:cluster:<id> -> ...:dbuser:<id>/<user> and ...:dbname:<id>/<database>.
    const arnOf = (kind: string, name: string) =>
      `${Fn.replace(this.cluster.arn, `:cluster:${clusterIdentifier}`, `:${kind}:${clusterIdentifier}`)}/${name}`;
    this.auth = {
      type: "iam",
      dbUser: this.loaderUser,
      credentialArns: [arnOf("dbuser", this.loaderUser), arnOf("dbname", this.database)],
    };
    this.endpoint = this.cluster.dnsName;
  }
}
