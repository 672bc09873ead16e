/**
 * `reload <table>`: which export objects to send to the table's loaders, in which order, and to which queue.
 *
 * selectReloadObjects is pure (a listing in, a selection out); planReload reads what it needs through the ports
 * (bucket, listing, queues) and returns the actions. Nothing here writes.
 */
import { ExportFileNameError, parseExportObjectKey } from "../../handlers/shared/export-file";
import { exportTablePrefix, type ExportKind } from "../../facts/exports";
import type { ExportObject, QueueRef, SendObjectCreatedAction } from "./actions";
import {
  ExportsBucketNotFoundError,
  NoFullExportError,
  NotAnExportKeyError,
  ObjectNotFoundError,
  ObjectOfAnotherTableError,
  QueueNotFoundError,
  UnknownTableError,
} from "./errors";
import type { BucketFinder, ListedObject, ObjectLister, QueueResolver } from "./ports";
import { loaderQueueName } from "./queues";

/** An object under the table's prefixes that is not an export of the table: reported, never sent. */
export interface SkippedObject {
  readonly key: string;
  readonly reason: string;
}

export interface ReloadSelection {
  /** In send order: the full export first, then the incrementals by export time. */
  readonly objects: readonly ExportObject[];
  readonly skipped: readonly SkippedObject[];
  /** Full exports older than the one chosen (or than --from): their rows are replaced by the chosen one's. */
  readonly olderFullExports: number;
  /** Incremental exports at or before the chosen full export (or before --from): already in it. */
  readonly earlierIncrementalExports: number;
  /** Other full exports with the chosen one's export time (same time, other compression): not sent. */
  readonly sameTimeFullExports: readonly string[];
}

export interface SelectOptions {
  /** `YYYYMMDD`: only exports of that UTC day or later. */
  readonly from?: string;
}

const byExportTime = (a: ExportObject, b: ExportObject): number =>
  a.file.exportedAt < b.file.exportedAt ? -1 : a.file.exportedAt > b.file.exportedAt ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

/**
 * The latest full export of `table` (by the export time in its file name, never LastModified: a file re-downloaded
 * or copied back later is not a newer export) and every incremental export after it.
 *
 * With `from`, only exports of that day or later count: when one of them is a full export, the result is the same
 * as without; when none is, the result is the incrementals since that day alone. Without `from`, no full export is
 * an error (NoFullExportError): a reload must start from one.
 */
export function selectReloadObjects(
  table: string,
  bucket: string,
  listing: readonly ListedObject[],
  options: SelectOptions = {},
): ReloadSelection {
  const skipped: SkippedObject[] = [];
  const full: ExportObject[] = [];
  const incremental: ExportObject[] = [];
  for (const object of listing) {
    let file;
    try {
      file = parseExportObjectKey(object.key);
    } catch (err) {
      if (!(err instanceof ExportFileNameError)) throw err;
      skipped.push({ key: object.key, reason: err.message });
      continue;
    }
    if (file.table !== table) {
      skipped.push({ key: object.key, reason: `an export of ${file.table}, not of ${table}` });
      continue;
    }
    (file.kind === "full" ? full : incremental).push({ ...object, file });
  }
  full.sort(byExportTime);
  incremental.sort(byExportTime);

  const inWindow = (o: ExportObject) => options.from === undefined || o.file.dateFolder >= options.from;
  const latestFull = full.filter(inWindow).pop();
  if (latestFull === undefined && options.from === undefined) {
    throw new NoFullExportError(table, bucket, exportTablePrefix("full", table));
  }

  const after = (o: ExportObject) =>
    inWindow(o) && (latestFull === undefined || o.file.exportedAt > latestFull.file.exportedAt);
  const incrementals = incremental.filter(after);
  const sameTime = latestFull ? full.filter((o) => o !== latestFull && o.file.exportedAt === latestFull.file.exportedAt) : [];
  return {
    objects: latestFull ? [latestFull, ...incrementals] : incrementals,
    skipped,
    olderFullExports: full.length - (latestFull ? 1 : 0) - sameTime.length,
    earlierIncrementalExports: incremental.length - incrementals.length,
    sameTimeFullExports: sameTime.map((o) => o.key),
  };
}

export interface ReloadRequest {
  readonly prefix: string;
  readonly region: string;
  /** The config's tables. */
  readonly tables: readonly string[];
  readonly table: string;
  /** The exports bucket; found with ListBuckets when omitted. */
  readonly bucket?: string;
  /** Exactly this object. */
  readonly object?: string;
  readonly from?: string;
}

export interface ReloadPorts {
  readonly objects: ObjectLister;
  readonly buckets: BucketFinder;
  readonly queues: QueueResolver;
}

export interface ReloadPlan {
  readonly table: string;
  readonly bucket: string;
  /** `--from`, when given. */
  readonly from?: string;
  /** What was listed, for the report: one prefix per kind, or the --object key. */
  readonly listed: readonly string[];
  readonly selection: ReloadSelection;
  readonly actions: readonly SendObjectCreatedAction[];
}

/** `<prefix>-exports-`: the exports bucket's bucket_prefix (modules/exports-bucket.ts); Terraform adds a suffix. */
export function exportsBucketNamePrefix(prefix: string): string {
  return `${prefix}-exports-`;
}

/** The one bucket named `<prefix>-exports-*`. Throws ExportsBucketNotFoundError for none or several. */
export async function findExportsBucket(prefix: string, buckets: BucketFinder): Promise<string> {
  const namePrefix = exportsBucketNamePrefix(prefix);
  const found = (await buckets.bucketsNamed(namePrefix)).filter((name) => name.startsWith(namePrefix)).sort();
  if (found.length !== 1) throw new ExportsBucketNotFoundError(namePrefix, found);
  return found[0];
}

/** Checks `--object` before any AWS call: an export key, of this table. */
export function checkObjectKey(table: string, key: string): ExportKind {
  let file;
  try {
    file = parseExportObjectKey(key);
  } catch (err) {
    if (!(err instanceof ExportFileNameError)) throw err;
    throw new NotAnExportKeyError(key, err.message);
  }
  if (file.table !== table) throw new ObjectOfAnotherTableError(key, table, file.table);
  return file.kind;
}

export async function planReload(request: ReloadRequest, ports: ReloadPorts): Promise<ReloadPlan> {
  const { table, prefix } = request;
  if (!request.tables.includes(table)) throw new UnknownTableError(table, prefix);
  if (request.object !== undefined) checkObjectKey(table, request.object);

  const bucket = request.bucket ?? (await findExportsBucket(prefix, ports.buckets));

  let listed: string[];
  let selection: ReloadSelection;
  if (request.object !== undefined) {
    const key = request.object;
    listed = [key];
    // Listing with the key as prefix finds the object (and anything longer, which is ignored).
    const object = (await ports.objects.list(bucket, key)).find((o) => o.key === key);
    if (object === undefined) throw new ObjectNotFoundError(key, bucket);
    selection = {
      objects: [{ ...object, file: parseExportObjectKey(key) }],
      skipped: [],
      olderFullExports: 0,
      earlierIncrementalExports: 0,
      sameTimeFullExports: [],
    };
  } else {
    listed = [exportTablePrefix("full", table), exportTablePrefix("incremental", table)];
    const listing: ListedObject[] = [];
    for (const listPrefix of listed) listing.push(...(await ports.objects.list(bucket, listPrefix)));
    selection = selectReloadObjects(table, bucket, listing, { from: request.from });
  }

  const queues = new Map<ExportKind, QueueRef>();
  for (const kind of new Set(selection.objects.map((o) => o.file.kind))) {
    const name = loaderQueueName(prefix, kind, table);
    const queue = await ports.queues.describe(name);
    if (queue === undefined) throw new QueueNotFoundError(name, request.region);
    queues.set(kind, { name: queue.name, url: queue.url, arn: queue.arn });
  }

  return {
    table,
    bucket,
    from: request.object === undefined ? request.from : undefined,
    listed,
    selection,
    actions: selection.objects.map((object) => ({
      type: "send-object-created",
      queue: queues.get(object.file.kind)!,
      bucket,
      object,
    })),
  };
}

/** The plan's report, before its actions: where it looked, what it left out and why. */
export function describeReloadPlan(plan: ReloadPlan): string[] {
  const { selection } = plan;
  const lines = [`reload ${plan.table} from s3://${plan.bucket}/ (listed ${plan.listed.join(", ")})`];
  const sendsFull = selection.objects[0]?.file.kind === "full";
  if (plan.from !== undefined && selection.objects.length === 0) {
    lines.push(`  nothing to send: no export of ${plan.table} since ${plan.from}`);
  } else if (plan.from !== undefined && !sendsFull) {
    lines.push(`  no full export since ${plan.from}: only the incremental exports since then; the loaded full export stays as it is`);
  }
  const left: string[] = [];
  if (selection.olderFullExports > 0) left.push(`${selection.olderFullExports} older full export(s)`);
  if (selection.earlierIncrementalExports > 0) left.push(`${selection.earlierIncrementalExports} earlier incremental export(s)`);
  if (left.length > 0) {
    const why = sendsFull ? "the full export sent supersedes them" : `exported before ${plan.from}`;
    lines.push(`  not sent: ${left.join(" and ")} (${why})`);
  }
  for (const key of selection.sameTimeFullExports) {
    lines.push(`  not sent: ${key}, a full export with the same export time as the one sent`);
  }
  for (const s of selection.skipped) lines.push(`  skipped ${s.key}: ${s.reason}`);
  return lines;
}
