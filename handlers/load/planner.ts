/**
 * The load planner: pure, no I/O. From the config's table, the files' headers and what the warehouse has, it makes
 * the LoadPlan (plan.ts) that implements the mirror's semantics (help, "How loads work (what the mirror promises)"), or throws a typed error before any SQL exists.
 */
import { createHash } from "node:crypto";
import { ExportFileNameError, parseExportObjectKey, type Compression } from "../shared/export-file";
import { TABLE_NAME_PATTERN, type ExportKind } from "../../facts/exports";
import { LOAD_FAILURES_TABLE, LOAD_LEDGER_TABLE, tableLedgerName } from "../../schemas/metadata";
import { DEFAULT_METADATA_SCHEMA } from "../../facts/warehouse";
import { HostileHeaderError, InvalidHeaderError, LoadPlanError, quoteForMessage } from "./errors";
import {
  ADDED_COLUMN_TYPE,
  EXPORTED_AT_COLUMN,
  EXPORTED_AT_TYPE,
  HEADER_ID_TYPE,
  ID_COLUMN,
  IDENTIFIER_PATTERN,
  VERSION_COLUMN,
  type ColumnDef,
  type FailureSubject,
  type LoadPlan,
  type LoadStep,
  type MetadataRefs,
  type PlannedFile,
  type StaleGuard,
  type TableRef,
} from "./plan";

/** One export file to load, as the loader found it in the bucket. */
export interface FileToLoad {
  /** The object key in our exports bucket: `exports/{kind}/{table}/{YYYYMMDD}/{table}_{YYYYMMDDHHMMSS}.csv[.bz2]`. */
  readonly objectKey: string;
  /** The export time (ISO 8601 UTC). Must be the key's; taken from the key when omitted. */
  readonly exportedAt?: string;
  /** The file's header row, as read by `readExportHeader`. */
  readonly header: readonly string[];
  /** Must agree with the key's `.bz2` suffix. */
  readonly compression: Compression;
}

export interface PlanLoadInput {
  /** The data schema (from the config). */
  readonly schema: string;
  /** @default DEFAULT_METADATA_SCHEMA (`controlshift_mirror_meta`) */
  readonly metadataSchema?: string;
  /** The table, from the config's table list (never from a payload). */
  readonly table: string;
  readonly kind: ExportKind;
  /** One or more files of this table and kind; applied in export-time order, the same key once. */
  readonly files: readonly FileToLoad[];
  /** The table's columns from `schemas/` (TABLE_SCHEMAS), or undefined for a table `schemas/` does not know. */
  readonly knownColumns: readonly ColumnDef[] | undefined;
  /** The warehouse table's current column names, or undefined when the table does not exist. */
  readonly currentColumns: readonly string[] | undefined;
  /** Whether the table's own ledger (`load_ledger_<table>`) exists. @default true */
  readonly tableLedgerExists?: boolean;
  /**
   * The ledger's and failures' `load_id` for this attempt (e.g. a UUID, or the Data API ClientToken).
   * @default a digest of kind, table and object keys (the same for a redelivery of the same batch)
   */
  readonly loadId?: string;
}

/** A canonical Redshift type as `schemas/` spells it: upper-case words, an optional `(n)`, `(p,s)` or `(MAX)`. */
const COLUMN_TYPE_PATTERN = /^[A-Z][A-Z0-9]*(?: [A-Z][A-Z0-9]*)*(?:\((?:\d{1,5}(?:,\d{1,5})?|MAX)\))?$/;

const LOAD_ID_PATTERN = /^[A-Za-z0-9._:-]{1,256}$/;

const ISO_UTC_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Staging tables are temporary (per session), so a fixed prefix cannot collide with another loader's. */
const STAGE_PREFIX = "cs_stage_";

/**
 * Checks a header row: every column a plain identifier (HostileHeaderError otherwise, naming it), no duplicates, an
 * `id` column, not `_cs_exported_at` (InvalidHeaderError). Runs before any SQL exists.
 */
export function checkHeader(header: readonly string[], objectKey?: string): void {
  if (header.length === 0 || (header.length === 1 && header[0] === "")) {
    throw new InvalidHeaderError("the file has no header row (it is empty); nothing was loaded", { objectKey });
  }
  for (const column of header) {
    if (typeof column !== "string" || !IDENTIFIER_PATTERN.test(column)) {
      throw new HostileHeaderError(String(column), objectKey);
    }
  }
  const seen = new Set<string>();
  for (const column of header) {
    if (seen.has(column)) {
      throw new InvalidHeaderError(
        `header column ${quoteForMessage(column)} appears twice; the file is refused and nothing was loaded`,
        { column, objectKey },
      );
    }
    seen.add(column);
  }
  if (seen.has(EXPORTED_AT_COLUMN)) {
    throw new InvalidHeaderError(
      `header column ${EXPORTED_AT_COLUMN} is the mirror's own (the export time); the file is refused and nothing was loaded`,
      { column: EXPORTED_AT_COLUMN, objectKey },
    );
  }
  if (!seen.has(ID_COLUMN)) {
    throw new InvalidHeaderError(
      `the header has no ${ID_COLUMN} column, which the merge needs (every ControlShift table has one); ` +
        `the file is refused and nothing was loaded`,
      { column: ID_COLUMN, objectKey },
    );
  }
}

function checkIdentifier(value: string, what: string): void {
  if (!IDENTIFIER_PATTERN.test(value)) {
    throw new LoadPlanError(`${what} ${quoteForMessage(value)} is not a valid identifier (${IDENTIFIER_PATTERN.source})`);
  }
}

function checkKnownColumns(table: string, columns: readonly ColumnDef[]): void {
  const seen = new Set<string>();
  for (const c of columns) {
    if (!IDENTIFIER_PATTERN.test(c.name) || c.name === EXPORTED_AT_COLUMN || seen.has(c.name)) {
      throw new LoadPlanError(`schemas/ entry for ${table}: column ${quoteForMessage(c.name)} is not usable`);
    }
    if (!COLUMN_TYPE_PATTERN.test(c.type)) {
      throw new LoadPlanError(`schemas/ entry for ${table}: column ${c.name} has type ${quoteForMessage(c.type)}`);
    }
    seen.add(c.name);
  }
}

function checkFile(input: PlanLoadInput, file: FileToLoad): { exportedAt: string } {
  let parsed;
  try {
    parsed = parseExportObjectKey(file.objectKey);
  } catch (err) {
    if (err instanceof ExportFileNameError) throw new LoadPlanError(err.message);
    throw err;
  }
  if (parsed.table !== input.table || parsed.kind !== input.kind) {
    throw new LoadPlanError(
      `object key ${quoteForMessage(file.objectKey)} is a ${parsed.kind} export of ${parsed.table}, ` +
        `but this is a ${input.kind} load of ${input.table}`,
    );
  }
  if (file.exportedAt !== undefined && file.exportedAt !== parsed.exportedAt) {
    throw new LoadPlanError(
      `object key ${quoteForMessage(file.objectKey)} was exported at ${parsed.exportedAt}, not ${quoteForMessage(file.exportedAt)}`,
    );
  }
  // parseExportObjectKey guarantees it; the renderers rely on it for the timestamp literals.
  if (!ISO_UTC_SECONDS.test(parsed.exportedAt)) {
    throw new LoadPlanError(`export time ${quoteForMessage(parsed.exportedAt)} is not YYYY-MM-DDTHH:MM:SSZ`);
  }
  const bz2 = file.objectKey.endsWith(".bz2");
  if (file.compression !== "bzip2" && file.compression !== "none") {
    throw new LoadPlanError(`compression ${quoteForMessage(String(file.compression))} is not bzip2 or none`);
  }
  if (bz2 !== (file.compression === "bzip2")) {
    throw new LoadPlanError(
      `object key ${quoteForMessage(file.objectKey)} and compression ${file.compression} disagree ` +
        `(ControlShift compresses with bzip2 and names the file .csv.bz2)`,
    );
  }
  checkHeader(file.header, file.objectKey);
  return { exportedAt: parsed.exportedAt };
}

/** The columns of a file whose target type is VARCHAR(n), and n (see RecordLoadStep.limitedColumns). */
function limitedColumns(
  header: readonly string[],
  known: readonly ColumnDef[] | undefined,
  createsTable: LoadPlan["createsTable"],
): { name: string; bytes: number }[] {
  const types = new Map((known ?? []).map((c) => [c.name, c.type]));
  const out: { name: string; bytes: number }[] = [];
  for (const name of header) {
    // A table schemas/ does not know was created from a header, on this load or an earlier one: its id is BIGINT.
    const fromHeader = createsTable === "header" || known === undefined;
    const type = types.get(name) ?? (fromHeader && name === ID_COLUMN ? HEADER_ID_TYPE : ADDED_COLUMN_TYPE);
    const m = /^(?:VARCHAR|CHARACTER VARYING)\((\d+|MAX)\)$/.exec(type);
    if (m) out.push({ name, bytes: m[1] === "MAX" ? 65535 : Number(m[1]) });
  }
  return out;
}

function defaultLoadId(kind: ExportKind, table: string, keys: readonly string[]): string {
  const digest = createHash("sha256").update([kind, table, ...keys].join("\n")).digest("hex");
  return `${kind}-${table.slice(0, 40)}-${digest.slice(0, 32)}`;
}

/**
 * Makes the plan of one load. Throws LoadPlanError for inputs that do not fit together (a table outside
 * TABLE_NAME_PATTERN, a key of another table or kind), InvalidHeaderError/HostileHeaderError for a header that cannot
 * be loaded. Deterministic: the same input gives the same plan.
 */
export function planLoad(input: PlanLoadInput): LoadPlan {
  if (!TABLE_NAME_PATTERN.test(input.table)) {
    throw new LoadPlanError(`table ${quoteForMessage(input.table)} is not a valid table name (${TABLE_NAME_PATTERN.source})`);
  }
  if (input.kind !== "full" && input.kind !== "incremental") {
    throw new LoadPlanError(`kind ${quoteForMessage(String(input.kind))} is not full or incremental`);
  }
  checkIdentifier(input.schema, "data schema");
  const metadataSchema = input.metadataSchema ?? DEFAULT_METADATA_SCHEMA;
  checkIdentifier(metadataSchema, "metadata schema");
  if (input.files.length === 0) throw new LoadPlanError(`a load of ${input.table} needs at least one file`);
  if (input.knownColumns !== undefined) checkKnownColumns(input.table, input.knownColumns);

  // Validate every file first, then order by export time; a key delivered twice in one batch is loaded once.
  const byKey = new Map<string, FileToLoad & { exportedAt: string }>();
  for (const file of input.files) {
    const { exportedAt } = checkFile(input, file);
    if (!byKey.has(file.objectKey)) byKey.set(file.objectKey, { ...file, exportedAt });
  }
  const ordered = [...byKey.values()].sort((a, b) =>
    a.exportedAt !== b.exportedAt ? (a.exportedAt < b.exportedAt ? -1 : 1) : a.objectKey < b.objectKey ? -1 : 1,
  );

  const loadId = input.loadId ?? defaultLoadId(input.kind, input.table, ordered.map((f) => f.objectKey));
  if (!LOAD_ID_PATTERN.test(loadId)) throw new LoadPlanError(`load id ${quoteForMessage(loadId)} is not ${LOAD_ID_PATTERN.source}`);

  const table: TableRef = { schema: input.schema, name: input.table };
  const metadata: MetadataRefs = {
    schema: metadataSchema,
    ledger: { schema: metadataSchema, name: LOAD_LEDGER_TABLE },
    tableLedger: { schema: metadataSchema, name: tableLedgerName(input.table) },
    failures: { schema: metadataSchema, name: LOAD_FAILURES_TABLE },
  };

  const transaction: LoadStep[] = [];
  // The columns the table has (or will have once created): everything a file brings beyond them is added.
  const has = new Set<string>();
  let createsTable: LoadPlan["createsTable"] = false;
  const addedColumns: ColumnDef[] = [];

  if (input.currentColumns === undefined) {
    let columns: ColumnDef[];
    if (input.knownColumns !== undefined) {
      createsTable = "schemas";
      columns = [...input.knownColumns];
    } else {
      // A table schemas/ does not know: made from the headers of this batch, `id` BIGINT and the rest text.
      createsTable = "header";
      columns = [];
      const names = new Set<string>();
      for (const file of ordered) {
        for (const name of file.header) {
          if (names.has(name)) continue;
          names.add(name);
          columns.push({ name, type: name === ID_COLUMN ? HEADER_ID_TYPE : ADDED_COLUMN_TYPE });
        }
      }
    }
    for (const c of columns) has.add(c.name);
    has.add(EXPORTED_AT_COLUMN);
    transaction.push({ op: "create-table", table, columns, from: createsTable });
  } else {
    for (const c of input.currentColumns) has.add(c);
  }

  transaction.push({ op: "lock-table", table });
  if (input.tableLedgerExists === false) {
    transaction.push({ op: "create-ledger", ledger: metadata.tableLedger, history: metadata.ledger, table: input.table });
  }

  if (!has.has(EXPORTED_AT_COLUMN)) {
    // A table adopted from an earlier tool: its rows have no export time and count as older than any export.
    const column = { name: EXPORTED_AT_COLUMN, type: EXPORTED_AT_TYPE };
    addedColumns.push(column);
    has.add(EXPORTED_AT_COLUMN);
    transaction.push({ op: "add-column", table, column });
  }
  for (const file of ordered) {
    for (const name of file.header) {
      if (has.has(name)) continue;
      const column = { name, type: ADDED_COLUMN_TYPE };
      addedColumns.push(column);
      has.add(name);
      transaction.push({ op: "add-column", table, column });
    }
  }

  const files: PlannedFile[] = [];
  ordered.forEach((file, i) => {
    const stage = `${STAGE_PREFIX}${i + 1}`;
    const guard: StaleGuard = {
      ledger: metadata.tableLedger,
      table: input.table,
      newerFullOperator: input.kind === "full" ? ">" : ">=",
      exportedAt: file.exportedAt,
    };
    const columns = [...file.header];
    files.push({ objectKey: file.objectKey, exportedAt: file.exportedAt, compression: file.compression, header: columns, stage });
    transaction.push(
      { op: "create-stage", stage, like: table, columns },
      { op: "copy", stage, columns, objectKey: file.objectKey, compression: file.compression },
      {
        op: "delete-replaced",
        table,
        scope: input.kind === "full" ? "all" : "ids-in-stage",
        stage,
        exportedAt: file.exportedAt,
        guard,
      },
      {
        op: "insert-new",
        table,
        stage,
        columns,
        exportedAt: file.exportedAt,
        guard,
        ...(columns.includes(VERSION_COLUMN) ? { versionColumn: VERSION_COLUMN } : {}),
      },
      {
        op: "record-load",
        ledger: metadata.tableLedger,
        history: metadata.ledger,
        table: input.table,
        kind: input.kind,
        objectKey: file.objectKey,
        exportedAt: file.exportedAt,
        stage,
        guard,
        loadId,
        limitedColumns: limitedColumns(columns, input.knownColumns, createsTable),
      },
      { op: "drop-stage", stage },
    );
  });

  return { table, kind: input.kind, metadata, loadId, files, createsTable, addedColumns, transaction };
}

/** A file refused before any plan (an empty object), as `load_failures` records it. */
export interface RefusalInput {
  readonly schema: string;
  readonly metadataSchema?: string;
  readonly table: string;
  readonly kind: ExportKind;
  readonly objectKey: string;
}

/** The `load_failures` subject of a refused file: checked like a plan's (names, the key's table, kind and time). */
export function refusalOf(input: RefusalInput): FailureSubject {
  if (!TABLE_NAME_PATTERN.test(input.table)) {
    throw new LoadPlanError(`table ${quoteForMessage(input.table)} is not a valid table name (${TABLE_NAME_PATTERN.source})`);
  }
  checkIdentifier(input.schema, "data schema");
  const metadataSchema = input.metadataSchema ?? DEFAULT_METADATA_SCHEMA;
  checkIdentifier(metadataSchema, "metadata schema");
  let parsed;
  try {
    parsed = parseExportObjectKey(input.objectKey);
  } catch (err) {
    if (err instanceof ExportFileNameError) throw new LoadPlanError(err.message);
    throw err;
  }
  if (parsed.table !== input.table || parsed.kind !== input.kind) {
    throw new LoadPlanError(`object key ${quoteForMessage(input.objectKey)} is not a ${input.kind} export of ${input.table}`);
  }
  return {
    table: { schema: input.schema, name: input.table },
    kind: input.kind,
    metadata: {
      schema: metadataSchema,
      ledger: { schema: metadataSchema, name: LOAD_LEDGER_TABLE },
      tableLedger: { schema: metadataSchema, name: tableLedgerName(input.table) },
      failures: { schema: metadataSchema, name: LOAD_FAILURES_TABLE },
    },
    loadId: `refused-${createHash("sha256").update(input.objectKey).digest("hex").slice(0, 32)}`,
    files: [{ objectKey: input.objectKey, exportedAt: parsed.exportedAt }],
  };
}
