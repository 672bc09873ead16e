/**
 * What every warehouse mode gives the loaders: where the warehouse is, how to authenticate, which role COPY uses,
 * and one grant helper that gives a function exactly the Redshift Data API and secret permissions for it.
 *
 * The modes (warehouse-cluster.ts, warehouse-serverless.ts, warehouse-existing.ts) differ in what they create;
 * the loaders see only this.
 */
import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import { Grant, PolicyStatement } from "./access";
import { WAREHOUSE_ENV } from "../facts/environment";

/** The Data API target: a provisioned cluster or a Serverless workgroup, with the ARN IAM knows it by. */
export type WarehouseTarget =
  | {
      readonly type: "cluster";
      readonly clusterIdentifier: string;
      /** arn:<partition>:redshift:<region>:<account>:cluster:<identifier> */
      readonly arn: string;
    }
  | {
      readonly type: "workgroup";
      readonly workgroupName: string;
      /** arn:<partition>:redshift-serverless:<region>:<account>:workgroup/<workgroup id> (IAM names it by id). */
      readonly arn: string;
    };

/**
 * How the loaders authenticate through the Data API: never a password in Terraform, never the admin. The stack's
 * cluster: IAM temporary credentials for the loader user. The stack's Serverless: the loader secret, whose value
 * the bootstrap generates. An existing warehouse: what the operator configured (one database user for all loaders).
 */
export type WarehouseAuth =
  | {
      /** A Secrets Manager secret with `username` and `password` of the loader user. */
      readonly type: "secret";
      readonly secretArn: string;
    }
  | {
      /**
       * IAM temporary credentials. On a cluster, as `dbUser` (redshift:GetClusterCredentials on `credentialArns`:
       * the dbuser and dbname ARNs); on a workgroup, as the caller's role (redshift-serverless:GetCredentials on the
       * workgroup; the database user is `IAMR:<role name>`, so there is no dbUser).
       */
      readonly type: "iam";
      readonly dbUser?: string;
      readonly credentialArns: readonly string[];
    };

/** Everything a loader needs to reach the warehouse. */
export interface WarehouseAccess {
  readonly target: WarehouseTarget;
  readonly database: string;
  readonly auth: WarehouseAuth;
  /** The role the warehouse assumes for `COPY ... IAM_ROLE '<arn>'`. */
  readonly copyRoleArn: string;
}

/** Submit statements: scoped to the one cluster or workgroup. */
export const DATA_API_RUN_ACTIONS = ["redshift-data:ExecuteStatement", "redshift-data:BatchExecuteStatement"] as const;

/**
 * Follow submitted statements. IAM has no resource type for these (the Service Authorization Reference lists none
 * for DescribeStatement, GetStatementResult and CancelStatement), so their Resource must be `*`: the one exception to
 * "resources scoped to ARNs" in this stack, and the invariant tests allow `*` for these actions only. What scopes
 * them instead is the statement's owner: the condition below, the one AWS's managed policy
 * AmazonRedshiftDataFullAccess uses, allows them only on statements submitted by the caller's own IAM identity
 * (`redshift-data:statement-owner-iam-userid` equals the caller's `aws:userid`, the role id and session name).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonredshiftdataapi.html
 * https://docs.aws.amazon.com/redshift/latest/mgmt/data-api-access.html
 */
export const DATA_API_OWN_STATEMENT_ACTIONS = [
  "redshift-data:DescribeStatement",
  "redshift-data:GetStatementResult",
  "redshift-data:CancelStatement",
] as const;

/**
 * `${aws:userid}` written for aws_iam_policy_document, which turns `&{...}` into `${...}` (a literal `${` would be
 * taken for a Terraform interpolation).
 */
export const CALLER_USERID_VARIABLE = "&{aws:userid}";

/**
 * Exactly what a function needs to load through the Data API into this warehouse, and the variables that say where
 * it is: run statements on this cluster or workgroup only; follow its own statements; read this secret, or get IAM
 * credentials for this database user only.
 */
export function dataApiGrant(access: WarehouseAccess): Grant {
  const { target, auth } = access;
  const statements: PolicyStatement[] = [
    { sid: "RunStatementsOnWarehouse", actions: [...DATA_API_RUN_ACTIONS], resources: [target.arn] },
    {
      sid: "FollowOwnStatements",
      actions: [...DATA_API_OWN_STATEMENT_ACTIONS],
      resources: ["*"],
      conditions: [
        { test: "StringEquals", variable: "redshift-data:statement-owner-iam-userid", values: [CALLER_USERID_VARIABLE] },
      ],
    },
  ];
  const environment: Record<string, string> = {
    [target.type === "cluster" ? WAREHOUSE_ENV.clusterId : WAREHOUSE_ENV.workgroup]:
      target.type === "cluster" ? target.clusterIdentifier : target.workgroupName,
    [WAREHOUSE_ENV.database]: access.database,
    [WAREHOUSE_ENV.copyRoleArn]: access.copyRoleArn,
  };
  if (auth.type === "secret") {
    statements.push({ sid: "ReadWarehouseSecret", actions: ["secretsmanager:GetSecretValue"], resources: [auth.secretArn] });
    environment[WAREHOUSE_ENV.secretArn] = auth.secretArn;
  } else {
    statements.push({
      sid: "GetWarehouseCredentials",
      actions: [target.type === "cluster" ? "redshift:GetClusterCredentials" : "redshift-serverless:GetCredentials"],
      resources: [...auth.credentialArns],
    });
    if (auth.dbUser !== undefined) environment[WAREHOUSE_ENV.dbUser] = auth.dbUser;
  }
  return { statements, environment };
}

/**
 * A warehouse the loaders can use, whatever the mode. Typed attributes for the Data API call, and `grantDataApi()`
 * for a function's grants.
 */
export abstract class Warehouse extends Construct implements WarehouseAccess {
  abstract readonly mode: "cluster" | "serverless" | "existing";
  abstract readonly target: WarehouseTarget;
  abstract readonly database: string;
  abstract readonly auth: WarehouseAuth;
  abstract readonly copyRoleArn: string;
  /** Host name analysts connect to (psql -h). Undefined for an existing warehouse. */
  abstract readonly endpoint?: string;
  /** Undefined for an existing warehouse. */
  abstract readonly port?: number;
  /**
   * The admin password's secret, managed by Redshift (its ARN, never its value). Undefined for an existing warehouse.
   * Only the bootstrap function may read it (modules/bootstrap.ts).
   */
  abstract readonly adminSecretArn?: string;
  /**
   * The database user the loaders act as (it owns the mirror's schemas). Undefined for an existing warehouse whose
   * loaders log in with a secret: the user is the secret's.
   */
  abstract readonly loaderUser?: string;
  /** The loader secret the bootstrap fills (Serverless). Undefined otherwise. */
  abstract readonly loaderSecretArn?: string;
  /** What must exist before SQL can run: the cluster, or the namespace and workgroup. Empty for an existing one. */
  abstract readonly readyWhen: readonly ITerraformDependable[];
  /**
   * A value that changes whenever the warehouse is a new one (a replaced cluster or namespace is empty): it re-runs
   * the bootstrap, which would otherwise not know that its users, schemas and tables are gone.
   */
  abstract readonly identity: string;

  /** The Data API's ClusterIdentifier, for a provisioned cluster. */
  get clusterIdentifier(): string | undefined {
    return this.target.type === "cluster" ? this.target.clusterIdentifier : undefined;
  }

  /** The Data API's WorkgroupName, for a Serverless workgroup. */
  get workgroupName(): string | undefined {
    return this.target.type === "workgroup" ? this.target.workgroupName : undefined;
  }

  /** The Data API's SecretArn, with secret auth. */
  get secretArn(): string | undefined {
    return this.auth.type === "secret" ? this.auth.secretArn : undefined;
  }

  /** The Data API's DbUser, with IAM auth on a cluster. */
  get dbUser(): string | undefined {
    return this.auth.type === "iam" ? this.auth.dbUser : undefined;
  }

  /**
   * Run and follow statements on this warehouse through the Data API, and authenticate (secret or IAM), nothing
   * more. Sets WAREHOUSE_CLUSTER_ID or WAREHOUSE_WORKGROUP, WAREHOUSE_DATABASE, WAREHOUSE_SECRET_ARN or
   * WAREHOUSE_DB_USER (neither: IAM auth on a workgroup), and COPY_ROLE_ARN.
   */
  grantDataApi(): Grant {
    return dataApiGrant(this);
  }
}
