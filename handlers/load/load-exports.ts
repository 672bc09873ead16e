/**
 * The loader's core, for one table and kind: read each file's header, ask the warehouse what the table has, plan,
 * run. The Lambda entry (and the local runner) wire the ports: S3 or a local store for the header, a warehouse
 * adapter for the rest.
 */
import type { Compression } from "../shared/export-file";
import type { ExportKind } from "../../facts/exports";
import type { ColumnDef } from "./plan";
import { planLoad } from "./planner";
import { DEFAULT_METADATA_SCHEMA } from "../../facts/warehouse";
import { tableLedgerName } from "../../schemas/metadata";
import type { LoadResult, Warehouse } from "./warehouse";

export interface ExportToLoad {
  readonly objectKey: string;
  readonly compression: Compression;
}

export interface LoadExportsInput {
  readonly schema: string;
  /** @default DEFAULT_METADATA_SCHEMA */
  readonly metadataSchema?: string;
  /** From the config's table list. */
  readonly table: string;
  readonly kind: ExportKind;
  /** One file, or a batch of incremental files of this table (loaded in one transaction, in export-time order). */
  readonly files: readonly ExportToLoad[];
  /** TABLE_SCHEMAS[table], or undefined for a table `schemas/` does not know. */
  readonly knownColumns: readonly ColumnDef[] | undefined;
  readonly loadId?: string;
}

export interface LoadExportsPorts {
  readonly warehouse: Warehouse;
  /** `readExportHeader` bound to a RangeReader. */
  readonly readHeader: (objectKey: string, compression: Compression) => Promise<readonly string[]>;
}

/**
 * Loads the files. Throws InvalidHeaderError/HostileHeaderError or LoadPlanError before touching the warehouse's
 * data, and LoadFailedError (rolled back, failure recorded) when the warehouse rejects the load.
 */
export async function loadExports(ports: LoadExportsPorts, input: LoadExportsInput): Promise<LoadResult> {
  const files = [];
  for (const file of input.files) {
    files.push({ ...file, header: await ports.readHeader(file.objectKey, file.compression) });
  }
  const currentColumns = await ports.warehouse.tableColumns(input.schema, input.table);
  // The table's own ledger (schemas/metadata.ts, tableLedgerName): created, and seeded, by the table's first load.
  const tableLedger = await ports.warehouse.tableColumns(input.metadataSchema ?? DEFAULT_METADATA_SCHEMA, tableLedgerName(input.table));
  const plan = planLoad({
    schema: input.schema,
    metadataSchema: input.metadataSchema,
    table: input.table,
    kind: input.kind,
    files,
    knownColumns: input.knownColumns,
    currentColumns,
    tableLedgerExists: tableLedger !== undefined,
    loadId: input.loadId,
  });
  return ports.warehouse.run(plan);
}
