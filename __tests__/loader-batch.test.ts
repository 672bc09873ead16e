/**
 * The loader Lambda: its core (handlers/loader/load-batch.ts) and its entry (handlers/loader/index.ts), on real
 * S3 (s3rver, with the fixture CSVs) and the Redshift Data API mocked with aws-sdk-client-mock (the only mock: no
 * local Redshift exists). The mock simulates statements: ids, ClientTokens, statuses, and what a FINISHED batch
 * changes (catalog, ledger), so the loader's decisions are tested on the answers Redshift would give.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { s3ManifestStore } from "../handlers/load/manifest";
import { RedshiftWarehouse } from "../handlers/load/redshift-adapter";
import { s3HeaderReader } from "../handlers/loader/adapters";
import { decodeS3EventKey, parseLoaderMessage } from "../handlers/loader/event";
import { loadBatch, type LoaderOutcome, type LoaderRecord, type LoaderSettings, type LoadSummary } from "../handlers/loader/load-batch";
import { LOAD_LEDGER_COLUMNS } from "../schemas/metadata";
import { TABLE_SCHEMAS } from "../schemas/table-schemas";
import type { LoadPlan } from "../handlers/load/plan";
import type { Warehouse } from "../handlers/load/warehouse";
import { LOCAL_S3_CREDENTIALS, LOCAL_S3_REGION, startLocalS3, type LocalS3 } from "./helpers/local-s3";
import { captureOutput, coldStart as coldStartWith } from "./helpers/lambda-entry";
import { copiedKeys, FakeDataApi, isLoadBatch } from "./helpers/data-api-fake";
import { objectCreatedEvent } from "../scripts/object-created-event";

type DataApiModule = typeof import("@aws-sdk/client-redshift-data");
/** The SQL of each load batch submitted, in order. */
const loadSqls = (api: FakeDataApi): string[][] => api.loadBatches().map((b) => b.Sqls ?? []);
const isLoad = isLoadBatch;

// ---------------------------------------------------------------------------------------------------------------

const BUCKET = "loader-exports";
const COPY_ROLE = "arn:aws:iam::123456789012:role/cs-mirror-copy";
const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cs-mirror-admin-AbCdEf";
const CSV = join(__dirname, "fixtures", "csv");
const fixture = (name: string) => readFileSync(join(CSV, name));

function key(kind: "full" | "incremental", compact: string, options: { table?: string; bz2?: boolean } = {}): string {
  const table = options.table ?? "comments";
  return `exports/${kind}/${table}/${compact.slice(0, 8)}/${table}_${compact}.csv${options.bz2 ? ".bz2" : ""}`;
}

/** An SQS record whose body is the EventBridge event S3 sends for a new object (the key as S3 would put it). */
function objectCreated(objectKey: string, options: { messageId?: string; receiveCount?: number; bucket?: string; encode?: boolean } = {}): SQSRecord {
  const body = objectCreatedEvent({
    id: "17793124-05d4-b198-2fde-7ededc63b103",
    account: "123456789012",
    time: new Date("2024-03-05T02:05:00Z"),
    region: "eu-west-1",
    bucket: options.bucket ?? BUCKET,
    key: options.encode ? encodeURIComponent(objectKey) : objectKey,
    size: 1234,
    etag: "b1946ac92492d2347c6235b4d2611184",
    reason: "CompleteMultipartUpload",
  });
  return {
    messageId: options.messageId ?? `msg-${objectKey.split("/").pop()}`,
    receiptHandle: "handle",
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: "1709604300000",
      SenderId: "AIDAEVENTBRIDGE",
      ApproximateFirstReceiveTimestamp: "1709604300000",
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:cs-mirror-load-incremental-comments",
    awsRegion: "eu-west-1",
  };
}

let s3: LocalS3;
const SAVED_ENV = { ...process.env };

async function put(objectKey: string, body: Buffer | string): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: objectKey, Body: body }));
}

beforeAll(async () => {
  s3 = await startLocalS3({ buckets: [BUCKET] });
  const plain = fixture("comments_20240304020304.csv"); // header only is enough: COPY runs on the (mocked) warehouse
  for (let day = 1; day <= 9; day++) await put(key("incremental", `2024031${day}020304`), plain);
  await put(key("incremental", "20240305020304", { bz2: true }), fixture("comments_20240305020304.csv.bz2"));
  await put(key("incremental", "20240306020304"), fixture("header_quoted_newline.csv"));
  await put(key("incremental", "20240307020304"), fixture("comments_20240302020304.csv")); // brings `sentiment`
  await put(key("full", "20240301020304"), fixture("comments_20240301020304.csv"));
  await put(key("full", "20240229020304"), fixture("comments_20240301020304.csv"));
  await put(key("incremental", "20240308020304"), Buffer.alloc(0)); // a 0-byte export
  for (let day = 1; day <= 6; day++) {
    const header = "id,text,new_a,new_b,new_c,new_d\n1,x,,,,\n";
    await put(key("incremental", `2024032${day}020304`), header);
  }
});

afterAll(async () => {
  process.env = SAVED_ENV;
  await s3?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// The core.

interface Logged {
  level: "info" | "warn" | "error";
  message: string;
  attributes: Record<string, unknown>;
}

interface CoreHarness {
  readonly api: FakeDataApi;
  readonly logs: Logged[];
  readonly summaries: LoadSummary[];
  readonly failures: { count: number };
  readonly outcomes: LoaderOutcome[];
  run(records: LoaderRecord[], options?: { kind?: "full" | "incremental"; remainingMs?: number }): Promise<SQSBatchResponse>;
}

let core: CoreHarness | undefined;

function coreHarness(): CoreHarness {
  const sdk = require("@aws-sdk/client-redshift-data") as DataApiModule;
  const api = new FakeDataApi(sdk);
  api.rowsPerFile = 2;
  api.tables.set("controlshift.comments", [...TABLE_SCHEMAS.comments.map((c) => c.name), "_cs_exported_at"]);
  api.tables.set("controlshift_mirror_meta.load_ledger_comments", [...LOAD_LEDGER_COLUMNS]);
  const logs: Logged[] = [];
  const summaries: LoadSummary[] = [];
  const failures = { count: 0 };
  const outcomes: LoaderOutcome[] = [];
  const client = new sdk.RedshiftDataClient({ region: "eu-west-1" });
  const log = (level: Logged["level"]) => (message: string, attributes: Record<string, unknown>) => {
    logs.push({ level, message, attributes });
  };
  core = {
    api,
    logs,
    summaries,
    failures,
    outcomes,
    async run(records, { kind = "incremental", remainingMs = 600_000 } = {}) {
      let now = 0;
      const settings: LoaderSettings = {
        table: "comments",
        kind,
        dataSchema: "controlshift",
        metadataSchema: "controlshift_mirror_meta",
        exportsBucket: BUCKET,
        knownColumns: TABLE_SCHEMAS.comments,
      };
      const { readHeader, headerVersion } = s3HeaderReader(s3.client, BUCKET);
      const warehouse = new RedshiftWarehouse({
        client,
        target: { type: "cluster", clusterIdentifier: "cs-mirror-warehouse", database: "mirror", secretArn: SECRET },
        exportsBucket: BUCKET,
        copyRoleArn: COPY_ROLE,
        manifests: s3ManifestStore(s3.client, BUCKET),
        headerVersion,
        remainingTimeMs: () => remainingMs - now,
        sleep: async (ms) => {
          now += ms;
        },
        now: () => now,
      });
      return loadBatch(records, settings, {
        warehouse,
        readHeader,
        logger: { info: log("info"), warn: log("warn"), error: log("error") },
        metrics: { loadSucceeded: (s) => summaries.push(s), loadFailed: () => failures.count++ },
        clock: () => now, // the simulated time: seconds in logs come from the simulated waits
        report: (outcome) => outcomes.push(outcome),
      });
    },
  };
  return core;
}

afterEach(() => {
  core?.api.mock.restore();
  core = undefined;
});

const incrementals = (days: number[], options: { receiveCount?: number } = {}) =>
  days.map((day) => objectCreated(key("incremental", `2024031${day}020304`), options));

describe("loader core: what it loads", () => {
  it("loads a batch in one transaction, in export-time order, each key once", async () => {
    const h = coreHarness();
    const [a, b, c] = incrementals([3, 1, 2]);
    const duplicate = { ...objectCreated(key("incremental", "20240311020304")), messageId: "msg-again" };

    const result = await h.run([a, b, duplicate, c]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(loadSqls(h.api).map(copiedKeys)).toEqual([
      [key("incremental", "20240311020304"), key("incremental", "20240312020304"), key("incremental", "20240313020304")],
    ]);
    expect(h.summaries).toEqual([{ rowsLoaded: 6, filesSkippedStale: 0, seconds: 0, fullLoaded: false }]);
    const committed = h.logs.filter((l) => l.message === "load committed");
    expect(committed).toEqual([
      {
        level: "info",
        message: "load committed",
        attributes: expect.objectContaining({
          table: "comments",
          kind: "incremental",
          files: [key("incremental", "20240311020304"), key("incremental", "20240312020304"), key("incremental", "20240313020304")],
          messageIds: ["msg-comments_20240311020304.csv", "msg-again", "msg-comments_20240312020304.csv", "msg-comments_20240313020304.csv"],
          rows: 6,
          outcome: "loaded",
          statementId: expect.stringMatching(/^00000000-/),
          seconds: 0,
          addedColumns: [],
        }),
      },
    ]);
  });

  it("splits 8 files into consecutive transactions of 6 and 2, in export-time order (40 statements per batch)", async () => {
    const h = coreHarness();
    const result = await h.run(incrementals([8, 7, 6, 5, 4, 3, 2, 1]));
    expect(result.batchItemFailures).toEqual([]);
    const batches = loadSqls(h.api);
    expect(batches.map((b) => b.length)).toEqual([37, 13]);
    expect(batches.map(copiedKeys)).toEqual([
      [1, 2, 3, 4, 5, 6].map((d) => key("incremental", `2024031${d}020304`)),
      [7, 8].map((d) => key("incremental", `2024031${d}020304`)),
    ]);
    expect(h.summaries).toHaveLength(2);
  });

  it("splits further when the plan adds columns: 6 files bringing 4 new columns need 41 statements, so 5 then 1", async () => {
    const h = coreHarness();
    const records = [1, 2, 3, 4, 5, 6].map((d) => objectCreated(key("incremental", `2024032${d}020304`)));
    const result = await h.run(records);
    expect(result.batchItemFailures).toEqual([]);
    const batches = loadSqls(h.api);
    expect(batches.map((b) => b.length)).toEqual([1 + 4 + 5 * 6, 1 + 6]);
    expect(batches[0].filter((s) => s.startsWith("ALTER TABLE"))).toHaveLength(4);
    expect(batches.flatMap(copiedKeys)).toEqual([1, 2, 3, 4, 5, 6].map((d) => key("incremental", `2024032${d}020304`)));
    expect(h.logs.find((l) => l.message === "load committed")!.attributes.addedColumns).toEqual(["new_a", "new_b", "new_c", "new_d"]);
  });

  it("gives a warehouse without a statement budget (PostgreSQL) the whole batch as one transaction", async () => {
    const plans: LoadPlan[] = [];
    const warehouse: Warehouse = {
      maxFilesPerTransaction: Number.POSITIVE_INFINITY,
      tableColumns: async () => [...TABLE_SCHEMAS.comments.map((c) => c.name), "_cs_exported_at"],
      run: async (plan) => {
        plans.push(plan);
        return {
          loadId: plan.loadId,
          schema: plan.table.schema,
          table: plan.table.name,
          kind: plan.kind,
          files: plan.files.map((f) => ({ objectKey: f.objectKey, outcome: "loaded" as const, rowsLoaded: 1 })),
          addedColumns: plan.addedColumns,
          createdTable: plan.createsTable,
        };
      },
      recordRefused: async () => undefined,
    };
    const outcomes: LoaderOutcome[] = [];
    const result = await loadBatch(
      incrementals([8, 7, 6, 5, 4, 3, 2, 1]),
      {
        table: "comments",
        kind: "incremental",
        dataSchema: "controlshift",
        metadataSchema: "controlshift_mirror_meta",
        exportsBucket: BUCKET,
        knownColumns: TABLE_SCHEMAS.comments,
      },
      {
        warehouse,
        readHeader: s3HeaderReader(s3.client, BUCKET).readHeader,
        logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
        metrics: { loadSucceeded: () => undefined, loadFailed: () => undefined },
        clock: () => 0,
        report: (o) => outcomes.push(o),
      },
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(plans.map((p) => p.files.length)).toEqual([8]);
    expect(outcomes.map((o) => o.type)).toEqual(["committed"]);
  });

  it("loads each file in a transaction of its own when the batch is a redelivery", async () => {
    const h = coreHarness();
    await h.run(incrementals([1, 2], { receiveCount: 2 }));
    expect(loadSqls(h.api).map(copiedKeys)).toEqual([[key("incremental", "20240311020304")], [key("incremental", "20240312020304")]]);
  });

  it("reads the compression from the .bz2 suffix and logs the column a file adds", async () => {
    const h = coreHarness();
    await h.run([objectCreated(key("incremental", "20240305020304", { bz2: true })), objectCreated(key("incremental", "20240307020304"))]);
    const [batch] = loadSqls(h.api);
    const copies = batch.filter((s) => s.startsWith("COPY"));
    expect(copiedKeys(batch)[0]).toMatch(/\.csv\.bz2$/);
    expect(copies[0]).toMatch(/\.csv\.bz2\.[0-9a-f]{16}\.manifest' IAM_ROLE '[^']+' MANIFEST /);
    expect(copies[0]).toContain(" BZIP2 ");
    expect(copies[1]).not.toContain("BZIP2");
    expect(h.logs.find((l) => l.message === "load committed")!.attributes.addedColumns).toEqual(["sentiment"]);
  });

  it("counts a full load whose rows were merged as FullLoadSucceeded, not one skipped as stale", async () => {
    const h = coreHarness();
    await h.run([objectCreated(key("full", "20240301020304"))], { kind: "full" });
    // An older full export delivered late: the ledger says a newer full load was made.
    h.api.outcomeOf = () => "skipped-stale";
    await h.run([objectCreated(key("full", "20240229020304"))], { kind: "full" });
    expect(h.summaries).toEqual([
      { rowsLoaded: 2, filesSkippedStale: 0, seconds: 0, fullLoaded: true },
      { rowsLoaded: 0, filesSkippedStale: 1, seconds: 0, fullLoaded: false },
    ]);
  });
});

describe("loader core: what it refuses or acknowledges", () => {
  it("acknowledges what can never load here: another table, kind or bucket, a foreign key, another event", async () => {
    const h = coreHarness();
    const otherEvent = objectCreated(key("incremental", "20240311020304"), { messageId: "deleted" });
    otherEvent.body = otherEvent.body.replace('"Object Created"', '"Object Deleted"');
    const result = await h.run([
      objectCreated(key("incremental", "20240311020304", { table: "petitions" }), { messageId: "other-table" }),
      objectCreated(key("full", "20240311020304"), { messageId: "other-kind" }),
      objectCreated(key("incremental", "20240311020304"), { messageId: "other-bucket", bucket: "someone-elses" }),
      objectCreated("uploads/comments.csv", { messageId: "not-an-export" }),
      otherEvent,
    ]);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(h.api.mock.calls()).toHaveLength(0);
    expect(h.logs.map((l) => [l.level, l.message, l.attributes.messageId])).toEqual([
      ["warn", "object ignored: a incremental export of petitions, not for this loader", "other-table"],
      ["warn", "object ignored: a full export of comments, not for this loader", "other-kind"],
      ["warn", "object ignored: not in the exports bucket", "other-bucket"],
      ["warn", "object ignored: not an export key", "not-an-export"],
      ["warn", "event ignored: not an S3 Object Created event", "deleted"],
    ]);
  });

  it("refuses a hostile header, naming the column, and loads the rest of the batch", async () => {
    const h = coreHarness();
    const hostile = objectCreated(key("incremental", "20240306020304"), { messageId: "hostile" });
    const result = await h.run([hostile, ...incrementals([1])]);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "hostile" }] });
    expect(loadSqls(h.api).map(copiedKeys)).toEqual([[key("incremental", "20240311020304")]]);
    const refused = h.logs.find((l) => l.level === "error")!;
    expect(refused.message).toContain('export refused: header column "first\\nsecond, still the second" cannot be loaded');
    expect(refused.attributes).toMatchObject({ objectKey: key("incremental", "20240306020304"), column: "first\nsecond, still the second" });
    expect(h.failures.count).toBe(1);
  });

  it("refuses a 0-byte export at once: recorded in load_failures, acknowledged, never retried, the rest loads", async () => {
    const h = coreHarness();
    const empty = objectCreated(key("incremental", "20240308020304"), { messageId: "empty" });
    const result = await h.run([empty, ...incrementals([1])]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(loadSqls(h.api).map(copiedKeys)).toEqual([[key("incremental", "20240311020304")]]);
    const refused = h.logs.find((l) => l.level === "error")!;
    expect(refused).toMatchObject({
      message: "export refused: the file is empty (0 bytes); nothing was loaded and it is not retried",
      attributes: { objectKey: key("incremental", "20240308020304"), help: "see help: export refused: the file is empty (0 bytes)" },
    });
    expect(h.api.failures).toEqual([
      {
        loadId: expect.stringMatching(/^refused-[0-9a-f]{32}$/),
        objectKey: key("incremental", "20240308020304"),
        statementId: "",
        error: `${key("incremental", "20240308020304")}: export refused: the file is empty (0 bytes); nothing was loaded`,
      },
    ]);
    expect(h.failures.count).toBe(1);
    expect(h.outcomes.map((o) => [o.type, "retried" in o ? o.retried : undefined])).toEqual([
      ["refused", false],
      ["committed", undefined],
    ]);
  });

  it("sends a body that is not an EventBridge event to the dead-letter queue (reported as failed)", async () => {
    const h = coreHarness();
    const garbage = { ...objectCreated("x"), messageId: "garbage", body: "not json" };
    const result = await h.run([garbage]);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "garbage" }] });
    expect(h.logs[0]).toMatchObject({ level: "error", message: "queue message is not an S3 event; it goes to the dead-letter queue" });
  });
});

describe("loader core: failures", () => {
  it("reports every message of a still-running load and of the transactions after it; the statement is logged", async () => {
    const h = coreHarness();
    h.api.batchFate = (sqls) => (isLoad(sqls) ? { statuses: ["STARTED"] } : {});
    const records = incrementals([1, 2, 3, 4, 5, 6, 7, 8]);
    const result = await h.run(records, { remainingMs: 30_000 });

    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.map((r) => r.messageId));
    expect(loadSqls(h.api)).toHaveLength(1);
    const warning = h.logs.find((l) => l.attributes.outcome === "still-running")!;
    expect(warning).toMatchObject({
      level: "warn",
      attributes: { statementId: expect.stringMatching(/^00000000-/), phase: "load", files: expect.any(Array) },
    });
    expect((warning.attributes.files as string[]).length).toBe(6);
    expect(h.failures.count).toBe(0);
  });

  it("reports the messages of a failed transaction and goes on with the next one", async () => {
    const h = coreHarness();
    h.api.batchFate = (sqls, nth) =>
      isLoad(sqls) && nth === 0 ? { statuses: ["FAILED"], error: "Load into table 'cs_stage_2' failed." } : {};
    const records = incrementals([1, 2, 3, 4, 5, 6, 7, 8]);
    const result = await h.run(records);

    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.slice(0, 6).map((r) => r.messageId));
    expect(h.failures.count).toBe(1);
    expect(h.summaries).toHaveLength(1);
    const failed = h.logs.find((l) => l.message.startsWith("load failed and was rolled back"))!;
    expect(failed.attributes).toMatchObject({
      statementId: expect.stringMatching(/^00000000-/),
      warehouseError: "Load into table 'cs_stage_2' failed.",
      outcome: "failed",
    });
  });

  it("stops at a Data API error and reports the whole batch", async () => {
    const h = coreHarness();
    const sdk = require("@aws-sdk/client-redshift-data") as DataApiModule;
    h.api.mock
      .on(sdk.BatchExecuteStatementCommand)
      .rejects(new sdk.ActiveStatementsExceededException({ message: "Active statements exceeded the allowed quota (200).", $metadata: {} }));
    const records = incrementals([1, 2, 3, 4, 5, 6, 7, 8]);
    const result = await h.run(records);
    expect(result.batchItemFailures).toHaveLength(8);
    expect(h.logs.find((l) => l.message.includes("API refused a call"))).toMatchObject({
      level: "warn",
      attributes: { code: "ActiveStatementsExceededException", transient: true, operation: "BatchExecuteStatement" },
    });
  });
});

describe("loader messages", () => {
  it("decodes S3's form-style key encoding", () => {
    expect(decodeS3EventKey("exports%2Ffull%2Fa+b%2Bc")).toBe("exports/full/a b+c");
    expect(decodeS3EventKey("%E0%A4%A")).toBeUndefined();
    const record = objectCreated(key("incremental", "20240311020304"), { encode: true });
    expect(JSON.parse(record.body).detail.object.key).toContain("%2F");
    expect(parseLoaderMessage(record.body)).toEqual({
      type: "object-created",
      bucket: BUCKET,
      key: key("incremental", "20240311020304"),
      size: 1234,
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The entry, as Lambda loads it.

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const ENTRY_ENV = {
  TABLE: "comments",
  LOAD_KIND: "incremental",
  EXPORTS_BUCKET: BUCKET,
  COPY_ROLE_ARN: COPY_ROLE,
  WAREHOUSE_DATABASE: "mirror",
  WAREHOUSE_CLUSTER_ID: "cs-mirror-warehouse",
  WAREHOUSE_SECRET_ARN: SECRET,
  DATA_SCHEMA: "controlshift",
  METADATA_SCHEMA: "controlshift_mirror_meta",
  POWERTOOLS_SERVICE_NAME: "cs-mirror-load-incremental-comments",
  POWERTOOLS_METRICS_NAMESPACE: "ControlShiftMirror",
  AWS_REGION: LOCAL_S3_REGION,
  AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
  AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
  AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
};

const lambdaContext = {
  functionName: "cs-mirror-load-incremental-comments",
  awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
  getRemainingTimeInMillis: () => 300_000,
} as unknown as Context;

interface ColdStart {
  readonly handler: Handler;
  readonly sdk: DataApiModule;
}

function coldStart(env: Record<string, string | undefined>): ColdStart {
  return coldStartWith(env, () => ({
    sdk: require("@aws-sdk/client-redshift-data") as DataApiModule,
    handler: require("../handlers/loader/index").handler,
  }));
}

describe("loader entry", () => {
  it("fails the cold start naming every bad variable", () => {
    expect(() => coldStart({ ...ENTRY_ENV, LOAD_KIND: "nightly", WAREHOUSE_CLUSTER_ID: undefined, COPY_ROLE_ARN: "" })).toThrow(
      "loader: bad environment: LOAD_KIND is \"nightly\": expected full or incremental; COPY_ROLE_ARN is not set: expected " +
        "the ARN of the IAM role the warehouse assumes for COPY; exactly one of WAREHOUSE_CLUSTER_ID (a provisioned " +
        "cluster) and WAREHOUSE_WORKGROUP (Redshift Serverless) must be set; neither is",
    );
  });

  it("loads a batch from S3 through the Data API: URL-encoded key, duplicate, foreign key, hostile header", async () => {
    const { handler, sdk } = coldStart({ ...ENTRY_ENV, AWS_ENDPOINT_URL_S3: s3.endpoint });
    const api = new FakeDataApi(sdk);
  api.rowsPerFile = 2;
    const good = key("incremental", "20240305020304", { bz2: true });
    try {
      const records = [
        objectCreated(good, { encode: true, messageId: "good" }),
        objectCreated(good, { messageId: "good-again" }),
        objectCreated(key("incremental", "20240311020304", { table: "petitions" }), { messageId: "foreign" }),
        objectCreated(key("incremental", "20240306020304"), { messageId: "hostile" }),
      ];
      const { result, lines } = await captureOutput(() => handler({ Records: records }, lambdaContext));

      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "hostile" }] });

      // The Data API: the table is new (svv_columns is empty), so the load creates it from schemas/.
      const batches = loadSqls(api);
      expect(batches).toHaveLength(1);
      expect(batches[0][0]).toMatch(/^CREATE TABLE IF NOT EXISTS "controlshift"\."comments"/);
      expect(copiedKeys(batches[0])).toEqual([good]);
      const load = api.mock.commandCalls(sdk.BatchExecuteStatementCommand).map((c) => c.args[0].input).find((i) => isLoad(i.Sqls!))!;
      expect(load).toMatchObject({
        ClusterIdentifier: "cs-mirror-warehouse",
        Database: "mirror",
        SecretArn: SECRET,
        ClientToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
        StatementName: "controlshift-mirror:incremental:comments",
      });

      // Logs: one line per load with what an operator needs; the refused file names its column.
      expect(lines).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            level: "INFO",
            message: "load committed",
            service: "cs-mirror-load-incremental-comments",
            function_request_id: lambdaContext.awsRequestId,
            table: "comments",
            kind: "incremental",
            files: [good],
            rows: 2,
            outcome: "loaded",
            statementId: expect.stringMatching(/^00000000-/),
            seconds: expect.any(Number),
            addedColumns: [],
            createdTable: "schemas",
          }),
          expect.objectContaining({ level: "WARN", message: "object ignored: a incremental export of petitions, not for this loader" }),
          expect.objectContaining({ level: "ERROR", column: "first\nsecond, still the second", objectKey: key("incremental", "20240306020304") }),
        ]),
      );

      // Metrics (EMF): dimension `kind` only, no `service`, no `table` (a series per table costs money).
      const emf = lines.filter((line) => "_aws" in line);
      expect(emf).toHaveLength(1);
      expect(emf[0]).toMatchObject({
        kind: "incremental",
        LoadSucceeded: 1,
        RowsLoaded: 2,
        FilesSkippedStale: 0,
        LoadFailed: 1,
        _aws: {
          CloudWatchMetrics: [
            {
              Namespace: "ControlShiftMirror",
              Dimensions: [["kind"]],
              Metrics: expect.arrayContaining([
                { Name: "LoadSucceeded", Unit: "Count" },
                { Name: "LoadSeconds", Unit: "Seconds" },
                { Name: "LoadFailed", Unit: "Count" },
              ]),
            },
          ],
        },
      });
      expect(emf[0]).not.toHaveProperty("service");
      expect(emf[0]).not.toHaveProperty("table");
      expect(emf[0]).not.toHaveProperty("FullLoadSucceeded");
    } finally {
      api.mock.restore();
    }
  });

  it("counts FullLoadSucceeded after a committed full load", async () => {
    const { handler, sdk } = coldStart({
      ...ENTRY_ENV,
      LOAD_KIND: "full",
      POWERTOOLS_SERVICE_NAME: "cs-mirror-load-full-comments",
      AWS_ENDPOINT_URL_S3: s3.endpoint,
    });
    const api = new FakeDataApi(sdk);
  api.rowsPerFile = 2;
    try {
      const { result, lines } = await captureOutput(() =>
        handler({ Records: [objectCreated(key("full", "20240301020304"))] }, lambdaContext),
      );
      expect(result).toEqual({ batchItemFailures: [] });
      const emf = lines.filter((line) => "_aws" in line);
      // The freshness metric in a record of its own, by table alone; the rest by kind.
      expect(emf).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ table: "comments", FullLoadSucceeded: 1, _aws: expect.objectContaining({ CloudWatchMetrics: [expect.objectContaining({ Dimensions: [["table"]] })] }) }),
          expect.objectContaining({ kind: "full", LoadSucceeded: 1, _aws: expect.objectContaining({ CloudWatchMetrics: [expect.objectContaining({ Dimensions: [["kind"]] })] }) }),
        ]),
      );
      expect(emf.find((line) => "FullLoadSucceeded" in line)).not.toHaveProperty("kind");
    } finally {
      api.mock.restore();
    }
  });
});
