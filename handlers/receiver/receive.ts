/**
 * The webhook receiver's core: authenticate a ControlShift webhook, check it, and queue one download job.
 *
 * ControlShift retries every non-2xx answer and, after 9 failures, disables the endpoint for every event type
 * (help, "The receiver's answers to signed webhooks"). So, once the signature verifies, the only non-2xx answer is 503 for our own
 * transient failures: 200 once the job is durably queued, when there is nothing to do, or when the payload cannot be
 * acted on and was durably quarantined (handlers/shared/quarantine.ts). Before that: 401 for a missing or wrong
 * signature, 413 for a body over REQUEST_SIZE_GUARD_BYTES. Nothing here downloads.
 */
import { type Compression, type DownloadJob, type ExportFile, ExportFileNameError, parseExportFileName } from "../shared/export-file";
import { type ExportKind, TABLE_NAME_PATTERN } from "../../facts/exports";
import { REASON_DIMENSION, RECEIVER_METRICS, type WebhookMetric } from "../../facts/metrics";
import {
  type ExportUrl,
  ExportBucketNotAllowedError,
  ExportUrlError,
  type LoopbackUrlPrefix,
  parseExportUrl,
} from "../shared/export-url";
import { HttpError, PayloadTooLargeError, UnauthorizedError } from "../shared/http-errors";
import {
  QUARANTINED_MESSAGE,
  QUARANTINE_REASONS,
  type QuarantineReason,
  encodeBody,
  quarantineKey,
  storableHeaders,
} from "../shared/quarantine";
import { SIGNATURE_HEADER, parseSignatureHeader, signatureMatches } from "../shared/signature";
import {
  type IgnoreReason,
  type ReceiverPorts,
  type SigningSecret,
  type WebhookOutcome,
  QuarantineWriteError,
  QueueSendError,
  SigningSecretUnavailableError,
} from "./ports";

/** The two event types that carry an export; every other type is acknowledged and ignored. */
export const BULK_DATA_EVENTS: ReadonlyMap<string, ExportKind> = new Map([
  ["data.full_table_exported", "full"],
  ["data.incremental_table_exported", "incremental"],
]);

/**
 * A cached secret at least this old is read again when a signature does not match it: the operator may just have
 * rotated it. Younger ones are not, so a flood of bad signatures cannot become a flood of Secrets Manager reads.
 */
export const ROTATION_REFETCH_AFTER_MS = 30_000;

/**
 * Bodies over this many bytes are answered 413 before any other work (the signature included). 10 MiB is API Gateway
 * HTTP APIs' payload cap (10 MB, not adjustable), and Lambda's synchronous invocation limit (6 MB) is lower still, so
 * in the deployed stack no request reaching the receiver is over it: the guard only bounds what other callers (the
 * local runner's HTTP server) read. ControlShift's webhooks are under 1 KiB, thousands of times less, so no real
 * payload is ever refused for its size; a signed bulk-data body over ReceiverSettings.maxBodyBytes is quarantined.
 */
export const REQUEST_SIZE_GUARD_BYTES = 10 * 1024 * 1024;

/**
 * A signed payload the receiver cannot act on: it is quarantined, never refused. `reason` is one of the fixed texts
 * (QUARANTINE_REASONS) the operator looks up in `help`; `detail` says exactly what is wrong.
 */
export class UnacceptablePayloadError extends Error {
  override readonly name: string = "UnacceptablePayloadError";
  constructor(
    readonly reason: QuarantineReason,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
  }
}

/** What a signed payload asks for, once checked: a download job to queue, or nothing to do. */
export type PayloadVerdict =
  | { readonly type: "queue"; readonly job: DownloadJob }
  | { readonly type: "ignore"; readonly reason: IgnoreReason };

export interface WebhookRequest {
  /** Header names in any case (API Gateway lower-cases them; other callers may not). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | undefined;
  /** API Gateway's flag: the body is base64 of the raw bytes. */
  readonly isBase64Encoded: boolean;
}

export interface WebhookResponse {
  readonly statusCode: number;
  readonly headers: { readonly "content-type": "application/json" };
  readonly body: string;
}

export interface ReceiverSettings {
  /** The configured tables: bulk-data events about other tables are ignored. */
  readonly tables: ReadonlySet<string>;
  /** ControlShift export buckets whose URLs may be downloaded. */
  readonly buckets: readonly string[];
  /**
   * Signed bulk-data bodies larger than this many bytes are quarantined ("the body is larger than expected"): they
   * are not what ControlShift sends today. Other event types are never checked for size.
   */
  readonly maxBodyBytes: number;
  /**
   * Loopback URL prefixes accepted besides the buckets: the local runner's (`npm run local`) stand-in for
   * ControlShift's bucket. The Lambda entry never sets it, and no environment variable can.
   * @default []
   */
  readonly loopbackUrlPrefixes?: readonly LoopbackUrlPrefix[];
}

/** Handles one webhook request. Reports exactly one outcome through `ports.report`, then answers. */
export async function receiveWebhook(
  request: WebhookRequest,
  settings: ReceiverSettings,
  ports: ReceiverPorts,
): Promise<WebhookResponse> {
  // Filled in as facts become known, so a rejection is logged with everything learnt so far.
  const details: Record<string, unknown> = {};
  let outcome: WebhookOutcome;
  try {
    outcome = await handle(request, settings, ports, details);
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    outcome = failed(err, details);
  }
  ports.report(outcome);
  return {
    statusCode: outcome.statusCode,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(outcome.response),
  };
}

async function handle(
  request: WebhookRequest,
  settings: ReceiverSettings,
  ports: ReceiverPorts,
  details: Record<string, unknown>,
): Promise<WebhookOutcome> {
  const body = readBody(request, REQUEST_SIZE_GUARD_BYTES);
  details.bodyBytes = body.length;
  await authenticate(request.headers, body, ports, details);
  // From here on the payload is ControlShift's: nothing is answered 4xx.

  const receivedAt = ports.clock();
  let verdict: PayloadVerdict;
  try {
    verdict = checkPayload(body, settings, receivedAt, details);
  } catch (err) {
    if (!(err instanceof UnacceptablePayloadError)) throw err;
    return quarantine(err, request, body, receivedAt, ports, details);
  }
  if (verdict.type === "ignore") return ignored(verdict.reason, details);

  const { job } = verdict;
  try {
    await ports.queue.send(job);
  } catch (err) {
    throw err instanceof QueueSendError
      ? err
      : new QueueSendError("the export could not be queued; retry later", { cause: err });
  }
  return {
    statusCode: 200,
    response: { status: "queued", table: job.table, kind: job.kind, fileName: job.fileName },
    metric: RECEIVER_METRICS.accepted,
    level: "info",
    message: "webhook accepted: export queued for download",
    details,
  };
}

/**
 * The receiver's checks on an authenticated body, with nothing queued or stored: the job to queue, or why there is
 * nothing to do. Throws UnacceptablePayloadError for a payload to quarantine. `npm run replay -- quarantine` runs this
 * same function on quarantined payloads, so a re-submission passes exactly the checks a new webhook would.
 * @param details filled in as facts become known (for the log line); never the URL's query
 */
export function checkPayload(
  body: Buffer,
  settings: ReceiverSettings,
  receivedAt: Date,
  details: Record<string, unknown> = {},
): PayloadVerdict {
  const event = parseJsonObject(body);
  if (typeof event.type !== "string") throw new UnacceptablePayloadError(QUARANTINE_REASONS.noType, QUARANTINE_REASONS.noType);
  details.eventType = clip(event.type);
  const kind = BULK_DATA_EVENTS.get(event.type);
  if (kind === undefined) return { type: "ignore", reason: "event-type" };
  if (body.length > settings.maxBodyBytes) {
    throw new UnacceptablePayloadError(
      QUARANTINE_REASONS.tooLarge,
      `the body is ${body.length} bytes, more than receiver.maxBodyBytes (${settings.maxBodyBytes}) for a ${event.type} webhook`,
    );
  }

  const data = event.data;
  if (!isJsonObject(data)) throw new UnacceptablePayloadError(QUARANTINE_REASONS.noData, QUARANTINE_REASONS.noData);
  const table = data.table;
  if (typeof table !== "string") throw new UnacceptablePayloadError(QUARANTINE_REASONS.noTable, QUARANTINE_REASONS.noTable);
  details.table = clip(table);
  if (!TABLE_NAME_PATTERN.test(table)) {
    throw new UnacceptablePayloadError(
      QUARANTINE_REASONS.badTable,
      `data.table ${JSON.stringify(clip(table))} is not a table name (${TABLE_NAME_PATTERN})`,
    );
  }
  details.kind = kind;
  if (!settings.tables.has(table)) return { type: "ignore", reason: "unconfigured-table" };

  const url = checkUrl(data.url, settings.buckets, settings.loopbackUrlPrefixes ?? [], details);
  const file = checkFileName(kind, table, url.fileName);
  const compression = checkCompression(data.compression_format, file.fileName);
  // data.s3 is ignored: it only restates the URL's bucket and key, and only when ControlShift knows our account id.
  // jid is ignored too: it changes on every retry, so it identifies nothing.
  Object.assign(details, { fileName: file.fileName, exportedAt: file.exportedAt, compression });
  return {
    type: "queue",
    job: {
      version: 1,
      ...file,
      url: url.href,
      compression,
      sourcePath: url.path,
      receivedAt: receivedAt.toISOString(),
    },
  };
}

/**
 * Stores the payload under quarantine/pending/ and answers 200 saying so. When the store fails, throws
 * QuarantineWriteError (503): ControlShift retries, and the payload is not lost.
 */
async function quarantine(
  err: UnacceptablePayloadError,
  request: WebhookRequest,
  body: Buffer,
  receivedAt: Date,
  ports: ReceiverPorts,
  details: Record<string, unknown>,
): Promise<WebhookOutcome> {
  const key = quarantineKey(receivedAt, body);
  Object.assign(details, { quarantineReason: err.reason, detail: err.detail, quarantineKey: key });
  try {
    await ports.quarantine.put(key, {
      version: 1,
      reason: err.reason,
      detail: err.detail,
      receivedAt: receivedAt.toISOString(),
      headers: storableHeaders(request.headers),
      ...encodeBody(body),
    });
  } catch (cause) {
    throw cause instanceof QuarantineWriteError
      ? cause
      : new QuarantineWriteError("the payload could not be quarantined; retry later", { cause });
  }
  const message = `${QUARANTINED_MESSAGE}: ${err.reason}`;
  return {
    statusCode: 200,
    response: { status: "quarantined", reason: err.reason, detail: err.detail },
    metric: RECEIVER_METRICS.quarantined,
    level: "warn",
    message,
    details,
    help: `see help: ${message}`,
  };
}

/** The raw body bytes, refusing anything over the limit before decoding more than it. */
function readBody(request: WebhookRequest, maxBytes: number): Buffer {
  const text = request.body ?? "";
  const tooLarge = () => new PayloadTooLargeError(`the body is larger than ${maxBytes} bytes`);
  if (request.isBase64Encoded) {
    // Base64 spends 4 characters per 3 bytes: a longer text cannot decode to maxBytes or less.
    if (text.length > 4 * Math.ceil(maxBytes / 3)) throw tooLarge();
    const bytes = Buffer.from(text, "base64");
    if (bytes.length > maxBytes) throw tooLarge();
    return bytes;
  }
  // Every UTF-16 code unit takes at least one UTF-8 byte: a longer string cannot encode to maxBytes or less.
  if (text.length > maxBytes) throw tooLarge();
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length > maxBytes) throw tooLarge();
  return bytes;
}

/**
 * Checks the signature header against the secret, refetching an old cached secret once on a mismatch.
 * Throws UnauthorizedError or SigningSecretUnavailableError.
 */
async function authenticate(
  headers: WebhookRequest["headers"],
  body: Buffer,
  ports: ReceiverPorts,
  details: Record<string, unknown>,
): Promise<void> {
  const value = headerValue(headers, SIGNATURE_HEADER);
  if (value === undefined) throw new UnauthorizedError(`the ${SIGNATURE_HEADER} header is missing`);
  const digest = parseSignatureHeader(value);
  if (digest === undefined) {
    throw new UnauthorizedError(`the ${SIGNATURE_HEADER} header is not sha256:<64 hex digits>`);
  }
  const matches = (secret: SigningSecret) =>
    secret.value !== undefined && signatureMatches(secret.value, body, digest);

  let secret = await readSecret(() => ports.secret.current());
  if (matches(secret)) return;
  if (ports.clock().getTime() - secret.fetchedAt.getTime() >= ROTATION_REFETCH_AFTER_MS) {
    details.secretRefetched = true;
    secret = await readSecret(() => ports.secret.refresh());
    if (matches(secret)) return;
  }
  if (secret.value === undefined) {
    throw new UnauthorizedError("no webhook signing secret is configured yet: put it in the stack's signing secret");
  }
  throw new UnauthorizedError(`the ${SIGNATURE_HEADER} header does not match the body`);
}

async function readSecret(read: () => Promise<SigningSecret>): Promise<SigningSecret> {
  try {
    return await read();
  } catch (err) {
    throw err instanceof SigningSecretUnavailableError
      ? err
      : new SigningSecretUnavailableError("the webhook signing secret could not be read; retry later", { cause: err });
  }
}

/** Header lookup by name in any case. */
function headerValue(headers: WebhookRequest["headers"], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined && key.toLowerCase() === name) return value;
  }
  return undefined;
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    // Not the parser's message: it quotes part of the body, which may be the presigned URL.
    throw new UnacceptablePayloadError(QUARANTINE_REASONS.notJson, QUARANTINE_REASONS.notJson);
  }
  if (!isJsonObject(value)) throw new UnacceptablePayloadError(QUARANTINE_REASONS.notObject, QUARANTINE_REASONS.notObject);
  return value;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkUrl(
  value: unknown,
  buckets: readonly string[],
  loopbackPrefixes: readonly LoopbackUrlPrefix[],
  details: Record<string, unknown>,
): ExportUrl {
  if (typeof value !== "string") throw new UnacceptablePayloadError(QUARANTINE_REASONS.noUrl, QUARANTINE_REASONS.noUrl);
  // Host and path are safe to log, even for a URL about to be rejected; the query (presigned signature) is not.
  try {
    const parsed = new URL(value);
    Object.assign(details, { sourceHost: parsed.host, sourcePath: parsed.pathname });
  } catch {
    // Unparseable: parseExportUrl says so below.
  }
  try {
    return parseExportUrl(value, buckets, loopbackPrefixes);
  } catch (err) {
    if (err instanceof ExportBucketNotAllowedError) {
      throw new UnacceptablePayloadError(QUARANTINE_REASONS.bucketNotAllowed, err.message, { cause: err });
    }
    if (err instanceof ExportUrlError) throw new UnacceptablePayloadError(QUARANTINE_REASONS.unsafeUrl, err.message, { cause: err });
    throw err;
  }
}

function checkFileName(kind: ExportKind, table: string, fileName: string): ExportFile {
  try {
    return parseExportFileName(kind, table, fileName);
  } catch (err) {
    if (err instanceof ExportFileNameError) {
      throw new UnacceptablePayloadError(QUARANTINE_REASONS.badFileName, `data.url: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/**
 * `compression_format` is `bzip2` or `none`; older senders omit it, and then the `.bz2` suffix decides. An explicit
 * value must agree with the suffix: the downloader and the loaders go by the file name.
 */
function checkCompression(value: unknown, fileName: string): Compression {
  const bz2 = fileName.endsWith(".bz2");
  if (value === undefined || value === null) return bz2 ? "bzip2" : "none";
  if (value !== "bzip2" && value !== "none") {
    throw new UnacceptablePayloadError(
      QUARANTINE_REASONS.badCompression,
      `data.compression_format ${JSON.stringify(typeof value === "string" ? clip(value) : value)} is not bzip2 or none`,
    );
  }
  if ((value === "bzip2") !== bz2) {
    throw new UnacceptablePayloadError(
      QUARANTINE_REASONS.compressionMismatch,
      `data.compression_format is ${value}, but the file name ${fileName} ${bz2 ? "ends" : "does not end"} in .bz2`,
    );
  }
  return value;
}

function ignored(reason: IgnoreReason, details: Record<string, unknown>): WebhookOutcome {
  details.reason = reason;
  return {
    statusCode: 200,
    response: { status: "ignored", reason },
    metric: RECEIVER_METRICS.ignored,
    dimensions: { [REASON_DIMENSION]: reason },
    level: "info",
    message:
      reason === "event-type" ? "webhook ignored: not a bulk-data export event" : "webhook ignored: table not configured",
    details,
  };
}

function failed(err: HttpError, details: Record<string, unknown>): WebhookOutcome {
  details.reason = err.message;
  const serverSide = err.statusCode >= 500;
  return {
    statusCode: err.statusCode,
    response: { error: err.message },
    metric: metricFor(err),
    level: serverSide ? "error" : "warn",
    message: `webhook answered ${err.statusCode}: ${err.message}`,
    details,
    // The cause chain of a 5xx (an SDK error) is what an operator needs; a 4xx is explained by its message.
    ...(serverSide ? { error: err } : {}),
  };
}

function metricFor(err: HttpError): WebhookMetric {
  if (err instanceof UnauthorizedError) return RECEIVER_METRICS.unauthorized;
  if (err instanceof QueueSendError) return RECEIVER_METRICS.queueFailed;
  if (err instanceof SigningSecretUnavailableError) return RECEIVER_METRICS.secretUnavailable;
  if (err instanceof QuarantineWriteError) return RECEIVER_METRICS.quarantineFailed;
  // The size guard, before the signature (the only other HttpError).
  return RECEIVER_METRICS.rejected;
}

/** Payload text quoted in a message or a log stays short, whatever an authenticated sender put in it. */
function clip(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}
