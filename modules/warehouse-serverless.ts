import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { DEFAULT_DATABASE, DEFAULT_LOADER_USER } from "../facts/warehouse";
import { RedshiftserverlessNamespace } from "@cdktf/provider-aws/lib/redshiftserverless-namespace";
import { RedshiftserverlessWorkgroup } from "@cdktf/provider-aws/lib/redshiftserverless-workgroup";
import { ExportsBucket } from "./exports-bucket";
import { DEFAULT_REDSHIFT_PORT, defaultConfig } from "./config";
import { Network } from "./network";
import { Warehouse, WarehouseAuth, WarehouseTarget } from "./warehouse";
import { REDSHIFT_SERVERLESS_PRINCIPALS, WarehouseCopyRole } from "./warehouse-copy-role";

export interface ServerlessWarehouseProps {
  /** Physical names start with it: namespace and workgroup `<prefix>-warehouse`, the COPY role `<prefix>-copy`. */
  readonly prefix: string;
  /** Subnets (3 availability zones) and security group; its allow-list decides public accessibility. */
  readonly network: Network;
  /** The bucket COPY reads from. */
  readonly exportsBucket: ExportsBucket;
  /** @default DEFAULT_DATABASE (facts/warehouse.ts) */
  readonly database?: string;
  /** The admin user; Redshift generates and keeps its password in Secrets Manager. @default "admin" */
  readonly adminUsername?: string;
  /** One of 5431-5455 or 8191-8215. @default 5439 */
  readonly port?: number;
  /** Base capacity in RPUs (a multiple of 8). @default 8 */
  readonly baseCapacity?: number;
  /** Maximum capacity in RPUs, a cost ceiling. @default undefined (AWS's limit) */
  readonly maxCapacity?: number;
  /** @default false */
  readonly enhancedVpcRouting?: boolean;
  /** Connection, user and user-activity logs to CloudWatch Logs. @default true */
  readonly auditLogging?: boolean;
  /** The database user the loaders act as, with the password the bootstrap generates. @default "controlshift_loader" */
  readonly loaderUser?: string;
  /** Days a deleted loader secret stays recoverable. @default 7 */
  readonly secretRecoveryDays?: number;
}

/** The audit logs a namespace exports to CloudWatch. */
export const SERVERLESS_AUDIT_LOGS = ["connectionlog", "userlog", "useractivitylog"] as const;

/**
 * The workgroup's configuration parameters. All of them, at AWS's defaults except `require_ssl` (always true) and
 * user-activity logging (with audit logging): AWS returns the full set on read, so naming only some would show a
 * change in every plan (terraform-provider-aws #33916).
 */
export function workgroupConfigParameters(auditLogging: boolean): { parameterKey: string; parameterValue: string }[] {
  return [
    { parameterKey: "auto_mv", parameterValue: "true" },
    { parameterKey: "datestyle", parameterValue: "ISO, MDY" },
    { parameterKey: "enable_case_sensitive_identifier", parameterValue: "false" },
    { parameterKey: "enable_user_activity_logging", parameterValue: String(auditLogging) },
    { parameterKey: "max_query_execution_time", parameterValue: "14400" },
    { parameterKey: "query_group", parameterValue: "default" },
    { parameterKey: "require_ssl", parameterValue: "true" },
    { parameterKey: "search_path", parameterValue: "$user, public" },
    { parameterKey: "use_fips_ssl", parameterValue: "false" },
  ];
}

/**
 * Redshift Serverless: a namespace (the data: encrypted by Redshift, always; admin password managed by Redshift in
 * Secrets Manager, `manage_admin_password`) and a workgroup (the compute: TLS required, publicly accessible only with
 * a non-empty allow-list). The COPY role is attached and is the namespace's default IAM role.
 */
export class ServerlessWarehouse extends Warehouse {
  readonly mode = "serverless" as const;
  readonly target: WarehouseTarget;
  readonly database: string;
  readonly auth: WarehouseAuth;
  readonly copyRoleArn: string;
  readonly endpoint: string;
  readonly port: number;
  readonly adminSecretArn: string;
  readonly loaderUser: string;
  readonly loaderSecretArn: string;
  /** Created without a value: the bootstrap stores the loader user's generated password in it. */
  readonly loaderSecret: SecretsmanagerSecret;
  readonly readyWhen: readonly ITerraformDependable[];
  readonly identity: string;
  readonly namespace: RedshiftserverlessNamespace;
  readonly workgroup: RedshiftserverlessWorkgroup;
  readonly copyRole: WarehouseCopyRole;

  constructor(scope: Construct, id: string, props: ServerlessWarehouseProps) {
    super(scope, id);
    const p = props.prefix;
    const name = `${p}-warehouse`;
    // Every default is defaultConfig()'s (modules/config/defaults.ts), so a construct built without a config agrees.
    const defaults = defaultConfig();
    const auditLogging = props.auditLogging ?? defaults.warehouse.auditLogging;
    this.database = props.database ?? DEFAULT_DATABASE;
    this.port = props.port ?? DEFAULT_REDSHIFT_PORT;

    this.copyRole = new WarehouseCopyRole(this, "copy-role", {
      roleName: `${p}-copy`,
      exportsBucket: props.exportsBucket,
      servicePrincipals: [...REDSHIFT_SERVERLESS_PRINCIPALS],
    });
    this.copyRoleArn = this.copyRole.arn;

    this.namespace = new RedshiftserverlessNamespace(this, "namespace", {
      namespaceName: name,
      dbName: this.database,
      adminUsername: props.adminUsername ?? defaults.warehouse.adminUsername,
      // Redshift generates the password and keeps it in a secret: never in Terraform or its state.
      manageAdminPassword: true,
      iamRoles: [this.copyRole.arn],
      defaultIamRoleArn: this.copyRole.arn,
      ...(auditLogging ? { logExports: [...SERVERLESS_AUDIT_LOGS] } : {}),
    });

    this.workgroup = new RedshiftserverlessWorkgroup(this, "workgroup", {
      workgroupName: name,
      namespaceName: this.namespace.namespaceName,
      baseCapacity: props.baseCapacity ?? defaults.warehouse.baseCapacity,
      ...(props.maxCapacity !== undefined ? { maxCapacity: props.maxCapacity } : {}),
      port: this.port,
      publiclyAccessible: props.network.publicAccess,
      subnetIds: props.network.subnetIds,
      securityGroupIds: [props.network.securityGroup.id],
      enhancedVpcRouting: props.enhancedVpcRouting ?? defaults.warehouse.enhancedVpcRouting,
      configParameter: workgroupConfigParameters(auditLogging),
    });

    this.readyWhen = [this.namespace, this.workgroup];
    // A replaced namespace (where the data lives) gets a new id.
    this.identity = this.namespace.namespaceId;
    this.target = { type: "workgroup", workgroupName: name, arn: this.workgroup.arn };
    this.adminSecretArn = this.namespace.adminPasswordSecretArn;
    this.loaderUser = props.loaderUser ?? DEFAULT_LOADER_USER;
    // One shared identity for every loader. IAM credentials on Serverless would make each loader's role its own
    // database user (IAMR:<role>), and only the owner may ADD COLUMN or replace a view. The value is never in
    // Terraform (no secret version here): the bootstrap generates it and stores it.
    this.loaderSecret = new SecretsmanagerSecret(this, "loader-secret", {
      name: `${p}/warehouse-loader`,
      description: `Password of the database user ${this.loaderUser} the loaders act as; generated and stored by the bootstrap function, never by Terraform.`,
      recoveryWindowInDays: props.secretRecoveryDays ?? defaults.secretRecoveryDays,
    });
    this.loaderSecretArn = this.loaderSecret.arn;
    this.auth = { type: "secret", secretArn: this.loaderSecretArn };
    this.endpoint = this.workgroup.endpoint.get(0).address;
  }
}
