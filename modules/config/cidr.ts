/**
 * CIDR arithmetic, pure: shared by the network validator and modules/network.ts (subnet ranges, public checks).
 * Parsing and the RFC 5952 text form come from ipaddr.js; what is left here is the strictness the config needs.
 */
import ipaddr from "ipaddr.js";

/** An IPv4 or IPv6 CIDR, parsed. */
export interface ParsedCidr {
  readonly family: 4 | 6;
  /** The address as a number (host bits may be set). */
  readonly address: bigint;
  readonly prefixLength: number;
  /** The network address with its prefix, in canonical text (IPv6 per RFC 5952: lower case, zeros compressed). */
  readonly network: string;
}

const bitsOf = (family: 4 | 6): number => (family === 4 ? 32 : 128);

/** The text form of an address: dotted quad, or RFC 5952 for IPv6. */
export function formatAddress(family: 4 | 6, value: bigint): string {
  const n = bitsOf(family) / 8;
  const bytes = Array.from({ length: n }, (_, i) => Number((value >> BigInt(8 * (n - 1 - i))) & 255n));
  return ipaddr.fromByteArray(bytes).toString();
}

/**
 * The address part a CIDR may have: IPv4 only as four decimal parts (ipaddr.js also reads `10.1` and `0x7f.0.0.1`,
 * forms AWS would store differently from what the operator wrote), IPv6 without a zone (`%eth0` means nothing to a
 * security group) and without a dotted IPv4 tail (`::ffff:1.2.3.4`, which AWS reports back in hex).
 */
function parseAddress(text: string): { family: 4 | 6; bytes: number[] } | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return { family: 4, bytes: ipaddr.IPv4.parse(text).toByteArray() };
  if (text.includes(":") && !/[%.]/.test(text) && ipaddr.IPv6.isValid(text)) {
    return { family: 6, bytes: ipaddr.IPv6.parse(text).toByteArray() };
  }
  return undefined;
}

/** Parses "a.b.c.d/n" or "x:y::z/n"; undefined when it is not a CIDR. */
export function parseCidr(text: unknown): ParsedCidr | undefined {
  if (typeof text !== "string") return undefined;
  const m = /^([^/]+)\/(0|[1-9][0-9]{0,2})$/.exec(text);
  const parsed = m ? parseAddress(m[1]) : undefined;
  if (!m || !parsed) return undefined;
  const { family } = parsed;
  const prefixLength = Number(m[2]);
  if (prefixLength > bitsOf(family)) return undefined;
  const address = parsed.bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  const hostMask = (1n << BigInt(bitsOf(family) - prefixLength)) - 1n;
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
