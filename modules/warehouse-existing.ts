import { Construct } from "constructs";
import { Fn, Token } from "cdktf";
import { ExistingWarehouseAuth } from "./config";
import { ExportsBucket } from "./exports-bucket";
import { Warehouse, WarehouseAuth, WarehouseTarget } from "./warehouse";
import { REDSHIFT_PRINCIPAL, REDSHIFT_SERVERLESS_PRINCIPALS, WarehouseCopyRole } from "./warehouse-copy-role";

export interface ExistingWarehouseProps {
  /** Physical names start with it (the COPY role, when created: `<prefix>-copy`). */
  readonly prefix: string;
  /** The deployment region, where the warehouse is and the loaders call the Data API. */
  readonly region: string;
  /** The bucket COPY reads from. */
  readonly exportsBucket: ExportsBucket;
  /** A provisioned cluster. Exactly one of clusterIdentifier and workgroupName. @default undefined */
  readonly clusterIdentifier?: string;
  /** A Serverless workgroup, with its id (IAM names workgroups by id). @default undefined */
  readonly workgroupName?: string;
  /** Required with workgroupName. @default undefined */
  readonly workgroupId?: string;
  readonly database: string;
  readonly auth: ExistingWarehouseAuth;
  /** A role the warehouse already has for COPY. @default undefined (create `<prefix>-copy`; the operator attaches it) */
  readonly copyRoleArn?: string;
}

/**
 * Why an existing workgroup cannot use IAM credentials: Redshift Serverless makes each caller's role its own database
 * user (IAMR:<role name>), so each of the loaders (two per table) would be a different user, and only a table's owner
 * may ADD COLUMN to it or replace a view over it.
 */
export const EXISTING_WORKGROUP_IAM_REFUSAL = (workgroup: string): string =>
  `Existing workgroup ${workgroup}: IAM auth is refused: Redshift Serverless would make each loader's role its own ` +
  "database user (IAMR:<role name>), and only one owner can ADD COLUMN or replace a view. Use " +
  '{ type: "secret", secretArn } with the secret of one loader user (see help: Existing warehouse: the grants to run once)';

/** One `:`-separated field of an ARN (1: partition, 4: account), at synth for a literal, at apply for a reference. */
export function arnField(arn: string, index: number): string {
  return Token.isUnresolved(arn) ? Fn.element(Fn.split(":", arn), index) : arn.split(":")[index];
}

/**
 * A cluster or workgroup the organisation already runs. The stack creates no network and no warehouse: only what the
 * loaders need, which is the grant (scoped to this warehouse's ARNs) and, unless one is given, the COPY role, which
 * the operator attaches to the cluster or namespace (see `help`).
 *
 * ARNs are built from the region and from the account and partition of the COPY role: Redshift can attach only a role
 * of its own account, so the role's account is the warehouse's. No caller-identity lookup, so the plan runs offline.
 */
export class ExistingWarehouse extends Warehouse {
  readonly mode = "existing" as const;
  readonly target: WarehouseTarget;
  readonly database: string;
  readonly auth: WarehouseAuth;
  readonly copyRoleArn: string;
  readonly endpoint = undefined;
  readonly port = undefined;
  readonly adminSecretArn = undefined;
  readonly loaderUser?: string;
  readonly loaderSecretArn = undefined;
  readonly readyWhen = [];
  readonly identity: string;
  /** The role the stack created, when no copyRoleArn was given. */
  readonly copyRole?: WarehouseCopyRole;

  constructor(scope: Construct, id: string, props: ExistingWarehouseProps) {
    super(scope, id);
    const cluster = props.clusterIdentifier;
    const workgroup = props.workgroupName;
    if ((cluster === undefined) === (workgroup === undefined)) {
      throw new Error("An existing warehouse needs exactly one of clusterIdentifier and workgroupName.");
    }
    if (workgroup !== undefined && props.workgroupId === undefined) {
      throw new Error(`Existing workgroup ${workgroup}: workgroupId is required (IAM names workgroups by id).`);
    }
    this.database = props.database;
    // Not the stack's to replace: the names it is reached by.
    this.identity = `${cluster !== undefined ? `cluster/${cluster}` : `workgroup/${workgroup}`}/${props.database}`;

    if (props.copyRoleArn === undefined) {
      this.copyRole = new WarehouseCopyRole(this, "copy-role", {
        roleName: `${props.prefix}-copy`,
        exportsBucket: props.exportsBucket,
        servicePrincipals: cluster !== undefined ? [REDSHIFT_PRINCIPAL] : [...REDSHIFT_SERVERLESS_PRINCIPALS],
      });
      this.copyRoleArn = this.copyRole.arn;
    } else {
      this.copyRoleArn = props.copyRoleArn;
    }
    const partition = arnField(this.copyRoleArn, 1);
    const account = arnField(this.copyRoleArn, 4);
    const redshift = `arn:${partition}:redshift:${props.region}:${account}`;

    if (cluster !== undefined) {
      this.target = { type: "cluster", clusterIdentifier: cluster, arn: `${redshift}:cluster:${cluster}` };
    } else {
      this.target = {
        type: "workgroup",
        workgroupName: workgroup!,
        arn: `arn:${partition}:redshift-serverless:${props.region}:${account}:workgroup/${props.workgroupId}`,
      };
    }

    if (props.auth.type === "secret") {
      this.auth = { type: "secret", secretArn: props.auth.secretArn };
    } else if (this.target.type === "cluster") {
      const dbUser = props.auth.dbUser;
      if (dbUser === undefined) throw new Error(`Existing cluster ${cluster}: IAM auth needs dbUser.`);
      this.loaderUser = dbUser;
      this.auth = {
        type: "iam",
        dbUser,
        // redshift:GetClusterCredentials for this user, on this database only.
        credentialArns: [`${redshift}:dbuser:${cluster}/${dbUser}`, `${redshift}:dbname:${cluster}/${this.database}`],
      };
    } else {
      throw new Error(EXISTING_WORKGROUP_IAM_REFUSAL(workgroup!));
    }
  }
}
