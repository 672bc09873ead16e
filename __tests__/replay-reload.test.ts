/**
 * `reload <table>`: the planner over a real S3-compatible server (s3rver) holding real-shaped export keys, through
 * the real S3 adapters of scripts/replay/aws.ts; the loader queues are a small fake (no local SQS exists). The
 * messages it builds are checked with the loader's own parser.
 */
import { CreateBucketCommand, DeleteBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { parseLoaderMessage } from "../handlers/loader/event";
import { parseExportObjectKey } from "../handlers/shared/export-file";
import { CONTROLSHIFT_TABLES } from "../schemas/controlshift-tables";
import { s3BucketFinder, s3ObjectLister } from "../scripts/replay/aws";
import {
  ExportsBucketNotFoundError,
  NoFullExportError,
  NotAnExportKeyError,
  ObjectNotFoundError,
  ObjectOfAnotherTableError,
  QueueNotFoundError,
  UnknownTableError,
} from "../scripts/replay/errors";
import { messageFor } from "../scripts/replay/execute";
import type { BucketFinder, ObjectLister, QueueDescription, QueueResolver } from "../scripts/replay/ports";
import { describeReloadPlan, findExportsBucket, planReload, selectReloadObjects, type ReloadPorts, type ReloadRequest } from "../scripts/replay/reload";
import { startLocalS3, type LocalS3 } from "./helpers/local-s3";

// bucket_prefix "cs-mirror-exports-" plus Terraform's 26-digit suffix.
const BUCKET = "cs-mirror-exports-20240301020304123400000001";
const ACCOUNT = "123456789012";
const REGION = "eu-west-1";

const CSV = "id,title,created_at\n1,Save the bees,2024-03-01 00:00:00\n";

/** Written in this order: the latest full export first, an older one last (its LastModified is the newest). */
const OBJECTS: ReadonlyArray<readonly [string, string]> = [
  ["exports/full/petitions/20240303/petitions_20240303020304.csv.bz2", "BZh9 latest full"],
  ["exports/full/petitions/20240301/petitions_20240301020304.csv.bz2", "BZh9 oldest full"],
  ["exports/incremental/petitions/20240302/petitions_20240302120000.csv", CSV],
  ["exports/incremental/petitions/20240303/petitions_20240303020304.csv", CSV], // same time as the full: in it
  ["exports/incremental/petitions/20240304/petitions_20240304010000.csv", CSV],
  ["exports/incremental/petitions/20240303/petitions_20240303235959.csv", CSV],
  ["exports/incremental/petitions/20240303/petitions_20240303140000.csv", CSV],
  // Not export keys: reported and skipped.
  ["exports/full/petitions/20240303/README.txt", "notes"],
  ["exports/incremental/petitions/20240305/petitions_20240304230000.csv", CSV], // date folder of another day
  ["exports/full/petitions/20240303/signatures_20240303020304.csv", CSV], // another table's file in petitions' folder
  ["exports/incremental/petitions/petitions_20240305000000.csv", CSV], // no date folder
  // Other tables, newer: never part of a petitions reload.
  ["exports/full/signatures/20240304/signatures_20240304020304.csv.bz2", "BZh9"],
  ["exports/incremental/signatures/20240305/signatures_20240305010000.csv", CSV],
  ["exports/full/targets/20240301/targets_20240301020304.csv", CSV],
  ["exports/full/targets_for_petitions/20240302/targets_for_petitions_20240302020304.csv", CSV],
  ["exports/incremental/targets_for_petitions/20240303/targets_for_petitions_20240303020304.csv", CSV],
  // Only incrementals.
  ["exports/incremental/members/20240302/members_20240302020304.csv", CSV],
  // The oldest full export, written last of all.
  ["exports/full/petitions/20240302/petitions_20240302020304.csv", CSV],
];

let s3: LocalS3;
let objects: ObjectLister;
let buckets: BucketFinder;

beforeAll(async () => {
  s3 = await startLocalS3({ buckets: [BUCKET, "cs-mirror-staging-exports-20240301020304123400000002", "cs-mirror-logs"] });
  for (const [i, [key, body]] of OBJECTS.entries()) {
    // LastModified has one-second resolution: the last object must be visibly the most recently written.
    if (i === OBJECTS.length - 1) await new Promise((resolve) => setTimeout(resolve, 1100));
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  }
  objects = s3ObjectLister(s3.client);
  buckets = s3BucketFinder(s3.client);
});

afterAll(async () => {
  await s3?.close();
});

/** SQS as far as the planner reads it: the loader queues of the deployment `cs-mirror`. */
class FakeQueues implements QueueResolver {
  readonly described: string[] = [];
  constructor(private readonly existing: (name: string) => boolean = (name) => name.startsWith("cs-mirror-load-")) {}
  async describe(name: string): Promise<QueueDescription | undefined> {
    this.described.push(name);
    if (!this.existing(name)) return undefined;
    return {
      name,
      url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`,
      arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
      visibleMessages: 0,
      inFlightMessages: 0,
      deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}-dlq`,
    };
  }
  async namesStartingWith(): Promise<string[]> {
    return [];
  }
}

/** Ports that fail the test if the planner reaches AWS at all. */
const unreachable: ReloadPorts = {
  objects: { list: () => Promise.reject(new Error("listed objects")) },
  buckets: { bucketsNamed: () => Promise.reject(new Error("listed buckets")) },
  queues: { describe: () => Promise.reject(new Error("described a queue")), namesStartingWith: () => Promise.reject(new Error("listed queues")) },
};

function request(overrides: Partial<ReloadRequest> = {}): ReloadRequest {
  return { prefix: "cs-mirror", region: REGION, tables: CONTROLSHIFT_TABLES, table: "petitions", bucket: BUCKET, ...overrides };
}

const ports = (queues: QueueResolver = new FakeQueues()): ReloadPorts => ({ objects, buckets, queues });

const sent = (plan: Awaited<ReturnType<typeof planReload>>) => plan.actions.map((a) => [a.object.key, a.queue.name]);

describe("reload <table>: what it sends", () => {
  it("sends the latest full export by the export time in its file name, then every later incremental in export-time order", async () => {
    // The setup means something: S3 says the oldest full export is the most recently written one.
    const newestWritten = await s3.headObject(BUCKET, "exports/full/petitions/20240302/petitions_20240302020304.csv");
    const latestExport = await s3.headObject(BUCKET, "exports/full/petitions/20240303/petitions_20240303020304.csv.bz2");
    expect(newestWritten.LastModified!.getTime()).toBeGreaterThan(latestExport.LastModified!.getTime());

    const plan = await planReload(request(), ports());

    expect(sent(plan)).toEqual([
      ["exports/full/petitions/20240303/petitions_20240303020304.csv.bz2", "cs-mirror-load-full-petitions"],
      ["exports/incremental/petitions/20240303/petitions_20240303140000.csv", "cs-mirror-load-incremental-petitions"],
      ["exports/incremental/petitions/20240303/petitions_20240303235959.csv", "cs-mirror-load-incremental-petitions"],
      ["exports/incremental/petitions/20240304/petitions_20240304010000.csv", "cs-mirror-load-incremental-petitions"],
    ]);
    expect(plan.actions[0].object).toMatchObject({ size: "BZh9 latest full".length, etag: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(plan.actions[0].queue).toEqual({
      name: "cs-mirror-load-full-petitions",
      url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/cs-mirror-load-full-petitions`,
      arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:cs-mirror-load-full-petitions`,
    });
    expect(plan.selection.olderFullExports).toBe(2);
    expect(plan.selection.earlierIncrementalExports).toBe(2);
  });

  it("reports the keys that are not exports of the table, and skips them", async () => {
    const plan = await planReload(request(), ports());

    expect(plan.selection.skipped.map((s) => s.key).sort()).toEqual([
      "exports/full/petitions/20240303/README.txt",
      "exports/full/petitions/20240303/signatures_20240303020304.csv",
      "exports/incremental/petitions/20240305/petitions_20240304230000.csv",
      "exports/incremental/petitions/petitions_20240305000000.csv",
    ]);
    const reasons = Object.fromEntries(plan.selection.skipped.map((s) => [s.key, s.reason]));
    expect(reasons["exports/full/petitions/20240303/README.txt"]).toMatch(/is not <table>_<YYYYMMDDHHMMSS>\.csv/);
    expect(reasons["exports/incremental/petitions/20240305/petitions_20240304230000.csv"]).toMatch(/date folder 20240305 does not match/);
    expect(reasons["exports/full/petitions/20240303/signatures_20240303020304.csv"]).toMatch(/is for table "signatures"/);
    expect(reasons["exports/incremental/petitions/petitions_20240305000000.csv"]).toMatch(/is not exports\/\{full\|incremental\}/);

    expect(describeReloadPlan(plan)).toEqual([
      `reload petitions from s3://${BUCKET}/ (listed exports/full/petitions/, exports/incremental/petitions/)`,
      "  not sent: 2 older full export(s) and 2 earlier incremental export(s) (the full export sent supersedes them)",
      ...plan.selection.skipped.map((s) => `  skipped ${s.key}: ${s.reason}`),
    ]);
  });

  it("ignores other tables, also one whose name starts with the table's", async () => {
    const plan = await planReload(request({ table: "targets" }), ports());

    expect(plan.listed).toEqual(["exports/full/targets/", "exports/incremental/targets/"]);
    expect(sent(plan)).toEqual([["exports/full/targets/20240301/targets_20240301020304.csv", "cs-mirror-load-full-targets"]]);
    expect(plan.selection.skipped).toEqual([]);
  });

  it("resolves only the loader queues it sends to", async () => {
    const queues = new FakeQueues();
    await planReload(request({ table: "targets" }), ports(queues));
    expect(queues.described).toEqual(["cs-mirror-load-full-targets"]);
  });

  it("--from: with a full export that recent, the same plan as without", async () => {
    const plan = await planReload(request({ from: "20240303" }), ports());
    expect(sent(plan)).toEqual(sent(await planReload(request(), ports())));
  });

  it("--from: with no full export that recent, only the incremental exports since that day", async () => {
    const plan = await planReload(request({ from: "20240304" }), ports());

    expect(sent(plan)).toEqual([
      ["exports/incremental/petitions/20240304/petitions_20240304010000.csv", "cs-mirror-load-incremental-petitions"],
    ]);
    expect(describeReloadPlan(plan).slice(0, 3)).toEqual([
      `reload petitions from s3://${BUCKET}/ (listed exports/full/petitions/, exports/incremental/petitions/)`,
      "  no full export since 20240304: only the incremental exports since then; the loaded full export stays as it is",
      "  not sent: 3 older full export(s) and 4 earlier incremental export(s) (exported before 20240304)",
    ]);
  });

  it("--from after the last export: nothing to send, and it says so", async () => {
    const plan = await planReload(request({ from: "20240310" }), ports());
    expect(plan.actions).toEqual([]);
    expect(describeReloadPlan(plan)[1]).toBe("  nothing to send: no export of petitions since 20240310");
  });

  it("--object: exactly that object, to the loader of its kind", async () => {
    const key = "exports/incremental/petitions/20240302/petitions_20240302120000.csv";
    const plan = await planReload(request({ object: key }), ports());

    expect(sent(plan)).toEqual([[key, "cs-mirror-load-incremental-petitions"]]);
    expect(plan.actions[0].object.size).toBe(CSV.length);
    expect(describeReloadPlan(plan)).toEqual([`reload petitions from s3://${BUCKET}/ (listed ${key})`]);
  });

  it("--object: even an older full export than the latest (the loader decides whether it is stale)", async () => {
    const key = "exports/full/petitions/20240301/petitions_20240301020304.csv.bz2";
    expect(sent(await planReload(request({ object: key }), ports()))).toEqual([[key, "cs-mirror-load-full-petitions"]]);
  });
});

describe("selectReloadObjects", () => {
  it("sends one of two full exports with the same export time, and reports the other", () => {
    const selection = selectReloadObjects("petitions", BUCKET, [
      { key: "exports/full/petitions/20240303/petitions_20240303020304.csv", size: 1 },
      { key: "exports/full/petitions/20240303/petitions_20240303020304.csv.bz2", size: 2 },
      { key: "exports/full/petitions/20240301/petitions_20240301020304.csv.bz2", size: 3 },
    ]);
    expect(selection.objects.map((o) => o.key)).toEqual(["exports/full/petitions/20240303/petitions_20240303020304.csv.bz2"]);
    expect(selection.sameTimeFullExports).toEqual(["exports/full/petitions/20240303/petitions_20240303020304.csv"]);
    expect(selection.olderFullExports).toBe(1);
  });
});

describe("reload <table>: the messages", () => {
  const clock = { now: () => new Date("2024-03-05T09:10:11.123Z"), newId: () => "5f2d6b1e-0c5d-4f39-9a4e-0d0b8e2c1a77" };

  it("are S3 Object Created events as EventBridge sends them", async () => {
    const plan = await planReload(request(), ports());
    const message = messageFor(plan.actions[0], clock);

    expect(message.queueUrl).toBe(`https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/cs-mirror-load-full-petitions`);
    expect(message.attributes).toEqual({ "replayed-by": "controlshift-mirror replay" });
    expect(JSON.parse(message.body)).toEqual({
      version: "0",
      id: "5f2d6b1e-0c5d-4f39-9a4e-0d0b8e2c1a77",
      "detail-type": "Object Created",
      source: "aws.s3",
      account: ACCOUNT,
      time: "2024-03-05T09:10:11Z",
      region: REGION,
      resources: [`arn:aws:s3:::${BUCKET}`],
      detail: {
        version: "0",
        bucket: { name: BUCKET },
        object: {
          key: "exports/full/petitions/20240303/petitions_20240303020304.csv.bz2",
          size: "BZh9 latest full".length,
          etag: plan.actions[0].object.etag,
        },
        "request-id": "5f2d6b1e-0c5d-4f39-9a4e-0d0b8e2c1a77",
        requester: ACCOUNT,
        reason: "PutObject",
      },
    });
  });

  it("are accepted by the loader's parser, each an export of the table and kind of the queue it goes to", async () => {
    const plan = await planReload(request(), ports());
    for (const action of plan.actions) {
      const parsed = parseLoaderMessage(messageFor(action, clock).body);
      expect(parsed).toEqual({ type: "object-created", bucket: BUCKET, key: action.object.key, size: action.object.size });
      const file = parseExportObjectKey(action.object.key);
      expect(action.queue.name).toBe(`cs-mirror-load-${file.kind}-${file.table}`);
      expect(file.table).toBe("petitions");
    }
  });
});

describe("reload <table>: refusals", () => {
  it("refuses a table that is not in the config, before any AWS call", async () => {
    const error = await planReload(request({ table: "petition", tables: ["petitions", "signatures"] }), unreachable).catch((e) => e);
    expect(error).toBeInstanceOf(UnknownTableError);
    expect(error.message).toBe(
      'table "petition" is not in this deployment\'s tables (config.ts), so cs-mirror has no loader for it: ' +
        "check the spelling (ControlShift's table names are plural snake case, e.g. petitions, signatures)",
    );
  });

  it("refuses an --object of another table, before any AWS call", async () => {
    const key = "exports/full/signatures/20240304/signatures_20240304020304.csv.bz2";
    const error = await planReload(request({ object: key }), unreachable).catch((e) => e);
    expect(error).toBeInstanceOf(ObjectOfAnotherTableError);
    expect(error.message).toBe(
      `--object "${key}" is an export of signatures, not of petitions: run \`reload signatures --object ${key}\` if that is the object you mean`,
    );
  });

  it("refuses an --object that is not an export key, before any AWS call", async () => {
    const error = await planReload(request({ object: "s3://bucket/petitions_20240301020304.csv" }), unreachable).catch((e) => e);
    expect(error).toBeInstanceOf(NotAnExportKeyError);
    expect(error.message).toMatch(/^--object "s3:\/\/bucket\/petitions_20240301020304\.csv" is not an export key: object key .* is not exports\//);
  });

  it("refuses an --object that is not in the bucket, even when a longer key starts with it", async () => {
    const key = "exports/full/petitions/20240303/petitions_20240303020304.csv"; // the bucket has it as .csv.bz2
    const error = await planReload(request({ object: key }), ports()).catch((e) => e);
    expect(error).toBeInstanceOf(ObjectNotFoundError);
    expect(error.message).toBe(
      `no object ${key} in bucket ${BUCKET}: list what there is with ` +
        `\`aws s3 ls s3://${BUCKET}/exports/full/petitions/20240303/\` (exports expire after exports.expireAfterDays)`,
    );
  });

  it("refuses a table with no full export, saying what to do", async () => {
    const error = await planReload(request({ table: "members" }), ports()).catch((e) => e);
    expect(error).toBeInstanceOf(NoFullExportError);
    expect(error.message).toBe(
      `no full export of members under exports/full/members/ in bucket ${BUCKET}: wait for the nightly export or pass --object`,
    );
  });

  it("names the loader queue SQS does not have, and the region", async () => {
    const error = await planReload(request(), ports(new FakeQueues(() => false))).catch((e) => e);
    expect(error).toBeInstanceOf(QueueNotFoundError);
    expect(error.message).toBe(
      `SQS has no queue cs-mirror-load-full-petitions in ${REGION}: check --prefix and --region (defaults from config.ts), ` +
        "the AWS account of your credentials, and that the stack is deployed",
    );
  });
});

describe("the exports bucket", () => {
  it("is found with ListBuckets by the prefix's bucket_prefix when --bucket is not given", async () => {
    expect(await findExportsBucket("cs-mirror", buckets)).toBe(BUCKET);
    const plan = await planReload(request({ bucket: undefined, table: "targets" }), ports());
    expect(plan.bucket).toBe(BUCKET);
  });

  it("is an error when no bucket has the name, or several do", async () => {
    const none = await findExportsBucket("cs-other", buckets).catch((e) => e);
    expect(none).toBeInstanceOf(ExportsBucketNotFoundError);
    expect(none.message).toBe(
      "no bucket named cs-other-exports-* in this account: check --prefix, or pass --bucket <name> (the exports_bucket output of `npx cdktf output`)",
    );

    const second = "cs-mirror-exports-20240401020304123400000003";
    await s3.client.send(new CreateBucketCommand({ Bucket: second }));
    const several = await findExportsBucket("cs-mirror", buckets)
      .catch((e) => e)
      .finally(() => s3.client.send(new DeleteBucketCommand({ Bucket: second })));
    expect(several).toBeInstanceOf(ExportsBucketNotFoundError);
    expect(several.message).toBe(
      `2 buckets are named cs-mirror-exports-* (${BUCKET}, ${second}): pass --bucket <name> (the exports_bucket output of \`npx cdktf output\`)`,
    );
  });
});
