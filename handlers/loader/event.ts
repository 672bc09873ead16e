/**
 * The loader's queue messages: each SQS body is the EventBridge event the table's rule forwarded, an S3
 * "Object Created" event (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html):
 *
 *   {"version":"0","source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"..."},
 *    "object":{"key":"exports/full/petitions/20240301/petitions_20240301020304.csv.bz2","size":123,...},...}}
 *
 * Object keys. S3's notification messages (to SQS, SNS, Lambda) carry the key URL-encoded, form style ("red
 * flower.jpg" becomes "red+flower.jpg": https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
 * The EventBridge page shows only plain keys and says nothing either way. The loader decodes form style (`+` is a
 * space, then %XX) in both cases: every key the downloader writes (`exports/{kind}/{table}/{YYYYMMDD}/{file}`, made of
 * `[a-z0-9_./]`) reads the same encoded or not, so decoding can only change a key the loader refuses anyway.
 */

export class LoaderMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LoaderMessageError";
  }
}

export type LoaderMessage =
  /** An object was created: the key is decoded. */
  | { readonly type: "object-created"; readonly bucket: string; readonly key: string; readonly size?: number }
  /** A well-formed event of another kind (not S3, not Object Created): nothing to load. */
  | { readonly type: "other"; readonly description: string };

/** S3's form-style key encoding undone: `+` -> space, then `%XX`. Returns undefined for a malformed escape. */
export function decodeS3EventKey(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parses one SQS message body. Throws LoaderMessageError when the body is not an EventBridge event at all, or an
 * S3 Object Created event without a bucket name or key (nothing sent by the rule looks like that).
 */
export function parseLoaderMessage(body: string): LoaderMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new LoaderMessageError(`message body is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(value)) throw new LoaderMessageError("message body is not a JSON object");
  const source = value.source;
  const detailType = value["detail-type"];
  if (typeof source !== "string" || typeof detailType !== "string") {
    throw new LoaderMessageError('message body is not an EventBridge event (no "source" and "detail-type")');
  }
  if (source !== "aws.s3" || detailType !== "Object Created") {
    return { type: "other", description: `${source} ${JSON.stringify(detailType)}` };
  }
  const detail = value.detail;
  const bucket = isObject(detail) && isObject(detail.bucket) ? detail.bucket.name : undefined;
  const object = isObject(detail) && isObject(detail.object) ? detail.object : undefined;
  const key = object?.key;
  if (typeof bucket !== "string" || bucket === "" || typeof key !== "string" || key === "") {
    throw new LoaderMessageError("S3 Object Created event without detail.bucket.name or detail.object.key");
  }
  // A malformed %-escape is kept as it is: no export key has one, so the loader refuses it like any foreign key.
  const decoded = decodeS3EventKey(key) ?? key;
  const size = typeof object?.size === "number" ? object.size : undefined;
  return { type: "object-created", bucket, key: decoded, ...(size !== undefined ? { size } : {}) };
}
