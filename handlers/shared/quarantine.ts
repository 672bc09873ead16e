/**
 * Quarantine: where a correctly signed webhook the receiver cannot act on waits, instead of being refused.
 *
 * ControlShift retries every non-2xx answer 9 times and then disables the endpoint for every event type, so after the
 * signature verifies the receiver never answers 4xx. A payload it cannot act on is written as one JSON object under
 * `quarantine/pending/` of the exports bucket and answered 200; `npm run replay -- quarantine` lists those objects and
 * re-submits them through the receiver's own checks once the config is fixed, moving each accepted one to
 * `quarantine/resubmitted/`.
 *
 * The reasons below are the literal texts the operator sees (the answer's `reason`, the log line, the `help` titles):
 * keep them stable. The specifics (which bucket, which file name) go in `detail`.
 */
import { createHash } from "node:crypto";
import { QUARANTINE_PENDING_PREFIX, QUARANTINE_RESUBMITTED_PREFIX } from "../../facts/quarantine";
import { SIGNATURE_HEADER } from "./signature";


/** Every reason a signed payload is quarantined, by the literal text the operator sees. */
export const QUARANTINE_REASONS = {
  notJson: "the body is not valid JSON",
  notObject: "the body is not a JSON object",
  noType: "type is missing or not a string",
  noData: "data is missing or not an object",
  noTable: "data.table is missing or not a string",
  badTable: "data.table is not a table name",
  tooLarge: "the body is larger than expected",
  noUrl: "data.url is missing or not a string",
  unsafeUrl: "data.url is not a safe https URL",
  bucketNotAllowed: "data.url is not on an allowed export bucket",
  badFileName: "the export file name is not ControlShift's",
  badCompression: "data.compression_format is not bzip2 or none",
  compressionMismatch: "data.compression_format does not match the file name",
} as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[keyof typeof QUARANTINE_REASONS];

/** The start of the receiver's log message for a quarantined payload, followed by the reason. */
export const QUARANTINED_MESSAGE = "webhook quarantined";

/**
 * Request headers never stored: the signature (with the body it would let anyone replay the payload to the
 * webhook), and credentials (ControlShift can put HTTP Basic auth on the URL).
 */
export const HEADERS_NOT_STORED: readonly string[] = [SIGNATURE_HEADER, "authorization", "cookie"];

/** One quarantined payload, as stored (JSON). */
export interface QuarantineRecord {
  readonly version: 1;
  readonly reason: QuarantineReason;
  /** What exactly is wrong: `data.url host x.s3.amazonaws.com is not one of ...`. Never the URL's query. */
  readonly detail: string;
  /** When the receiver got it (ISO 8601). */
  readonly receivedAt: string;
  /** The request's headers, names lower-cased, without HEADERS_NOT_STORED. */
  readonly headers: Readonly<Record<string, string>>;
  /** The raw body: as text when it is valid UTF-8, else base64. */
  readonly body: string;
  readonly bodyEncoding: "utf8" | "base64";
  /** Set when `npm run replay -- quarantine --execute` queued it (the object then lives under resubmitted/). */
  readonly resubmitted?: { readonly at: string; readonly messageId: string; readonly queue: string };
}

export class QuarantineRecordError extends Error {
  override readonly name: string = "QuarantineRecordError";
}

/** The headers to store: names lower-cased, the signature and credentials left out. */
export function storableHeaders(headers: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value !== undefined && !HEADERS_NOT_STORED.includes(lower)) kept[lower] = value;
  }
  return kept;
}

/** The body as the record holds it: text when the bytes are valid UTF-8 (they round-trip), else base64. */
export function encodeBody(bytes: Buffer): Pick<QuarantineRecord, "body" | "bodyEncoding"> {
  const text = bytes.toString("utf8");
  return Buffer.from(text, "utf8").equals(bytes) ? { body: text, bodyEncoding: "utf8" } : { body: bytes.toString("base64"), bodyEncoding: "base64" };
}

/** The raw body bytes of a record. */
export function decodeBody(record: Pick<QuarantineRecord, "body" | "bodyEncoding">): Buffer {
  return Buffer.from(record.body, record.bodyEncoding === "base64" ? "base64" : "utf8");
}

/**
 * `quarantine/pending/<YYYYMMDD>/<sha256>.json`: the day received and a hash of the body. ControlShift changes `jid` on
 * every retry (help, "The webhook ControlShift sends, and the export file name"), so for a JSON object the hash leaves `jid` out: a retry of the same payload on the same day
 * overwrites the object instead of adding one. Any other body is hashed as its raw bytes.
 */
export function quarantineKey(receivedAt: Date, body: Buffer): string {
  const day = receivedAt.toISOString().slice(0, 10).replace(/-/g, "");
  return `${QUARANTINE_PENDING_PREFIX}${day}/${bodyIdentity(body)}.json`;
}

/** Where a pending key goes once re-submitted: the same name under resubmitted/. */
export function resubmittedKey(pendingKey: string): string {
  if (!pendingKey.startsWith(QUARANTINE_PENDING_PREFIX)) {
    throw new QuarantineRecordError(`${pendingKey} is not under ${QUARANTINE_PENDING_PREFIX}`);
  }
  return QUARANTINE_RESUBMITTED_PREFIX + pendingKey.slice(QUARANTINE_PENDING_PREFIX.length);
}

function bodyIdentity(body: Buffer): string {
  const hash = createHash("sha256");
  try {
    const value: unknown = JSON.parse(body.toString("utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      const { jid: _jid, ...rest } = value as Record<string, unknown>;
      return hash.update(JSON.stringify(rest)).digest("hex");
    }
  } catch {
    // Not JSON: the raw bytes below.
  }
  return hash.update(body).digest("hex");
}

const REASONS: ReadonlySet<string> = new Set(Object.values(QUARANTINE_REASONS));

/** Parses a stored record. Throws QuarantineRecordError naming what is wrong. */
export function parseQuarantineRecord(text: string): QuarantineRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new QuarantineRecordError("the quarantined object is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new QuarantineRecordError("the quarantined object is not a JSON object");
  }
  const v = value as Record<string, unknown>;
  if (v.version !== 1) throw new QuarantineRecordError(`quarantine record version ${JSON.stringify(v.version)} is not 1`);
  for (const field of ["reason", "detail", "receivedAt", "body", "bodyEncoding"] as const) {
    if (typeof v[field] !== "string") throw new QuarantineRecordError(`quarantine record field ${field} is missing or not a string`);
  }
  if (!REASONS.has(v.reason as string)) throw new QuarantineRecordError(`quarantine record reason ${JSON.stringify(v.reason)} is not known`);
  if (v.bodyEncoding !== "utf8" && v.bodyEncoding !== "base64") {
    throw new QuarantineRecordError(`quarantine record bodyEncoding ${JSON.stringify(v.bodyEncoding)} is not utf8 or base64`);
  }
  const headers = v.headers;
  if (typeof headers !== "object" || headers === null || Array.isArray(headers) || Object.values(headers).some((h) => typeof h !== "string")) {
    throw new QuarantineRecordError("quarantine record field headers is not an object of strings");
  }
  return value as QuarantineRecord;
}
