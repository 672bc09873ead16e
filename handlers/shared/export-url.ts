/**
 * Checks an export URL from a ControlShift webhook before anything is allowed to download it.
 *
 * ControlShift sends presigned S3 GET URLs on `<bucket>.s3.amazonaws.com` (CONTRACT.md, "Files"). The downloader
 * fetches whatever URL the job carries, so the receiver accepts only HTTPS URLs on the configured ControlShift export
 * buckets: a signed but compromised or misconfigured sender must not make us fetch from anywhere else.
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

/**
 * A bucket name that can appear in a virtual-hosted S3 host name (lower case, digits, dots, hyphens; 3 to 63 long).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
export const S3_BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export interface ExportUrl {
  /** The URL as parsed and checked (WHATWG serialisation), query included: what the downloader fetches. */
  readonly href: string;
  /** The allowed bucket the host names. */
  readonly bucket: string;
  readonly host: string;
  /** The URL's path without query: safe to log. */
  readonly path: string;
  /** The last path segment: ControlShift's file name. */
  readonly fileName: string;
}

export class ExportUrlError extends Error {
  override readonly name: string = "ExportUrlError";
}

/**
 * Parses `raw` and checks it is an HTTPS URL on one of `allowedBuckets`: no credentials, no port other than 443, a host
 * name (not an IP address) of the form `<bucket>.s3[.-<region>].amazonaws.com`.
 * Throws ExportUrlError saying which rule the URL breaks.
 */
export function parseExportUrl(raw: string, allowedBuckets: readonly string[]): ExportUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ExportUrlError("data.url is not a valid URL");
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
    throw new ExportUrlError(
      `data.url host ${host} is not one of the ControlShift export buckets (${allowedBuckets.join(", ")})`,
    );
  }
  const path = url.pathname;
  return { href: url.href, bucket, host, path, fileName: path.slice(path.lastIndexOf("/") + 1) };
}
