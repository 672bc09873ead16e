/** CIDR arithmetic, pure: shared by the network validator and modules/network.ts (subnet ranges, public checks). */

/** An IPv4 or IPv6 CIDR, parsed. */
export interface ParsedCidr {
  readonly family: 4 | 6;
  /** The address as a number (host bits may be set). */
  readonly address: bigint;
  readonly prefixLength: number;
  /** The network address with its prefix, in canonical text (IPv6 per RFC 5952: lower case, zeros compressed). */
  readonly network: string;
}

const IPV4_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The text form of an address: dotted quad, or RFC 5952 for IPv6. */
export function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  // The longest run of two or more zero groups becomes "::" (the first one on a tie).
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length && j - i >= 2) best = { start: i, length: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(":");
  return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.length).join(":")}`;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => IPV4_OCTET.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const split = (h: string) => (h === "" ? [] : h.split(":"));
  const head = split(halves[0]);
  const tail = halves.length === 2 ? split(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => IPV6_GROUP.test(g))) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Parses "a.b.c.d/n" or "x:y::z/n"; undefined when it is not a CIDR. */
export function parseCidr(text: unknown): ParsedCidr | undefined {
  if (typeof text !== "string") return undefined;
  const m = /^([^/]+)\/(0|[1-9][0-9]{0,2})$/.exec(text);
  if (!m) return undefined;
  const family: 4 | 6 = m[1].includes(":") ? 6 : 4;
  const address = family === 4 ? parseIpv4(m[1]) : parseIpv6(m[1]);
  const prefixLength = Number(m[2]);
  const bits = family === 4 ? 32 : 128;
  if (address === undefined || prefixLength > bits) return undefined;
  const hostMask = (1n << BigInt(bits - prefixLength)) - 1n;
  return { family, address, prefixLength, network: `${formatAddress(family, address & ~hostMask)}/${prefixLength}` };
}

/**
 * CIDRs this wide count as the public internet: `0.0.0.0/0` and `::/0`, and anything wider than /8 (two rules for
 * `0.0.0.0/1` and `128.0.0.0/1` are the whole internet too).
 */
export const PUBLIC_INTERNET_MAX_PREFIX = 7;

export function isPublicInternet(cidr: ParsedCidr): boolean {
  return cidr.prefixLength <= PUBLIC_INTERNET_MAX_PREFIX;
}
