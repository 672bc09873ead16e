/**
 * COPY reads exactly one object: through a manifest that names it.
 *
 * `COPY ... FROM 's3://bucket/key'` reads every object whose key starts with `key` ("You can specify the files to be
 * loaded by using an Amazon S3 object prefix or by using a manifest file", t_loading-tables-from-s3): `x.csv` would
 * also load `x.csv.bz2` or `x.csv.bak`. A manifest lists exact objects: "The URL in the manifest must specify the
 * bucket name and full object path for the file, not just a prefix", and with `mandatory: true` COPY returns an
 * error if the file is not found (loading-data-files-using-manifest). So each load writes, per file, a manifest with
 * one entry, `mandatory: true`, under manifests/<kind>/<table>/ (facts/exports.ts), and COPYs FROM it with MANIFEST.
 *
 * The version: a manifest cannot name an S3 object version (its entries take `url` and `mandatory`; `meta` with
 * `content_length` is for Spectrum, ORC and Parquet), so the loader pins it itself: the header is read with the
 * object's ETag pinned (every range after the first asks `If-Match` that ETag), and right before the load is
 * submitted the object's current ETag must still be that one, else ExportChangedError (the queue delivers the
 * message again and the header is read afresh). The manifest's key carries the ETag's digest, so a changed object
 * gets another manifest, other SQL and another ClientToken. What is guaranteed: the header was read from the version
 * current when the load was submitted, and COPY reads that key and nothing else. Not guaranteed: an overwrite in the
 * seconds between that check and COPY's own read; such an overwrite creates an Object Created event of its own, and
 * that load (idempotent) puts the new bytes in place.
 */
import { createHash } from "node:crypto";
import { HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { manifestTablePrefix, type ExportKind } from "../../facts/exports";

/** Where the loader writes manifests and learns an object's current version. */
export interface ManifestStore {
  /** The object's current ETag (HeadObject). */
  currentVersion(objectKey: string): Promise<string>;
  /** Writes (or overwrites with the same bytes) a manifest. */
  put(key: string, body: string): Promise<void>;
}

/** `manifests/<kind>/<table>/<object key>.<16 hex of the ETag's SHA-256>.manifest` */
export function manifestKey(kind: ExportKind, table: string, objectKey: string, etag: string): string {
  const digest = createHash("sha256").update(etag).digest("hex").slice(0, 16);
  return `${manifestTablePrefix(kind, table)}${objectKey}.${digest}.manifest`;
}

/** One entry, mandatory: COPY fails rather than load nothing when the object is gone. */
export function manifestBody(bucket: string, objectKey: string): string {
  return JSON.stringify({ entries: [{ url: `s3://${bucket}/${objectKey}`, mandatory: true }] });
}

/** A ManifestStore on the exports bucket (HeadObject for versions; PutObject under manifests/). */
export function s3ManifestStore(client: S3Client, bucket: string): ManifestStore {
  return {
    async currentVersion(objectKey) {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey }));
      if (!head.ETag) throw new Error(`s3://${bucket}/${objectKey} has no ETag`);
      return head.ETag;
    },
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "application/json" }));
    },
  };
}
