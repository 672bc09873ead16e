/**
 * The Redshift warehouse adapter: runs a LoadPlan through the Redshift Data API (AWS SDK v3 RedshiftDataClient), on a
 * provisioned cluster (ClusterIdentifier + Database + SecretArn or DbUser) or a Serverless workgroup (WorkgroupName +
 * Database + SecretArn, or neither for the caller's IAM identity).
 *
 * A load:
 * 1. no DDL of its own beyond the plan's (the schemas and metadata exist: schemas/migrations.ts, applied at apply time);
 * 2. the transaction as ONE BatchExecuteStatement (one transaction: all or nothing) with a ClientToken derived from
 *    the target and the rendered SQL;
 * 3. DescribeStatement with exponential back-off until FINISHED, FAILED or ABORTED, or until the Lambda's remaining
 *    time is down to the safety margin: then LoadStillRunningError with the statement id, and the statement is left
 *    running (never cancelled, never blindly re-submitted);
 * 4. FINISHED: the ledger rows of this load (`load_id`) give the FileLoadResult of every file;
 *    FAILED/ABORTED: one `load_failures` row per file (a separate ExecuteStatement, outside the rolled-back
 *    transaction), then RedshiftLoadFailedError (a LoadFailedError) with the statement id and Redshift's error text.
 *
 * Idempotent re-submission. "The Data API ExecuteStatement and BatchExecuteStatement operations have an optional
 * ClientToken idempotent parameter. The ClientToken expires after 8 hours."
 * (https://docs.aws.amazon.com/redshift/latest/mgmt/data-api.html, "Running SQL statements with an idempotency
 * token"). The SDK fills in a random token of its own, which only covers its own retries of one call; this adapter
 * passes a token derived from what it submits, so that the queue's retry of the same load, minutes later and in
 * another invocation, gets back the statement already running and follows it instead of running the load twice.
 * - The token covers the target (cluster or workgroup, database, user or secret: two deployments in one account load
 *   the same files with the same SQL) and every SQL statement, so a different plan never re-attaches to an old one.
 * - It is shaped like the UUID the SDK would generate (the length and alphabet the API is known to take).
 * - A statement that FAILED stays attached to its token for 8 hours: re-submitting with the same token would only
 *   return the old failure. So when the token returns a statement that ended FAILED/ABORTED and is an earlier
 *   attempt's (it had ended at the first DescribeStatement and was created more than EARLIER_STATEMENT_MS before
 *   this attempt), or `load_failures` already holds its failure, the adapter derives the next token from the
 *   previous token and the failed statement's id, and submits again; a retry after that walks the same chain and
 *   re-attaches to the newest statement. The earlier attempt's failure is recorded on the way if it is missing,
 *   best effort: a failure-record write that keeps failing never pins a later delivery to the failed statement.
 * - A transaction that lost a serialization conflict (ERROR 1023) or a lock wait is retried here, with back-off
 *   (DEFAULT_CONFLICT_RETRY), on the next token of the chain, before the queue's redelivery: "Retry the canceled
 *   transaction." (https://docs.aws.amazon.com/redshift/latest/dg/c_serial_isolation-serializable-isolation-troubleshooting.html).
 * - When a batch fails, the sub-statement reported is the one whose status is FAILED, never one ABORTED with it.
 * - After 8 hours, or with a plan that changed meanwhile (a column was added by the attempt that committed), the
 *   token is new and the load runs again. That is safe: a load is idempotent by the mirror's semantics (help, "How loads work (what the mirror promises)"),
 *   only wasted work.
 */
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  type DescribeStatementCommandOutput,
  type Field,
  type RedshiftDataClient,
  type SqlParameter,
} from "@aws-sdk/client-redshift-data";
import { createHash } from "node:crypto";
import { truncateUtf8 } from "../../schemas/metadata";
import { failedSubStatementOf, fieldText, subStatementIndex } from "../shared/data-api";
import { ExportChangedError, LoadPlanError } from "./errors";
import { manifestBody, manifestKey, type ManifestStore } from "./manifest";
import type { FailureSubject, LoadOutcome, LoadPlan } from "./plan";
import {
  FAILURE_ERROR_PARAMETER,
  renderRedshiftFailure,
  renderRedshiftFailureRecorded,
  renderRedshiftHistoryCopy,
  renderRedshiftLedgerRows,
  renderRedshiftPlan,
  renderRedshiftTableColumns,
  REDSHIFT_FILES_PER_TRANSACTION,
  type RedshiftRenderOptions,
} from "./render-redshift";
import {
  LoadStillRunningError,
  RedshiftLoadFailedError,
  RedshiftStatementError,
  toDataApiError,
  type RedshiftPhase,
} from "./redshift-errors";
import type { FileLoadResult, LoadResult, Warehouse } from "./warehouse";

/** Where the Data API runs the statements, and as whom. */
export type RedshiftTarget =
  | {
      readonly type: "cluster";
      readonly clusterIdentifier: string;
      readonly database: string;
      /** Secrets Manager secret with the database user's credentials. Exactly one of secretArn and dbUser. */
      readonly secretArn?: string;
      /** Database user for temporary credentials (redshift:GetClusterCredentials). */
      readonly dbUser?: string;
    }
  | {
      readonly type: "workgroup";
      readonly workgroupName: string;
      readonly database: string;
      /** Secrets Manager secret; without it, the caller's IAM identity (redshift-serverless:GetCredentials). */
      readonly secretArn?: string;
    };

/** The Data API parameters that say where and as whom. */
export function dataApiTarget(target: RedshiftTarget): {
  ClusterIdentifier?: string;
  WorkgroupName?: string;
  Database: string;
  SecretArn?: string;
  DbUser?: string;
} {
  if (target.type === "cluster") {
    if ((target.secretArn === undefined) === (target.dbUser === undefined)) {
      throw new LoadPlanError("a cluster target needs exactly one of secretArn and dbUser");
    }
    return {
      ClusterIdentifier: target.clusterIdentifier,
      Database: target.database,
      ...(target.secretArn !== undefined ? { SecretArn: target.secretArn } : { DbUser: target.dbUser }),
    };
  }
  return {
    WorkgroupName: target.workgroupName,
    Database: target.database,
    ...(target.secretArn !== undefined ? { SecretArn: target.secretArn } : {}),
  };
}

/** How DescribeStatement is polled. */
export interface PollSettings {
  /** @default 250: the wait after the first DescribeStatement (which is immediate). */
  readonly initialDelayMs?: number;
  /** @default 2 */
  readonly factor?: number;
  /** @default 10000: DescribeStatement is throttled per account; a long load needs no finer tracking. */
  readonly maxDelayMs?: number;
  /**
   * @default 10000: time kept back from the Lambda's timeout to log, answer SQS and flush metrics. When the remaining
   * time falls to this, the adapter stops waiting and throws LoadStillRunningError.
   */
  readonly safetyMarginMs?: number;
}

export const DEFAULT_POLL: Required<PollSettings> = {
  initialDelayMs: 250,
  factor: 2,
  maxDelayMs: 10_000,
  safetyMarginMs: 10_000,
};

/** Bounds the token chain (one link per failed statement of the same plan within 8 hours). */
export const MAX_TOKEN_CHAIN = 32;

/**
 * A statement the ClientToken returns that was created this long before the attempt started is an earlier
 * attempt's (a queue retry comes a visibility timeout later, minutes): its failure never pins this attempt.
 */
export const EARLIER_STATEMENT_MS = 60_000;

/** How a load that lost a serialization conflict (ERROR 1023) or a lock wait is retried inside the invocation. */
export interface ConflictRetry {
  /** @default 3: retries after the first attempt, before the queue's redelivery takes over. */
  readonly retries?: number;
  /** @default 2000: the wait before the first retry; each next one doubles, with +-50 % jitter. */
  readonly initialDelayMs?: number;
}

export const DEFAULT_CONFLICT_RETRY: Required<ConflictRetry> = { retries: 3, initialDelayMs: 2000 };

/**
 * Redshift's text for a transaction that lost a serializable isolation conflict ("ERROR: 1023 DETAIL: Serializable
 * isolation violation on table ...") or was cancelled while waiting for a lock (statement_timeout / a lock wait):
 * the same transaction can succeed when run again.
 */
export const CONFLICT_ERROR_PATTERN = /\b1023\b|serializable isolation violation|deadlock detected|lock wait timeout|canceling statement due to (?:statement|lock) timeout/i;

/** Whether a failed statement's error is a conflict the loader retries itself. */
export function isConflictError(text: string | undefined): boolean {
  return text !== undefined && CONFLICT_ERROR_PATTERN.test(text);
}

/** DescribeStatement's answer when the statement ended, and whether it had already ended at the first poll. */
type Ended = DescribeStatementCommandOutput & { readonly endedAtFirstPoll: boolean };

/** `load_failures.error` is VARCHAR(65535), but the Data API takes 100 KB per statement: keep the text modest. */
export const FAILURE_ERROR_MAX_BYTES = 16 * 1024;

export interface RedshiftWarehouseOptions extends Omit<RedshiftRenderOptions, "manifestKeys"> {
  readonly client: Pick<RedshiftDataClient, "send">;
  /** Where the per-file COPY manifests are written, and each object's current version is read (manifest.ts). */
  readonly manifests: ManifestStore;
  /** The version (ETag) each file's header was read from, when known: the load refuses another one. */
  readonly headerVersion?: (objectKey: string) => string | undefined;
  readonly target: RedshiftTarget;
  /** The Lambda's `context.getRemainingTimeInMillis`. @default no limit */
  readonly remainingTimeMs?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds, for the time spent waiting. @default Date.now */
  readonly now?: () => number;
  readonly poll?: PollSettings;
  /** Names the batches in ListStatements and the console. @default "controlshift-mirror" */
  readonly statementNamePrefix?: string;
  readonly conflictRetry?: ConflictRetry;
  /** For the jitter of the conflict back-off. @default Math.random */
  readonly random?: () => number;
}

/** A LoadResult with the Data API statement that committed it. */
export interface RedshiftLoadResult extends LoadResult {
  readonly statementId: string;
}

const TERMINAL = new Set(["FINISHED", "FAILED", "ABORTED"]);

/**
 * 128 bits of a SHA-256 digest as a UUID (the format the SDK itself sends as ClientToken): RFC 9562 version 8
 * ("custom"), variant bits set, so it is a well-formed UUID wherever one is checked.
 */
function uuidShaped(digest: Buffer): string {
  const bytes = Buffer.from(digest.subarray(0, 16));
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The ClientToken of a batch: the same target and SQL give the same token, in any process, at any time. */
export function clientTokenFor(target: RedshiftTarget, sqls: readonly string[]): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ v: 1, target: dataApiTarget(target), sqls }));
  return uuidShaped(hash.digest());
}

/** The next token of the chain, after the statement `failedStatementId` (submitted with `token`) failed. */
export function nextClientToken(token: string, failedStatementId: string): string {
  return uuidShaped(createHash("sha256").update(`${token}\n${failedStatementId}`).digest());
}

const fieldString = (field: Field | undefined): string | undefined => fieldText(field) ?? undefined;

export class RedshiftWarehouse implements Warehouse {
  private readonly client: Pick<RedshiftDataClient, "send">;
  private readonly target: RedshiftTarget;
  private readonly targetParameters: ReturnType<typeof dataApiTarget>;
  private readonly render: RedshiftRenderOptions;
  private readonly manifests: ManifestStore;
  private readonly headerVersion: (objectKey: string) => string | undefined;
  private readonly remainingTimeMs: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly poll: Required<PollSettings>;
  private readonly statementNamePrefix: string;
  private readonly conflictRetry: Required<ConflictRetry>;
  private readonly random: () => number;
  /** A Data API batch runs at most 40 statements: render-redshift.ts says how many files fit. */
  readonly maxFilesPerTransaction = REDSHIFT_FILES_PER_TRANSACTION;

  constructor(options: RedshiftWarehouseOptions) {
    this.client = options.client;
    this.target = options.target;
    this.targetParameters = dataApiTarget(options.target);
    this.render = { exportsBucket: options.exportsBucket, copyRoleArn: options.copyRoleArn };
    this.manifests = options.manifests;
    this.headerVersion = options.headerVersion ?? (() => undefined);
    this.remainingTimeMs = options.remainingTimeMs ?? (() => Number.POSITIVE_INFINITY);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
    this.poll = { ...DEFAULT_POLL, ...options.poll };
    this.statementNamePrefix = options.statementNamePrefix ?? "controlshift-mirror";
    this.conflictRetry = { ...DEFAULT_CONFLICT_RETRY, ...options.conflictRetry };
    this.random = options.random ?? Math.random;
  }

  async recordRefused(refusal: FailureSubject, error: string): Promise<void> {
    const text = truncateUtf8(error.replace(/\0/g, ""), FAILURE_ERROR_MAX_BYTES) || "unknown error";
    const id = await this.execute(renderRedshiftFailure(refusal, undefined), [{ name: FAILURE_ERROR_PARAMETER, value: text }]);
    const done = await this.waitFor(id, "query", { table: refusal.table.name, objectKeys: refusal.files.map((f) => f.objectKey) });
    if (done.Status !== "FINISHED") {
      throw new Error(`recording the refusal in load_failures ended ${done.Status}: ${done.Error ?? ""}`);
    }
  }

  async tableColumns(schema: string, table: string): Promise<readonly string[] | undefined> {
    const rows = await this.query(renderRedshiftTableColumns(schema, table), { table, objectKeys: [] });
    if (rows.length === 0) return undefined;
    return rows.map((row) => {
      const name = fieldString(row[0]);
      if (name === undefined) throw new Error(`svv_columns returned a column of ${schema}.${table} without a name`);
      return name;
    });
  }

  async run(plan: LoadPlan): Promise<RedshiftLoadResult> {
    const { transaction } = renderRedshiftPlan(plan, { ...this.render, manifestKeys: await this.writeManifests(plan) });
    const about = { table: plan.table.name, objectKeys: plan.files.map((f) => f.objectKey) };

    const name = `${this.statementNamePrefix}:${plan.kind}:${plan.table.name}`;
    const attemptStarted = this.now();
    let token = clientTokenFor(this.target, transaction);
    let conflicts = 0;
    for (let link = 0; ; link++) {
      const id = await this.submitBatch(transaction, token, name);
      const done = await this.waitFor(id, "load", about);
      if (done.Status === "FINISHED") {
        const files = await this.ledgerRows(plan, about);
        const historyError = await this.copyToHistory(plan, id);
        return {
          loadId: plan.loadId,
          schema: plan.table.schema,
          table: plan.table.name,
          kind: plan.kind,
          files,
          addedColumns: plan.addedColumns,
          createdTable: plan.createsTable,
          statementId: id,
          ...(historyError !== undefined ? { warnings: [historyError] } : {}),
        };
      }
      // FAILED or ABORTED. A statement that had already ended when this attempt first asked, and was created well
      // before it, is an earlier attempt's (same ClientToken): never let it pin this attempt. Its failure is recorded
      // if that attempt could not (best effort: a failing record must not pin either), then the chain moves on.
      const created = done.CreatedAt?.getTime();
      const earlier = done.endedAtFirstPoll && created !== undefined && created < attemptStarted - EARLIER_STATEMENT_MS;
      if (link < MAX_TOKEN_CHAIN && earlier) {
        if (!isConflictError(failedSubStatement(done).text) && !(await this.failureRecorded(plan, id, about).catch(() => true))) {
          await this.recordFailure(plan, done);
        }
        token = nextClientToken(token, id);
        continue;
      }
      if (link < MAX_TOKEN_CHAIN && (await this.failureRecorded(plan, id, about))) {
        token = nextClientToken(token, id);
        continue;
      }
      // A serialization conflict (ERROR 1023) or a lock wait: the same transaction can pass when run again. Retried
      // here with back-off (a new statement: the chained token) before the queue's redelivery.
      const budget = this.remainingTimeMs() - this.poll.safetyMarginMs;
      if (link < MAX_TOKEN_CHAIN && conflicts < this.conflictRetry.retries && isConflictError(failedSubStatement(done).text)) {
        const delay = Math.round(this.conflictRetry.initialDelayMs * 2 ** conflicts * (0.5 + this.random()));
        if (delay < budget) {
          conflicts++;
          await this.sleep(delay);
          token = nextClientToken(token, id);
          continue;
        }
      }
      throw await this.failed(plan, done, transaction);
    }
  }

  /**
   * The committed load's ledger rows into the shared history (renderRedshiftHistoryCopy), outside the load's
   * transaction, with a ClientToken of the load's statement: a retry that re-attaches to the same committed load
   * gets the same copy back instead of copying twice. Best effort: the load stands; returns what went wrong.
   */
  private async copyToHistory(plan: LoadPlan, loadStatementId: string): Promise<string | undefined> {
    try {
      const token = uuidShaped(createHash("sha256").update(`history\n${loadStatementId}`).digest());
      const id = await this.execute(renderRedshiftHistoryCopy(plan), undefined, token);
      const done = await this.waitFor(id, "query", { table: plan.table.name, objectKeys: [] });
      if (done.Status !== "FINISHED") return `copying the ledger rows into load_ledger ended ${done.Status}: ${done.Error ?? ""}`;
      return undefined;
    } catch (err) {
      if (err instanceof LoadStillRunningError) throw err;
      return `copying the ledger rows into load_ledger failed: ${(err as Error).message}`;
    }
  }

  /**
   * One manifest per file (manifest.ts), for the version the file has now, which must be the one its header was read
   * from (else ExportChangedError, before anything is submitted). Returns object key -> manifest key.
   */
  private async writeManifests(plan: LoadPlan): Promise<Map<string, string>> {
    const keys = new Map<string, string>();
    for (const file of plan.files) {
      const current = await this.manifests.currentVersion(file.objectKey);
      const read = this.headerVersion(file.objectKey);
      if (read !== undefined && read !== current) throw new ExportChangedError(file.objectKey, read, current);
      const key = manifestKey(plan.kind, plan.table.name, file.objectKey, current);
      await this.manifests.put(key, manifestBody(this.render.exportsBucket, file.objectKey));
      keys.set(file.objectKey, key);
    }
    return keys;
  }

  /** Writes the failure of `described` in load_failures; returns the error if that fails, never throws. */
  private async recordFailure(plan: FailureSubject, described: DescribeStatementCommandOutput): Promise<unknown> {
    try {
      const text = failedSubStatement(described).text;
      const error = truncateUtf8(text.replace(/\0/g, ""), FAILURE_ERROR_MAX_BYTES) || "unknown error";
      const parameters: SqlParameter[] = [{ name: FAILURE_ERROR_PARAMETER, value: error }];
      const recordId = await this.execute(renderRedshiftFailure(plan, described.Id ?? undefined), parameters);
      const recorded = await this.waitFor(recordId, "query", { table: plan.table.name, objectKeys: [] });
      if (recorded.Status !== "FINISHED") {
        return new Error(`recording the failure in load_failures ended ${recorded.Status}: ${recorded.Error ?? ""}`);
      }
      return undefined;
    } catch (err) {
      return err;
    }
  }

  /** Records the failure outside the rolled-back transaction, then returns the error to throw. */
  private async failed(
    plan: LoadPlan,
    described: DescribeStatementCommandOutput,
    sqls: readonly string[],
  ): Promise<RedshiftLoadFailedError> {
    const id = described.Id ?? "unknown";
    const status = described.Status === "ABORTED" ? "ABORTED" : "FAILED";
    const sub = failedSubStatement(described);
    const cause = new RedshiftStatementError(id, status, sub.text, sub.index);
    const statement = sub.sql ?? (sub.index !== undefined ? sqls[sub.index - 1] : undefined);
    const recordFailureError = await this.recordFailure(plan, described);
    return new RedshiftLoadFailedError(plan.table.name, plan.files.map((f) => f.objectKey), cause, {
      statement,
      recordFailureError,
    });
  }

  private async failureRecorded(
    plan: LoadPlan,
    statementId: string,
    about: { table: string; objectKeys: readonly string[] },
  ): Promise<boolean> {
    const rows = await this.query(renderRedshiftFailureRecorded(plan.metadata, statementId), about);
    return Number(fieldString(rows[0]?.[0]) ?? "0") > 0;
  }

  private async ledgerRows(plan: LoadPlan, about: { table: string; objectKeys: readonly string[] }): Promise<FileLoadResult[]> {
    const rows = await this.query(renderRedshiftLedgerRows(plan), about);
    const byKey = new Map<string, FileLoadResult>();
    for (const row of rows) {
      const objectKey = fieldString(row[0]);
      if (objectKey === undefined || byKey.has(objectKey)) continue; // newest row per file first
      byKey.set(objectKey, {
        objectKey,
        outcome: fieldString(row[1]) as LoadOutcome,
        rowsLoaded: Number(fieldString(row[2]) ?? "0"),
      });
    }
    const missing = plan.files.filter((f) => !byKey.has(f.objectKey)).map((f) => f.objectKey);
    if (missing.length > 0) {
      throw new Error(
        `statement of ${plan.table.name} committed, but the ledger has no row of load ${plan.loadId} for ${missing.join(", ")}`,
      );
    }
    return plan.files.map((f) => byKey.get(f.objectKey)!);
  }

  /** ExecuteStatement, wait, and every row of the result (GetStatementResult, all pages). */
  private async query(sql: string, about: { table: string; objectKeys: readonly string[] }): Promise<Field[][]> {
    const id = await this.execute(sql);
    const done = await this.waitFor(id, "query", about);
    if (done.Status !== "FINISHED") {
      throw toDataApiError(
        "ExecuteStatement",
        Object.assign(new Error(`query ${done.Status}: ${done.Error ?? "no error text"} (${sql.slice(0, 200)})`), {
          name: "ExecuteStatementException",
        }),
        id,
      );
    }
    if (done.HasResultSet === false) return [];
    const rows: Field[][] = [];
    let nextToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new GetStatementResultCommand({ Id: id, NextToken: nextToken }));
      } catch (err) {
        throw toDataApiError("GetStatementResult", err, id);
      }
      rows.push(...(page.Records ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return rows;
  }

  private async execute(sql: string, parameters?: SqlParameter[], clientToken?: string): Promise<string> {
    try {
      const out = await this.client.send(
        new ExecuteStatementCommand({
          ...this.targetParameters,
          Sql: sql,
          ...(parameters !== undefined ? { Parameters: parameters } : {}),
          ...(clientToken !== undefined ? { ClientToken: clientToken } : {}),
        }),
      );
      if (!out.Id) throw new Error("ExecuteStatement returned no statement id");
      return out.Id;
    } catch (err) {
      throw toDataApiError("ExecuteStatement", err);
    }
  }

  private async submitBatch(sqls: readonly string[], clientToken: string | undefined, statementName: string): Promise<string> {
    try {
      const out = await this.client.send(
        new BatchExecuteStatementCommand({
          ...this.targetParameters,
          Sqls: [...sqls],
          StatementName: statementName,
          // Without ExecutionMode the batch runs as one transaction (the default, TRANSACTION).
          ...(clientToken !== undefined ? { ClientToken: clientToken } : {}),
        }),
      );
      if (!out.Id) throw new Error("BatchExecuteStatement returned no statement id");
      return out.Id;
    } catch (err) {
      throw toDataApiError("BatchExecuteStatement", err);
    }
  }

  /**
   * DescribeStatement at once, then after 250 ms, 500 ms, 1 s, ... (at most maxDelayMs) until the statement ends.
   * Throws LoadStillRunningError when the remaining time is down to the safety margin.
   */
  private async waitFor(
    statementId: string,
    phase: RedshiftPhase,
    about: { table: string; objectKeys: readonly string[] },
  ): Promise<Ended> {
    const started = this.now();
    let delay = this.poll.initialDelayMs;
    for (let poll = 0; ; poll++) {
      let described: DescribeStatementCommandOutput;
      try {
        described = await this.client.send(new DescribeStatementCommand({ Id: statementId }));
      } catch (err) {
        throw toDataApiError("DescribeStatement", err, statementId);
      }
      if (described.Status !== undefined && TERMINAL.has(described.Status)) {
        return { ...described, Id: described.Id ?? statementId, endedAtFirstPoll: poll === 0 };
      }
      const budget = this.remainingTimeMs() - this.poll.safetyMarginMs;
      if (budget <= 0) {
        throw new LoadStillRunningError({ statementId, phase, ...about, waitedMs: this.now() - started });
      }
      await this.sleep(Math.min(delay, budget));
      delay = Math.min(delay * this.poll.factor, this.poll.maxDelayMs);
    }
  }
}

/**
 * The sub-statement that failed a batch: the one whose status is FAILED (the statements after it are reported
 * ABORTED, and are not the cause), else the first ABORTED one (a cancelled batch), with its 1-based index, SQL and
 * Redshift's text (or the batch's own error when the sub-statement has none).
 */
export function failedSubStatement(described: DescribeStatementCommandOutput): {
  index?: number;
  sql?: string;
  text: string;
} {
  const sub = failedSubStatementOf(described);
  const n = subStatementIndex(sub);
  const aborted = described.Status === "ABORTED";
  const text =
    sub?.Error ||
    described.Error ||
    (aborted ? "the statement was aborted (cancelled) before it finished" : "the statement failed without an error text");
  return {
    ...(n !== undefined ? { index: n } : {}),
    ...(sub?.QueryString !== undefined ? { sql: sub.QueryString } : {}),
    text,
  };
}
