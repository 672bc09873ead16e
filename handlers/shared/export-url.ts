/**
 * Checks an export URL from a ControlShift webhook before anything is allowed to download it.
 *
 * ControlShift sends presigned S3 GET URLs on `<bucket>.s3.amazonaws.com` (help, "The webhook ControlShift sends, and the export file name"). The downloader
 * fetches whatever URL the job carries, so the receiver accepts only HTTPS URLs on the configured ControlShift export
 * buckets: a signed but compromised or misconfigured sender must not make us fetch from anywhere else.
 *
 * The one exception is for local runs (`npm run local`, scripts/local): URLs under explicit loopback prefixes
 * (`http://127.0.0.1:8080/`), where a local HTTP server plays ControlShift's bucket. Such a prefix only exists when a
 * caller builds one with parseLoopbackUrlPrefix; the Lambda entry never does, so production accepts the buckets only.
 *
 * Error messages never repeat the URL's query: it holds the presigned signature.
 */
import { isIP } from "node:net";

/** An AWS region as S3 host names spell it: `us-east-1`, `eu-central-1`, `us-gov-west-1`. */
const REGION = "[a-z]{2}(?:-gov)?-[a-z]+-\\d";

/**
 * What may follow `<bucket>.` in an allowed host: the global endpoint `s3.amazonaws.com`, or a regional one in either
 * of S3's spellings, `s3.<region>.amazonaws.com` and the legacy `s3-<region>.amazonaws.com`.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html
 */
const S3_HOST_AFTER_BUCKET = new RegExp(`^s3(?:[.-]${REGION})?\\.amazonaws\\.com$`);

export interface ExportUrl {
  /** The URL as parsed and checked (WHATWG serialisation), query included: what the downloader fetches. */
  readonly href: string;
  /** The allowed bucket the host names; undefined for a URL under a loopback prefix. */
  readonly bucket: string | undefined;
  readonly host: string;
  /** The URL's path without query: safe to log. */
  readonly path: string;
  /** The last path segment: ControlShift's file name. */
  readonly fileName: string;
}

export class ExportUrlError extends Error {
  override readonly name: string = "ExportUrlError";
}

/** The URL is well-formed and safe, but on a bucket the allow-list does not name (the one fixable case). */
export class ExportBucketNotAllowedError extends ExportUrlError {
  override readonly name: string = "ExportBucketNotAllowedError";
}

/**
 * A URL prefix on this machine whose URLs are accepted besides the ControlShift buckets (local runs only). Made by
 * parseLoopbackUrlPrefix, which refuses any host that is not a loopback address.
 */
export interface LoopbackUrlPrefix {
  /** `http://127.0.0.1:8080` */
  readonly origin: string;
  /** The path every accepted URL starts with; ends in `/`. */
  readonly path: string;
}

/** Whether a URL host name (as WHATWG URL spells it) is this machine: 127.0.0.0/8, [::1] or localhost. */
function isLoopbackHost(hostname: string): boolean {
  if (hostname === "localhost" || hostname === "[::1]") return true;
  return isIP(hostname) === 4 && hostname.startsWith("127.");
}

/**
 * Parses an `http[s]://<loopback host>[:port]/[path/]` prefix. Throws ExportUrlError when the host is not a loopback
 * address, the scheme is not http(s), or the prefix carries credentials, a query or a fragment, or a path that does not
 * end in `/` (so that `/exports` cannot also admit `/exports-elsewhere`).
 */
export function parseLoopbackUrlPrefix(raw: string): LoopbackUrlPrefix {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ExportUrlError(`URL prefix ${JSON.stringify(raw)} is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ExportUrlError(`URL prefix ${JSON.stringify(raw)} must use http or https`);
  }
  if (!isLoopbackHost(url.hostname)) {
    throw new ExportUrlError(
      `URL prefix ${JSON.stringify(raw)}: host ${url.hostname} is not this machine (127.0.0.0/8, [::1] or localhost)`,
    );
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw new ExportUrlError(`URL prefix ${JSON.stringify(raw)} must not carry credentials, a query or a fragment`);
  }
  if (!url.pathname.endsWith("/")) {
    throw new ExportUrlError(`URL prefix ${JSON.stringify(raw)} must end in "/"`);
  }
  return { origin: url.origin, path: url.pathname };
}

/**
 * Parses `raw` and checks it is an HTTPS URL on one of `allowedBuckets`: no credentials, no port other than 443, a host
 * name (not an IP address) of the form `<bucket>.s3[.-<region>].amazonaws.com`. A URL without credentials whose
 * origin is a prefix's and whose (normalised) path starts with the prefix's path is accepted too.
 * Throws ExportUrlError saying which rule the URL breaks.
 * @param loopbackPrefixes @default [] (what production passes: buckets only)
 */
export function parseExportUrl(
  raw: string,
  allowedBuckets: readonly string[],
  loopbackPrefixes: readonly LoopbackUrlPrefix[] = [],
): ExportUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ExportUrlError("data.url is not a valid URL");
  }
  const underPrefix = loopbackPrefixes.some((p) => url.origin === p.origin && url.pathname.startsWith(p.path));
  if (underPrefix && url.username === "" && url.password === "") {
    const path = url.pathname;
    return { href: url.href, bucket: undefined, host: url.host, path, fileName: path.slice(path.lastIndexOf("/") + 1) };
  }
  if (url.protocol !== "https:") {
    throw new ExportUrlError(`data.url must use https, not ${url.protocol.replace(/:$/, "")}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new ExportUrlError("data.url must not carry credentials");
  }
  // The parser drops the scheme's default port (443), so any port left here is another one.
  if (url.port !== "") {
    throw new ExportUrlError(`data.url must not name port ${url.port}`);
  }
  const host = url.hostname;
  if (host.startsWith("[") || isIP(host) !== 0) {
    throw new ExportUrlError(`data.url host ${host} is an IP address, not a ControlShift export bucket`);
  }
  const bucket = allowedBuckets.find(
    (b) => host.startsWith(`${b}.`) && S3_HOST_AFTER_BUCKET.test(host.slice(b.length + 1)),
  );
  if (bucket === undefined) {
    throw new ExportBucketNotAllowedError(
      `data.url host ${host} is not one of the ControlShift export buckets (${allowedBuckets.join(", ")})`,
    );
  }
  const path = url.pathname;
  return { href: url.href, bucket, host, path, fileName: path.slice(path.lastIndexOf("/") + 1) };
}
