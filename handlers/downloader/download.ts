/**
 * The core of the downloader: stream one ControlShift export from its presigned URL into our exports bucket.
 *
 * The body goes from the HTTP response straight into a multipart upload (no /tmp copy, no whole-file buffer), so
 * memory stays bounded by part size x queue size whatever the file's size. bzip2 files are stored as they come:
 * Redshift's COPY reads them with `BZIP2`.
 */
import { Readable, Transform, pipeline, type TransformCallback } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { exportObjectKey, type DownloadJob } from "../shared/export-file";
import { DownloadError, PermanentDownloadError, TransientDownloadError } from "./errors";
import type { Clock, ExportUploader, Fetch } from "./ports";
import { describeError, redactQueryStrings, safeUrl } from "./redact";

export interface DownloadPorts {
  readonly fetch: Fetch;
  readonly uploader: ExportUploader;
  readonly clock: Clock;
}

export interface DownloadTarget {
  /** The exports bucket. */
  readonly bucket: string;
  /** Aborts the download (the entry sets it shortly before the Lambda's own timeout). */
  readonly signal?: AbortSignal;
}

export interface DownloadResult {
  readonly key: string;
  readonly bytes: number;
  readonly durationMs: number;
}

/** Statuses in the 4xx range that say "later", not "never". */
const RETRIABLE_CLIENT_STATUSES = new Set([408, 425, 429]);
/** How much of an error response we read to find S3's `<Code>` and `<Message>`. */
const ERROR_BODY_LIMIT = 4096;

export const CONTENT_TYPES = { bzip2: "application/x-bzip2", none: "text/csv" } as const;

/** The object metadata the loader reads back (S3 user metadata, `x-amz-meta-*`). */
export function exportObjectMetadata(job: DownloadJob): Record<string, string> {
  return {
    // The receiver already strips the query; cutting again costs nothing and keeps a credential out of S3.
    "source-path": asciiHeaderValue(job.sourcePath.split("?")[0]),
    compression: job.compression,
    "exported-at": job.exportedAt,
    kind: job.kind,
    table: job.table,
  };
}

/** Metadata travels as HTTP headers: percent-encode anything outside printable ASCII (a decoded path, say). */
function asciiHeaderValue(value: string): string {
  return value.replace(/[^\x20-\x7e]/gu, (c) =>
    [...Buffer.from(c, "utf8")].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`).join(""),
  );
}

/**
 * Streams `job.url` into `exports/{kind}/{table}/{YYYYMMDD}/{file}` of the bucket. A redelivered job writes the
 * same key, so it overwrites rather than duplicates.
 *
 * Throws PermanentDownloadError (send the job to the dead-letter queue) or TransientDownloadError (let the queue
 * retry it). When it throws, nothing was written: the uploader aborts its multipart upload.
 */
export async function downloadExport(job: DownloadJob, ports: DownloadPorts, target: DownloadTarget): Promise<DownloadResult> {
  const started = ports.clock.now();
  let url: URL;
  try {
    url = new URL(job.url);
  } catch (err) {
    throw new PermanentDownloadError(`download job url is not a valid URL (source path ${job.sourcePath})`, { cause: err });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new PermanentDownloadError(`download job url has scheme ${url.protocol}, expected https:`);
  }
  const where = safeUrl(url);

  let response: Response;
  try {
    response = await ports.fetch(job.url, {
      // A presigned S3 GET serves the object itself; a redirect means something else answered. Following it could
      // also forward the request to a host we never allowed.
      redirect: "manual",
      // Store the bytes exactly as served: no transparent gzip decoding by fetch.
      headers: { "accept-encoding": "identity" },
      signal: target.signal,
    });
  } catch (err) {
    throw new TransientDownloadError(`could not fetch ${where}: ${describeError(err)}`, { cause: err });
  }

  if (response.status !== 200) {
    throw await statusError(response, url, where);
  }

  const key = exportObjectKey(job);
  const counter = new ByteCounter(expectedLength(response.headers), where);
  let sourceFailure: unknown;
  const source = response.body
    ? Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>)
    : Readable.from([]);
  const body = pipeline(source, counter, (err) => {
    if (err) sourceFailure = err;
  });

  try {
    await ports.uploader.upload({
      bucket: target.bucket,
      key,
      body,
      contentType: CONTENT_TYPES[job.compression],
      metadata: exportObjectMetadata(job),
    });
  } catch (err) {
    // Whether the body failed, read before tearing it down. (The uploader may instead report its own follow-up
    // error, e.g. a failed AbortMultipartUpload.)
    const streamFailure: unknown = counter.failure ?? counter.errored ?? source.errored ?? sourceFailure;
    // Release the connection if the upload gave up before the body ended (pipeline tears down both streams).
    body.destroy();
    if (err instanceof DownloadError) throw err;
    if (streamFailure !== undefined && streamFailure !== null) {
      if (streamFailure instanceof DownloadError) throw streamFailure;
      throw new TransientDownloadError(
        `download of ${where} broke off after ${counter.bytes} bytes: ${describeError(streamFailure)}`,
        { cause: streamFailure },
      );
    }
    throw new TransientDownloadError(`upload to s3://${target.bucket}/${key} failed: ${describeError(err)}`, { cause: err });
  }

  return { key, bytes: counter.bytes, durationMs: ports.clock.now() - started };
}

/** Content-Length, when it describes the bytes we will read (not when fetch decodes a Content-Encoding). */
function expectedLength(headers: Headers): number | undefined {
  const encoding = headers.get("content-encoding");
  if (encoding && encoding.trim().toLowerCase() !== "identity") return undefined;
  const raw = headers.get("content-length");
  if (raw === null || !/^\d+$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

/**
 * Counts the bytes on their way to the uploader and fails the stream when they disagree with Content-Length. The
 * failure happens before the stream ends, so the uploader never completes the upload of a short file.
 */
class ByteCounter extends Transform {
  bytes = 0;
  failure: TransientDownloadError | undefined;

  constructor(
    private readonly expected: number | undefined,
    private readonly where: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.expected !== undefined && this.bytes > this.expected) {
      callback(this.fail(`more than the ${this.expected} bytes its Content-Length announced`));
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.expected !== undefined && this.bytes !== this.expected) {
      callback(this.fail(`${this.bytes} of the ${this.expected} bytes its Content-Length announced`));
      return;
    }
    callback();
  }

  private fail(what: string): TransientDownloadError {
    this.failure = new TransientDownloadError(`download of ${this.where} sent ${what}`);
    return this.failure;
  }
}

/** Turns a non-200 answer into the error that says what the queue should do. */
async function statusError(response: Response, url: URL, where: string): Promise<DownloadError> {
  const status = response.status;
  const detail = await errorDetail(response);
  const answered = `${where} answered ${status}${detail ? ` (${detail})` : ""}`;

  if (status >= 300 && status < 400) {
    const location = response.headers.get("location");
    let to = "";
    if (location) {
      try {
        to = ` to ${safeUrl(new URL(location, url))}`;
      } catch {
        to = " to an unparseable location";
      }
    }
    return new PermanentDownloadError(
      `${answered}: a redirect${to}; redirects are refused, the export URL must serve the file itself`,
      { status },
    );
  }
  if (status === 403) {
    return new PermanentDownloadError(
      `${answered}: the presigned URL has most likely expired (ControlShift's export URLs are valid for 6 hours); ` +
        "the next export of this table will bring a fresh URL",
      { status },
    );
  }
  if (status >= 400 && status < 500 && !RETRIABLE_CLIENT_STATUSES.has(status)) {
    return new PermanentDownloadError(`${answered}: the export cannot be fetched from this URL`, { status });
  }
  return new TransientDownloadError(`${answered}: will retry`, { status });
}

/** S3's error `<Code>` and `<Message>` from the start of an error body, if any; the rest is discarded unread. */
async function errorDetail(response: Response): Promise<string | undefined> {
  if (!response.body) return undefined;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    while (length < ERROR_BODY_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      length += value.length;
    }
  } catch {
    // The status alone decides; the body is a courtesy.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).subarray(0, ERROR_BODY_LIMIT).toString("utf8");
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]{1,300})<\/Message>/.exec(text)?.[1];
  if (!code && !message) return undefined;
  return redactQueryStrings([code, message].filter(Boolean).join(": "));
}
