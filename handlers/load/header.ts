/**
 * Reads an export file's header row without reading the file: ranged GETs from the start of the object, each twice
 * as long as the one before, until the first CSV record is complete (a header can hold quoted newlines and commas:
 * RFC 4180, parsed by csv-parse). bzip2 files are decompressed on the way and dropped once the header is known;
 * a bzip2 block only decompresses whole (see bzip2.ts), so a compressed file's header costs up to about 1 MB read.
 */
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Parser } from "csv-parse";
import type { Readable } from "node:stream";
import type { Compression } from "../shared/export-file";
import { bunzip2Feeder } from "./bzip2";
import { EmptyExportError, HeaderReadError, InvalidHeaderError } from "./errors";

/** Bytes `start..endInclusive` of an object (fewer at its end), and the object's total size. */
export type RangeReader = (
  key: string,
  start: number,
  endInclusive: number,
) => Promise<{ readonly bytes: Uint8Array; readonly totalSize: number }>;

/** Opens a whole object as a stream (the loader's COPY source). */
export type ObjectOpener = (key: string) => Promise<Readable>;

export interface ReadHeaderOptions {
  /** @default 65536 (64 KiB): the first range; every next one is twice as long. */
  readonly initialRangeBytes?: number;
  /** @default 1048576 (1 MiB): a first record longer than this (uncompressed) is refused. */
  readonly maxHeaderBytes?: number;
  /** @default 16777216 (16 MiB): stop reading a (compressed) object after this much without a header. */
  readonly maxReadBytes?: number;
}

const DEFAULT_INITIAL_RANGE = 64 * 1024;
const DEFAULT_MAX_HEADER = 1024 * 1024;
const DEFAULT_MAX_READ = 16 * 1024 * 1024;

/**
 * The header row of an export file: its column names, as written (not yet checked: see planner's checkHeader).
 * Throws EmptyExportError for an empty (0-byte) object, HeaderReadError when the object is not bzip2 although said to be, or the
 * first record is longer than allowed; InvalidHeaderError when the first record is not valid CSV.
 */
export async function readExportHeader(
  readRange: RangeReader,
  objectKey: string,
  compression: Compression,
  options: ReadHeaderOptions = {},
): Promise<string[]> {
  const initial = options.initialRangeBytes ?? DEFAULT_INITIAL_RANGE;
  const maxHeader = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER;
  const maxRead = options.maxReadBytes ?? DEFAULT_MAX_READ;

  // `to: 1` makes csv-parse stop after the first record, so what follows the header is never parsed.
  const parser = new Parser({ bom: true, to: 1 });
  let header: string[] | undefined;
  let parseError: Error | undefined;
  let ended = false;
  parser.on("data", (record: string[]) => {
    header ??= record;
  });
  parser.on("error", (err: Error) => {
    parseError ??= err;
  });
  parser.on("end", () => {
    ended = true;
  });
  const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  const feeder = compression === "bzip2" ? bunzip2Feeder() : undefined;
  let decoded = 0;
  const toParser = async (chunks: readonly Uint8Array[]): Promise<void> => {
    for (const chunk of chunks) {
      if (header !== undefined || parseError !== undefined || ended) return;
      decoded += chunk.byteLength;
      parser.write(chunk);
      await settle();
    }
  };

  try {
    let offset = 0;
    let size = Number.POSITIVE_INFINITY;
    let length = initial;
    while (header === undefined && parseError === undefined && !ended) {
      if (offset >= size) {
        // The whole object is read: the header is its only line (no newline after it), or it is empty.
        let rest: Buffer[] = [];
        try {
          rest = feeder ? feeder.end() : [];
        } catch (err) {
          throw new HeaderReadError(objectKey, (err as Error).message, { cause: err });
        }
        await toParser(rest);
        if (header === undefined && parseError === undefined && !ended) {
          await new Promise<void>((resolve) => parser.end(resolve));
          await settle();
        }
        break;
      }
      if (offset >= maxRead || decoded > maxHeader) {
        throw new HeaderReadError(
          objectKey,
          `no complete header row in the first ${decoded} bytes (${offset} read); the limit is ${maxHeader} ` +
            `bytes of header. Is this a ControlShift export?`,
        );
      }
      const { bytes, totalSize } = await readRange(objectKey, offset, offset + length - 1);
      // 0 bytes: not even a header. Its own error, so the loader refuses it at once instead of retrying in vain.
      if (totalSize === 0) throw new EmptyExportError(objectKey);
      size = totalSize;
      offset += bytes.byteLength;
      length *= 2;
      if (bytes.byteLength === 0 && offset < size) {
        throw new HeaderReadError(objectKey, `the object store returned no bytes at offset ${offset} of ${size}`);
      }
      let chunks: readonly Uint8Array[] = [bytes];
      if (feeder) {
        try {
          chunks = feeder.write(bytes);
        } catch (err) {
          throw new HeaderReadError(objectKey, (err as Error).message, { cause: err });
        }
      }
      await toParser(chunks);
    }
  } finally {
    parser.destroy();
  }
  if (parseError !== undefined) {
    throw new InvalidHeaderError(`the header row is not valid CSV: ${parseError.message}`, { objectKey });
  }
  return header ?? [];
}

function isInvalidRange(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "InvalidRange" || e?.Code === "InvalidRange" || e?.$metadata?.httpStatusCode === 416;
}

/**
 * A RangeReader over S3's GetObject with a `Range` header. An empty object answers 416 (S3) or a Content-Range of
 * total 0 (s3rver): that is size 0.
 * With `versions`, the ETag of each key's first range (start 0) is recorded there, and every later range of that key
 * asks `If-Match` it: all the bytes read are of one version (S3 answers 412 otherwise), and `versions` says which.
 */
export function s3RangeReader(client: S3Client, bucket: string, versions?: Map<string, string>): RangeReader {
  return async (key, start, endInclusive) => {
    let out;
    try {
      const ifMatch = start > 0 ? versions?.get(key) : undefined;
      out = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          Range: `bytes=${start}-${endInclusive}`,
          ...(ifMatch !== undefined ? { IfMatch: ifMatch } : {}),
        }),
      );
      if (start === 0 && versions !== undefined && out.ETag) versions.set(key, out.ETag);
    } catch (err) {
      if (isInvalidRange(err)) return { bytes: new Uint8Array(0), totalSize: start };
      throw err;
    }
    const m = out.ContentRange ? /\/(\d+)$/.exec(out.ContentRange) : null;
    if (m && Number(m[1]) === 0) {
      // An empty object: nothing to read (a store may still announce a body it never sends).
      (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
      return { bytes: new Uint8Array(0), totalSize: 0 };
    }
    const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
    if (m) return { bytes: body, totalSize: Number(m[1]) };
    // A store that ignored the Range sent the whole object.
    return { bytes: body.subarray(start, endInclusive + 1), totalSize: body.byteLength };
  };
}

/** An ObjectOpener over S3's GetObject: the body streams as the consumer reads it. */
export function s3ObjectOpener(client: S3Client, bucket: string): ObjectOpener {
  return async (key) => {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) throw new Error(`s3://${bucket}/${key} has no body`);
    return out.Body as Readable;
  };
}
