/**
 * The Redshift adapter's typed errors (the loader's own are in errors.ts).
 *
 * Each is a warehouse-neutral error of errors.ts (what the loader core decides on), with Redshift's details:
 * - LoadStillRunningError (errors.ts, re-exported): the statement was submitted and is still running when the Lambda
 *   has to stop. Nothing is lost: the queue delivers the message again, the retry submits the same SQL with the same
 *   ClientToken, which returns the same statement, and follows it (redshift-adapter.ts).
 * - RedshiftLoadFailedError: a LoadFailedError with the Data API statement id and Redshift's own error text. The
 *   transaction was rolled back; the failure is recorded in `load_failures`.
 * - RedshiftDataApiError: a Data API call itself failed (throttled, too many active statements, bad request, no
 *   access). `transient` says whether the same call can succeed later.
 * - RedshiftPlanTooLargeError: a plan needs more statements than one BatchExecuteStatement takes (40), or a
 *   statement is longer than the Data API's 100 KB. Raised before anything is submitted.
 */
import { LoadFailedError, LoadStillRunningError, PlanTooLargeError, WarehouseCallError, messageOf, type LoadPhase } from "./errors";

/** Where in a load the adapter was waiting when time ran out (the port's own type). */
export type RedshiftPhase = LoadPhase;

export { LoadStillRunningError };

/** What Redshift said about a statement that ended FAILED or ABORTED (the `cause` of RedshiftLoadFailedError). */
export class RedshiftStatementError extends Error {
  readonly statementId: string;
  readonly status: "FAILED" | "ABORTED";
  /** 1-based index of the failing statement in the batch (`<id>:<n>` in the Data API), when known. */
  readonly subStatement?: number;

  constructor(statementId: string, status: "FAILED" | "ABORTED", error: string, subStatement?: number) {
    super(error);
    this.name = "RedshiftStatementError";
    this.statementId = statementId;
    this.status = status;
    if (subStatement !== undefined) this.subStatement = subStatement;
  }
}

/** The load's transaction ended FAILED or ABORTED on Redshift and was rolled back; the failure is recorded. */
export class RedshiftLoadFailedError extends LoadFailedError {
  readonly statementId: string;
  /** Redshift's error text, as DescribeStatement reports it. */
  readonly redshiftError: string;

  constructor(
    table: string,
    objectKeys: readonly string[],
    cause: RedshiftStatementError,
    options: { statement?: string; recordFailureError?: unknown } = {},
  ) {
    super(table, objectKeys, cause, { ...options, statementId: cause.statementId });
    this.name = "RedshiftLoadFailedError";
    this.statementId = cause.statementId;
    this.redshiftError = cause.message;
    this.message = `${this.message} (statement ${cause.statementId}${
      cause.subStatement === undefined ? "" : `, SQL statement ${cause.subStatement} of the batch`
    })`;
  }
}

/** Data API error names that a later call can get past (capacity, throttling, the service or database being busy). */
const TRANSIENT_NAMES = new Set([
  "ActiveStatementsExceededException",
  "ActiveSessionsExceededException",
  "ActiveWaitingRequestsExceededException",
  "BatchExecuteStatementException",
  "ExecuteStatementException",
  "DatabaseConnectionException",
  "InternalServerException",
  "QueryTimeoutException",
  "ThrottlingException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "ExpiredTokenException",
]);

/** Names that the same request never gets past: fix the configuration or the permissions. */
const PERMANENT_NAMES = new Set([
  "ValidationException",
  "ResourceNotFoundException",
  "AccessDeniedException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
]);

/** A Data API call failed (not a statement: the call). */
export class RedshiftDataApiError extends WarehouseCallError {
  constructor(operation: string, cause: unknown, options: { statementId?: string } = {}) {
    const code = errorName(cause);
    const transient = isTransient(cause);
    super(
      `Redshift Data API ${operation} failed (${code}, ${transient ? "transient: retried later" : "permanent: check the " +
        "warehouse settings (WAREHOUSE_*), the loader role's permissions and the statement"}): ${messageOf(cause)}`,
      { operation, code, transient, statementId: options.statementId, cause },
    );
    this.name = "RedshiftDataApiError";
  }
}

function errorName(err: unknown): string {
  const name = (err as { name?: unknown } | null | undefined)?.name;
  return typeof name === "string" && name !== "" ? name : "Error";
}

/** Transient vs permanent, from the SDK error's name, then its fault and HTTP status; unknown errors are transient. */
export function isTransient(err: unknown): boolean {
  const name = errorName(err);
  if (TRANSIENT_NAMES.has(name)) return true;
  if (PERMANENT_NAMES.has(name)) return false;
  const e = err as { $retryable?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  if (e?.$retryable) return true;
  const status = e?.$metadata?.httpStatusCode;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  if (e?.$fault === "client" || (status !== undefined && status >= 400)) return false;
  // No HTTP answer at all: a network error (ECONNRESET, a socket timeout). Worth another try.
  return true;
}

/** Wraps an SDK error as RedshiftDataApiError (other errors of this module pass through unchanged). */
export function toDataApiError(operation: string, err: unknown, statementId?: string): Error {
  if (err instanceof RedshiftDataApiError || err instanceof LoadStillRunningError) return err;
  return new RedshiftDataApiError(operation, err, { statementId });
}

/** A plan does not fit the Data API: more than 40 statements in one batch, or a statement over 100 KB. */
export class RedshiftPlanTooLargeError extends PlanTooLargeError {
  constructor(message: string, options: { table: string; objectKeys: readonly string[]; statements: number; filesThatFit: number }) {
    super(message, options);
    this.name = "RedshiftPlanTooLargeError";
  }
}
