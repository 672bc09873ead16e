/**
 * What the loader needs from a warehouse: the table's current columns (for the planner) and running a LoadPlan as
 * one transaction. The PostgreSQL adapter implements it here; a Redshift (Data API) adapter implements the same.
 */
import type { ExportKind } from "../../facts/exports";
import type { ColumnDef, FailureSubject, LoadOutcome, LoadPlan } from "./plan";

/** What happened to one file of a committed load, as its ledger row says. */
export interface FileLoadResult {
  readonly objectKey: string;
  readonly outcome: LoadOutcome;
  /** Data rows of the file merged into the table; 0 when skipped. */
  readonly rowsLoaded: number;
}

export interface LoadResult {
  readonly loadId: string;
  readonly schema: string;
  readonly table: string;
  readonly kind: ExportKind;
  readonly files: readonly FileLoadResult[];
  /** Columns the load added to the table: the loader logs them. */
  readonly addedColumns: readonly ColumnDef[];
  readonly createdTable: LoadPlan["createsTable"];
  /** What went wrong after the commit and did not undo it (the history copy of the ledger rows): logged. */
  readonly warnings?: readonly string[];
}

export interface Warehouse {
  /**
   * Most files one transaction takes when the table exists and gains no column (a Redshift Data API batch runs at
   * most 40 statements; PostgreSQL has no such bound: Infinity). A plan that still does not fit (it creates the table
   * or adds columns) is refused with PlanTooLargeError, whose `filesThatFit` says how many would.
   */
  readonly maxFilesPerTransaction: number;
  /** The table's column names in table order, or undefined when the table does not exist. */
  tableColumns(schema: string, table: string): Promise<readonly string[] | undefined>;
  /**
   * Runs the plan's `transaction` as one transaction. On failure, rolls back, records the failure in
   * `load_failures` (outside the transaction) and throws LoadFailedError with the cause. May also throw
   * PlanTooLargeError (before anything ran), LoadStillRunningError and WarehouseCallError (errors.ts).
   */
  run(plan: LoadPlan): Promise<LoadResult>;
  /**
   * Records in `load_failures` a file refused before any load (an empty object): one row, in a statement of its own.
   * Throws when even that fails (the caller logs it).
   */
  recordRefused(refusal: FailureSubject, error: string): Promise<void>;
}
