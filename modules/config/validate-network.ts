/** network: the VPC the stack creates (or the one it is given) and the Redshift allow-list. */
import type { Checker } from "./checker";
import { formatAddress, isPublicInternet, parseCidr } from "./cidr";
import type { MirrorConfig } from "./types";

const VPC_ID_PATTERN = /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SUBNET_ID_PATTERN = /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/;
// Security group rule descriptions: up to 255 of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*
const RULE_DESCRIPTION_PATTERN = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{1,255}$/;

export function checkNetwork(c: Checker, config: MirrorConfig): void {
  const n = config.network;
  const mode = config.warehouse.mode;
  if (mode === "existing") {
    // The stack creates no network for an existing warehouse: settings here would silently do nothing.
    if (Array.isArray(n.allowedCidrs) && n.allowedCidrs.length > 0) {
      c.add(
        "network.allowedCidrs",
        n.allowedCidrs.map((a) => a?.cidr),
        'has no effect with warehouse.mode "existing" (the stack creates no network): allow these addresses on your warehouse\'s own security group',
      );
    }
    if (n.existingVpc !== undefined) {
      c.add("network.existingVpc", n.existingVpc, 'has no effect with warehouse.mode "existing" (the stack creates no network): remove it');
    }
    return;
  }
  const minZones = mode === "serverless" ? 3 : 2;
  const zonesWhy =
    mode === "serverless"
      ? "Redshift Serverless needs subnets in 3 availability zones"
      : "Redshift needs subnets in at least 2 availability zones";

  if (n.existingVpc === undefined) {
    const vpc = parseCidr(n.vpcCidr);
    if (!vpc || vpc.family !== 4 || vpc.prefixLength < 16 || vpc.prefixLength > 24) {
      c.add("network.vpcCidr", n.vpcCidr, 'must be an IPv4 CIDR from /16 to /24, such as "10.42.0.0/16"');
    } else if (vpc.network !== n.vpcCidr) {
      c.add("network.vpcCidr", n.vpcCidr, `has host bits set: write the network address "${vpc.network}"`);
    }
    const zones = n.availabilityZones;
    if (!Array.isArray(zones)) {
      c.add("network.availabilityZones", zones, `must list availability zones of ${config.region}: ${zonesWhy}`);
    } else {
      const seen = new Set<string>();
      zones.forEach((z, i) => {
        if (typeof z !== "string" || !z.startsWith(config.region) || !/^[a-z]$/.test(z.slice(config.region.length))) {
          c.add(`network.availabilityZones[${i}]`, z, `must be an availability zone of the region ${config.region}, such as "${config.region}a"`);
          return;
        }
        if (seen.has(z)) c.add(`network.availabilityZones[${i}]`, z, "is listed twice");
        seen.add(z);
      });
      if (seen.size < minZones) {
        c.add("network.availabilityZones", zones, `must list at least ${minZones} different zones: ${zonesWhy}`);
      } else if (zones.length > 6) {
        c.add("network.availabilityZones", zones, "must list at most 6 zones (one subnet each)");
      }
    }
  } else {
    const e = n.existingVpc;
    if (typeof e.vpcId !== "string" || !VPC_ID_PATTERN.test(e.vpcId)) {
      c.add("network.existingVpc.vpcId", e.vpcId, 'must be a VPC id such as "vpc-0123456789abcdef0"');
    }
    if (!Array.isArray(e.subnetIds)) {
      c.add("network.existingVpc.subnetIds", e.subnetIds, `must list subnet ids: ${zonesWhy}`);
    } else {
      const seen = new Set<string>();
      e.subnetIds.forEach((id, i) => {
        if (typeof id !== "string" || !SUBNET_ID_PATTERN.test(id)) {
          c.add(`network.existingVpc.subnetIds[${i}]`, id, 'must be a subnet id such as "subnet-0123456789abcdef0"');
          return;
        }
        if (seen.has(id)) c.add(`network.existingVpc.subnetIds[${i}]`, id, "is listed twice");
        seen.add(id);
      });
      if (seen.size < minZones) {
        c.add("network.existingVpc.subnetIds", e.subnetIds, `must list at least ${minZones} subnets, each in a different availability zone: ${zonesWhy}`);
      }
    }
  }

  c.boolean("network.allowPublicInternet", n.allowPublicInternet);
  if (!Array.isArray(n.allowedCidrs)) {
    c.add("network.allowedCidrs", n.allowedCidrs, 'must be a list of { cidr, description? } (empty for a private warehouse)');
    return;
  }
  const seen = new Map<string, number>();
  n.allowedCidrs.forEach((entry, i) => {
    const field = `network.allowedCidrs[${i}]`;
    if (typeof entry !== "object" || entry === null) {
      c.add(field, entry, 'must be { cidr: "203.0.113.7/32", description: "Berlin office" }');
      return;
    }
    const parsed = parseCidr(entry.cidr);
    if (!parsed) {
      c.add(`${field}.cidr`, entry.cidr, 'must be an IPv4 or IPv6 CIDR such as "203.0.113.7/32", "198.51.100.0/24" or "2001:db8::/48"');
    } else if (parsed.network !== entry.cidr) {
      const hostBits = parsed.network.split("/")[0] !== formatAddress(parsed.family, parsed.address);
      c.add(
        `${field}.cidr`,
        entry.cidr,
        hostBits
          ? `has host bits set: write "${parsed.network}" for the network, or "${formatAddress(parsed.family, parsed.address)}/${parsed.family === 4 ? 32 : 128}" for this one address`
          : `must be written as "${parsed.network}" (lower case, zeros compressed), the form AWS reports back`,
      );
    } else if (isPublicInternet(parsed) && n.allowPublicInternet !== true) {
      c.add(
        `${field}.cidr`,
        entry.cidr,
        "opens the Redshift port to the whole internet: list your offices' addresses, or set network.allowPublicInternet to true if you really mean it",
      );
    } else if (seen.has(parsed.network)) {
      c.add(`${field}.cidr`, entry.cidr, `is listed twice (also network.allowedCidrs[${seen.get(parsed.network)}])`);
    }
    if (parsed) seen.set(parsed.network, seen.get(parsed.network) ?? i);
    if (entry.description !== undefined && (typeof entry.description !== "string" || !RULE_DESCRIPTION_PATTERN.test(entry.description))) {
      c.add(`${field}.description`, entry.description, "must be 1 to 255 characters of letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*");
    }
  });
}
