/**
 * The mirror's core promise, as a property (help, "How loads work (what the mirror promises)"): for any set of export files
 * delivered in any order, any number of times, with any loads failing and being retried, the mirror ends equal to the
 * source as of its latest full export plus every later incremental row. A failed load changes nothing.
 *
 * A model of a ControlShift table evolves (inserts, updates, deletes) and exports: fulls carry the whole table,
 * incrementals the rows added since the previous export, export times strictly increase. Exports also drift: a file
 * may lack a column or bring one `schemas/` does not know, in its own column order. The files then reach the real
 * loader (PGlite on disk) shuffled, some twice, incrementals sometimes batched, some deliveries failing (a corrupt
 * copy with a bad row, or an object stream that breaks mid-read) and retried later. A file may hold an id more than
 * once (issue 8 §3): the same line again, or an older version of the row (an earlier updated_at) before or after the
 * current one; the mirror keeps one row per id, the newest.
 *
 * A failure prints fast-check's seed and path; replay with FIDELITY_SEED=<seed> FIDELITY_PATH=<path>.
 */
import fc from "fast-check";
import { LoadFailedError } from "../handlers/load/errors";
import { readExportHeader } from "../handlers/load/header";
import { loadExports } from "../handlers/load/load-exports";
import type { ColumnDef } from "../handlers/load/plan";
import { PostgresWarehouse } from "../handlers/load/postgres-adapter";
import type { LoadResult } from "../handlers/load/warehouse";
import type { ExportKind } from "../facts/exports";
import { exportKey, ledgerOf, MemoryObjectStore, rowsOf, startPglite, type TempPglite } from "./load-test-support";

const SCHEMA = "fidelity";
const META = "fidelity_meta";
const NUM_RUNS = 200;
const MAX_EXPORTS = 10;

/** What `schemas/` knows of the modelled table; `note` is a column it does not know. */
const KNOWN_COLUMNS: readonly ColumnDef[] = [
  { name: "id", type: "BIGINT" },
  { name: "name", type: "VARCHAR(MAX)" },
  { name: "amount", type: "INTEGER" },
  { name: "active", type: "BOOLEAN" },
  { name: "updated_at", type: "TIMESTAMP" },
];
const ALL_COLUMNS = ["id", "name", "amount", "active", "updated_at", "note"] as const;
type Column = (typeof ALL_COLUMNS)[number];

interface SourceRow {
  readonly id: number;
  name: string | null;
  amount: number;
  active: boolean;
  updatedAt: string;
}

/** How one export file spells the table: its column order, and which columns it has. */
interface FileShape {
  readonly order: readonly Column[];
  readonly withoutAmount: boolean;
  readonly withoutUpdatedAt: boolean;
  readonly withNote: boolean;
}

type Op =
  | { readonly t: "insert"; readonly name: string | null; readonly amount: number; readonly active: boolean }
  | { readonly t: "update"; readonly pick: number; readonly name: string | null; readonly amount: number }
  | { readonly t: "delete"; readonly pick: number }
  | {
      readonly t: "export";
      readonly kind: ExportKind;
      readonly gapSeconds: number;
      readonly shape: FileShape;
      readonly repeats: readonly Repeat[];
    };

/** An id the file holds twice: the same line again, or an older version of the row, before or after its line. */
interface Repeat {
  readonly pick: number;
  readonly older: boolean;
  readonly before: boolean;
}

type Failure = "bad-row" | "stream-break";

interface Delivery {
  readonly copies: number;
  readonly failure: Failure | null;
  readonly breakAfterBytes: number;
}

/** Text as PostgreSQL would write it, with what makes CSV hard: quotes, commas, newlines, `\.`, multi-byte. */
const textArb = fc.option(
  fc.string({
    unit: fc.constantFrom("a", "Z", "0", " ", ",", '"', "'", "\n", "\r", "\\", ".", ";", "é", "👍"),
    maxLength: 6,
  }),
  { nil: null, freq: 5 },
);

const shapeArb: fc.Arbitrary<FileShape> = fc.record({
  order: fc.shuffledSubarray([...ALL_COLUMNS], { minLength: ALL_COLUMNS.length, maxLength: ALL_COLUMNS.length }),
  withoutAmount: fc.boolean(),
  withoutUpdatedAt: fc.boolean(),
  withNote: fc.boolean(),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant("insert" as const), name: textArb, amount: fc.integer({ min: -5, max: 1000 }), active: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("update" as const), pick: fc.nat(), name: textArb, amount: fc.integer({ min: -5, max: 1000 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("delete" as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("export" as const),
      kind: fc.constantFrom<ExportKind>("full", "incremental"),
      gapSeconds: fc.integer({ min: 1, max: 100_000 }),
      shape: shapeArb,
      repeats: fc.array(fc.record({ pick: fc.nat(), older: fc.boolean(), before: fc.boolean() }), { maxLength: 3 }),
    }),
  },
);

const historyArb = fc.record({
  // size "max": lengths spread over the whole range (the default favours short arrays: too few exports per history).
  ops: fc.array(opArb, { minLength: 3, maxLength: 40, size: "max" }),
  deliveries: fc.array(
    fc.record({
      copies: fc.integer({ min: 1, max: 2 }),
      failure: fc.option(fc.constantFrom<Failure>("bad-row", "stream-break"), { nil: null, freq: 3 }),
      breakAfterBytes: fc.nat({ max: 300 }),
    }),
    { minLength: MAX_EXPORTS, maxLength: MAX_EXPORTS },
  ),
  /** Sort keys of the deliveries: the order the queue hands them over. */
  priorities: fc.array(fc.nat(), { minLength: MAX_EXPORTS * 3, maxLength: MAX_EXPORTS * 3 }),
  /** Full exports COPY straight into the table (the PostgreSQL default) or through a staging table (as Redshift). */
  stagedFullLoads: fc.boolean(),
  /** How many consecutive incremental deliveries the incremental loader takes at once. */
  batchSizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: MAX_EXPORTS * 3, maxLength: MAX_EXPORTS * 3 }),
});

/** One export file as the model wrote it, and the rows it carries (as the mirror must show them). */
interface ExportFile {
  readonly kind: ExportKind;
  readonly compactTime: string;
  readonly exportedAt: number;
  readonly csv: string;
  readonly rows: ReadonlyMap<number, Record<string, string | null>>;
  readonly columns: readonly Column[];
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function timestampText(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** PostgreSQL's CSV output of a text value: NULL unquoted empty, and quotes where a reader needs them. */
function csvField(value: string | null): string {
  if (value === null) return "";
  if (value === "" || value === "\\." || /[",\n\r]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

/** The PostgreSQL text of each column of a row (what `"col"::text` gives back), and its CSV form. */
function cells(row: SourceRow, fileIndex: number): Record<Column, { text: string | null; csv: string }> {
  const plain = (text: string | null) => ({ text, csv: csvField(text) });
  return {
    id: plain(String(row.id)),
    name: plain(row.name),
    amount: plain(String(row.amount)),
    active: { text: row.active ? "true" : "false", csv: row.active ? "t" : "f" },
    updated_at: plain(row.updatedAt),
    note: plain(`note ${row.id} from export ${fileIndex}`),
  };
}

const BASE_TIME = Date.UTC(2024, 0, 1, 0, 0, 0);

/** Runs the model: the exports it makes, and the state the mirror must end in. */
function simulate(ops: readonly Op[]): { files: ExportFile[]; expected: Map<number, Record<string, string | null>> } {
  const table = new Map<number, SourceRow>();
  let nextId = 1;
  let now = BASE_TIME;
  let addedSinceExport = new Set<number>();
  const files: ExportFile[] = [];
  ops.forEach((op, opIndex) => {
    const ids = [...table.keys()];
    const updatedAt = timestampText(BASE_TIME - 86_400_000 + opIndex * 60_000);
    switch (op.t) {
      case "insert": {
        const id = nextId++;
        table.set(id, { id, name: op.name, amount: op.amount, active: op.active, updatedAt });
        addedSinceExport.add(id);
        break;
      }
      case "update":
        if (ids.length > 0) {
          const row = table.get(ids[op.pick % ids.length])!;
          row.name = op.name;
          row.amount = op.amount;
          row.updatedAt = updatedAt;
        }
        break;
      case "delete":
        if (ids.length > 0) table.delete(ids[op.pick % ids.length]);
        break;
      case "export": {
        if (files.length >= MAX_EXPORTS) break;
        now += op.gapSeconds * 1000;
        const columns = op.shape.order.filter(
          (c) =>
            !(c === "amount" && op.shape.withoutAmount) &&
            !(c === "updated_at" && op.shape.withoutUpdatedAt) &&
            !(c === "note" && !op.shape.withNote),
        );
        const carried = [...table.values()].filter((r) => op.kind === "full" || addedSinceExport.has(r.id));
        const rows = new Map<number, Record<string, string | null>>();
        const lines: string[] = [];
        for (const row of carried) {
          const c = cells(row, files.length);
          lines.push(columns.map((col) => c[col].csv).join(","));
          rows.set(row.id, Object.fromEntries(columns.map((col) => [col, c[col].text])));
        }
        // Repeated ids: the mirror must still end with the current version (the newest updated_at). Without an
        // updated_at column in the file only the same line repeats (two versions would tie: which one is kept is
        // not promised).
        for (const repeat of carried.length > 0 ? op.repeats : []) {
          const row = carried[repeat.pick % carried.length];
          const current = cells(row, files.length);
          const at = lines.indexOf(columns.map((col) => current[col].csv).join(","));
          const older = repeat.older && columns.includes("updated_at");
          const version: SourceRow = older
            ? { ...row, name: "an older version", amount: -1, updatedAt: timestampText(Date.parse(`${row.updatedAt.replace(" ", "T")}Z`) - 3_600_000) }
            : row;
          const c = cells(version, files.length);
          const line = columns.map((col) => c[col].csv).join(",");
          lines.splice(repeat.before ? at : at + 1, 0, line);
          stats.repeatedIds += 1;
        }
        lines.unshift(columns.join(","));
        const d = new Date(now);
        const compactTime =
          `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}` +
          `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
        files.push({ kind: op.kind, compactTime, exportedAt: now, csv: lines.join("\n") + "\n", rows, columns });
        addedSinceExport = new Set();
        break;
      }
    }
  });
  // The latest full export's rows, then every incremental row exported after it.
  const fulls = files.filter((f) => f.kind === "full");
  const latestFull = fulls.length > 0 ? fulls[fulls.length - 1] : undefined;
  const expected = new Map<number, Record<string, string | null>>(latestFull ? latestFull.rows : []);
  for (const f of files) {
    if (f.kind === "incremental" && (latestFull === undefined || f.exportedAt > latestFull.exportedAt)) {
      for (const [id, row] of f.rows) expected.set(id, row);
    }
  }
  return { files, expected };
}

let pg: TempPglite;
let direct: PostgresWarehouse;
let staged: PostgresWarehouse;
let store: MemoryObjectStore;
const stats = { histories: 0, files: 0, loads: 0, failedLoads: 0, skipped: 0, rows: 0, repeatedIds: 0 };

beforeAll(async () => {
  pg = await startPglite();
  store = new MemoryObjectStore();
  direct = new PostgresWarehouse({ driver: pg.driver, openObject: store.openObject });
  staged = new PostgresWarehouse({ driver: pg.driver, openObject: store.openObject, fullLoads: "staged" });
  await direct.migrate(SCHEMA, META);
});

afterAll(async () => {
  await pg?.close();
});

async function mirrorState(table: string) {
  return {
    rows: await rowsOf(pg.db, SCHEMA, table, { withExportedAt: true }),
    ledger: await ledgerOf(pg.db, META, table),
  };
}

it(`mirrors the source after any delivery of its exports (${NUM_RUNS} random histories)`, async () => {
  let run = 0;
  const started = Date.now();
  const property = fc.asyncProperty(historyArb, async ({ ops, deliveries, priorities, batchSizes, stagedFullLoads }) => {
    const warehouse = stagedFullLoads ? staged : direct;
    run += 1;
    const table = `fidelity_${run}`;
    const { files, expected } = simulate(ops);
    const keys = files.map((f) => exportKey(f.kind, table, f.compactTime));
    files.forEach((f, i) => store.put(keys[i], f.csv));

    // The queue's view: every file at least once, some twice, some failing deliveries; shuffled.
    type Item = { file: number; failure: Failure | null; breakAfterBytes: number };
    const items: Item[] = [];
    files.forEach((_, i) => {
      const d: Delivery = deliveries[i];
      for (let c = 0; c < d.copies; c++) items.push({ file: i, failure: null, breakAfterBytes: 0 });
      if (d.failure) items.push({ file: i, failure: d.failure, breakAfterBytes: d.breakAfterBytes });
    });
    const order = items.map((item, i) => ({ item, p: priorities[i % priorities.length] }));
    order.sort((a, b) => a.p - b.p);
    const queue = order.map((o) => o.item);

    const loaded = new Set<number>();
    const load = (kind: ExportKind, fileIndexes: number[]) =>
      loadExports(
        { warehouse, readHeader: (key, compression) => readExportHeader(store.readRange, key, compression) },
        {
          schema: SCHEMA,
          metadataSchema: META,
          table,
          kind,
          files: fileIndexes.map((i) => ({ objectKey: keys[i], compression: "none" as const })),
          knownColumns: KNOWN_COLUMNS,
        },
      );

    let b = 0;
    for (let q = 0; q < queue.length; ) {
      const kind = files[queue[q].file].kind;
      // The incremental loader may take several incremental files at once; the full loader one at a time.
      let size = kind === "incremental" ? batchSizes[b++ % batchSizes.length] : 1;
      const batch: Item[] = [];
      while (q < queue.length && size-- > 0 && files[queue[q].file].kind === kind) batch.push(queue[q++]);
      const failing = batch.filter((item) => item.failure !== null);
      if (failing.length === 0) {
        const result = await load(kind, batch.map((item) => item.file));
        stats.loads += 1;
        stats.skipped += result.files.filter((f) => f.outcome === "skipped-stale").length;
        for (const item of batch) loaded.add(item.file);
        continue;
      }
      // A broken delivery: the load fails and changes nothing; the queue redelivers later.
      const before = await mirrorState(table);
      for (const item of failing) {
        if (item.failure === "bad-row") {
          const badRow = files[item.file].columns.map((c) => (c === "id" ? "not-a-number" : "")).join(",");
          store.put(keys[item.file], `${files[item.file].csv}${badRow}\n`);
        } else {
          store.failNextStream(keys[item.file], item.breakAfterBytes);
        }
      }
      const outcome = await load(kind, batch.map((item) => item.file)).catch((e: unknown) => e);
      for (const item of failing) store.put(keys[item.file], files[item.file].csv);
      if (outcome instanceof LoadFailedError) {
        stats.failedLoads += 1;
        expect(await mirrorState(table)).toEqual(before);
        continue;
      }
      // A full export that is already stale is skipped without reading its file (direct full loads), so a broken
      // copy of it goes unnoticed: fine, as long as nothing changed but the ledger's skipped-stale rows.
      const result = outcome as LoadResult;
      if (!Array.isArray(result?.files) || result.files.some((f) => f.outcome !== "skipped-stale")) {
        throw new Error(`a broken delivery should fail with LoadFailedError, got ${String(outcome)}`);
      }
      stats.skipped += result.files.length;
      // Skipped files still add the columns they bring (the plan is made before the ledger is read): NULL throughout.
      const after = (await mirrorState(table)).rows;
      const beforeColumns = new Set(before.rows.length > 0 ? Object.keys(before.rows[0]) : []);
      expect(after.map((r) => Object.fromEntries(Object.entries(r).filter(([c]) => beforeColumns.has(c))))).toEqual(
        before.rows,
      );
      expect(after.every((r) => Object.entries(r).every(([c, v]) => beforeColumns.has(c) || v === null))).toBe(true);
      for (const item of batch) loaded.add(item.file);
    }
    // Redelivery until every file has been loaded once (SQS retries a failed message).
    for (let i = 0; i < files.length; i++) {
      if (!loaded.has(i)) {
        await load(files[i].kind, [i]);
        stats.loads += 1;
      }
    }

    const actual = await rowsOf(pg.db, SCHEMA, table);
    const columns = actual.length > 0 ? Object.keys(actual[0]) : [];
    const want = [...expected.entries()]
      .sort(([a], [b2]) => a - b2)
      .map(([, row]) => Object.fromEntries(columns.map((c) => [c, row[c] ?? null])));
    expect(actual).toEqual(want);

    stats.histories += 1;
    stats.files += files.length;
    stats.rows += actual.length;
    await pg.db.exec(`DROP TABLE IF EXISTS "${SCHEMA}"."${table}"`);
  });

  const seed = process.env.FIDELITY_SEED === undefined ? undefined : Number(process.env.FIDELITY_SEED);
  const path = process.env.FIDELITY_PATH;
  // fast-check's failure message starts with `Property failed after N tests { seed: S, path: "P", ... }`.
  await fc.assert(property, { numRuns: NUM_RUNS, seed, path, endOnFailure: path === undefined ? false : true });
  const ms = Date.now() - started;
  console.log(
    `fidelity: ${stats.histories} histories, ${stats.files} export files, ${stats.loads} loads ` +
      `(${stats.failedLoads} failed on purpose and retried, ${stats.skipped} files skipped as stale), ` +
      `${stats.rows} mirrored rows compared, ${stats.repeatedIds} ids repeated in a file, 0 mismatches, in ${ms} ms`,
  );
}, 900_000);
