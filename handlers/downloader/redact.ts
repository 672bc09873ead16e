/**
 * Keeping presigned credentials out of logs and dead letters.
 *
 * A ControlShift export URL carries `X-Amz-Credential`, `X-Amz-Signature` (and sometimes `X-Amz-Security-Token`)
 * in its query: whoever reads it can download the export for up to 6 hours. Error messages from the runtime can
 * quote a URL or a slice of the job body (V8's JSON.parse errors quote the text around the fault), so every
 * message that leaves the downloader goes through here.
 */

/** `scheme://host/path?query`: keep the path, drop the query. */
const URL_WITH_QUERY = /\b(https?:\/\/[^\s"'<>?#\\]*)\?[^\s"'<>#]*/gi;
/** A SigV4 query parameter seen out of its URL (a truncated slice, a JSON-escaped `\u0026` separator). */
const SIGV4_PARAMETER = /(X-Amz-[A-Za-z-]+)=[^&\s"'<>\\]*/gi;

export const REDACTED = "<redacted>";

/** Replaces every URL query and every stray `X-Amz-*=value` in the text. */
export function redactQueryStrings(text: string): string {
  return text.replace(URL_WITH_QUERY, `$1?${REDACTED}`).replace(SIGV4_PARAMETER, `$1=${REDACTED}`);
}

/** The URL as it may be logged: origin and path, no query, no fragment, no user info. */
export function safeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * Errors are read by shape, not with `instanceof Error`: errors made by another realm (undici inside a test VM, a
 * worker) are Errors that fail that check.
 */
interface ErrorLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
}

function asErrorLike(err: unknown): ErrorLike | undefined {
  return typeof err === "object" && err !== null && "message" in err ? (err as ErrorLike) : undefined;
}

function errorName(err: unknown): string {
  const name = asErrorLike(err)?.name;
  return typeof name === "string" ? name : typeof err;
}

function errorMessage(err: unknown): string {
  const message = asErrorLike(err)?.message;
  return typeof message === "string" ? message : String(err);
}

function errorCode(err: unknown): string | undefined {
  const code = asErrorLike(err)?.code;
  return typeof code === "string" ? code : undefined;
}

function errorCause(err: unknown): unknown {
  return asErrorLike(err)?.cause;
}

/** `Name: message` of an error and its causes (up to 3 deep), redacted: fit for a log line or a dead letter. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const code = errorCode(current);
    parts.push(`${errorName(current)}: ${errorMessage(current)}${code ? ` (${code})` : ""}`);
    current = errorCause(current);
  }
  return redactQueryStrings(parts.join(" <- caused by "));
}

/**
 * A plain, redacted view of an error for structured logs. (Handing the Error itself to the logger would print its
 * cause chain unredacted.)
 */
export function errorForLog(err: unknown): Record<string, unknown> {
  const view: Record<string, unknown> = {
    name: errorName(err),
    message: redactQueryStrings(errorMessage(err)),
  };
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === "number") view.status = status;
  if (errorCause(err) !== undefined) view.cause = describeError(errorCause(err));
  return view;
}
