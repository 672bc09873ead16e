/**
 * Configs that `npm run test:terraform` plans offline besides the default one: each exercises a config branch
 * that changes which resources exist. Names are stack folder names.
 */
import type { MirrorConfigInput } from "../modules/config";

export const PLAN_CONFIGS: readonly { readonly name: string; readonly input: MirrorConfigInput }[] = [
  {
    name: "eu-small",
    input: {
      prefix: "cs-mirror-eu",
      region: "eu-central-1",
      controlshift: { region: "eu" },
      tables: ["petitions", "signatures", "members"],
      alertEmails: ["data-team@example.org"],
      exports: { versioned: false },
    },
  },
  {
    // Provisioned cluster reached from an office: allow-list (public endpoint, internet gateway), audit logs,
    // enhanced VPC routing (S3 gateway endpoint), two nodes.
    name: "warehouse-cluster",
    input: {
      prefix: "csm-cluster",
      tables: ["petitions", "signatures"],
      network: { allowedCidrs: [{ cidr: "203.0.113.7/32", description: "Berlin office" }, { cidr: "2001:db8::/48" }] },
      warehouse: { nodeType: "ra3.xlplus", numberOfNodes: 2, auditLogging: true, enhancedVpcRouting: true },
    },
  },
  {
    // Redshift Serverless in an existing VPC's three subnets, private, with a capacity ceiling.
    name: "warehouse-serverless",
    input: {
      prefix: "csm-serverless",
      region: "eu-west-1",
      tables: ["petitions", "signatures"],
      network: {
        existingVpc: {
          vpcId: "vpc-0123456789abcdef0",
          subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
        },
      },
      warehouse: { mode: "serverless", baseCapacity: 8, maxCapacity: 64, auditLogging: true, enhancedVpcRouting: true },
    },
  },
  {
    // An existing cluster, loaders on IAM temporary credentials; the stack creates the COPY role to attach.
    name: "warehouse-existing",
    input: {
      prefix: "csm-existing",
      tables: ["petitions", "signatures"],
      warehouse: {
        mode: "existing",
        existing: { clusterIdentifier: "analytics", database: "reporting", auth: { type: "iam", dbUser: "controlshift_loader" } },
      },
    },
  },
];
