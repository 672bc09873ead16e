import { createTestApp, synthesizeInMemory } from "../modules/app";
import { MirrorConfigInput, resolveConfig } from "../modules/config";
import { MirrorStack } from "../modules/mirror-stack";
import { Network, cidrId, subnetCidrs } from "../modules/network";
import { Json, fixtureBundleDir, refTarget, resourceAt, resourcesOf, synthStack, FEW_TABLES } from "./helpers/synth";

const office = { cidr: "203.0.113.7/32", description: "Berlin office" };
const ingressRules = (tf: Json) => resourcesOf(tf, "aws_vpc_security_group_ingress_rule").map(([, r]) => r);

/** A stack object (not only its JSON), to read construct metadata such as warnings. */
function buildStack(input: MirrorConfigInput): MirrorStack {
  return new MirrorStack(createTestApp(), "test", { config: resolveConfig(input), bundleDir: fixtureBundleDir() });
}

describe("network, default config", () => {
  let tf: Json;
  beforeAll(() => {
    tf = synthStack({ tables: FEW_TABLES });
  });

  it("creates a VPC with one subnet in each of the region's first two zones, named in the config", () => {
    expect(resourceAt(tf, "aws_vpc", "network/vpc")).toMatchObject({ cidr_block: "10.42.0.0/16", enable_dns_support: true, enable_dns_hostnames: true });
    const subnets = resourcesOf(tf, "aws_subnet").map(([, s]) => [s.availability_zone, s.cidr_block, s.map_public_ip_on_launch]);
    expect(subnets).toEqual([
      ["us-east-1a", "10.42.0.0/20", false],
      ["us-east-1b", "10.42.16.0/20", false],
    ]);
    expect(tf.data?.aws_availability_zones).toBeUndefined();
  });

  it("keeps the warehouse private: no ingress rule, no internet gateway, no NAT gateway, no Lambda in the VPC", () => {
    expect(ingressRules(tf)).toEqual([]);
    expect(resourcesOf(tf, "aws_internet_gateway")).toEqual([]);
    expect(resourcesOf(tf, "aws_route")).toEqual([]);
    expect(resourcesOf(tf, "aws_nat_gateway")).toEqual([]);
    expect(resourcesOf(tf, "aws_eip")).toEqual([]);
    for (const [, fn] of resourcesOf(tf, "aws_lambda_function")) expect(fn.vpc_config).toBeUndefined();
    expect(resourceAt(tf, "aws_redshift_cluster", "warehouse/cluster").publicly_accessible).toBe(false);
  });

  it("has one security group with no inline rules and no egress, and empties the VPC's default security group", () => {
    const sg = resourceAt(tf, "aws_security_group", "network/security-group");
    expect(sg).toMatchObject({ name: "cs-mirror-warehouse" });
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
    expect(resourcesOf(tf, "aws_vpc_security_group_egress_rule")).toEqual([]);
    expect(resourcesOf(tf, "aws_security_group_rule")).toEqual([]);
    const defaultSg = resourceAt(tf, "aws_default_security_group", "network/default-security-group");
    expect(defaultSg.ingress).toBeUndefined();
    expect(defaultSg.egress).toBeUndefined();
  });

  it("puts both subnets in the Redshift subnet group the cluster uses", () => {
    const group = resourceAt(tf, "aws_redshift_subnet_group", "network/subnet-group");
    expect(group.name).toBe("cs-mirror-warehouse");
    expect(group.subnet_ids.map(refTarget)).toEqual([
      expect.stringMatching(/^aws_subnet\.network_subnet-us-east-1a_/),
      expect.stringMatching(/^aws_subnet\.network_subnet-us-east-1b_/),
    ]);
    expect(refTarget(resourceAt(tf, "aws_redshift_cluster", "warehouse/cluster").cluster_subnet_group_name)).toBe(
      `aws_redshift_subnet_group.${resourcesOf(tf, "aws_redshift_subnet_group")[0][0]}`,
    );
  });
});

describe("network allow-list", () => {
  it("opens the Redshift port to each CIDR with one described rule, and makes the cluster publicly accessible", () => {
    const tf = synthStack({ tables: FEW_TABLES, network: { allowedCidrs: [office, { cidr: "198.51.100.0/24" }, { cidr: "2001:db8::/48", description: "VPN v6" }] } });
    const sgRef = `\${aws_security_group.${resourcesOf(tf, "aws_security_group")[0][0]}.id}`;
    expect(ingressRules(tf)).toEqual([
      { security_group_id: sgRef, ip_protocol: "tcp", from_port: 5439, to_port: 5439, cidr_ipv4: "198.51.100.0/24", description: "Redshift clients (config network.allowedCidrs)" },
      { security_group_id: sgRef, ip_protocol: "tcp", from_port: 5439, to_port: 5439, cidr_ipv6: "2001:db8::/48", description: "VPN v6" },
      { security_group_id: sgRef, ip_protocol: "tcp", from_port: 5439, to_port: 5439, cidr_ipv4: "203.0.113.7/32", description: "Berlin office" },
    ]);
    expect(resourceAt(tf, "aws_redshift_cluster", "warehouse/cluster").publicly_accessible).toBe(true);
  });

  it("routes the subnets to an internet gateway only when the warehouse is publicly accessible", () => {
    const tf = synthStack({ tables: FEW_TABLES, network: { allowedCidrs: [office] } });
    const route = resourceAt(tf, "aws_route", "network/internet-route");
    expect(route.destination_cidr_block).toBe("0.0.0.0/0");
    expect(refTarget(route.gateway_id)).toMatch(/^aws_internet_gateway\.network_internet-gateway_/);
    expect(resourcesOf(tf, "aws_route_table_association")).toHaveLength(2);
    expect(resourcesOf(tf, "aws_nat_gateway")).toEqual([]);
  });

  it("names each rule after its CIDR, so reordering the list changes nothing", () => {
    const a = synthStack({ tables: FEW_TABLES, network: { allowedCidrs: [office, { cidr: "198.51.100.0/24" }] } });
    const b = synthStack({ tables: FEW_TABLES, network: { allowedCidrs: [{ cidr: "198.51.100.0/24" }, office] } });
    expect(a.resource.aws_vpc_security_group_ingress_rule).toEqual(b.resource.aws_vpc_security_group_ingress_rule);
    expect(Object.keys(a.resource.aws_vpc_security_group_ingress_rule)).toEqual([
      expect.stringMatching(/^network_ingress-198-51-100-0-24_/),
      expect.stringMatching(/^network_ingress-203-0-113-7-32_/),
    ]);
  });

  it("opens the configured port", () => {
    const tf = synthStack({ tables: FEW_TABLES, network: { allowedCidrs: [office] }, warehouse: { port: 5440 } });
    expect(ingressRules(tf)[0]).toMatchObject({ from_port: 5440, to_port: 5440 });
    expect(resourceAt(tf, "aws_redshift_cluster", "warehouse/cluster").port).toBe(5440);
  });

  it("accepts the whole internet only with allowPublicInternet, and then warns at synth", () => {
    const stack = buildStack({ network: { allowedCidrs: [{ cidr: "0.0.0.0/0" }], allowPublicInternet: true } });
    const tf = JSON.parse(synthesizeInMemory(stack));
    expect(ingressRules(tf).map((r) => r.cidr_ipv4)).toEqual(["0.0.0.0/0"]);
    const warnings = stack.network!.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => m.data);
    expect(warnings).toEqual([expect.stringContaining("open to 0.0.0.0/0 (the whole internet)")]);
    expect(buildStack({ network: { allowedCidrs: [office] } }).network!.node.metadata).toEqual([]);
  });

  it("refuses the whole internet when built without the flag, whoever builds it", () => {
    const scope = buildStack({});
    const build = (allowPublicInternet?: boolean) =>
      new Network(scope, `extra-${String(allowPublicInternet)}`, {
        prefix: "cs-extra",
        region: "us-east-1",
        availabilityZones: ["us-east-1a", "us-east-1b"],
        allowedCidrs: [{ cidr: "::/0" }],
        allowPublicInternet,
      });
    expect(() => build()).toThrow("Allowed CIDR ::/0 is the whole internet: refused unless allowPublicInternet is true.");
    expect(build(true).publicAccess).toBe(true);
  });
});

describe("network branches", () => {
  it("uses an existing VPC's subnets: no VPC, subnets, routes or default security group of its own", () => {
    const tf = synthStack({ tables: FEW_TABLES, 
      network: { existingVpc: { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] }, allowedCidrs: [office] },
    });
    for (const type of ["aws_vpc", "aws_subnet", "aws_route_table", "aws_route", "aws_internet_gateway", "aws_default_security_group"]) {
      expect(resourcesOf(tf, type)).toEqual([]);
    }
    expect(resourceAt(tf, "aws_security_group", "network/security-group").vpc_id).toBe("vpc-0123456789abcdef0");
    expect(resourceAt(tf, "aws_redshift_subnet_group", "network/subnet-group").subnet_ids).toEqual(["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]);
    expect(ingressRules(tf)).toHaveLength(1);
  });

  it("adds an S3 gateway endpoint and HTTPS egress to it for enhanced VPC routing", () => {
    const tf = synthStack({ tables: FEW_TABLES, region: "eu-west-1", warehouse: { enhancedVpcRouting: true } });
    const endpoint = resourceAt(tf, "aws_vpc_endpoint", "network/s3-endpoint");
    expect(endpoint).toMatchObject({ service_name: "com.amazonaws.eu-west-1.s3", vpc_endpoint_type: "Gateway" });
    expect(refTarget(endpoint.route_table_ids[0])).toMatch(/^aws_route_table\.network_route-table_/);
    const egress = resourceAt(tf, "aws_vpc_security_group_egress_rule", "network/egress-s3");
    expect(egress).toMatchObject({ ip_protocol: "tcp", from_port: 443, to_port: 443 });
    expect(egress.prefix_list_id).toMatch(/^\$\{aws_vpc_endpoint\.network_s3-endpoint_[A-F0-9]+\.prefix_list_id\}$/);
    expect(resourceAt(tf, "aws_redshift_cluster", "warehouse/cluster").enhanced_vpc_routing).toBe(true);
  });

  it("allows HTTPS out of an existing VPC for enhanced VPC routing, where the VPC's routes decide the path", () => {
    const tf = synthStack({ tables: FEW_TABLES, 
      network: { existingVpc: { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] } },
      warehouse: { enhancedVpcRouting: true },
    });
    expect(resourcesOf(tf, "aws_vpc_endpoint")).toEqual([]);
    expect(resourceAt(tf, "aws_vpc_security_group_egress_rule", "network/egress-https")).toMatchObject({ cidr_ipv4: "0.0.0.0/0", from_port: 443, to_port: 443 });
    expect(ingressRules(tf)).toEqual([]);
  });

  it("gives Redshift Serverless three zones and no subnet group (the workgroup takes subnet ids)", () => {
    const tf = synthStack({ tables: FEW_TABLES, region: "ap-northeast-1", warehouse: { mode: "serverless" } });
    expect(resourcesOf(tf, "aws_subnet").map(([, s]) => s.availability_zone)).toEqual(["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]);
    expect(resourcesOf(tf, "aws_redshift_subnet_group")).toEqual([]);
    expect(resourceAt(tf, "aws_redshiftserverless_workgroup", "warehouse/workgroup").subnet_ids).toHaveLength(3);
  });

  it("creates no network at all for an existing warehouse", () => {
    const tf = synthStack({ tables: FEW_TABLES, 
      warehouse: { mode: "existing", existing: { clusterIdentifier: "analytics", database: "reporting", auth: { type: "iam", dbUser: "loader" } } },
    });
    for (const type of ["aws_vpc", "aws_subnet", "aws_security_group", "aws_redshift_subnet_group", "aws_vpc_security_group_ingress_rule"]) {
      expect(resourcesOf(tf, type)).toEqual([]);
    }
  });
});

describe("subnet arithmetic", () => {
  it("splits the VPC in 16, first ones first, at most /28", () => {
    expect(subnetCidrs("10.42.0.0/16", 3)).toEqual(["10.42.0.0/20", "10.42.16.0/20", "10.42.32.0/20"]);
    expect(subnetCidrs("192.168.4.0/24", 2)).toEqual(["192.168.4.0/28", "192.168.4.16/28"]);
    expect(subnetCidrs("172.16.0.0/22", 2)).toEqual(["172.16.0.0/26", "172.16.0.64/26"]);
  });

  it("refuses what is not an IPv4 CIDR", () => {
    expect(() => subnetCidrs("2001:db8::/48", 2)).toThrow('VPC CIDR "2001:db8::/48" is not an IPv4 CIDR.');
  });

  it("makes construct ids from CIDRs", () => {
    expect(cidrId("203.0.113.7/32")).toBe("203-0-113-7-32");
    expect(cidrId("2001:db8::/48")).toBe("2001-db8---48");
  });
});
