/**
 * The loader's typed errors.
 *
 * - InvalidHeaderError / HostileHeaderError: the file's header cannot be loaded as it is. Raised by the planner
 *   before any SQL exists, so nothing reaches the warehouse. Retrying the same file cannot help.
 * - LoadPlanError: the loader was asked something inconsistent (an object key of another table, a bad schema name).
 *   A bug or a misconfiguration, not a property of the file.
 * - HeaderReadError: the header could not be read from the object store (too long, not bzip2, empty object).
 * - LoadFailedError: the warehouse rejected the load (a bad row, a lost connection, a stream that broke). The
 *   transaction was rolled back, so the mirror is unchanged; the queue may retry.
 * - EmptyExportError: the object is 0 bytes: not even a header. Refused at once, never retried.
 *
 * What a warehouse adapter reports through the Warehouse port (warehouse.ts), whatever the warehouse, so the loader
 * core (handlers/loader/load-batch.ts) decides without knowing which warehouse it is:
 * - PlanTooLargeError: the plan does not fit one transaction of this warehouse; `filesThatFit` says how many of its
 *   files would (the core splits the batch), 0 when not even one does.
 * - LoadStillRunningError: a statement is still running when the function has to stop; the retry re-attaches.
 * - WarehouseCallError: a call to the warehouse's API itself failed; `transient` says whether a later call can pass.
 */

/** An error's message, also for errors of another realm (a worker, a VM context) that are not `instanceof Error`. */
export function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" ? message : String(err);
}

/** Longest column name quoted back in a message: a hostile header can be megabytes long. */
const MAX_QUOTED = 80;

/** `"a\"b"`, cut to a readable length: for messages only, never for SQL. */
export function quoteForMessage(value: string): string {
  const cut = value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}...` : value;
  return JSON.stringify(cut) + (value.length > MAX_QUOTED ? ` (${value.length} characters)` : "");
}

/** The header cannot be loaded: empty, a duplicate or reserved column, no `id`. Names the column when there is one. */
export class InvalidHeaderError extends Error {
  /** The offending column name as the file spells it, when one column is to blame. */
  readonly column?: string;
  readonly objectKey?: string;

  constructor(message: string, options: { column?: string; objectKey?: string } = {}) {
    super(options.objectKey === undefined ? message : `${options.objectKey}: ${message}`);
    this.name = "InvalidHeaderError";
    if (options.column !== undefined) this.column = options.column;
    if (options.objectKey !== undefined) this.objectKey = options.objectKey;
  }
}

/**
 * A header column is not a plain identifier (`^[a-z_][a-z0-9_]{0,126}$`): quotes, semicolons, spaces, upper case, a
 * 200-character name. Column names become SQL identifiers, so such a file is refused outright, never escaped.
 */
export class HostileHeaderError extends InvalidHeaderError {
  constructor(column: string, objectKey?: string) {
    super(
      `header column ${quoteForMessage(column)} is not a plain identifier (lower-case letters, digits and ` +
        `underscores, starting with a letter or underscore, at most 127 characters); the file is refused and nothing ` +
        `was loaded. Check the export on ControlShift's side.`,
      { column, objectKey },
    );
    this.name = "HostileHeaderError";
  }
}

/** The planner was given inputs that do not fit together (wrong table, bad schema name, key of another kind). */
export class LoadPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LoadPlanError";
  }
}

/** The header could not be read: the object is empty, not bzip2, or its first line is longer than allowed. */
export class HeaderReadError extends Error {
  readonly objectKey: string;

  constructor(objectKey: string, message: string, options: { cause?: unknown } = {}) {
    super(`${objectKey}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HeaderReadError";
    this.objectKey = objectKey;
  }
}

/** The warehouse rejected a load. The transaction was rolled back: the table and the ledger are as they were. */
export class LoadFailedError extends Error {
  readonly table: string;
  readonly objectKeys: readonly string[];
  /** The statement that failed, as rendered (COPY statements name the object), when known. */
  readonly statement?: string;
  /** Set when even recording the failure in `load_failures` failed; the load's own error is still `cause`. */
  readonly recordFailureError?: unknown;
  /** The warehouse's own error text. */
  readonly warehouseError: string;
  /** The warehouse's id of the failed statement, when it has one. */
  readonly statementId?: string;

  constructor(
    table: string,
    objectKeys: readonly string[],
    cause: unknown,
    options: { statement?: string; recordFailureError?: unknown; statementId?: string } = {},
  ) {
    const reason = messageOf(cause);
    super(`loading ${table} from ${objectKeys.join(", ")} failed and was rolled back: ${reason}`, { cause });
    this.name = "LoadFailedError";
    this.table = table;
    this.objectKeys = objectKeys;
    this.warehouseError = reason;
    if (options.statementId !== undefined) this.statementId = options.statementId;
    if (options.statement !== undefined) this.statement = options.statement;
    if (options.recordFailureError !== undefined) this.recordFailureError = options.recordFailureError;
  }
}

/** The object is 0 bytes: no header, no rows. Nothing is loaded, and a retry of the same object cannot help. */
export class EmptyExportError extends Error {
  readonly objectKey: string;

  constructor(objectKey: string) {
    super(`${objectKey}: export refused: the file is empty (0 bytes); nothing was loaded`);
    this.name = "EmptyExportError";
    this.objectKey = objectKey;
  }
}

/** A plan does not fit one transaction of the warehouse (too many statements, a statement too long). */
export abstract class PlanTooLargeError extends Error {
  readonly table: string;
  readonly objectKeys: readonly string[];
  /** Statements the transaction needs. */
  readonly statements: number;
  /** How many of this plan's files would fit in one transaction (0: not even one; see `message`). */
  readonly filesThatFit: number;

  constructor(message: string, options: { table: string; objectKeys: readonly string[]; statements: number; filesThatFit: number }) {
    super(message);
    this.name = "PlanTooLargeError";
    this.table = options.table;
    this.objectKeys = options.objectKeys;
    this.statements = options.statements;
    this.filesThatFit = options.filesThatFit;
  }
}

/** Where in a load the adapter was waiting when time ran out. */
export type LoadPhase = "prepare" | "load" | "query";

/** The function has to stop while a statement is still running; the statement goes on, and the retry re-attaches. */
export class LoadStillRunningError extends Error {
  /** The warehouse's statement id (of the whole transaction, for a load). */
  readonly statementId: string;
  readonly phase: LoadPhase;
  readonly table: string;
  readonly objectKeys: readonly string[];
  /** How long this invocation followed the statement. */
  readonly waitedMs: number;

  constructor(options: { statementId: string; phase: LoadPhase; table: string; objectKeys: readonly string[]; waitedMs: number }) {
    super(
      `statement ${options.statementId} (${options.phase} of ${options.table}) is still running after ` +
        `${Math.round(options.waitedMs / 1000)} s and the Lambda is about to time out; it was left running. ` +
        `The queue delivers the message again, and the retry re-attaches to the same statement (same ClientToken).`,
    );
    this.name = "LoadStillRunningError";
    this.statementId = options.statementId;
    this.phase = options.phase;
    this.table = options.table;
    this.objectKeys = options.objectKeys;
    this.waitedMs = options.waitedMs;
  }
}

/** A call to the warehouse's API failed (not a statement: the call). */
export abstract class WarehouseCallError extends Error {
  /** The API operation (`BatchExecuteStatement`, ...). */
  readonly operation: string;
  /** The error's name as the API gave it (`ThrottlingException`), or `Error`. */
  readonly code: string;
  /** True when the same call can succeed later (throttling, capacity, 5xx, network). */
  readonly transient: boolean;
  readonly statementId?: string;

  constructor(
    message: string,
    options: { operation: string; code: string; transient: boolean; statementId?: string; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "WarehouseCallError";
    this.operation = options.operation;
    this.code = options.code;
    this.transient = options.transient;
    if (options.statementId !== undefined) this.statementId = options.statementId;
  }
}

/**
 * The export object changed between the read of its header and the load (another version under the same key): the
 * load is not submitted; the queue delivers the message again and the header is read afresh (manifest.ts).
 */
export class ExportChangedError extends Error {
  readonly objectKey: string;

  constructor(objectKey: string, headerVersion: string, currentVersion: string) {
    super(
      `${objectKey}: the export changed after its header was read (ETag ${headerVersion}, now ${currentVersion}); ` +
        "nothing was loaded, and the queue delivers it again",
    );
    this.name = "ExportChangedError";
    this.objectKey = objectKey;
  }
}
