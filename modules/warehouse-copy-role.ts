import { Construct } from "constructs";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { ExportsBucket } from "./exports-bucket";

/** The service principal a provisioned cluster assumes roles as. */
export const REDSHIFT_PRINCIPAL = "redshift.amazonaws.com";
/** Redshift Serverless assumes roles as either principal; its docs ask the trust policy for both. */
export const REDSHIFT_SERVERLESS_PRINCIPALS = ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"] as const;

export interface WarehouseCopyRoleProps {
  /** Physical name of the role (starts with the deployment prefix; at most 64 characters). */
  readonly roleName: string;
  /** The only bucket the role may read, and only under `exports/`. */
  readonly exportsBucket: ExportsBucket;
  /** Who may assume the role. @default [REDSHIFT_PRINCIPAL] */
  readonly servicePrincipals?: readonly string[];
}

/**
 * The role Redshift assumes for `COPY ... IAM_ROLE '<arn>'`: it trusts Redshift only, and may read the exports
 * bucket's `exports/` objects (and list that prefix) and the loaders' COPY manifests under `manifests/`, nothing else
 * (no write, no other bucket, no KMS: the bucket is SSE-S3 encrypted).
 */
export class WarehouseCopyRole extends Construct {
  readonly role: IamRole;
  readonly arn: string;

  constructor(scope: Construct, id: string, props: WarehouseCopyRoleProps) {
    super(scope, id);
    const trust = new DataAwsIamPolicyDocument(this, "trust", {
      statement: [
        {
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: [...(props.servicePrincipals ?? [REDSHIFT_PRINCIPAL])] }],
        },
      ],
    });
    this.role = new IamRole(this, "role", {
      name: props.roleName,
      description: "Assumed by Redshift for COPY from the exports bucket (read-only: exports/ and manifests/)",
      assumeRolePolicy: trust.json,
    });
    // The same statements a loader gets to read exports (GetObject on exports/*, ListBucket on that prefix).
    const read = props.exportsBucket.grantReadExports();
    // ... and the loaders' manifests, which name the one export object each COPY reads.
    const manifests = props.exportsBucket.grantReadManifests();
    const policy = new DataAwsIamPolicyDocument(this, "policy", {
      statement: [...read.statements, ...manifests.statements].map((s) => ({
        sid: s.sid,
        effect: s.effect ?? "Allow",
        actions: [...s.actions],
        resources: [...s.resources],
        condition: s.conditions?.map((c) => ({ test: c.test, variable: c.variable, values: [...c.values] })),
      })),
    });
    new IamRolePolicy(this, "role-policy", { name: "read-exports", role: this.role.id, policy: policy.json });
    this.arn = this.role.arn;
  }
}
