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

  constructor(
    table: string,
    objectKeys: readonly string[],
    cause: unknown,
    options: { statement?: string; recordFailureError?: unknown } = {},
  ) {
    const reason = messageOf(cause);
    super(`loading ${table} from ${objectKeys.join(", ")} failed and was rolled back: ${reason}`, { cause });
    this.name = "LoadFailedError";
    this.table = table;
    this.objectKeys = objectKeys;
    if (options.statement !== undefined) this.statement = options.statement;
    if (options.recordFailureError !== undefined) this.recordFailureError = options.recordFailureError;
  }
}
