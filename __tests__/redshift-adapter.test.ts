/**
 * The Redshift adapter (handlers/load/redshift-adapter.ts) against the Redshift Data API, mocked with
 * aws-sdk-client-mock (no local Redshift exists). The mock is a small simulation, not a script: statements get ids,
 * ClientTokens map to the statement they created, DescribeStatement walks each statement through its statuses, and a
 * FINISHED batch applies what the tests read back (CREATE TABLE / ADD COLUMN to the catalog, ledger rows), so the
 * assertions are on the exact calls the adapter makes and on what it concludes from the answers.
 * Time is injected (sleep, clock, remaining time): nothing waits for real.
 */
import {
  ActiveStatementsExceededException,
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  ValidationException,
  type BatchExecuteStatementCommandInput,
  type DescribeStatementCommandOutput,
  type ExecuteStatementCommandInput,
  type Field,
} from "@aws-sdk/client-redshift-data";
import { mockClient } from "aws-sdk-client-mock";
import { LoadFailedError } from "../handlers/load/errors";
import { loadExports } from "../handlers/load/load-exports";
import {
  DEFAULT_POLL,
  RedshiftWarehouse,
  clientTokenFor,
  dataApiTarget,
  nextClientToken,
  type RedshiftTarget,
} from "../handlers/load/redshift-adapter";
import {
  LoadStillRunningError,
  RedshiftDataApiError,
  RedshiftLoadFailedError,
  RedshiftStatementError,
  isTransient,
} from "../handlers/load/redshift-errors";
import type { Compression, ExportKind } from "../handlers/shared/export-file";
import { TABLE_SCHEMAS } from "../schemas/table-schemas";

// ---------------------------------------------------------------------------------------------------------------
// A simulated Data API on aws-sdk-client-mock.

type Status = "SUBMITTED" | "PICKED" | "STARTED" | "FINISHED" | "FAILED" | "ABORTED";

/** How a submitted statement goes: the statuses successive DescribeStatement calls see (the last one stays). */
interface Fate {
  readonly statuses?: Status[];
  readonly error?: string;
  /** 1-based: the statement of a batch that fails. */
  readonly failedStatement?: number;
}

interface SimStatement {
  readonly id: string;
  readonly type: "batch" | "execute";
  readonly sqls: string[];
  readonly parameters?: { name?: string; value?: string }[];
  readonly clientToken?: string;
  statuses: Status[];
  readonly error?: string;
  readonly failedStatement?: number;
  records: Field[][];
  applied: boolean;
}

class SimulatedDataApi {
  readonly mock = mockClient(RedshiftDataClient);
  readonly statements: SimStatement[] = [];
  /** `schema.table` -> columns, as svv_columns answers. */
  readonly tables = new Map<string, string[]>();
  readonly ledger: { loadId: string; objectKey: string; outcome: string; rows: number }[] = [];
  readonly failures: { statementId: string; error: string }[] = [];
  /** The fate of each new batch (by its SQL). */
  batchFate: (sqls: string[]) => Fate = () => ({});
  /** The fate of each new ExecuteStatement. */
  executeFate: (sql: string) => Fate = () => ({});
  rowsPerFile = 3;
  /** Rows per GetStatementResult page. */
  pageSize = 1000;

  constructor() {
    this.mock.on(BatchExecuteStatementCommand).callsFake((input: BatchExecuteStatementCommandInput) => {
      if (input.ClientToken !== undefined) {
        const existing = this.statements.find((s) => s.clientToken === input.ClientToken);
        if (existing) return { Id: existing.id, CreatedAt: new Date(0) };
      }
      const fate = this.batchFate(input.Sqls ?? []);
      return { Id: this.create("batch", input.Sqls ?? [], fate, { clientToken: input.ClientToken }).id };
    });
    this.mock.on(ExecuteStatementCommand).callsFake((input: ExecuteStatementCommandInput) => {
      const fate = this.executeFate(input.Sql ?? "");
      return { Id: this.create("execute", [input.Sql ?? ""], fate, { parameters: input.Parameters }).id };
    });
    this.mock.on(DescribeStatementCommand).callsFake(({ Id }: { Id: string }) => this.describe(Id));
    this.mock.on(GetStatementResultCommand).callsFake(({ Id, NextToken }: { Id: string; NextToken?: string }) => {
      const statement = this.get(Id);
      const start = NextToken === undefined ? 0 : Number(NextToken);
      const end = start + this.pageSize;
      return {
        Records: statement.records.slice(start, end),
        TotalNumRows: statement.records.length,
        ...(end < statement.records.length ? { NextToken: String(end) } : {}),
      };
    });
  }

  restore(): void {
    this.mock.restore();
  }

  private create(
    type: "batch" | "execute",
    sqls: string[],
    fate: Fate,
    extra: { clientToken?: string; parameters?: { name?: string; value?: string }[] },
  ): SimStatement {
    const n = this.statements.length + 1;
    const statement: SimStatement = {
      id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
      type,
      sqls,
      ...extra,
      statuses: [...(fate.statuses ?? ["FINISHED"])],
      error: fate.error,
      failedStatement: fate.failedStatement,
      records: [],
      applied: false,
    };
    this.statements.push(statement);
    return statement;
  }

  get(id: string): SimStatement {
    const statement = this.statements.find((s) => s.id === id);
    if (!statement) throw Object.assign(new Error(`no statement ${id}`), { name: "ResourceNotFoundException" });
    return statement;
  }

  /** Later DescribeStatement calls see these statuses. */
  setStatuses(id: string, statuses: Status[]): void {
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
      HasResultSet: statement.type === "execute" && /^\s*SELECT/.test(statement.sqls[0]),
      ...(failed ? { Error: statement.error ?? "" } : {}),
    };
    if (statement.type === "batch") {
      out.SubStatements = statement.sqls.map((sql, i) => {
        const n = i + 1;
        const subStatus = !failed ? status : n < (statement.failedStatement ?? 1) ? "FINISHED" : n === statement.failedStatement ? status : "SUBMITTED";
        return {
          Id: `${id}:${n}`,
          Status: subStatus,
          QueryString: sql,
          ...(failed && n === statement.failedStatement ? { Error: statement.error } : {}),
        };
      });
    }
    return out;
  }

  /** What a FINISHED statement changes, and the rows a SELECT returns. */
  private apply(statement: SimStatement): void {
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
      m = /^INSERT INTO "[^"]+"\."load_ledger" .* SELECT '([^']+)', '[^']+', '[^']+', '([^']+)'/.exec(sql);
      if (m) {
        this.ledger.push({ loadId: m[1], objectKey: m[2], outcome: "loaded", rows: this.rowsPerFile });
        continue;
      }
      m = /^INSERT INTO "[^"]+"\."load_failures" .*, '([^']+)'\)$/.exec(sql);
      if (m) {
        const error = statement.parameters?.find((p) => p.name === "error")?.value ?? "";
        for (const _ of sql.matchAll(/:error/g)) this.failures.push({ statementId: m[1], error });
        continue;
      }
      m = /FROM svv_columns WHERE "table_schema" = '([^']+)' AND "table_name" = '([^']+)'/.exec(sql);
      if (m) {
        statement.records = (this.tables.get(`${m[1]}.${m[2]}`) ?? []).map((c) => [{ stringValue: c }]);
        continue;
      }
      m = /FROM "[^"]+"\."load_ledger" WHERE "load_id" = '([^']+)'/.exec(sql);
      if (m) {
        const loadId = m[1];
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

  /** The load batches (not prepare): their transaction starts with CREATE TABLE or LOCK. */
  loadBatches(): BatchExecuteStatementCommandInput[] {
    return this.inputsOf(BatchExecuteStatementCommand).filter((b) => b.Sqls!.some((sql) => sql.startsWith("LOCK ")));
  }
}

// ---------------------------------------------------------------------------------------------------------------

const CLUSTER: RedshiftTarget = {
  type: "cluster",
  clusterIdentifier: "cs-mirror-warehouse",
  database: "mirror",
  secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cs-mirror-admin-AbCdEf",
};
const WORKGROUP: RedshiftTarget = {
  type: "workgroup",
  workgroupName: "cs-mirror",
  database: "mirror",
  secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cs-mirror-admin-AbCdEf",
};
const BUCKET = "cs-mirror-exports";
const ROLE = "arn:aws:iam::123456789012:role/cs-mirror-copy";
const COMMENTS = TABLE_SCHEMAS.comments;
const HEADER = ["id", "signature_id", "text", "up_count", "approved", "created_at", "updated_at"];

function key(kind: ExportKind, compact: string, bzip2 = false): string {
  return `exports/${kind}/comments/${compact.slice(0, 8)}/comments_${compact}.csv${bzip2 ? ".bz2" : ""}`;
}

interface Harness {
  readonly api: SimulatedDataApi;
  /** The sleeps asked for, in order. */
  readonly sleeps: number[];
  /** A warehouse for a new invocation with `remainingMs` left (one container: the prepare cache is shared). */
  invocation(options?: { remainingMs?: number; target?: RedshiftTarget }): RedshiftWarehouse;
  load(
    warehouse: RedshiftWarehouse,
    kind: ExportKind,
    files: Array<{ objectKey: string; compression?: Compression }>,
  ): ReturnType<RedshiftWarehouse["run"]>;
}

let harness: Harness | undefined;

function setup(): Harness {
  const api = new SimulatedDataApi();
  const sleeps: number[] = [];
  let now = 1_700_000_000_000;
  const preparedCache = new Set<string>();
  const client = new RedshiftDataClient({ region: "eu-west-1" });
  harness = {
    api,
    sleeps,
    invocation({ remainingMs = 900_000, target = CLUSTER } = {}) {
      const deadline = now + remainingMs;
      return new RedshiftWarehouse({
        client,
        target,
        exportsBucket: BUCKET,
        copyRoleArn: ROLE,
        remainingTimeMs: () => deadline - now,
        sleep: async (ms) => {
          sleeps.push(ms);
          now += ms;
        },
        now: () => now,
        preparedCache,
      });
    },
    async load(warehouse, kind, files) {
      const result = await loadExports(
        { warehouse, readHeader: async () => HEADER },
        {
          schema: "controlshift",
          table: "comments",
          kind,
          files: files.map((f) => ({ objectKey: f.objectKey, compression: f.compression ?? "none" })),
          knownColumns: COMMENTS,
        },
      );
      return result as Awaited<ReturnType<RedshiftWarehouse["run"]>>;
    },
  };
  return harness;
}

afterEach(() => {
  harness?.api.restore();
  harness = undefined;
});

/** The load batch's statement: the simulation answers these with the fate a test gives. */
const isLoad = (sqls: string[]) => sqls.some((sql) => sql.startsWith("LOCK "));

describe("Redshift adapter: the Data API calls of a load", () => {
  it("loads a full export into a new table: prepare, transaction, ledger, as these exact calls", async () => {
    const h = setup();
    const result = await h.load(h.invocation(), "full", [{ objectKey: key("full", "20240301020304", true), compression: "bzip2" }]);

    expect(result).toEqual({
      loadId: expect.stringMatching(/^full-comments-[0-9a-f]{32}$/),
      schema: "controlshift",
      table: "comments",
      kind: "full",
      files: [{ objectKey: key("full", "20240301020304", true), outcome: "loaded", rowsLoaded: 3 }],
      addedColumns: [],
      createdTable: "schemas",
      statementId: h.api.statements[2].id,
    });
    expect(h.api.calls()).toMatchSnapshot();
    expect(h.api.calls().map((c) => c.command)).toEqual([
      "ExecuteStatement", // svv_columns
      "DescribeStatement",
      "GetStatementResult",
      "BatchExecuteStatement", // prepare
      "DescribeStatement",
      "BatchExecuteStatement", // the load's transaction
      "DescribeStatement",
      "ExecuteStatement", // the ledger rows of this load
      "DescribeStatement",
      "GetStatementResult",
    ]);
    expect(h.sleeps).toEqual([]);
  });

  it("loads two incremental files into an existing table on a Serverless workgroup, in one transaction", async () => {
    const h = setup();
    h.api.tables.set("controlshift.comments", [...COMMENTS.map((c) => c.name), "_cs_exported_at"]);
    const files = [{ objectKey: key("incremental", "20240305020304") }, { objectKey: key("incremental", "20240304020304") }];
    const result = await h.load(h.invocation({ target: WORKGROUP }), "incremental", files);

    expect(result.files.map((f) => f.objectKey)).toEqual([files[1].objectKey, files[0].objectKey]);
    expect(h.api.calls()).toMatchSnapshot();
    const [load] = h.api.loadBatches();
    expect(load).toMatchObject({ WorkgroupName: "cs-mirror", Database: "mirror", SecretArn: WORKGROUP.secretArn });
    expect(load).not.toHaveProperty("ClusterIdentifier");
    expect(load.Sqls).toHaveLength(1 + 2 * 6);
    expect(load.StatementName).toBe("controlshift-mirror:incremental:comments");
  });

  it("runs the metadata DDL once per container, not once per load", async () => {
    const h = setup();
    await h.load(h.invocation(), "incremental", [{ objectKey: key("incremental", "20240305020304") }]);
    await h.load(h.invocation(), "incremental", [{ objectKey: key("incremental", "20240306020304") }]);
    const batches = h.api.inputsOf(BatchExecuteStatementCommand);
    expect(batches.map((b) => (isLoad(b.Sqls!) ? "load" : "prepare"))).toEqual(["prepare", "load", "load"]);
    expect(batches[0]).not.toHaveProperty("ClientToken");
  });

  it("reads the table's columns from svv_columns, page by page, and says undefined for a missing table", async () => {
    const h = setup();
    h.api.pageSize = 2;
    h.api.tables.set("controlshift.comments", ["id", "text", "up_count", "_cs_exported_at", "sentiment"]);
    const warehouse = h.invocation();
    await expect(warehouse.tableColumns("controlshift", "comments")).resolves.toEqual([
      "id", "text", "up_count", "_cs_exported_at", "sentiment",
    ]);
    expect(h.api.inputsOf(GetStatementResultCommand).map((i) => i.NextToken)).toEqual([undefined, "2", "4"]);
    await expect(warehouse.tableColumns("controlshift", "petitions")).resolves.toBeUndefined();
    expect(h.api.inputsOf(ExecuteStatementCommand)[0]).toEqual({
      ClusterIdentifier: "cs-mirror-warehouse",
      Database: "mirror",
      SecretArn: CLUSTER.secretArn,
      Sql: `SELECT "column_name" FROM svv_columns WHERE "table_schema" = 'controlshift' AND "table_name" = 'comments' ORDER BY "ordinal_position"`,
    });
  });

  it("passes the target the Data API way: cluster with a database user, workgroup with IAM", () => {
    expect(dataApiTarget({ type: "cluster", clusterIdentifier: "c1", database: "d", dbUser: "loader" })).toEqual({
      ClusterIdentifier: "c1",
      Database: "d",
      DbUser: "loader",
    });
    expect(dataApiTarget({ type: "workgroup", workgroupName: "w1", database: "d" })).toEqual({ WorkgroupName: "w1", Database: "d" });
    expect(() => dataApiTarget({ type: "cluster", clusterIdentifier: "c1", database: "d" })).toThrow(/exactly one of secretArn and dbUser/);
  });
});

describe("Redshift adapter: ClientToken", () => {
  it("is the same for the same target and SQL, in the UUID shape the SDK uses, and differs otherwise", () => {
    const sqls = ['LOCK "controlshift"."comments"', "DROP TABLE \"cs_stage_1\""];
    const token = clientTokenFor(CLUSTER, sqls);
    expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(clientTokenFor({ ...CLUSTER }, [...sqls])).toBe(token);
    expect(clientTokenFor(WORKGROUP, sqls)).not.toBe(token);
    expect(clientTokenFor({ ...CLUSTER, database: "staging" }, sqls)).not.toBe(token);
    expect(clientTokenFor(CLUSTER, [sqls[0]])).not.toBe(token);
    expect(nextClientToken(token, "00000000-0000-4000-8000-000000000001")).not.toBe(token);
    expect(nextClientToken(token, "00000000-0000-4000-8000-000000000001")).toBe(
      nextClientToken(token, "00000000-0000-4000-8000-000000000001"),
    );
  });

  it("is derived from the rendered plan: a redelivery of the same files sends the same token", async () => {
    const h = setup();
    h.api.tables.set("controlshift.comments", [...COMMENTS.map((c) => c.name), "_cs_exported_at"]);
    const file = { objectKey: key("incremental", "20240305020304") };
    await h.load(h.invocation(), "incremental", [file]);
    await h.load(h.invocation(), "incremental", [file]);
    const [first, second] = h.api.loadBatches();
    expect(first.ClientToken).toBe(clientTokenFor(CLUSTER, first.Sqls!));
    expect(second.ClientToken).toBe(first.ClientToken);
    // Same token, same statement: the simulation (like the Data API) ran the load once.
    expect(h.api.statements.filter((s) => s.type === "batch" && isLoad(s.sqls))).toHaveLength(1);
  });
});

describe("Redshift adapter: following a long load", () => {
  it("polls DescribeStatement at once, then with exponential back-off, until FINISHED", async () => {
    const h = setup();
    h.api.batchFate = (sqls) =>
      isLoad(sqls) ? { statuses: ["SUBMITTED", "PICKED", "STARTED", "STARTED", "STARTED", "STARTED", "FINISHED"] } : {};
    const result = await h.load(h.invocation(), "full", [{ objectKey: key("full", "20240301020304") }]);
    expect(result.files[0].outcome).toBe("loaded");
    expect(h.sleeps).toEqual([250, 500, 1000, 2000, 4000, 8000]);
  });

  it("caps the back-off and stops at the safety margin with LoadStillRunningError, leaving the statement running", async () => {
    const h = setup();
    h.api.batchFate = (sqls) => (isLoad(sqls) ? { statuses: ["STARTED"] } : {});
    const error = await h
      .load(h.invocation({ remainingMs: 60_000 }), "full", [{ objectKey: key("full", "20240301020304") }])
      .catch((err: unknown) => err);

    const load = h.api.statements.find((s) => s.type === "batch" && isLoad(s.sqls))!;
    expect(error).toBeInstanceOf(LoadStillRunningError);
    expect(error).toMatchObject({
      statementId: load.id,
      phase: "load",
      table: "comments",
      objectKeys: [key("full", "20240301020304")],
    });
    expect((error as Error).message).toContain(load.id);
    // 250 ms doubling to the 10 s cap, then the last sleep ends exactly at the 10 s safety margin.
    expect(h.sleeps).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 4250]);
    expect(h.sleeps.reduce((a, b) => a + b, 0)).toBe(60_000 - DEFAULT_POLL.safetyMarginMs);
    expect(h.api.mock.commandCalls(CancelStatementCommand)).toHaveLength(0);
  });

  it("re-attaches on the retry: the same plan sends the same ClientToken and follows the same statement", async () => {
    const h = setup();
    h.api.batchFate = (sqls) => (isLoad(sqls) ? { statuses: ["STARTED"] } : {});
    const files = [{ objectKey: key("full", "20240301020304") }];
    const first = (await h.load(h.invocation({ remainingMs: 30_000 }), "full", files).catch((e: unknown) => e)) as LoadStillRunningError;
    expect(first).toBeInstanceOf(LoadStillRunningError);

    // Meanwhile the statement finishes on the warehouse; the queue delivers the message again.
    h.api.setStatuses(first.statementId, ["FINISHED"]);
    const result = await h.load(h.invocation({ remainingMs: 30_000 }), "full", files);

    expect(result.statementId).toBe(first.statementId);
    const [submitted, resubmitted] = h.api.loadBatches();
    expect(resubmitted.ClientToken).toBe(submitted.ClientToken);
    expect(resubmitted.Sqls).toEqual(submitted.Sqls);
    expect(h.api.statements.filter((s) => s.type === "batch" && isLoad(s.sqls))).toHaveLength(1);
    expect(h.api.ledger).toHaveLength(1);
  });
});

describe("Redshift adapter: a failed load", () => {
  const COPY_ERROR =
    "Load into table 'cs_stage_1' failed. Check 'sys_load_error_detail' system table for details. [ErrorId: 1-65e1-abc]";

  async function failedLoad(h: Harness) {
    h.api.tables.set("controlshift.comments", [...COMMENTS.map((c) => c.name), "_cs_exported_at"]);
    h.api.batchFate = (sqls) => (isLoad(sqls) ? { statuses: ["STARTED", "FAILED"], error: COPY_ERROR, failedStatement: 3 } : {});
    return (await h
      .load(h.invocation(), "full", [{ objectKey: key("full", "20240303020304") }])
      .catch((err: unknown) => err)) as RedshiftLoadFailedError;
  }

  it("records the failure in load_failures outside the transaction, then throws with the statement id and Redshift's text", async () => {
    const h = setup();
    const error = await failedLoad(h);
    const load = h.api.statements.find((s) => s.type === "batch" && isLoad(s.sqls))!;

    expect(error).toBeInstanceOf(RedshiftLoadFailedError);
    expect(error).toBeInstanceOf(LoadFailedError);
    expect(error).toMatchObject({
      statementId: load.id,
      redshiftError: COPY_ERROR,
      table: "comments",
      objectKeys: [key("full", "20240303020304")],
      statement: load.sqls[2],
      recordFailureError: undefined,
    });
    expect(error.statement).toMatch(/^COPY "cs_stage_1"/);
    expect(error.cause).toBeInstanceOf(RedshiftStatementError);
    expect(error.cause).toMatchObject({ statementId: load.id, status: "FAILED", subStatement: 3, message: COPY_ERROR });
    expect(error.message).toContain(`failed and was rolled back: ${COPY_ERROR} (statement ${load.id}, SQL statement 3 of the batch)`);

    const [, ...executes] = h.api.inputsOf(ExecuteStatementCommand);
    expect(executes.map((e) => e.Sql)).toEqual([
      `SELECT COUNT(*) FROM "controlshift_mirror_meta"."load_failures" WHERE "statement_id" = '${load.id}'`,
      expect.stringMatching(/^INSERT INTO "controlshift_mirror_meta"\."load_failures" /),
    ]);
    expect(executes[1].Parameters).toEqual([{ name: "error", value: COPY_ERROR }]);
    expect(executes[1].Sql).toContain(`, :error, '${load.id}')`);
    expect(h.api.failures).toEqual([{ statementId: load.id, error: COPY_ERROR }]);
    expect(h.api.ledger).toEqual([]);
  });

  it("does not get the old failure back on the retry: the next ClientToken is chained from the failed statement", async () => {
    const h = setup();
    const error = await failedLoad(h);
    h.api.batchFate = () => ({}); // the cause went away (a lock conflict, a fixed permission)

    const result = await h.load(h.invocation(), "full", [{ objectKey: key("full", "20240303020304") }]);

    const [first, replay, chained] = h.api.loadBatches();
    expect(replay.ClientToken).toBe(first.ClientToken);
    expect(chained.ClientToken).toBe(nextClientToken(first.ClientToken!, error.statementId));
    expect(chained.Sqls).toEqual(first.Sqls);
    expect(result.statementId).not.toBe(error.statementId);
    expect(result.files).toEqual([{ objectKey: key("full", "20240303020304"), outcome: "loaded", rowsLoaded: 3 }]);
    expect(h.api.failures).toHaveLength(1);
  });

  it("records a failure the earlier attempt could not record, before moving on", async () => {
    const h = setup();
    h.api.executeFate = (sql) => (sql.startsWith("INSERT INTO") ? { statuses: ["FAILED"], error: "permission denied" } : {});
    const error = await failedLoad(h);
    expect(error.recordFailureError).toBeInstanceOf(Error);
    expect(String(error.recordFailureError)).toContain("permission denied");
    expect(error.redshiftError).toBe(COPY_ERROR);

    // The retry finds the failure unrecorded: it records it and fails again; the one after moves on.
    h.api.executeFate = () => ({});
    const again = (await h.load(h.invocation(), "full", [{ objectKey: key("full", "20240303020304") }]).catch((e: unknown) => e)) as RedshiftLoadFailedError;
    expect(again.statementId).toBe(error.statementId);
    expect(h.api.failures).toHaveLength(1);
  });

  it("treats ABORTED (a cancelled statement) as a failure", async () => {
    const h = setup();
    h.api.batchFate = (sqls) => (isLoad(sqls) ? { statuses: ["ABORTED"] } : {});
    const error = (await h.load(h.invocation(), "full", [{ objectKey: key("full", "20240301020304") }]).catch((e: unknown) => e)) as RedshiftLoadFailedError;
    expect(error).toBeInstanceOf(RedshiftLoadFailedError);
    expect(error.cause).toMatchObject({ status: "ABORTED" });
    expect(h.api.failures).toHaveLength(1);
  });
});

describe("Redshift adapter: Data API errors", () => {
  it("maps a capacity error to a transient RedshiftDataApiError", async () => {
    const h = setup();
    h.api.mock
      .on(BatchExecuteStatementCommand)
      .rejects(new ActiveStatementsExceededException({ message: "Active statements exceeded the allowed quota (200).", $metadata: {} }));
    const error = await h.load(h.invocation(), "full", [{ objectKey: key("full", "20240301020304") }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedshiftDataApiError);
    expect(error).toMatchObject({ operation: "BatchExecuteStatement", code: "ActiveStatementsExceededException", transient: true });
  });

  it("maps a validation error to a permanent one that says where to look", async () => {
    const h = setup();
    h.api.mock
      .on(ExecuteStatementCommand)
      .rejects(new ValidationException({ message: "Cluster cs-mirror-warehouse not found.", $metadata: {} }));
    const error = await h.load(h.invocation(), "full", [{ objectKey: key("full", "20240301020304") }]).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "RedshiftDataApiError", operation: "ExecuteStatement", code: "ValidationException", transient: false });
    expect((error as Error).message).toContain("check the warehouse settings (WAREHOUSE_*)");
    expect((error as Error).cause).toBeInstanceOf(ValidationException);
  });

  it("keeps the statement id when following it fails, so the retry re-attaches", async () => {
    const h = setup();
    h.api.mock.on(DescribeStatementCommand).rejects(
      Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $fault: "client", $metadata: { httpStatusCode: 400 } }),
    );
    const error = await h.invocation().run(
      (await import("../handlers/load/planner")).planLoad({
        schema: "controlshift",
        table: "comments",
        kind: "full",
        files: [{ objectKey: key("full", "20240301020304"), header: HEADER, compression: "none" }],
        knownColumns: COMMENTS,
        currentColumns: undefined,
      }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ operation: "DescribeStatement", code: "ThrottlingException", transient: true, statementId: h.api.statements[0].id });
  });

  it("sorts errors into transient and permanent", () => {
    expect(isTransient(Object.assign(new Error("x"), { name: "InternalServerException" }))).toBe(true);
    expect(isTransient(Object.assign(new Error("x"), { name: "DatabaseConnectionException" }))).toBe(true);
    expect(isTransient(Object.assign(new Error("x"), { name: "AccessDeniedException" }))).toBe(false);
    expect(isTransient(Object.assign(new Error("x"), { name: "SomethingNew", $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isTransient(Object.assign(new Error("x"), { name: "SomethingNew", $fault: "client", $metadata: { httpStatusCode: 400 } }))).toBe(false);
    expect(isTransient(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toBe(true);
  });
});
