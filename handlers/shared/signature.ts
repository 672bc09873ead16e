/**
 * ControlShift's webhook signature: `x-controlshift-webhook-signature: sha256:<lowercase hex HMAC-SHA256(secret, raw body)>`,
 * computed over the raw body bytes (help, "The webhook ControlShift sends, and the export file name").
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "x-controlshift-webhook-signature";

const SIGNATURE_PATTERN = /^sha256:([0-9a-fA-F]{64})$/;

/** The header value ControlShift sends for this body and secret. */
export function signBody(secret: string, body: Uint8Array): string {
  return `sha256:${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/**
 * The 32 digest bytes of a well-formed header value (`sha256:` and 64 hex digits, surrounding whitespace ignored), or
 * undefined when the value is malformed. Hex case is not significant: the bytes are compared, not the text.
 */
export function parseSignatureHeader(value: string): Buffer | undefined {
  const m = SIGNATURE_PATTERN.exec(value.trim());
  return m ? Buffer.from(m[1], "hex") : undefined;
}

/** Whether `digest` (from parseSignatureHeader) is the HMAC of `body` under `secret`, compared in constant time. */
export function signatureMatches(secret: string, body: Uint8Array, digest: Buffer): boolean {
  const expected = createHmac("sha256", secret).update(body).digest();
  // timingSafeEqual throws on different lengths; the length of a SHA-256 digest is public anyway.
  return digest.length === expected.length && timingSafeEqual(digest, expected);
}
