/**
 * The Redshift warehouse adapter: runs a LoadPlan through the Redshift Data API (AWS SDK v3 RedshiftDataClient), on a
 * provisioned cluster (ClusterIdentifier + Database + SecretArn or DbUser) or a Serverless workgroup (WorkgroupName +
 * Database + SecretArn, or neither for the caller's IAM identity).
 *
 * A load:
 * 1. `prepare` (schemas and metadata, idempotent DDL) as one BatchExecuteStatement, once per process and schema pair;
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
 *   return the old failure. So when the token returns a statement that ended FAILED/ABORTED and `load_failures`
 *   already holds that statement's failure (recorded by an earlier attempt), the adapter derives the next token from
 *   the previous token and the failed statement's id, and submits again; a retry after that walks the same chain
 *   and re-attaches to the newest statement. The chain is deterministic, and needs no state beyond `load_failures`.
 * - After 8 hours, or with a plan that changed meanwhile (a column was added by the attempt that committed), the
 *   token is new and the load runs again. That is safe: a load is idempotent by the mirror's semantics (DESIGN.md),
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
import { LoadPlanError } from "./errors";
import type { LoadOutcome, LoadPlan } from "./plan";
import {
  FAILURE_ERROR_PARAMETER,
  renderRedshiftFailure,
  renderRedshiftFailureRecorded,
  renderRedshiftLedgerRows,
  renderRedshiftPlan,
  renderRedshiftTableColumns,
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

/** Bounds the token chain (one link per recorded failure of the same plan within 8 hours). */
export const MAX_TOKEN_CHAIN = 32;

/** `load_failures.error` is VARCHAR(65535), but the Data API takes 100 KB per statement: keep the text modest. */
export const FAILURE_ERROR_MAX_BYTES = 16 * 1024;

export interface RedshiftWarehouseOptions extends RedshiftRenderOptions {
  readonly client: Pick<RedshiftDataClient, "send">;
  readonly target: RedshiftTarget;
  /** The Lambda's `context.getRemainingTimeInMillis`. @default no limit */
  readonly remainingTimeMs?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds, for the time spent waiting. @default Date.now */
  readonly now?: () => number;
  readonly poll?: PollSettings;
  /**
   * Prepare batches already run (shared across invocations of one Lambda container, so the metadata DDL is not a
   * commit on every load). @default a set of this adapter's own
   */
  readonly preparedCache?: Set<string>;
  /** Names the batches in ListStatements and the console. @default "controlshift-mirror" */
  readonly statementNamePrefix?: string;
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

function fieldString(field: Field | undefined): string | undefined {
  if (field === undefined || field.isNull) return undefined;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.longValue !== undefined) return String(field.longValue);
  if (field.doubleValue !== undefined) return String(field.doubleValue);
  if (field.booleanValue !== undefined) return String(field.booleanValue);
  return undefined;
}

export class RedshiftWarehouse implements Warehouse {
  private readonly client: Pick<RedshiftDataClient, "send">;
  private readonly target: RedshiftTarget;
  private readonly targetParameters: ReturnType<typeof dataApiTarget>;
  private readonly render: RedshiftRenderOptions;
  private readonly remainingTimeMs: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly poll: Required<PollSettings>;
  private readonly prepared: Set<string>;
  private readonly statementNamePrefix: string;

  constructor(options: RedshiftWarehouseOptions) {
    this.client = options.client;
    this.target = options.target;
    this.targetParameters = dataApiTarget(options.target);
    this.render = { exportsBucket: options.exportsBucket, copyRoleArn: options.copyRoleArn };
    this.remainingTimeMs = options.remainingTimeMs ?? (() => Number.POSITIVE_INFINITY);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
    this.poll = { ...DEFAULT_POLL, ...options.poll };
    this.prepared = options.preparedCache ?? new Set();
    this.statementNamePrefix = options.statementNamePrefix ?? "controlshift-mirror";
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
    const { prepare, transaction } = renderRedshiftPlan(plan, this.render);
    const about = { table: plan.table.name, objectKeys: plan.files.map((f) => f.objectKey) };

    const prepareKey = JSON.stringify([this.targetParameters, prepare]);
    if (!this.prepared.has(prepareKey)) {
      // Idempotent DDL: no ClientToken of ours (a repeat is harmless), so the SDK's own covers its retries.
      const id = await this.submitBatch(prepare, undefined, `${this.statementNamePrefix}:prepare`);
      const done = await this.waitFor(id, "prepare", about);
      if (done.Status !== "FINISHED") {
        // The metadata may not exist: recording the failure is attempted anyway (it usually exists from an earlier load).
        throw await this.failed(plan, done, prepare);
      }
      this.prepared.add(prepareKey);
    }

    const name = `${this.statementNamePrefix}:${plan.kind}:${plan.table.name}`;
    let token = clientTokenFor(this.target, transaction);
    for (let link = 0; ; link++) {
      const id = await this.submitBatch(transaction, token, name);
      const done = await this.waitFor(id, "load", about);
      if (done.Status === "FINISHED") {
        return {
          loadId: plan.loadId,
          schema: plan.table.schema,
          table: plan.table.name,
          kind: plan.kind,
          files: await this.ledgerRows(plan, about),
          addedColumns: plan.addedColumns,
          createdTable: plan.createsTable,
          statementId: id,
        };
      }
      // FAILED or ABORTED: an earlier attempt's failure, already recorded, or this attempt's own.
      if (link < MAX_TOKEN_CHAIN && (await this.failureRecorded(plan, id, about))) {
        token = nextClientToken(token, id);
        continue;
      }
      throw await this.failed(plan, done, transaction);
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
    const failedSub = (described.SubStatements ?? []).find((s) => s.Status === "FAILED" || s.Status === "ABORTED");
    const subIndex = failedSub?.Id !== undefined ? Number(/:(\d+)$/.exec(failedSub.Id)?.[1]) : undefined;
    const text =
      failedSub?.Error ||
      described.Error ||
      (status === "ABORTED" ? "the statement was aborted (cancelled) before it finished" : "the statement failed without an error text");
    const cause = new RedshiftStatementError(id, status, text, Number.isInteger(subIndex) ? subIndex : undefined);
    const statement =
      failedSub?.QueryString ?? (cause.subStatement !== undefined ? sqls[cause.subStatement - 1] : undefined);

    let recordFailureError: unknown;
    try {
      const error = truncateUtf8(text.replace(/\0/g, ""), FAILURE_ERROR_MAX_BYTES) || "unknown error";
      const parameters: SqlParameter[] = [{ name: FAILURE_ERROR_PARAMETER, value: error }];
      const recordId = await this.execute(renderRedshiftFailure(plan, id), parameters);
      const recorded = await this.waitFor(recordId, "query", { table: plan.table.name, objectKeys: [] });
      if (recorded.Status !== "FINISHED") {
        recordFailureError = new Error(`recording the failure in load_failures ended ${recorded.Status}: ${recorded.Error ?? ""}`);
      }
    } catch (err) {
      recordFailureError = err;
    }
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

  private async execute(sql: string, parameters?: SqlParameter[]): Promise<string> {
    try {
      const out = await this.client.send(
        new ExecuteStatementCommand({
          ...this.targetParameters,
          Sql: sql,
          ...(parameters !== undefined ? { Parameters: parameters } : {}),
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
  ): Promise<DescribeStatementCommandOutput> {
    const started = this.now();
    let delay = this.poll.initialDelayMs;
    for (;;) {
      let described: DescribeStatementCommandOutput;
      try {
        described = await this.client.send(new DescribeStatementCommand({ Id: statementId }));
      } catch (err) {
        throw toDataApiError("DescribeStatement", err, statementId);
      }
      if (described.Status !== undefined && TERMINAL.has(described.Status)) return { ...described, Id: described.Id ?? statementId };
      const budget = this.remainingTimeMs() - this.poll.safetyMarginMs;
      if (budget <= 0) {
        throw new LoadStillRunningError({ statementId, phase, ...about, waitedMs: this.now() - started });
      }
      await this.sleep(Math.min(delay, budget));
      delay = Math.min(delay * this.poll.factor, this.poll.maxDelayMs);
    }
  }
}
