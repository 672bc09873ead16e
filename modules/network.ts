import { Construct } from "constructs";
import { Annotations } from "cdktf";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { RedshiftSubnetGroup } from "@cdktf/provider-aws/lib/redshift-subnet-group";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import {
  AllowedCidr,
  DEFAULT_REDSHIFT_PORT,
  DEFAULT_VPC_CIDR,
  defaultConfig,
  formatAddress,
  isPublicInternet,
  parseCidr,
} from "./config";

export interface NetworkProps {
  /** Physical names start with it. */
  readonly prefix: string;
  /** The deployment region (names the S3 gateway endpoint's service). */
  readonly region: string;
  /** CIDR of the VPC to create; ignored with `existingVpc`. @default "10.42.0.0/16" */
  readonly vpcCidr?: string;
  /**
   * One subnet per zone, named here rather than looked up so the plan runs offline. Required (2 or more) unless
   * `existingVpc` is given. @default [] (only valid with existingVpc)
   */
  readonly availabilityZones?: readonly string[];
  /** Use this VPC and subnets instead of creating them. @default undefined (create a VPC) */
  readonly existingVpc?: { readonly vpcId: string; readonly subnetIds: readonly string[] };
  /** Who may connect to the warehouse port; empty keeps the warehouse private. @default [] */
  readonly allowedCidrs?: readonly AllowedCidr[];
  /** Allow `0.0.0.0/0`, `::/0` or any CIDR wider than /8 in `allowedCidrs` (synth warns). @default false */
  readonly allowPublicInternet?: boolean;
  /** The warehouse port the allow-list opens. @default 5439 */
  readonly port?: number;
  /** Create a Redshift subnet group (a provisioned cluster needs one; Serverless takes subnet ids). @default true */
  readonly redshiftSubnetGroup?: boolean;
  /**
   * The warehouse uses enhanced VPC routing, so its COPY traffic to S3 goes through this VPC: add a (free) S3
   * gateway endpoint to a created VPC and let the security group reach S3 on 443. @default false
   */
  readonly enhancedVpcRouting?: boolean;
}

export const DEFAULT_RULE_DESCRIPTION = "Redshift clients (config network.allowedCidrs)";

/**
 * The subnets of a VPC CIDR, one per zone: the VPC split in 16 (at most /28), first ones first. The same config
 * always gives the same subnets.
 */
export function subnetCidrs(vpcCidr: string, count: number): string[] {
  const vpc = parseCidr(vpcCidr);
  if (!vpc || vpc.family !== 4) throw new Error(`VPC CIDR ${JSON.stringify(vpcCidr)} is not an IPv4 CIDR.`);
  const prefixLength = Math.min(vpc.prefixLength + 4, 28);
  const size = 1n << BigInt(32 - prefixLength);
  if (BigInt(count) > 1n << BigInt(prefixLength - vpc.prefixLength)) {
    throw new Error(`VPC CIDR ${vpcCidr} is too small for ${count} subnets.`);
  }
  const base = BigInt.asUintN(32, vpc.address & ~((1n << BigInt(32 - vpc.prefixLength)) - 1n));
  return Array.from({ length: count }, (_, i) => `${formatAddress(4, base + BigInt(i) * size)}/${prefixLength}`);
}

/** A stable construct id from a CIDR: "203.0.113.7/32" -> "203-0-113-7-32" (never from list order). */
export const cidrId = (cidr: string): string => cidr.toLowerCase().replace(/[^a-z0-9]/g, "-");

/**
 * Where the warehouse lives: a VPC with a subnet per zone (or an existing VPC's subnets), a Redshift subnet group,
 * and one security group whose only ingress is the allow-list on the warehouse port, one rule per CIDR.
 *
 * The warehouse is publicly accessible exactly when the allow-list is non-empty (analysts connect with psql from
 * their offices); then a created VPC gets an internet gateway route. No NAT gateway, and no Lambda in the VPC:
 * the loaders reach Redshift through the Data API's AWS endpoint.
 */
export class Network extends Construct {
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly securityGroup: SecurityGroup;
  /** Undefined when `redshiftSubnetGroup` is false. */
  readonly subnetGroup?: RedshiftSubnetGroup;
  /** True when the allow-list is non-empty: the warehouse gets a public endpoint that only those CIDRs reach. */
  readonly publicAccess: boolean;
  /** The VPC, when this construct created it. */
  readonly vpc?: Vpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const p = props.prefix;
    const port = props.port ?? DEFAULT_REDSHIFT_PORT;
    const allowed = props.allowedCidrs ?? [];
    const defaults = defaultConfig();
    const allowPublic = props.allowPublicInternet ?? defaults.network.allowPublicInternet;
    const enhancedVpcRouting = props.enhancedVpcRouting ?? defaults.warehouse.enhancedVpcRouting;
    this.publicAccess = allowed.length > 0;

    // Config validation refuses these already; the construct refuses them too, whoever builds it.
    const rules = allowed.map((entry) => {
      const parsed = parseCidr(entry.cidr);
      if (!parsed || parsed.network !== entry.cidr) {
        throw new Error(`Allowed CIDR ${JSON.stringify(entry.cidr)} is not a CIDR in network-address form (e.g. "203.0.113.7/32").`);
      }
      if (isPublicInternet(parsed)) {
        if (!allowPublic) {
          throw new Error(
            `Allowed CIDR ${entry.cidr} is the whole internet: refused unless allowPublicInternet is true.`,
          );
        }
        Annotations.of(this).addWarning(
          `The Redshift port ${port} is open to ${entry.cidr} (the whole internet), as network.allowPublicInternet allows. ` +
            "Anyone can try passwords on it: list your offices' addresses in network.allowedCidrs instead.",
        );
      }
      return { ...entry, family: parsed.family };
    });

    let routeTable: RouteTable | undefined;
    if (props.existingVpc) {
      this.vpcId = props.existingVpc.vpcId;
      this.subnetIds = [...props.existingVpc.subnetIds];
    } else {
      const zones = props.availabilityZones ?? [];
      if (new Set(zones).size < 2) {
        throw new Error(`Network ${p}: name at least 2 availability zones (got ${JSON.stringify(zones)}).`);
      }
      this.vpc = new Vpc(this, "vpc", {
        cidrBlock: props.vpcCidr ?? DEFAULT_VPC_CIDR,
        // A public Redshift endpoint resolves through the VPC's DNS.
        enableDnsSupport: true,
        enableDnsHostnames: true,
        tags: { Name: `${p}-warehouse` },
      });
      this.vpcId = this.vpc.id;
      // The default security group of a new VPC allows all traffic between its members: take every rule away.
      new DefaultSecurityGroup(this, "default-security-group", { vpcId: this.vpc.id, tags: { Name: `${p}-default-unused` } });

      routeTable = new RouteTable(this, "route-table", { vpcId: this.vpc.id, tags: { Name: `${p}-warehouse` } });
      const cidrs = subnetCidrs(props.vpcCidr ?? DEFAULT_VPC_CIDR, zones.length);
      this.subnetIds = zones.map((zone, i) => {
        const subnet = new Subnet(this, `subnet-${zone}`, {
          vpcId: this.vpc!.id,
          availabilityZone: zone,
          cidrBlock: cidrs[i],
          // Redshift gives a publicly accessible warehouse its own address; nothing else runs here.
          mapPublicIpOnLaunch: false,
          tags: { Name: `${p}-warehouse-${zone}` },
        });
        new RouteTableAssociation(this, `route-table-${zone}`, { subnetId: subnet.id, routeTableId: routeTable!.id });
        return subnet.id;
      });
      if (this.publicAccess) {
        const gateway = new InternetGateway(this, "internet-gateway", { vpcId: this.vpc.id, tags: { Name: `${p}-warehouse` } });
        // IPv4 only: the VPC has no IPv6 range, so IPv6 allow-list rules matter only in an existing dual-stack VPC.
        new Route(this, "internet-route", {
          routeTableId: routeTable.id,
          destinationCidrBlock: "0.0.0.0/0",
          gatewayId: gateway.id,
        });
      }
    }

    this.securityGroup = new SecurityGroup(this, "security-group", {
      name: `${p}-warehouse`,
      description: `Redshift port ${port} from the config's allow-list only (network.allowedCidrs)`,
      vpcId: this.vpcId,
      // No inline rules: each rule is its own resource below, and Terraform removes AWS's default allow-all egress.
      tags: { Name: `${p}-warehouse` },
    });
    for (const rule of rules) {
      new VpcSecurityGroupIngressRule(this, `ingress-${cidrId(rule.cidr)}`, {
        securityGroupId: this.securityGroup.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        ...(rule.family === 4 ? { cidrIpv4: rule.cidr } : { cidrIpv6: rule.cidr }),
        description: rule.description ?? DEFAULT_RULE_DESCRIPTION,
      });
    }

    if (enhancedVpcRouting) {
      // With enhanced VPC routing, COPY reads S3 through the VPC and this security group's egress rules apply.
      if (routeTable) {
        const s3 = new VpcEndpoint(this, "s3-endpoint", {
          vpcId: this.vpcId,
          serviceName: `com.amazonaws.${props.region}.s3`,
          vpcEndpointType: "Gateway",
          routeTableIds: [routeTable.id],
          tags: { Name: `${p}-warehouse-s3` },
        });
        new VpcSecurityGroupEgressRule(this, "egress-s3", {
          securityGroupId: this.securityGroup.id,
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          prefixListId: s3.prefixListId,
          description: "COPY from S3 through the gateway endpoint (enhanced VPC routing)",
        });
      } else {
        // An existing VPC routes S3 its own way (endpoint, NAT): allow HTTPS out, the VPC's routes decide the path.
        new VpcSecurityGroupEgressRule(this, "egress-https", {
          securityGroupId: this.securityGroup.id,
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          cidrIpv4: "0.0.0.0/0",
          description: "COPY from S3 over HTTPS (enhanced VPC routing; the VPC's routes decide the path)",
        });
      }
    }

    if (props.redshiftSubnetGroup ?? true) {
      this.subnetGroup = new RedshiftSubnetGroup(this, "subnet-group", {
        name: `${p}-warehouse`,
        description: `Subnets of the ${p} warehouse`,
        subnetIds: this.subnetIds,
      });
    }
  }
}
