/**
 * The Redshift adapter (handlers/load/redshift-adapter.ts) against the one Data API fake (helpers/data-api-fake.ts:
 * no local Redshift exists). The fake simulates the documented behaviour (ids, ClientTokens, statuses, batch
 * limits, one transaction per batch), so the assertions are on the exact calls the adapter makes and on what it
 * concludes from the answers.
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
} from "@aws-sdk/client-redshift-data";
import { createHash } from "node:crypto";
import { ExportChangedError } from "../handlers/load/errors";
import { FakeDataApi, isLoadBatch } from "./helpers/data-api-fake";
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
import type { Compression } from "../handlers/shared/export-file";
import type { ExportKind } from "../facts/exports";
import { LOAD_LEDGER_COLUMNS } from "../schemas/metadata";
import { TABLE_SCHEMAS } from "../schemas/table-schemas";

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
  readonly api: FakeDataApi;
  readonly manifests: { versions: Map<string, string>; written: Map<string, string> };
  /** Moves the clock (time passing between two deliveries of a message). */
  advance(ms: number): void;
  /** The sleeps asked for, in order. */
  readonly sleeps: number[];
  /** A warehouse for a new invocation with `remainingMs` left. */
  invocation(options?: { remainingMs?: number; target?: RedshiftTarget; headerVersion?: string }): RedshiftWarehouse;
  load(
    warehouse: RedshiftWarehouse,
    kind: ExportKind,
    files: Array<{ objectKey: string; compression?: Compression }>,
  ): ReturnType<RedshiftWarehouse["run"]>;
}

let harness: Harness | undefined;

function setup(): Harness {
  // The exports bucket as the adapter sees it: each object's ETag, and the manifests it writes.
  const manifests = {
    versions: new Map<string, string>(),
    written: new Map<string, string>(),
    async currentVersion(objectKey: string) {
      return this.versions.get(objectKey) ?? '"etag-1"';
    },
    async put(key: string, body: string) {
      this.written.set(key, body);
    },
  };
  const api = new FakeDataApi();
  const sleeps: number[] = [];
  let now = 1_700_000_000_000;
  const client = new RedshiftDataClient({ region: "eu-west-1" });
  api.clock = () => now;
  // The table's own ledger exists (made by its first load: see "creates the table's own ledger on its first load").
  api.tables.set("controlshift_mirror_meta.load_ledger_comments", [...LOAD_LEDGER_COLUMNS]);
  harness = {
    api,
    manifests,
    sleeps,
    advance(ms) {
      now += ms;
    },
    invocation({ remainingMs = 900_000, target = CLUSTER, headerVersion } = {}) {
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
        random: () => 0.5,
        manifests,
        headerVersion: () => headerVersion,
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

/** The load batch's statement: the fake answers these with the fate a test gives. */
const isLoad = isLoadBatch;

describe("Redshift adapter: the Data API calls of a load", () => {
  it("loads a full export into a new table: transaction, ledger, as these exact calls", async () => {
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
      "ExecuteStatement", // svv_columns: the table
      "DescribeStatement",
      "GetStatementResult",
      "ExecuteStatement", // svv_columns: the table's own ledger
      "DescribeStatement",
      "GetStatementResult",
      "BatchExecuteStatement", // the load's transaction
      "DescribeStatement",
      "ExecuteStatement", // the ledger rows of this load
      "DescribeStatement",
      "GetStatementResult",
      "ExecuteStatement", // after the commit: its ledger rows into the shared history
      "DescribeStatement",
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

  it("runs no schema or metadata DDL: one batch per load, the load itself", async () => {
    const h = setup();
    await h.load(h.invocation(), "incremental", [{ objectKey: key("incremental", "20240305020304") }]);
    await h.load(h.invocation(), "incremental", [{ objectKey: key("incremental", "20240306020304") }]);
    const batches = h.api.inputsOf(BatchExecuteStatementCommand);
    expect(batches.map((b) => (isLoad(b.Sqls!) ? "load" : "other"))).toEqual(["load", "load"]);
    const all = h.api.calls().flatMap((c) => [c.input.Sql, ...((c.input.Sqls as string[] | undefined) ?? [])]).filter(Boolean);
    expect(all.filter((sql) => /CREATE (SCHEMA|OR REPLACE VIEW)|CREATE TABLE IF NOT EXISTS "controlshift_mirror_meta"/.test(String(sql)))).toEqual([]);
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

    const [, , ...executes] = h.api.inputsOf(ExecuteStatementCommand);
    expect(executes.map((e) => e.Sql)).toEqual([
      `SELECT COUNT(*) FROM "controlshift_mirror_meta"."load_failures" WHERE "statement_id" = '${load.id}'`,
      expect.stringMatching(/^INSERT INTO "controlshift_mirror_meta"\."load_failures" /),
    ]);
    expect(executes[1].Parameters).toEqual([{ name: "error", value: COPY_ERROR }]);
    expect(executes[1].Sql).toContain(`CAST('2024-03-03 02:03:04' AS TIMESTAMP), :error, '${load.id}')`);
    expect(executes[1].Sql).not.toContain("::");
    expect(h.api.failures).toEqual([
      { loadId: expect.stringMatching(/^full-comments-/), objectKey: key("full", "20240303020304"), statementId: load.id, error: COPY_ERROR },
    ]);
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

describe("Redshift adapter: loads of different tables share no object", () => {
  it("reads and writes, inside its transaction, only its table, its own ledger and its temporary stages", async () => {
    const h = setup();
    h.api.tables.set("controlshift.comments", [...COMMENTS.map((c) => c.name), "_cs_exported_at"]);
    await h.load(h.invocation(), "incremental", [{ objectKey: key("incremental", "20240305020304") }]);
    const [load] = h.api.loadBatches();
    const named = new Set(load.Sqls!.flatMap((sql) => [...sql.matchAll(/"([a-z_0-9]+)"\."([a-z_0-9]+)"/g)].map((m) => `${m[1]}.${m[2]}`)));
    // Qualified names are schema.table, or (the stage, a subquery) alias.column: every schema-qualified object.
    const objects = [...named].filter((n) => /^controlshift(_mirror_meta)?\./.test(n) && !n.startsWith("controlshift.comments."));
    expect(objects.sort()).toEqual([
      "controlshift.comments",
      "controlshift_mirror_meta.load_ledger_comments",
    ]);
    expect(load.Sqls![0]).toBe('LOCK "controlshift"."comments"');
    // After the commit, on its own: the shared history gets this load's rows (it reads only the table's ledger).
    const copy = h.api.inputsOf(ExecuteStatementCommand).find((e) => e.Sql!.startsWith('INSERT INTO "controlshift_mirror_meta"."load_ledger" '))!;
    expect(copy.Sql).toMatch(/ FROM "controlshift_mirror_meta"\."load_ledger_comments" WHERE "load_id" = '[^']+' AND "started_at" = \(SELECT MAX/);
    expect(copy.ClientToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8/);
  });

  it("creates the table's own ledger on its first load, seeded with the table's rows of the shared history", async () => {
    const h = setup();
    h.api.tables.delete("controlshift_mirror_meta.load_ledger_comments");
    h.api.tables.set("controlshift.comments", [...COMMENTS.map((c) => c.name), "_cs_exported_at"]);
    await h.load(h.invocation(), "full", [{ objectKey: key("full", "20240301020304") }]);
    const [first] = h.api.loadBatches();
    expect(first.Sqls!.slice(0, 3)).toEqual([
      'LOCK "controlshift"."comments"',
      expect.stringMatching(/^CREATE TABLE IF NOT EXISTS "controlshift_mirror_meta"\."load_ledger_comments" \(\n  load_id VARCHAR\(256\) NOT NULL,/),
      `INSERT INTO "controlshift_mirror_meta"."load_ledger_comments" (${LOAD_LEDGER_COLUMNS.map((c) => `"${c}"`).join(", ")}) ` +
        `SELECT ${LOAD_LEDGER_COLUMNS.map((c) => `"${c}"`).join(", ")} FROM "controlshift_mirror_meta"."load_ledger" WHERE "table_name" = 'comments'`,
    ]);
    await h.load(h.invocation(), "full", [{ objectKey: key("full", "20240302020304") }]);
    expect(h.api.loadBatches()[1].Sqls!.filter((sql) => sql.includes("CREATE TABLE"))).toEqual([]);
  });
});

describe("Redshift adapter: COPY reads exactly one object", () => {
  it("COPYs each file through a manifest naming that one object, mandatory, keyed by its version", async () => {
    const h = setup();
    const file = key("full", "20240301020304", true);
    await h.load(h.invocation({ headerVersion: '"etag-1"' }), "full", [{ objectKey: file, compression: "bzip2" }]);
    const manifest = `manifests/full/comments/${file}.${createHash("sha256").update('"etag-1"').digest("hex").slice(0, 16)}.manifest`;
    expect([...h.manifests.written.keys()]).toEqual([manifest]);
    expect(JSON.parse(h.manifests.written.get(manifest)!)).toEqual({
      entries: [{ url: `s3://${BUCKET}/${file}`, mandatory: true }],
    });
    const [load] = h.api.loadBatches();
    expect(load.Sqls!.filter((sql) => sql.startsWith("COPY"))).toEqual([
      `COPY "cs_stage_1" (${HEADER.map((c) => `"${c}"`).join(", ")}) FROM 's3://${BUCKET}/${manifest}' ` +
        `IAM_ROLE '${ROLE}' MANIFEST FORMAT AS CSV IGNOREHEADER 1 BZIP2 EMPTYASNULL TIMEFORMAT 'auto' TRUNCATECOLUMNS COMPUPDATE OFF`,
    ]);
  });

  it("refuses to load a version other than the one the header was read from, before submitting anything", async () => {
    const h = setup();
    h.manifests.versions.set(key("full", "20240301020304"), '"etag-2"');
    const error = await h
      .load(h.invocation({ headerVersion: '"etag-1"' }), "full", [{ objectKey: key("full", "20240301020304") }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportChangedError);
    expect((error as Error).message).toContain('ETag "etag-1", now "etag-2"');
    expect(h.api.batches()).toEqual([]);
    expect(h.manifests.written.size).toBe(0);
  });

  it("gives a new version another manifest, other SQL and another ClientToken", async () => {
    const h = setup();
    const file = key("incremental", "20240305020304");
    h.api.tables.set("controlshift.comments", [...COMMENTS.map((c) => c.name), "_cs_exported_at"]);
    await h.load(h.invocation(), "incremental", [{ objectKey: file }]);
    h.manifests.versions.set(file, '"etag-2"');
    await h.load(h.invocation(), "incremental", [{ objectKey: file }]);
    const [first, second] = h.api.loadBatches();
    expect(second.ClientToken).not.toBe(first.ClientToken);
    expect(h.manifests.written.size).toBe(2);
  });
});

describe("Redshift adapter: failures are recorded and retried reliably", () => {
  const COPY_ERROR = "Load into table 'cs_stage_1' failed. Check 'sys_load_error_detail' system table for details.";
  const CONFLICT =
    "ERROR: 1023 DETAIL: Serializable isolation violation on table - 123456, transactions forming the cycle are: 111, 222 (pid:333)";
  const FILE = key("full", "20240303020304");

  function existing(h: Harness): void {
    h.api.tables.set("controlshift.comments", [...COMMENTS.map((c) => c.name), "_cs_exported_at"]);
  }

  it("reports the sub-statement that FAILED, not one ABORTED before or after it", async () => {
    const h = setup();
    existing(h);
    h.api.batchFate = (sqls) =>
      isLoad(sqls)
        ? { statuses: ["FAILED"], error: COPY_ERROR, failedStatement: 3, subStatuses: sqls.map((_, i) => (i === 2 ? "FAILED" : "ABORTED")) }
        : {};
    const error = (await h.load(h.invocation(), "full", [{ objectKey: FILE }]).catch((e: unknown) => e)) as RedshiftLoadFailedError;
    expect(error.cause).toMatchObject({ status: "FAILED", subStatement: 3, message: COPY_ERROR });
    expect(error.statement).toMatch(/^COPY "cs_stage_1"/);
  });

  it("never lets a failure-record write that keeps failing pin later deliveries to the failed statement", async () => {
    const h = setup();
    existing(h);
    h.api.batchFate = (sqls, nth) => (isLoad(sqls) && nth === 0 ? { statuses: ["FAILED"], error: COPY_ERROR, failedStatement: 2 } : {});
    h.api.executeFate = (sql) => (sql.startsWith("INSERT INTO") ? { statuses: ["FAILED"], error: "permission denied for relation load_failures" } : {});
    const first = (await h.load(h.invocation(), "full", [{ objectKey: FILE }]).catch((e: unknown) => e)) as RedshiftLoadFailedError;
    expect(first).toBeInstanceOf(RedshiftLoadFailedError);
    expect(String(first.recordFailureError)).toContain("permission denied");

    // The queue delivers the message again after its visibility timeout; recording still fails.
    h.advance(5 * 60_000);
    const result = await h.load(h.invocation(), "full", [{ objectKey: FILE }]);
    expect(result.statementId).not.toBe(first.statementId);
    expect(result.files).toEqual([{ objectKey: FILE, outcome: "loaded", rowsLoaded: 3 }]);
    const [submitted, reattached, chained] = h.api.loadBatches();
    expect(reattached.ClientToken).toBe(submitted.ClientToken);
    expect(chained.ClientToken).toBe(nextClientToken(submitted.ClientToken!, first.statementId));
    expect(h.api.failures).toEqual([]);
  });

  it("retries a serialization conflict (ERROR 1023) with back-off inside the invocation, and records nothing", async () => {
    const h = setup();
    existing(h);
    h.api.batchFate = (sqls, nth) => (isLoad(sqls) && nth < 2 ? { statuses: ["FAILED"], error: CONFLICT, failedStatement: 4 } : {});
    const result = await h.load(h.invocation(), "full", [{ objectKey: FILE }]);
    expect(result.files[0].outcome).toBe("loaded");
    expect(h.sleeps).toEqual([2000, 4000]);
    const tokens = h.api.loadBatches().map((b) => b.ClientToken);
    expect(new Set(tokens).size).toBe(3);
    expect(h.api.failures).toEqual([]);
    expect(h.api.inputsOf(ExecuteStatementCommand).filter((e) => e.Sql!.startsWith("INSERT INTO \"controlshift_mirror_meta\".\"load_failures\""))).toEqual([]);
  });

  it("gives a conflict back to the queue, recorded, once its retries are spent", async () => {
    const h = setup();
    existing(h);
    h.api.batchFate = (sqls) => (isLoad(sqls) ? { statuses: ["FAILED"], error: CONFLICT, failedStatement: 4 } : {});
    const error = (await h.load(h.invocation(), "full", [{ objectKey: FILE }]).catch((e: unknown) => e)) as RedshiftLoadFailedError;
    expect(error).toBeInstanceOf(RedshiftLoadFailedError);
    expect(error.redshiftError).toBe(CONFLICT);
    expect(h.sleeps).toEqual([2000, 4000, 8000]);
    expect(h.api.loadBatches()).toHaveLength(4);
    expect(h.api.failures).toHaveLength(1);
  });

  it("records a refused file in load_failures with a NULL statement id and the error as a parameter", async () => {
    const h = setup();
    const { refusalOf } = await import("../handlers/load/planner");
    await h.invocation().recordRefused(
      refusalOf({ schema: "controlshift", table: "comments", kind: "full", objectKey: FILE }),
      `${FILE}: export refused: the file is empty (0 bytes); nothing was loaded`,
    );
    const [insert] = h.api.inputsOf(ExecuteStatementCommand);
    expect(insert.Sql).toBe(
      `INSERT INTO "controlshift_mirror_meta"."load_failures" ("load_id", "table_name", "kind", "object_key", "exported_at", ` +
        `"error", "statement_id") VALUES ('refused-${require("node:crypto").createHash("sha256").update(FILE).digest("hex").slice(0, 32)}', ` +
        `'comments', 'full', '${FILE}', CAST('2024-03-03 02:03:04' AS TIMESTAMP), :error, NULL)`,
    );
    expect(h.api.failures).toEqual([
      { loadId: expect.stringMatching(/^refused-/), objectKey: FILE, statementId: "", error: expect.stringContaining("0 bytes") },
    ]);
  });
});

describe("The Data API fake refuses what the Data API refuses", () => {
  it("a batch of more than 40 statements, a statement over 100 KB, a parameter next to a :: cast, DbUser on a workgroup", async () => {
    const h = setup();
    const client = new RedshiftDataClient({ region: "eu-west-1" });
    const target = { ClusterIdentifier: "c", Database: "d", DbUser: "loader" };
    await expect(client.send(new BatchExecuteStatementCommand({ ...target, Sqls: Array(41).fill("SELECT 1") }))).rejects.toThrow(
      ValidationException,
    );
    await expect(client.send(new ExecuteStatementCommand({ ...target, Sql: `SELECT '${"x".repeat(100 * 1024)}'` }))).rejects.toThrow(
      /100 KB/,
    );
    await expect(
      client.send(
        new ExecuteStatementCommand({
          ...target,
          Sql: "INSERT INTO t VALUES ('2024-01-01'::TIMESTAMP, :error)",
          Parameters: [{ name: "error", value: "x" }],
        }),
      ),
    ).rejects.toThrow(/:TIMESTAMP/);
    await expect(
      client.send(new ExecuteStatementCommand({ WorkgroupName: "w", Database: "d", DbUser: "loader", Sql: "SELECT 1" })),
    ).rejects.toThrow(ValidationException);
    const first = await client.send(new BatchExecuteStatementCommand({ ...target, Sqls: ["SELECT 1"], ClientToken: "t-1" }));
    const again = await client.send(new BatchExecuteStatementCommand({ ...target, Sqls: ["SELECT 1"], ClientToken: "t-1" }));
    expect(again.Id).toBe(first.Id);
    expect(h.api.targets.map((t) => t.DbUser)).toEqual(["loader", "loader"]);
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
