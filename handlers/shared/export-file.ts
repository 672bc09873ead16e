/**
 * The identity of one ControlShift export file, and the job that carries it from the webhook
 * receiver to the downloader.
 *
 * ControlShift names its files `<org>/{full|incremental}/<table>/<YYYYMMDD>/<table>_<YYYYMMDDHHMMSS>.csv[.bz2]`
 * (see the bulk-data docs in controlshift/slate). The timestamp in the file name is the export time and the only
 * ordering the payload gives us, so everything downstream keys on it.
 */

import { EXPORTS_PREFIX, TABLE_NAME_PATTERN, type ExportKind } from "../../facts/exports";

export type Compression = "bzip2" | "none";

const FILE_NAME_PATTERN = /^([a-z][a-z0-9_]{0,62})_(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.csv(\.bz2)?$/;

export interface ExportFile {
  readonly kind: ExportKind;
  readonly table: string;
  /** ControlShift's file name, kept as is: `petitions_20240301020304.csv.bz2`. */
  readonly fileName: string;
  /** The export time from the file name, as ISO 8601 UTC (`2024-03-01T02:03:04Z`). */
  readonly exportedAt: string;
  /** `YYYYMMDD` of the export time: the date folder of ControlShift's layout and of ours. */
  readonly dateFolder: string;
}

export class ExportFileNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExportFileNameError";
  }
}

/**
 * Parses ControlShift's file name (the last path segment of the export URL) for the given table.
 * Throws ExportFileNameError, naming the file, when it is not `<table>_<YYYYMMDDHHMMSS>.csv[.bz2]` or names another table.
 */
export function parseExportFileName(kind: ExportKind, table: string, fileName: string): ExportFile {
  const m = FILE_NAME_PATTERN.exec(fileName);
  if (!m) {
    throw new ExportFileNameError(
      `export file name ${JSON.stringify(fileName)} is not <table>_<YYYYMMDDHHMMSS>.csv or .csv.bz2`,
    );
  }
  const [, fileTable, y, mo, d, h, mi, s] = m;
  if (fileTable !== table) {
    throw new ExportFileNameError(
      `export file name ${JSON.stringify(fileName)} is for table ${JSON.stringify(fileTable)}, but the payload says ${JSON.stringify(table)}`,
    );
  }
  const date = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s));
  // Date.UTC rolls over silently (month 13 becomes January): reject what does not round-trip.
  if (
    date.getUTCFullYear() !== +y ||
    date.getUTCMonth() !== +mo - 1 ||
    date.getUTCDate() !== +d ||
    date.getUTCHours() !== +h ||
    date.getUTCMinutes() !== +mi ||
    date.getUTCSeconds() !== +s
  ) {
    throw new ExportFileNameError(`export file name ${JSON.stringify(fileName)} carries an impossible timestamp`);
  }
  return {
    kind,
    table,
    fileName,
    exportedAt: date.toISOString().replace(".000Z", "Z"),
    dateFolder: `${y}${mo}${d}`,
  };
}

/** Where an export lives in our bucket: `exports/{kind}/{table}/{YYYYMMDD}/{file}`. A redelivery maps to the same key. */
export function exportObjectKey(file: ExportFile): string {
  return `${EXPORTS_PREFIX}/${file.kind}/${file.table}/${file.dateFolder}/${file.fileName}`;
}

/**
 * Parses an object key of our bucket back into the export's identity.
 * Throws ExportFileNameError when the key is not one the downloader writes.
 */
export function parseExportObjectKey(key: string): ExportFile {
  const parts = key.split("/");
  if (parts.length !== 5 || parts[0] !== EXPORTS_PREFIX || (parts[1] !== "full" && parts[1] !== "incremental")) {
    throw new ExportFileNameError(
      `object key ${JSON.stringify(key)} is not ${EXPORTS_PREFIX}/{full|incremental}/<table>/<YYYYMMDD>/<file>`,
    );
  }
  const [, kind, table, dateFolder, fileName] = parts;
  const file = parseExportFileName(kind as ExportKind, table, fileName);
  if (file.dateFolder !== dateFolder) {
    throw new ExportFileNameError(
      `object key ${JSON.stringify(key)}: date folder ${dateFolder} does not match the file's export date ${file.dateFolder}`,
    );
  }
  return file;
}

/** The message the receiver puts on the downloads queue. */
export interface DownloadJob extends ExportFile {
  readonly version: 1;
  /** The presigned export URL, already checked against the allow-list of ControlShift buckets. */
  readonly url: string;
  readonly compression: Compression;
  /** The URL's path without its query (no presigned signature): safe to log and to keep as object metadata. */
  readonly sourcePath: string;
  /** When the receiver accepted the webhook (ISO 8601). */
  readonly receivedAt: string;
}

export class DownloadJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DownloadJobError";
  }
}

/** Parses and checks a queue message body. Throws DownloadJobError naming what is wrong. */
export function parseDownloadJob(body: string): DownloadJob {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new DownloadJobError(`download job is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null) throw new DownloadJobError("download job is not an object");
  const v = value as Record<string, unknown>;
  if (v.version !== 1) throw new DownloadJobError(`download job version ${JSON.stringify(v.version)} is not 1`);
  for (const field of ["kind", "table", "fileName", "url", "compression", "sourcePath", "receivedAt"] as const) {
    if (typeof v[field] !== "string") throw new DownloadJobError(`download job field ${field} is missing or not a string`);
  }
  if (v.kind !== "full" && v.kind !== "incremental") {
    throw new DownloadJobError(`download job kind ${JSON.stringify(v.kind)} is not full or incremental`);
  }
  if (v.compression !== "bzip2" && v.compression !== "none") {
    throw new DownloadJobError(`download job compression ${JSON.stringify(v.compression)} is not bzip2 or none`);
  }
  if (!TABLE_NAME_PATTERN.test(v.table as string)) {
    throw new DownloadJobError(`download job table ${JSON.stringify(v.table)} is not a valid table name`);
  }
  let file: ExportFile;
  try {
    file = parseExportFileName(v.kind, v.table as string, v.fileName as string);
  } catch (err) {
    throw new DownloadJobError(`download job: ${(err as Error).message}`);
  }
  return {
    version: 1,
    ...file,
    url: v.url as string,
    compression: v.compression,
    sourcePath: v.sourcePath as string,
    receivedAt: v.receivedAt as string,
  };
}
