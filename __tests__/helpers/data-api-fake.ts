/**
 * The one Redshift Data API fake of the tests (no Redshift is reachable here), on aws-sdk-client-mock.
 *
 * It simulates the documented behaviour, and refuses what the real API refuses, so a test that passes on it sends
 * calls the real API takes:
 * - BatchExecuteStatement runs 1 to 40 statements ("Array Members: Minimum number of 1 item. Maximum number of 40
 *   items.", API_BatchExecuteStatement) as ONE transaction: what a batch changes (catalog, ledger) is applied only
 *   when it FINISHED; a FAILED or ABORTED batch changes nothing.
 * - each SQL statement is at most 100 KB (the Data API's "maximum query statement size"); more is a
 *   ValidationException.
 * - ExecuteStatement takes named parameters; every `:name` in the SQL needs a parameter of that name and every
 *   parameter must be used (a `::` cast next to a parameter reads as `:name` to the API: refused the same way).
 * - the target: exactly one of ClusterIdentifier and WorkgroupName, a Database, and the credentials the documented
 *   combinations allow (cluster: SecretArn, or DbUser for temporary credentials of a database user, or neither for
 *   the IAM identity; workgroup: SecretArn or neither). Every call's target is recorded (`targets`).
 * - ClientToken: a request with a token already seen returns the statement that token created (its Id), whatever its
 *   status, never a new statement.
 * - DescribeStatement walks a statement through the statuses its fate gives; a batch's SubStatements say FINISHED for
 *   the statements before the one that failed, FAILED (with the error) for it, ABORTED for those after it.
 * - GetStatementResult pages the result (NextToken); `<id>:<n>` reads the n-th statement of a batch ("A suffix
 *   indicates then number of the SQL statement", API_GetStatementResult).
 * - more SQL than the loaders' (the bootstrap's catalog, verify's scratch tables) is simulated by extensions
 *   (`extensions`): each sees a statement when it is submitted (and may fail it) and when it FINISHED.
 * Time is the test's: nothing here waits.
 */
import type * as DataApi from "@aws-sdk/client-redshift-data";
import type {
  BatchExecuteStatementCommandInput,
  DescribeStatementCommandOutput,
  ExecuteStatementCommandInput,
  Field,
  SqlParameter,
  SubStatementData,
} from "@aws-sdk/client-redshift-data";
import { mockClient } from "aws-sdk-client-mock";

type DataApiModule = typeof DataApi;

export type StatementStatus = "SUBMITTED" | "PICKED" | "STARTED" | "FINISHED" | "FAILED" | "ABORTED";

/** Most statements of one BatchExecuteStatement. */
export const FAKE_MAX_BATCH_STATEMENTS = 40;
/** Largest SQL statement the Data API takes (bytes of UTF-8). */
export const FAKE_MAX_STATEMENT_BYTES = 100 * 1024;

/** How a submitted statement goes: the statuses successive DescribeStatement calls see (the last one stays). */
export interface Fate {
  readonly statuses?: StatementStatus[];
  readonly error?: string;
  /** 1-based: the statement of a batch that fails (default 1 when the batch fails). */
  readonly failedStatement?: number;
  /**
   * The SubStatements' statuses when the batch fails, instead of FINISHED before / FAILED / ABORTED after (the Data
   * API documents neither their order nor the status of the rolled-back ones: a test can say the worst case).
   */
  readonly subStatuses?: StatementStatus[];
}

export interface FakeStatement {
  readonly id: string;
  readonly type: "batch" | "execute";
  readonly sqls: string[];
  readonly parameters?: SqlParameter[];
  readonly clientToken?: string;
  readonly target: FakeTarget;
  statuses: StatementStatus[];
  readonly error?: string;
  readonly failedStatement?: number;
  readonly subStatuses?: StatementStatus[];
  /** Milliseconds, from the fake's clock. */
  readonly createdAt: number;
  records: Field[][];
  /** Rows of the n-th statement of a batch (1-based), read as `<id>:<n>`. */
  subRecords: Map<number, Field[][]>;
  applied: boolean;
}

/** Simulates SQL beyond the loaders': sees each statement when submitted (may fail it) and when it FINISHED. */
export interface FakeSqlExtension {
  /** A Fate that fails the statement (for instance, a statement the simulated catalog refuses); undefined: no say. */
  submit?(statement: { readonly type: "batch" | "execute"; readonly sqls: readonly string[]; readonly target: FakeTarget }): Fate | undefined;
  /** What the FINISHED statement changes, and the rows it returns (`records`, `subRecords`). */
  apply?(statement: FakeStatement): void;
}

/** Where and as whom a call ran, as the Data API request said. */
export interface FakeTarget {
  readonly ClusterIdentifier?: string;
  readonly WorkgroupName?: string;
  readonly Database?: string;
  readonly DbUser?: string;
  readonly SecretArn?: string;
}

export interface FakeLedgerRow {
  readonly ledger: string;
  readonly loadId: string;
  readonly tableName: string;
  readonly objectKey: string;
  readonly outcome: string;
  readonly rows: number;
}

export interface FakeFailureRow {
  readonly loadId: string;
  readonly objectKey: string;
  readonly statementId: string;
  readonly error: string;
}

function validation(sdk: DataApiModule, message: string): Error {
  return new sdk.ValidationException({ message, $metadata: { httpStatusCode: 400 } });
}

/** A load batch: it records its files in a ledger. */
export function isLoadBatch(sqls: readonly string[]): boolean {
  return sqls.some((sql) => /^INSERT INTO "[^"]+"\."(?:load_)?ledger[a-z0-9_]*" /.test(sql));
}

/** The object keys a load batch copies, in order (from a manifest's name or the object path). */
export function copiedKeys(sqls: readonly string[]): string[] {
  return sqls
    .filter((s) => s.startsWith("COPY"))
    .map((s) => {
      const path = /FROM 's3:\/\/[^/]+\/([^']+)'/.exec(s)![1];
      const manifest = /^manifests\/(?:[^/]+\/)*?(exports\/.+)\.[0-9a-f]+\.manifest$/.exec(path);
      return manifest ? manifest[1] : path;
    });
}

export class FakeDataApi {
  readonly mock;
  readonly statements: FakeStatement[] = [];
  /** `schema.table` -> columns, as svv_columns answers. */
  readonly tables = new Map<string, string[]>();
  readonly ledger: FakeLedgerRow[] = [];
  readonly failures: FakeFailureRow[] = [];
  /** The target of every accepted call, in order. */
  readonly targets: Array<{ operation: string } & FakeTarget> = [];
  /** The fate of each new batch; `nth` counts the load batches before it (0 for the first). */
  batchFate: (sqls: string[], nth: number) => Fate = () => ({});
  /** The fate of each new ExecuteStatement. */
  executeFate: (sql: string) => Fate = () => ({});
  /** Ledger outcome of each file of a finished load. */
  outcomeOf: (objectKey: string) => "loaded" | "skipped-stale" = () => "loaded";
  rowsPerFile = 3;
  /** Rows per GetStatementResult page. */
  pageSize = 1000;
  /** Milliseconds since the epoch: statements' CreatedAt. */
  clock: () => number = Date.now;
  /** Simulations of further SQL (see FakeSqlExtension). */
  readonly extensions: FakeSqlExtension[] = [];
  private readonly sdk: DataApiModule;

  /** `sdk`: the module instance the code under test uses (a test that isolates modules passes its own). */
  constructor(sdk: DataApiModule = require("@aws-sdk/client-redshift-data") as DataApiModule) {
    this.sdk = sdk;
    this.mock = mockClient(sdk.RedshiftDataClient);
    this.mock.on(sdk.BatchExecuteStatementCommand).callsFake((input: BatchExecuteStatementCommandInput) => {
      const target = this.checkTarget(input);
      const sqls = input.Sqls ?? [];
      if (sqls.length < 1 || sqls.length > FAKE_MAX_BATCH_STATEMENTS) {
        throw validation(sdk, `1 validation error detected: Value at 'sqls' failed to satisfy constraint: Member must have length less than or equal to ${FAKE_MAX_BATCH_STATEMENTS}`);
      }
      sqls.forEach((sql) => this.checkSize(sql));
      this.targets.push({ operation: "BatchExecuteStatement", ...target });
      if (input.ClientToken !== undefined) {
        const existing = this.statements.find((s) => s.clientToken === input.ClientToken);
        if (existing) return { Id: existing.id, CreatedAt: new Date(existing.createdAt) };
      }
      const nth = this.statements.filter((s) => s.type === "batch" && isLoadBatch(s.sqls)).length;
      const fate = this.extensionFate("batch", sqls, target) ?? this.batchFate(sqls, nth);
      const created = this.create("batch", sqls, fate, target, { clientToken: input.ClientToken });
      return { Id: created.id, CreatedAt: new Date(created.createdAt) };
    });
    this.mock.on(sdk.ExecuteStatementCommand).callsFake((input: ExecuteStatementCommandInput) => {
      const target = this.checkTarget(input);
      const sql = input.Sql ?? "";
      this.checkSize(sql);
      this.checkParameters(sql, input.Parameters);
      this.targets.push({ operation: "ExecuteStatement", ...target });
      if (input.ClientToken !== undefined) {
        const existing = this.statements.find((s) => s.clientToken === input.ClientToken);
        if (existing) return { Id: existing.id, CreatedAt: new Date(existing.createdAt) };
      }
      const fate = this.extensionFate("execute", [sql], target) ?? this.executeFate(sql);
      const created = this.create("execute", [sql], fate, target, { parameters: input.Parameters, clientToken: input.ClientToken });
      return { Id: created.id, CreatedAt: new Date(created.createdAt) };
    });
    this.mock.on(sdk.DescribeStatementCommand).callsFake(({ Id }: { Id: string }) => this.describe(Id));
    this.mock.on(sdk.GetStatementResultCommand).callsFake(({ Id, NextToken }: { Id: string; NextToken?: string }) => {
      const [id, sub] = Id.split(":");
      const statement = this.get(id);
      const records = sub === undefined ? statement.records : (statement.subRecords.get(Number(sub)) ?? []);
      const start = NextToken === undefined ? 0 : Number(NextToken);
      const end = start + this.pageSize;
      return {
        Records: records.slice(start, end),
        TotalNumRows: records.length,
        ...(end < records.length ? { NextToken: String(end) } : {}),
      };
    });
  }

  restore(): void {
    this.mock.restore();
  }

  private extensionFate(type: "batch" | "execute", sqls: string[], target: FakeTarget): Fate | undefined {
    for (const extension of this.extensions) {
      const fate = extension.submit?.({ type, sqls, target });
      if (fate !== undefined) return fate;
    }
    return undefined;
  }

  private checkTarget(input: FakeTarget): FakeTarget {
    const target: FakeTarget = {
      ...(input.ClusterIdentifier !== undefined ? { ClusterIdentifier: input.ClusterIdentifier } : {}),
      ...(input.WorkgroupName !== undefined ? { WorkgroupName: input.WorkgroupName } : {}),
      ...(input.Database !== undefined ? { Database: input.Database } : {}),
      ...(input.DbUser !== undefined ? { DbUser: input.DbUser } : {}),
      ...(input.SecretArn !== undefined ? { SecretArn: input.SecretArn } : {}),
    };
    if ((target.ClusterIdentifier === undefined) === (target.WorkgroupName === undefined)) {
      throw validation(this.sdk, "Either ClusterIdentifier or WorkgroupName is required, not both");
    }
    if (target.Database === undefined) throw validation(this.sdk, "Database is required");
    if (target.DbUser !== undefined && target.SecretArn !== undefined) {
      throw validation(this.sdk, "DbUser and SecretArn are alternatives: pass one");
    }
    if (target.WorkgroupName !== undefined && target.DbUser !== undefined) {
      throw validation(this.sdk, "DbUser is for a cluster; a workgroup takes SecretArn or the IAM identity");
    }
    return target;
  }

  private checkSize(sql: string): void {
    const bytes = Buffer.byteLength(sql, "utf8");
    if (bytes > FAKE_MAX_STATEMENT_BYTES) {
      throw validation(this.sdk, `The SQL statement is ${bytes} bytes; the maximum query statement size is 100 KB`);
    }
  }

  /** Every `:name` of the SQL outside quoted literals needs its parameter, and every parameter is used. */
  private checkParameters(sql: string, parameters: SqlParameter[] | undefined): void {
    if (parameters === undefined || parameters.length === 0) return;
    const unquoted = sql.replace(/'(?:[^']|'')*'/g, "''").replace(/"(?:[^"]|"")*"/g, '""');
    const used = new Set([...unquoted.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]));
    const given = new Set(parameters.map((p) => p.name ?? ""));
    for (const name of used) {
      if (!given.has(name)) throw validation(this.sdk, `The SQL uses the parameter :${name}, which is not among the parameters`);
    }
    for (const name of given) {
      if (!used.has(name)) throw validation(this.sdk, `The parameter ${name} is not used in the SQL`);
    }
  }

  private create(
    type: "batch" | "execute",
    sqls: string[],
    fate: Fate,
    target: FakeTarget,
    extra: { clientToken?: string; parameters?: SqlParameter[] },
  ): FakeStatement {
    const n = this.statements.length + 1;
    const statement: FakeStatement = {
      id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
      type,
      sqls,
      target,
      ...extra,
      statuses: [...(fate.statuses ?? ["FINISHED"])],
      error: fate.error,
      failedStatement: fate.failedStatement,
      subStatuses: fate.subStatuses,
      createdAt: this.clock(),
      records: [],
      subRecords: new Map(),
      applied: false,
    };
    this.statements.push(statement);
    return statement;
  }

  get(id: string): FakeStatement {
    const statement = this.statements.find((s) => s.id === id);
    if (!statement) throw Object.assign(new Error(`no statement ${id}`), { name: "ResourceNotFoundException" });
    return statement;
  }

  /** Later DescribeStatement calls see these statuses. */
  setStatuses(id: string, statuses: StatementStatus[]): void {
    this.get(id).statuses = statuses;
  }

  private describe(id: string): DescribeStatementCommandOutput {
    const statement = this.get(id);
    const status = statement.statuses.length > 1 ? statement.statuses.shift()! : statement.statuses[0];
    if (status === "FINISHED" && !statement.applied) {
      statement.applied = true;
      this.apply(statement);
    }
    const failed = status === "FAILED" || status === "ABORTED";
    const out: DescribeStatementCommandOutput = {
      $metadata: {},
      Id: id,
      Status: status,
      CreatedAt: new Date(statement.createdAt),
      HasResultSet: statement.type === "execute" && /^\s*SELECT/.test(statement.sqls[0]),
      ...(failed ? { Error: statement.error ?? "" } : {}),
    };
    if (statement.type === "batch") {
      const failedAt = statement.failedStatement ?? 1;
      out.SubStatements = statement.sqls.map((sql, i): SubStatementData => {
        const n = i + 1;
        const subStatus: StatementStatus = !failed
          ? status
          : (statement.subStatuses?.[i] ?? (n < failedAt ? "FINISHED" : n === failedAt ? status : "ABORTED"));
        return {
          Id: `${id}:${n}`,
          Status: subStatus,
          QueryString: sql,
          ...(failed && n === failedAt ? { Error: statement.error } : {}),
        };
      });
    }
    return out;
  }

  /** What a FINISHED statement changes, and the rows a SELECT returns. */
  private apply(statement: FakeStatement): void {
    for (const sql of statement.sqls) {
      let m = /^CREATE TABLE IF NOT EXISTS "([^"]+)"\."([^"]+)" \(\n([\s\S]*)\n\)$/.exec(sql);
      if (m) {
        const key = `${m[1]}.${m[2]}`;
        if (!this.tables.has(key)) this.tables.set(key, m[3].split(",\n").map((line) => /^\s*"?([a-z_][a-z0-9_]*)/.exec(line)![1]));
        continue;
      }
      m = /^ALTER TABLE "([^"]+)"\."([^"]+)" ADD COLUMN "([^"]+)"/.exec(sql);
      if (m) {
        this.tables.get(`${m[1]}.${m[2]}`)!.push(m[3]);
        continue;
      }
      m = /^INSERT INTO "[^"]+"\."((?:load_)?ledger[a-z0-9_]*)" .* SELECT '([^']+)', '([^']+)', '[^']+', '([^']+)'/.exec(sql);
      if (m) {
        const outcome = this.outcomeOf(m[4]);
        this.ledger.push({
          ledger: m[1],
          loadId: m[2],
          tableName: m[3],
          objectKey: m[4],
          outcome,
          rows: outcome === "loaded" ? this.rowsPerFile : 0,
        });
        continue;
      }
      m = /^INSERT INTO "[^"]+"\."load_failures" /.exec(sql);
      if (m) {
        const error = statement.parameters?.find((p) => p.name === "error")?.value ?? "";
        for (const row of sql.matchAll(/\('([^']+)', '[^']+', '[^']+', '([^']+)', .*?, (?:'([0-9a-f-]+(?::\d+)?)'|NULL)\)/g)) {
          this.failures.push({ loadId: row[1], objectKey: row[2], statementId: row[3] ?? "", error });
        }
        continue;
      }
      m = /FROM svv_columns WHERE "table_schema" = '([^']+)' AND "table_name" = '([^']+)'/.exec(sql);
      if (m) {
        statement.records = (this.tables.get(`${m[1]}.${m[2]}`) ?? []).map((c) => [{ stringValue: c }]);
        continue;
      }
      m = /FROM "[^"]+"\."((?:load_)?ledger[a-z0-9_]*)" WHERE "load_id" = '([^']+)'/.exec(sql);
      if (m) {
        const loadId = m[2];
        statement.records = this.ledger
          .filter((row) => row.loadId === loadId)
          .reverse()
          .map((row) => [{ stringValue: row.objectKey }, { stringValue: row.outcome }, { longValue: row.rows }]);
        continue;
      }
      m = /^SELECT COUNT\(\*\) FROM "[^"]+"\."load_failures" WHERE "statement_id" = '([^']+)'$/.exec(sql);
      if (m) {
        const id = m[1];
        statement.records = [[{ longValue: this.failures.filter((f) => f.statementId === id).length }]];
      }
    }
    for (const extension of this.extensions) extension.apply?.(statement);
  }

  /** Every Data API call, as the command name and its input: the reviewable record of what the adapter sends. */
  calls(): Array<{ command: string; input: Record<string, unknown> }> {
    return this.mock.calls().map((call) => {
      const command = call.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> };
      return { command: command.constructor.name.replace(/Command$/, ""), input: command.input };
    });
  }

  inputsOf<T>(command: new (...args: never[]) => { input: T }): T[] {
    return this.mock.commandCalls(command as never).map((c) => (c.args[0] as unknown as { input: T }).input);
  }

  /** Every BatchExecuteStatement request, in order. */
  batches(): BatchExecuteStatementCommandInput[] {
    return this.inputsOf(this.sdk.BatchExecuteStatementCommand as never) as BatchExecuteStatementCommandInput[];
  }

  /** The load batches submitted (they write a ledger row), in order, re-submissions included. */
  loadBatches(): BatchExecuteStatementCommandInput[] {
    return this.batches().filter((b) => isLoadBatch(b.Sqls ?? []));
  }

  /** The load statements the fake created (a re-attached ClientToken creates none). */
  loadStatements(): FakeStatement[] {
    return this.statements.filter((s) => s.type === "batch" && isLoadBatch(s.sqls));
  }
}
