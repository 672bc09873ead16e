/**
 * Support for the loader's tests (not a test file): a PGlite database on an on-disk temp directory, an in-memory
 * object store with the loader's two ports (ranged reads for headers, streams for COPY), fixtures, and queries that
 * read a mirrored table back as text.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { runInThisContext } from "node:vm";
import type { PGlite } from "@electric-sql/pglite";
import type { ExportKind } from "../facts/exports";
import type { ObjectOpener, RangeReader } from "../handlers/load/header";
import { openPglite, pgliteDriver } from "../handlers/load/pglite-driver";
import type { PostgresDriver } from "../handlers/load/postgres-adapter";

export const FIXTURES = join(__dirname, "fixtures", "csv");

export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}

export interface TempPglite {
  readonly db: PGlite;
  readonly driver: PostgresDriver;
  readonly dir: string;
  close(): Promise<void>;
}

/**
 * PGlite loaded by Node's own require, outside jest's module sandbox: PGlite calls `import()` at start-up, which a
 * jest sandbox refuses without `--experimental-vm-modules` (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG).
 * Its objects then come from Node's main context: errors are not `instanceof Error` here (the adapter does not care).
 */
function nodeRequire(): NodeJS.Require {
  // jest hands its sandboxed require out everywhere (also through `module.createRequire` and the sandbox's
  // process.getBuiltinModule); the process object of Node's main context still has the real one (Node >= 20.16).
  const mainProcess = runInThisContext("process") as { getBuiltinModule?: (id: string) => unknown };
  if (!mainProcess.getBuiltinModule) throw new Error("the loader's PGlite tests need Node.js >= 20.16");
  return (mainProcess.getBuiltinModule("node:module") as typeof import("node:module")).createRequire(__filename);
}
const NodePGlite = (nodeRequire()("@electric-sql/pglite") as typeof import("@electric-sql/pglite")).PGlite;

/** A PGlite database in a fresh directory under os.tmpdir() (on disk: in memory its COPY is far slower). */
export async function startPglite(): Promise<TempPglite> {
  const dir = mkdtempSync(join(tmpdir(), "cs-mirror-pglite-"));
  let db: PGlite;
  try {
    db = await openPglite(dir, NodePGlite);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const driver = pgliteDriver(db);
  return {
    db,
    driver,
    dir,
    async close() {
      await driver.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `exports/{kind}/{table}/{YYYYMMDD}/{table}_{YYYYMMDDHHMMSS}.csv[.bz2]` for a compact time `YYYYMMDDHHMMSS`. */
export function exportKey(kind: ExportKind, table: string, compactTime: string, bzip2 = false): string {
  return `exports/${kind}/${table}/${compactTime.slice(0, 8)}/${table}_${compactTime}.csv${bzip2 ? ".bz2" : ""}`;
}

/** `20240301020304` -> `2024-03-01T02:03:04Z`. */
export function isoOf(compactTime: string): string {
  const c = compactTime;
  return `${c.slice(0, 4)}-${c.slice(4, 6)}-${c.slice(6, 8)}T${c.slice(8, 10)}:${c.slice(10, 12)}:${c.slice(12, 14)}Z`;
}

/** The object store of a test: bytes by key; streams served in small chunks, like a network body. */
export class MemoryObjectStore {
  private readonly objects = new Map<string, Buffer>();
  /** Every ranged read, for assertions on how much a header read cost. */
  readonly rangeReads: { key: string; start: number; end: number }[] = [];
  /** Keys whose next stream fails after `afterBytes` (then the failure is spent). */
  private readonly failures = new Map<string, number>();

  /** Stores (or replaces) an object; a stream failure armed for the key is disarmed. */
  put(key: string, bytes: Buffer | string): void {
    this.objects.set(key, Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, "utf8"));
    this.failures.delete(key);
  }

  /** The next stream of `key` breaks after `afterBytes` bytes, like a connection reset mid-download. */
  failNextStream(key: string, afterBytes: number): void {
    this.failures.set(key, afterBytes);
  }

  readonly readRange: RangeReader = async (key, start, end) => {
    const bytes = this.objects.get(key);
    if (!bytes) throw new Error(`NoSuchKey: ${key}`);
    this.rangeReads.push({ key, start, end });
    return { bytes: bytes.subarray(start, end + 1), totalSize: bytes.length };
  };

  readonly openObject: ObjectOpener = async (key) => {
    const bytes = this.objects.get(key);
    if (!bytes) throw new Error(`NoSuchKey: ${key}`);
    const failAfter = this.failures.get(key);
    this.failures.delete(key);
    const chunkSize = 4096;
    return Readable.from(
      (function* () {
        for (let i = 0; i < bytes.length; i += chunkSize) {
          if (failAfter !== undefined && i + chunkSize > failAfter) {
            if (failAfter > i) yield bytes.subarray(i, failAfter);
            throw new Error(`connection reset while reading ${key}`);
          }
          yield bytes.subarray(i, i + chunkSize);
        }
        if (failAfter !== undefined) throw new Error(`connection reset at the end of ${key}`);
      })(),
      { objectMode: false },
    );
  };
}

/** The table's columns (information_schema order), or [] when it does not exist. */
export async function columnsOf(db: PGlite, schema: string, table: string): Promise<string[]> {
  const res = await db.query<{ column_name: string }>(
    "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
    [schema, table],
  );
  return res.rows.map((r) => r.column_name);
}

/** Every row as text values (NULL as null), ordered by id then by every column; without `_cs_exported_at` unless asked. */
export async function rowsOf(
  db: PGlite,
  schema: string,
  table: string,
  options: { withExportedAt?: boolean } = {},
): Promise<Record<string, string | null>[]> {
  const columns = (await columnsOf(db, schema, table)).filter(
    (c) => options.withExportedAt === true || c !== "_cs_exported_at",
  );
  if (columns.length === 0) return [];
  const list = columns.map((c) => `"${c}"::text AS "${c}"`).join(", ");
  const res = await db.query<Record<string, string | null>>(
    `SELECT ${list} FROM "${schema}"."${table}" ORDER BY "id"::text::numeric, ${columns.map((c) => `"${c}"::text`).join(", ")}`,
  );
  return res.rows;
}

export interface LedgerRow {
  load_id: string;
  table_name: string;
  kind: string;
  object_key: string;
  exported_at: string;
  rows_loaded: string;
  outcome: string;
}

export async function ledgerOf(db: PGlite, metaSchema: string, table: string): Promise<LedgerRow[]> {
  const exists = await db.query(
    "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'load_ledger'",
    [metaSchema],
  );
  if (exists.rows.length === 0) return [];
  const res = await db.query<LedgerRow>(
    `SELECT load_id, table_name, kind, object_key, exported_at::text AS exported_at, rows_loaded::text AS rows_loaded, outcome
     FROM "${metaSchema}"."load_ledger" WHERE table_name = $1 ORDER BY loaded_at, finished_at, object_key`,
    [table],
  );
  return res.rows;
}

export async function failuresOf(
  db: PGlite,
  metaSchema: string,
  table: string,
): Promise<{ object_key: string; kind: string; error: string; load_id: string }[]> {
  const exists = await db.query(
    "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'load_failures'",
    [metaSchema],
  );
  if (exists.rows.length === 0) return [];
  const res = await db.query<{ object_key: string; kind: string; error: string; load_id: string }>(
    `SELECT object_key, kind, error, load_id FROM "${metaSchema}"."load_failures" WHERE table_name = $1 ORDER BY failed_at, object_key`,
    [table],
  );
  return res.rows;
}
