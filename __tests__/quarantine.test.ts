/**
 * Quarantine end to end on real parts: the receiver's core writes through its own S3 adapter into s3rver, and
 * `npm run replay -- quarantine` (runReplay with the real S3 and SQS adapters) lists and re-submits from there to a
 * loopback SQS endpoint. The story: a deployment allowed only the US bucket; an EU export and a gzip one were
 * quarantined; the operator fixes config.ts (both buckets), deploys, and re-submits.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { createHash } from "node:crypto";
import { S3QuarantineStore } from "../handlers/receiver/aws-adapters";
import type { WebhookOutcome } from "../handlers/receiver/ports";
import { type ReceiverSettings, receiveWebhook } from "../handlers/receiver/receive";
import { parseDownloadJob } from "../handlers/shared/export-file";
import {
  QUARANTINE_REASONS,
  type QuarantineRecord,
  decodeBody,
  parseQuarantineRecord,
} from "../handlers/shared/quarantine";
import { s3BucketFinder, s3ObjectLister, s3ObjectStore, sqsMessagePeeker, sqsMessageSender, sqsMoveTasks, sqsQueueResolver } from "../scripts/replay/aws";
import { runReplay, type ReplayPorts } from "../scripts/replay/cli";
import { judgeRecord, presignedUrlExpiry } from "../scripts/replay/quarantine";
import { TEST_SIGNING_SECRET, controlShiftSignature, webhookFixture, webhookFixtureJson } from "./fixtures/webhooks";
import { LoopbackSqs } from "./helpers/loopback-sqs";
import { startLocalS3, type LocalS3 } from "./helpers/local-s3";
import { FEW_TABLES, dataOf, resourcesOf, synthStack } from "./helpers/synth";

const BUCKET = "cs-mirror-exports-20240301020304123400000001";
const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const US = "agra-data-exports-production";
const EU = "agra-data-exports-production-eu-central-1";
/** The EU fixture's URL is signed at 2024-03-02T02:03:10Z for 6 hours. */
const RECEIVED = new Date("2024-03-02T02:05:00Z");
const REPLAYED = new Date("2024-03-02T04:00:00Z");

/** The deployed receiver before the fix: the US bucket only. */
const BEFORE: ReceiverSettings = { tables: new Set(["petitions", "members"]), buckets: [US], maxBodyBytes: 65_536 };
/** config.ts after the fix: the default allow-list, both production buckets. */
const CONFIG = { prefix: "cs-mirror", region: REGION, tables: ["petitions", "members"] };

const md5 = (text: string) => createHash("md5").update(text).digest("hex");

let s3: LocalS3;
const sqs = new LoopbackSqs();
let sqsClient: SQSClient;
/** The queues the deployment has, by name. */
const queues = new Set<string>();
const sent: Array<{ queue: string; body: string; attributes: Record<string, string> }> = [];

beforeAll(async () => {
  s3 = await startLocalS3({ buckets: [BUCKET] });
  await sqs.start();
  sqsClient = new SQSClient({
    endpoint: sqs.endpoint,
    region: REGION,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 1,
  });
  const nameOf = (url: unknown) => String(url).slice(String(url).lastIndexOf("/") + 1);
  sqs.answer("GetQueueUrl", (input) =>
    queues.has(String(input.QueueName))
      ? { body: { QueueUrl: `${sqs.endpoint}/${ACCOUNT}/${input.QueueName}` } }
      : {
          status: 400,
          headers: { "x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender" },
          body: { __type: "com.amazonaws.sqs#QueueDoesNotExist", message: "The specified queue does not exist." },
        },
  );
  sqs.answer("GetQueueAttributes", (input) => ({
    body: {
      Attributes: {
        QueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${nameOf(input.QueueUrl)}`,
        ApproximateNumberOfMessages: "0",
        ApproximateNumberOfMessagesNotVisible: "0",
      },
    },
  }));
  sqs.answer("SendMessage", (input) => {
    const attributes = Object.fromEntries(
      Object.entries((input.MessageAttributes ?? {}) as Record<string, { StringValue: string }>).map(([k, v]) => [k, v.StringValue]),
    );
    sent.push({ queue: nameOf(input.QueueUrl), body: String(input.MessageBody), attributes });
    return { body: { MessageId: `message-${sent.length}`, MD5OfMessageBody: md5(String(input.MessageBody)) } };
  });
});

afterAll(async () => {
  sqsClient?.destroy();
  await sqs.close();
  await s3?.close();
});

/** The receiver's core as the Lambda runs it, quarantining into s3rver. */
async function deliver(body: Buffer | string, settings: ReceiverSettings = BEFORE, bucket = BUCKET) {
  const outcomes: WebhookOutcome[] = [];
  const response = await receiveWebhook(
    {
      headers: {
        "content-type": "application/json",
        "user-agent": "ControlShift Webhooks",
        "x-controlshift-webhook-signature": controlShiftSignature(body),
      },
      body: body.toString(),
      isBase64Encoded: false,
    },
    settings,
    {
      secret: {
        current: async () => ({ value: TEST_SIGNING_SECRET, fetchedAt: RECEIVED }),
        refresh: async () => ({ value: TEST_SIGNING_SECRET, fetchedAt: RECEIVED }),
      },
      queue: {
        send: async () => {
          throw new Error("nothing is queued from a quarantined payload");
        },
      },
      quarantine: new S3QuarantineStore(s3.client, bucket),
      clock: () => RECEIVED,
      report: (outcome) => void outcomes.push(outcome),
    },
  );
  return { response, json: JSON.parse(response.body), outcome: outcomes[0] };
}

async function replay(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const ports: ReplayPorts = {
    objects: s3ObjectLister(s3.client),
    store: s3ObjectStore(s3.client),
    buckets: s3BucketFinder(s3.client),
    queues: sqsQueueResolver(sqsClient),
    peeker: sqsMessagePeeker(sqsClient),
    sender: sqsMessageSender(sqsClient),
    moveTasks: sqsMoveTasks(sqsClient),
    clock: { now: () => REPLAYED, newId: () => "id" },
  };
  const code = await runReplay(argv, { config: CONFIG, ports: () => ports, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const readRecord = async (key: string): Promise<QuarantineRecord> =>
  parseQuarantineRecord((await s3.getObjectBytes(BUCKET, key)).toString("utf8"));

const EU_EXPORT = webhookFixture("full-table-exported-without-compression-format");
const gzip = webhookFixtureJson("full-table-exported");
gzip.data.compression_format = "gzip";
const GZIP_EXPORT = JSON.stringify(gzip);

describe("quarantine: the receiver stores, replay lists and re-submits", () => {
  let euKey: string;
  let gzipKey: string;

  it("quarantines both signed payloads into the bucket: raw body, headers without the signature, reason, time", async () => {
    const eu = await deliver(EU_EXPORT);
    const gz = await deliver(GZIP_EXPORT);

    expect(eu.response.statusCode).toBe(200);
    expect(eu.json).toEqual({
      status: "quarantined",
      reason: QUARANTINE_REASONS.bucketNotAllowed,
      detail: `data.url host ${EU}.s3.amazonaws.com is not one of the ControlShift export buckets (${US})`,
    });
    expect(gz.json).toMatchObject({ status: "quarantined", reason: QUARANTINE_REASONS.badCompression });
    euKey = eu.outcome.details.quarantineKey as string;
    gzipKey = gz.outcome.details.quarantineKey as string;
    expect(await s3.listKeys(BUCKET, "quarantine/")).toEqual([euKey, gzipKey].sort());

    const stored = await readRecord(euKey);
    expect(stored).toEqual({
      version: 1,
      reason: QUARANTINE_REASONS.bucketNotAllowed,
      detail: eu.json.detail,
      receivedAt: RECEIVED.toISOString(),
      headers: { "content-type": "application/json", "user-agent": "ControlShift Webhooks" },
      body: EU_EXPORT.toString("utf8"),
      bodyEncoding: "utf8",
    });
    expect(decodeBody(stored)).toEqual(EU_EXPORT);
    // Quarantined, not exported: nothing under exports/ (where an object would trigger a load).
    expect(await s3.listKeys(BUCKET, "exports/")).toEqual([]);
  });

  it("overwrites the same object when ControlShift retries the same payload with a new jid", async () => {
    const retry = JSON.stringify({ ...JSON.parse(EU_EXPORT.toString("utf8")), jid: "retry-jid-0001" });
    const again = await deliver(retry);

    expect(again.outcome.details.quarantineKey).toBe(euKey);
    expect(await s3.listKeys(BUCKET, "quarantine/")).toHaveLength(2);
    expect((await readRecord(euKey)).body).toBe(retry);
    // Back to the original body for the rest of the story.
    await deliver(EU_EXPORT);
  });

  it("answers 503 when the store refuses the write (here: no such bucket), and stores nothing", async () => {
    const { response, json, outcome } = await deliver(GZIP_EXPORT, BEFORE, "cs-mirror-no-such-bucket");

    expect(response.statusCode).toBe(503);
    expect(json).toEqual({ error: "the payload could not be quarantined; retry later" });
    expect(outcome.error?.name).toBe("QuarantineWriteError");
    expect((outcome.error?.cause as Error).name).toBe("NoSuchBucket");
  });

  it("lists them in a dry run, with what each would become now, and changes nothing (table not deployed yet)", async () => {
    queues.add("cs-mirror-downloads").add("cs-mirror-load-full-petitions").add("cs-mirror-load-incremental-petitions");
    const before = await s3.listKeys(BUCKET);
    const { code, out, err } = await replay(["quarantine"]);

    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toContain(`exports bucket ${BUCKET}: 2 pending under quarantine/pending/`);
    expect(out).toContain(`  received ${RECEIVED.toISOString()}: quarantined because ${QUARANTINE_REASONS.bucketNotAllowed}`);
    expect(out).toContain(
      "  now: accepted, but the deployment has no queue cs-mirror-load-full-members: deploy config.ts first (npx cdktf deploy)",
    );
    expect(out).toContain(
      `  now: still refused: ${QUARANTINE_REASONS.badCompression} (data.compression_format "gzip" is not bzip2 or none); ` +
        `see help: webhook quarantined: ${QUARANTINE_REASONS.badCompression}`,
    );
    expect(out).toContain("dry run: nothing to do");
    expect(sent).toEqual([]);
    expect(await s3.listKeys(BUCKET)).toEqual(before);
  });

  it("after the deploy: a dry run says what it would send, and sends nothing", async () => {
    queues.add("cs-mirror-load-full-members").add("cs-mirror-load-incremental-members");
    const before = await s3.listKeys(BUCKET);
    const { code, out } = await replay(["quarantine"]);

    expect(code).toBe(0);
    expect(out).toContain("  now: accepted: full export members_20240302020001.csv.bz2 of members");
    expect(out).toContain(
      `[1/1] would send the full export members_20240302020001.csv.bz2 of members (quarantined ${RECEIVED.toISOString()}) ` +
        `to cs-mirror-downloads, and mark ${euKey} re-submitted`,
    );
    expect(sent).toEqual([]);
    expect(sqs.requests.map((r) => r.action)).not.toContain("SendMessage");
    expect(await s3.listKeys(BUCKET)).toEqual(before);
  });

  it("--execute queues the receiver's download job and moves the record out of pending; a second run sends nothing", async () => {
    const { code, out } = await replay(["quarantine", "--execute"]);

    expect(code).toBe(0);
    expect(out).toContain("done: 1 action");
    expect(sent).toHaveLength(1);
    expect(sent[0].queue).toBe("cs-mirror-downloads");
    expect(sent[0].attributes).toEqual({ table: "members", kind: "full", "replayed-by": "controlshift-mirror replay" });
    const job = parseDownloadJob(sent[0].body);
    expect(job).toMatchObject({
      kind: "full",
      table: "members",
      fileName: "members_20240302020001.csv.bz2",
      compression: "bzip2",
      sourcePath: "/acme-campaigns/full/members/20240302/members_20240302020001.csv.bz2",
      receivedAt: REPLAYED.toISOString(),
    });
    expect(job.url).toBe(JSON.parse(EU_EXPORT.toString("utf8")).data.url);

    const resubmitted = euKey.replace("quarantine/pending/", "quarantine/resubmitted/");
    expect(await s3.listKeys(BUCKET, "quarantine/")).toEqual([gzipKey, resubmitted].sort());
    expect(await readRecord(resubmitted)).toMatchObject({
      reason: QUARANTINE_REASONS.bucketNotAllowed,
      body: EU_EXPORT.toString("utf8"),
      resubmitted: { at: REPLAYED.toISOString(), messageId: "message-1", queue: "cs-mirror-downloads" },
    });

    const second = await replay(["quarantine", "--execute"]);
    expect(second.out).toContain(`exports bucket ${BUCKET}: 1 pending under quarantine/pending/`);
    expect(second.out).toContain("nothing to do");
    expect(sent).toHaveLength(1);
  });

  it("--key limits the listing to one pending object", async () => {
    const { out } = await replay(["quarantine", "--key", gzipKey]);
    expect(out).toContain(`exports bucket ${BUCKET}: 1 pending under quarantine/pending/`);
    expect(out).toContain(gzipKey);
  });
});

describe("quarantine: a re-submission's verdict", () => {
  const record = (body: Buffer | string): QuarantineRecord => ({
    version: 1,
    reason: QUARANTINE_REASONS.bucketNotAllowed,
    detail: "x",
    receivedAt: RECEIVED.toISOString(),
    headers: {},
    body: body.toString(),
    bodyEncoding: "utf8",
  });
  const settings: ReceiverSettings = { tables: new Set(["petitions", "members"]), buckets: [US, EU], maxBodyBytes: 65_536 };

  it("reads a presigned URL's expiry from X-Amz-Date and X-Amz-Expires", () => {
    const url = JSON.parse(EU_EXPORT.toString("utf8")).data.url as string;
    expect(presignedUrlExpiry(url)?.toISOString()).toBe("2024-03-02T08:03:10.000Z");
    expect(presignedUrlExpiry("https://x.s3.amazonaws.com/a.csv")).toBeUndefined();
  });

  it("does not re-submit a payload whose URL has expired: the download would fail with 403", () => {
    expect(judgeRecord(record(EU_EXPORT), settings, new Date("2024-03-02T08:03:10Z"))).toMatchObject({
      type: "url-expired",
      expiredAt: "2024-03-02T08:03:10.000Z",
    });
    expect(judgeRecord(record(EU_EXPORT), settings, new Date("2024-03-02T08:03:09Z")).type).toBe("resubmit");
  });

  it("says a payload for a table no longer configured would be ignored", () => {
    const verdict = judgeRecord(record(EU_EXPORT), { ...settings, tables: new Set(["petitions"]) }, REPLAYED);
    expect(verdict).toEqual({ type: "ignored", reason: "its table is not in config.ts's tables" });
  });
});

describe("quarantine: the stack", () => {
  const tf = synthStack({ tables: FEW_TABLES });

  it("matches no loader's EventBridge rule: every rule's key prefix is under exports/", () => {
    const rules = resourcesOf(tf, "aws_cloudwatch_event_rule");
    expect(rules).toHaveLength(2 * FEW_TABLES.length);
    for (const [, rule] of rules) {
      const prefixes = [...String(rule.event_pattern).matchAll(/"prefix" = "([^"]*)"/g)].map((m) => m[1]);
      expect(prefixes).toHaveLength(1);
      expect(prefixes[0]).toMatch(/^exports\/(full|incremental)\/[a-z_]+\/$/);
    }
  });

  it("lets only the receiver write under quarantine/, and only under quarantine/pending/", () => {
    const writers = dataOf(tf, "aws_iam_policy_document")
      .flatMap(([name, doc]) => (doc.statement ?? []).map((st: Record<string, any>) => ({ name, st })))
      .filter(({ st }) => (st.resources ?? []).some((r: string) => r.includes("/quarantine/")));
    expect(writers).toHaveLength(1);
    expect(writers[0].name).toMatch(/^receiver_/);
    expect(writers[0].st.actions).toEqual(["s3:PutObject"]);
    expect(writers[0].st.resources).toEqual([expect.stringMatching(/\/quarantine\/pending\/\*$/)]);
  });

  it("alarms on the first quarantined payload within one 5-minute period", () => {
    const [, alarm] = resourcesOf(tf, "aws_cloudwatch_metric_alarm").find(([, a]) => a.alarm_name === "cs-mirror-receiver-quarantined")!;
    expect(alarm).toMatchObject({
      metric_name: "WebhookQuarantined",
      statistic: "Sum",
      comparison_operator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      period: 300,
      evaluation_periods: 1,
    });
  });
});
