/**
 * The webhook receiver's core (`receiveWebhook`) with plain fake ports: a secret source, a queue that records jobs,
 * a fixed clock and a sink that records the reported outcomes.
 */
import type { DownloadJob } from "../handlers/shared/export-file";
import {
  QuarantineWriteError,
  QueueSendError,
  type SigningSecret,
  type SigningSecretSource,
  SigningSecretUnavailableError,
  type WebhookOutcome,
} from "../handlers/receiver/ports";
import { QUARANTINE_REASONS, type QuarantineRecord, decodeBody } from "../handlers/shared/quarantine";
import {
  REQUEST_SIZE_GUARD_BYTES,
  ROTATION_REFETCH_AFTER_MS,
  type ReceiverSettings,
  type WebhookRequest,
  receiveWebhook,
} from "../handlers/receiver/receive";
import {
  TEST_SIGNING_SECRET,
  controlShiftSignature,
  webhookFixture,
  webhookFixtureJson,
} from "./fixtures/webhooks";

const NOW = new Date("2024-03-01T02:05:00.000Z");
const PRESIGNED_QUERY =
  "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240301%2Fus-east-1%2Fs3%2Faws4_request" +
  "&X-Amz-Date=20240301T020310Z&X-Amz-Expires=21600&X-Amz-SignedHeaders=host" +
  "&X-Amz-Signature=3f1c0e7a9b5d2c4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e";
const FULL_PATH = "/acme-campaigns/full/petitions/20240301/petitions_20240301020304.csv.bz2";

const SETTINGS: ReceiverSettings = {
  tables: new Set(["petitions", "signatures", "members"]),
  buckets: ["agra-data-exports-production", "agra-data-exports-production-eu-central-1"],
  maxBodyBytes: 65_536,
};

/** A secret store: `cached` is what current() gives, `stored` what refresh() reads (then cached). */
class FakeSecretSource implements SigningSecretSource {
  readonly calls: Array<"current" | "refresh"> = [];
  constructor(
    private cached: SigningSecret | Error,
    private readonly stored: SigningSecret | Error = cached,
  ) {}

  async current(): Promise<SigningSecret> {
    this.calls.push("current");
    if (this.cached instanceof Error) throw this.cached;
    return this.cached;
  }

  async refresh(): Promise<SigningSecret> {
    this.calls.push("refresh");
    if (this.stored instanceof Error) throw this.stored;
    this.cached = this.stored;
    return this.stored;
  }
}

class FakeQueue {
  readonly attempts: DownloadJob[] = [];
  readonly sent: DownloadJob[] = [];
  constructor(private readonly failure?: Error) {}

  async send(job: DownloadJob): Promise<void> {
    this.attempts.push(job);
    if (this.failure !== undefined) throw this.failure;
    this.sent.push(job);
  }
}

/** The quarantine store: records what was put, or fails with `failure`. */
class FakeQuarantine {
  readonly stored = new Map<string, QuarantineRecord>();
  constructor(private readonly failure?: Error) {}

  async put(key: string, record: QuarantineRecord): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.stored.set(key, record);
  }
}

const freshSecret = (value: string | undefined, ageMs = 0): SigningSecret => ({
  value,
  fetchedAt: new Date(NOW.getTime() - ageMs),
});

interface Run {
  secret?: FakeSecretSource;
  queue?: FakeQueue;
  quarantine?: FakeQuarantine;
  settings?: Partial<ReceiverSettings>;
}

async function receive(request: WebhookRequest, run: Run = {}) {
  const secret = run.secret ?? new FakeSecretSource(freshSecret(TEST_SIGNING_SECRET));
  const queue = run.queue ?? new FakeQueue();
  const quarantine = run.quarantine ?? new FakeQuarantine();
  const outcomes: WebhookOutcome[] = [];
  const response = await receiveWebhook(
    request,
    { ...SETTINGS, ...run.settings },
    { secret, queue, quarantine, clock: () => NOW, report: (outcome) => outcomes.push(outcome) },
  );
  expect(outcomes).toHaveLength(1);
  expect(response.headers).toEqual({ "content-type": "application/json" });
  return {
    response,
    json: JSON.parse(response.body),
    outcome: outcomes[0],
    sent: queue.sent,
    queue,
    secret,
    quarantined: [...quarantine.stored.entries()],
  };
}

/** A request as ControlShift sends it: the raw body signed with the test secret, header name in API Gateway's case. */
function signed(body: Buffer | string, secret = TEST_SIGNING_SECRET): WebhookRequest {
  return {
    headers: { "content-type": "application/json", "x-controlshift-webhook-signature": controlShiftSignature(body, secret) },
    body: body.toString(),
    isBase64Encoded: false,
  };
}

/** The full-export fixture with `data` changed, re-serialised and signed. */
function signedVariant(change: (data: Record<string, unknown>) => void): WebhookRequest {
  const event = webhookFixtureJson("full-table-exported");
  change(event.data);
  return signed(JSON.stringify(event));
}

const withUrl = (url: string) => signedVariant((data) => (data.url = url));

describe("receiveWebhook: accepted exports", () => {
  it("queues a download job for a full export and answers 200 only after the send", async () => {
    const { response, json, outcome, sent } = await receive(signed(webhookFixture("full-table-exported")));

    expect(response.statusCode).toBe(200);
    expect(json).toEqual({
      status: "queued",
      table: "petitions",
      kind: "full",
      fileName: "petitions_20240301020304.csv.bz2",
    });
    expect(sent).toEqual<DownloadJob[]>([
      {
        version: 1,
        kind: "full",
        table: "petitions",
        fileName: "petitions_20240301020304.csv.bz2",
        exportedAt: "2024-03-01T02:03:04Z",
        dateFolder: "20240301",
        // `\u0026` in the raw JSON is `&` again.
        url: `https://agra-data-exports-production.s3.amazonaws.com${FULL_PATH}?${PRESIGNED_QUERY}`,
        compression: "bzip2",
        sourcePath: FULL_PATH,
        receivedAt: "2024-03-01T02:05:00.000Z",
      },
    ]);
    expect(outcome).toMatchObject({ statusCode: 200, metric: "WebhookAccepted", level: "info" });
    expect(outcome.details).toMatchObject({
      eventType: "data.full_table_exported",
      table: "petitions",
      kind: "full",
      sourceHost: "agra-data-exports-production.s3.amazonaws.com",
      sourcePath: FULL_PATH,
    });
  });

  it("queues an incremental export without data.s3 and with compression_format none", async () => {
    const { response, sent } = await receive(signed(webhookFixture("incremental-table-exported")));

    expect(response.statusCode).toBe(200);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      kind: "incremental",
      table: "signatures",
      fileName: "signatures_20240301154512.csv",
      exportedAt: "2024-03-01T15:45:12Z",
      compression: "none",
      sourcePath: "/acme-campaigns/incremental/signatures/20240301/signatures_20240301154512.csv",
    });
  });

  it("treats an absent compression_format as bzip2 when the path ends in .bz2 (EU bucket)", async () => {
    const { response, sent } = await receive(signed(webhookFixture("full-table-exported-without-compression-format")));

    expect(response.statusCode).toBe(200);
    expect(sent[0]).toMatchObject({ table: "members", compression: "bzip2", fileName: "members_20240302020001.csv.bz2" });
    expect(sent[0].url).toMatch(/^https:\/\/agra-data-exports-production-eu-central-1\.s3\.amazonaws\.com\//);
  });

  it("treats an absent compression_format as none when the path ends in .csv", async () => {
    const { response, sent } = await receive(
      signed(webhookFixture("incremental-table-exported-without-compression-format")),
    );

    expect(response.statusCode).toBe(200);
    expect(sent[0]).toMatchObject({ kind: "incremental", table: "petitions", compression: "none" });
  });

  it("treats compression_format null like an absent one", async () => {
    const { response, sent } = await receive(signedVariant((data) => (data.compression_format = null)));

    expect(response.statusCode).toBe(200);
    expect(sent[0].compression).toBe("bzip2");
  });

  it("queues the same job when ControlShift retries with a new jid", async () => {
    const first = await receive(signed(webhookFixture("full-table-exported")));
    const retry = webhookFixtureJson("full-table-exported");
    retry.jid = "ffffffffffffffffffffffff";
    const second = await receive(signed(JSON.stringify(retry)));

    expect(second.sent).toEqual(first.sent);
  });

  it("ignores data.s3, even when its key differs from the URL", async () => {
    const { response, sent } = await receive(
      signedVariant((data) => (data.s3 = { bucket: "elsewhere", key: "/other/key.csv" })),
    );

    expect(response.statusCode).toBe(200);
    expect(sent[0].sourcePath).toBe(FULL_PATH);
  });

  it.each([
    ["the regional host with a dot", "agra-data-exports-production.s3.us-east-1.amazonaws.com"],
    ["the legacy regional host with a hyphen", "agra-data-exports-production.s3-us-east-1.amazonaws.com"],
    ["a GovCloud region", "agra-data-exports-production.s3.us-gov-west-1.amazonaws.com"],
    ["the explicit default port", "agra-data-exports-production.s3.amazonaws.com:443"],
  ])("accepts %s", async (_name, host) => {
    const { response, sent } = await receive(withUrl(`https://${host}${FULL_PATH}?${PRESIGNED_QUERY}`));

    expect(response.statusCode).toBe(200);
    expect(sent).toHaveLength(1);
  });

  it("verifies a base64-encoded body over its decoded bytes", async () => {
    const raw = webhookFixture("full-table-exported");
    const { response, sent } = await receive({
      headers: { "x-controlshift-webhook-signature": controlShiftSignature(raw) },
      body: raw.toString("base64"),
      isBase64Encoded: true,
    });

    expect(response.statusCode).toBe(200);
    expect(sent).toHaveLength(1);
  });

  it("finds the signature header whatever the case of its name", async () => {
    const raw = webhookFixture("full-table-exported");
    const { response, sent } = await receive({
      headers: { "Content-Type": "application/json", "X-ControlShift-Webhook-Signature": controlShiftSignature(raw) },
      body: raw.toString(),
      isBase64Encoded: false,
    });

    expect(response.statusCode).toBe(200);
    expect(sent).toHaveLength(1);
  });

  it("accepts upper-case hex digits and surrounding whitespace in the signature", async () => {
    const raw = webhookFixture("full-table-exported");
    const signature = controlShiftSignature(raw).replace(/[0-9a-f]{64}$/, (hex) => hex.toUpperCase());
    const { response } = await receive({
      headers: { "x-controlshift-webhook-signature": ` ${signature} ` },
      body: raw.toString(),
      isBase64Encoded: false,
    });

    expect(response.statusCode).toBe(200);
  });

  it("accepts a body of exactly MAX_BODY_BYTES", async () => {
    const raw = webhookFixture("full-table-exported");
    const { response } = await receive(signed(raw), { settings: { maxBodyBytes: raw.length } });

    expect(response.statusCode).toBe(200);
  });
});

describe("receiveWebhook: ignored events", () => {
  it("answers 200 and queues nothing for another event type", async () => {
    const { response, json, outcome, sent } = await receive(signed(webhookFixture("signature-created")));

    expect(response.statusCode).toBe(200);
    expect(json).toEqual({ status: "ignored", reason: "event-type" });
    expect(sent).toEqual([]);
    expect(outcome).toMatchObject({
      metric: "WebhookIgnored",
      dimensions: { reason: "event-type" },
      details: { eventType: "signature.created" },
    });
  });

  it("answers 200, queues nothing and counts it when the table is not configured", async () => {
    const { response, json, outcome, sent } = await receive(signed(webhookFixture("full-table-exported")), {
      settings: { tables: new Set(["signatures"]) },
    });

    expect(response.statusCode).toBe(200);
    expect(json).toEqual({ status: "ignored", reason: "unconfigured-table" });
    expect(sent).toEqual([]);
    expect(outcome).toMatchObject({
      metric: "WebhookIgnored",
      dimensions: { reason: "unconfigured-table" },
      details: { table: "petitions", kind: "full" },
    });
  });

  it("matches configured tables exactly, not by prefix or case", async () => {
    const { json, sent } = await receive(signed(webhookFixture("full-table-exported")), {
      settings: { tables: new Set(["petition", "petitions_archive"]) },
    });

    expect(json).toEqual({ status: "ignored", reason: "unconfigured-table" });
    expect(sent).toEqual([]);
  });

  it("still requires a valid signature for events it ignores", async () => {
    const raw = webhookFixture("signature-created");
    const { response } = await receive(signed(raw, "another-secret"));

    expect(response.statusCode).toBe(401);
  });
});

describe("receiveWebhook: authentication", () => {
  const raw = webhookFixture("full-table-exported");

  it("answers 401 when the signature header is missing, without reading the secret", async () => {
    const { response, json, outcome, sent, secret } = await receive({
      headers: { "content-type": "application/json" },
      body: raw.toString(),
      isBase64Encoded: false,
    });

    expect(response.statusCode).toBe(401);
    expect(json.error).toMatch(/x-controlshift-webhook-signature header is missing/);
    expect(outcome.metric).toBe("WebhookUnauthorized");
    expect(sent).toEqual([]);
    expect(secret.calls).toEqual([]);
  });

  it.each([
    ["without the sha256: prefix", (sig: string) => sig.replace("sha256:", "")],
    ["with another algorithm", (sig: string) => sig.replace("sha256:", "sha1:")],
    ["with sha256= instead of sha256:", (sig: string) => sig.replace("sha256:", "sha256=")],
    ["too short", (sig: string) => sig.slice(0, -2)],
    ["too long", (sig: string) => `${sig}00`],
    ["with non-hex digits", (sig: string) => sig.replace(/.$/, "g")],
    ["empty", () => ""],
    ["two signatures joined by a comma", (sig: string) => `${sig},${sig}`],
  ])("answers 401 when the signature header is malformed: %s", async (_name, mangle) => {
    const { response, json, sent, secret } = await receive({
      headers: { "x-controlshift-webhook-signature": mangle(controlShiftSignature(raw)) },
      body: raw.toString(),
      isBase64Encoded: false,
    });

    expect(response.statusCode).toBe(401);
    expect(json.error).toMatch(/not sha256:<64 hex digits>/);
    expect(sent).toEqual([]);
    expect(secret.calls).toEqual([]);
  });

  it("answers 401 when the body was signed with another secret", async () => {
    const { response, json, outcome, sent } = await receive(signed(raw, "not-the-secret"));

    expect(response.statusCode).toBe(401);
    expect(json.error).toMatch(/does not match the body/);
    expect(outcome).toMatchObject({ metric: "WebhookUnauthorized", level: "warn" });
    expect(sent).toEqual([]);
  });

  it("answers 401 when the body was changed after signing", async () => {
    const request = signed(raw);
    const { response, sent } = await receive({ ...request, body: request.body!.replace("petitions", "signatures") });

    expect(response.statusCode).toBe(401);
    expect(sent).toEqual([]);
  });

  it("verifies the raw bytes, not a re-serialisation of the JSON", async () => {
    // Same JSON value, other bytes: a signature over the re-serialised text must not pass.
    const reserialised = JSON.stringify(JSON.parse(raw.toString()));
    expect(reserialised).not.toBe(raw.toString());
    const { response } = await receive({ ...signed(reserialised), body: raw.toString() });

    expect(response.statusCode).toBe(401);
  });

  it("answers 401 and queues nothing when no signing secret is configured", async () => {
    const secret = new FakeSecretSource(freshSecret(undefined));
    const { response, json, outcome, sent } = await receive(signed(raw), { secret });

    expect(response.statusCode).toBe(401);
    expect(json.error).toMatch(/no webhook signing secret is configured/);
    expect(outcome.metric).toBe("WebhookUnauthorized");
    expect(sent).toEqual([]);
  });

  it("picks up a rotated secret: refetches a cached secret older than 30 s once on a mismatch", async () => {
    const secret = new FakeSecretSource(
      freshSecret("the-old-secret", ROTATION_REFETCH_AFTER_MS),
      freshSecret(TEST_SIGNING_SECRET),
    );
    const { response, outcome, sent } = await receive(signed(raw), { secret });

    expect(response.statusCode).toBe(200);
    expect(secret.calls).toEqual(["current", "refresh"]);
    expect(outcome.details).toMatchObject({ secretRefetched: true });
    expect(sent).toHaveLength(1);
  });

  it("picks up a secret the operator filled in after the cached read found none", async () => {
    const secret = new FakeSecretSource(
      freshSecret(undefined, ROTATION_REFETCH_AFTER_MS + 1),
      freshSecret(TEST_SIGNING_SECRET),
    );
    const { response } = await receive(signed(raw), { secret });

    expect(response.statusCode).toBe(200);
  });

  it("does not refetch a cached secret younger than 30 s on a mismatch", async () => {
    const secret = new FakeSecretSource(
      freshSecret("the-old-secret", ROTATION_REFETCH_AFTER_MS - 1),
      freshSecret(TEST_SIGNING_SECRET),
    );
    const { response } = await receive(signed(raw), { secret });

    expect(response.statusCode).toBe(401);
    expect(secret.calls).toEqual(["current"]);
  });

  it("refetches only once and answers 401 when the fresh secret does not match either", async () => {
    const secret = new FakeSecretSource(
      freshSecret("the-old-secret", ROTATION_REFETCH_AFTER_MS),
      freshSecret("the-new-secret"),
    );
    const { response, sent } = await receive(signed(raw), { secret });

    expect(response.statusCode).toBe(401);
    expect(secret.calls).toEqual(["current", "refresh"]);
    expect(sent).toEqual([]);
  });

  it("answers 503 and queues nothing when the secret store fails (throttling)", async () => {
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    const secret = new FakeSecretSource(
      new SigningSecretUnavailableError("the webhook signing secret could not be read; retry later", {
        cause: throttled,
      }),
    );
    const { response, json, outcome, sent } = await receive(signed(raw), { secret });

    expect(response.statusCode).toBe(503);
    expect(json).toEqual({ error: "the webhook signing secret could not be read; retry later" });
    expect(outcome).toMatchObject({ metric: "WebhookSecretUnavailable", level: "error" });
    expect(outcome.error?.cause).toBe(throttled);
    expect(sent).toEqual([]);
  });

  it("answers 503 when refetching a rotated secret fails", async () => {
    const secret = new FakeSecretSource(
      freshSecret("the-old-secret", ROTATION_REFETCH_AFTER_MS),
      new Error("socket hang up"),
    );
    const { response, outcome, sent } = await receive(signed(raw), { secret });

    expect(response.statusCode).toBe(503);
    expect(outcome.error).toBeInstanceOf(SigningSecretUnavailableError);
    expect(sent).toEqual([]);
  });
});

describe("receiveWebhook: queueing", () => {
  it("answers 503 when the job cannot be queued, and queues nothing else", async () => {
    const sqsError = Object.assign(new Error("Service Unavailable"), { name: "ServiceUnavailable" });
    const queue = new FakeQueue(new QueueSendError("the export could not be queued; retry later", { cause: sqsError }));
    const { response, json, outcome } = await receive(signed(webhookFixture("full-table-exported")), { queue });

    expect(response.statusCode).toBe(503);
    expect(json).toEqual({ error: "the export could not be queued; retry later" });
    expect(outcome).toMatchObject({ metric: "WebhookQueueFailed", level: "error" });
    expect(outcome.error?.cause).toBe(sqsError);
    expect(queue.attempts).toHaveLength(1);
    expect(queue.sent).toEqual([]);
  });

  it("answers 503 when the queue port fails with an untyped error", async () => {
    const queue = new FakeQueue(new Error("connect ETIMEDOUT"));
    const { response, outcome } = await receive(signed(webhookFixture("full-table-exported")), { queue });

    expect(response.statusCode).toBe(503);
    expect(outcome.error).toBeInstanceOf(QueueSendError);
  });
});

describe("receiveWebhook: body size", () => {
  const raw = webhookFixture("full-table-exported");

  it("answers 413 when the body is over the size guard, before reading the secret", async () => {
    const body = "x".repeat(REQUEST_SIZE_GUARD_BYTES + 1);
    const { response, json, outcome, sent, secret, quarantined } = await receive(signed(body));

    expect(response.statusCode).toBe(413);
    expect(json).toEqual({ error: `the body is larger than ${REQUEST_SIZE_GUARD_BYTES} bytes` });
    expect(outcome.metric).toBe("WebhookRejected");
    expect(sent).toEqual([]);
    expect(quarantined).toEqual([]);
    expect(secret.calls).toEqual([]);
  });

  it("answers 413 when a base64-encoded body decodes to more than the guard", async () => {
    const body = Buffer.alloc(REQUEST_SIZE_GUARD_BYTES + 1, "x");
    const { response, secret } = await receive({
      headers: { "x-controlshift-webhook-signature": controlShiftSignature(body) },
      body: body.toString("base64"),
      isBase64Encoded: true,
    });

    expect(response.statusCode).toBe(413);
    expect(secret.calls).toEqual([]);
  });

  it("takes a body of exactly the guard's size and checks its signature", async () => {
    const body = JSON.stringify({ type: "signature.created", data: { pad: "" } });
    const padded = body.replace('"pad":""', `"pad":"${"x".repeat(REQUEST_SIZE_GUARD_BYTES - body.length)}"`);
    expect(Buffer.byteLength(padded)).toBe(REQUEST_SIZE_GUARD_BYTES);
    const { response, json } = await receive(signed(padded));

    expect(response.statusCode).toBe(200);
    expect(json).toEqual({ status: "ignored", reason: "event-type" });
  });

  it("quarantines a signed bulk-data body over MAX_BODY_BYTES instead of refusing it", async () => {
    const { response, json, outcome, sent, quarantined } = await receive(signed(raw), {
      settings: { maxBodyBytes: raw.length - 1 },
    });

    expect(response.statusCode).toBe(200);
    expect(json).toEqual({
      status: "quarantined",
      reason: "the body is larger than expected",
      detail: `the body is ${raw.length} bytes, more than receiver.maxBodyBytes (${raw.length - 1}) for a data.full_table_exported webhook`,
    });
    expect(outcome.metric).toBe("WebhookQuarantined");
    expect(sent).toEqual([]);
    expect(quarantined).toHaveLength(1);
    expect(decodeBody(quarantined[0][1])).toEqual(raw);
  });

  it("counts UTF-8 bytes, not characters, against MAX_BODY_BYTES", async () => {
    const event = webhookFixtureJson("full-table-exported");
    (event as Record<string, unknown>).note = "é".repeat(40);
    const body = JSON.stringify(event);
    const { json } = await receive(signed(body), { settings: { maxBodyBytes: body.length } });

    expect(json).toMatchObject({ status: "quarantined", reason: "the body is larger than expected" });
  });

  it.each([
    ["1 MiB", 1024 * 1024],
    ["5 MiB", 5 * 1024 * 1024],
  ])("answers 200 ignored for another event type of %s, whatever MAX_BODY_BYTES says", async (_name, size) => {
    const head = JSON.stringify({ type: "petition.updated", data: { description: "" } });
    const body = head.replace('"description":""', `"description":"${"a".repeat(size - head.length)}"`);
    const { response, json, sent, quarantined } = await receive(signed(body), { settings: { maxBodyBytes: 65_536 } });

    expect(response.statusCode).toBe(200);
    expect(json).toEqual({ status: "ignored", reason: "event-type" });
    expect(sent).toEqual([]);
    expect(quarantined).toEqual([]);
  });
});

describe("receiveWebhook: signed payloads it cannot act on are quarantined, never refused", () => {
  /**
   * Every path that answered 400 before: now 200 "quarantined", nothing queued, and one record stored with the raw
   * body, the headers without the signature, the reason and the time.
   */
  async function expectRejected(request: WebhookRequest, detail: RegExp, reason?: string) {
    const result = await receive(request);
    expect(result.response.statusCode).toBe(200);
    expect(result.json).toEqual({ status: "quarantined", reason: expect.any(String), detail: expect.stringMatching(detail) });
    if (reason !== undefined) expect(result.json.reason).toBe(reason);
    expect(Object.values(QUARANTINE_REASONS)).toContain(result.json.reason);
    expect(result.outcome).toMatchObject({
      metric: "WebhookQuarantined",
      level: "warn",
      message: `webhook quarantined: ${result.json.reason}`,
      help: `see help: webhook quarantined: ${result.json.reason}`,
    });
    expect(result.sent).toEqual([]);
    expect(result.queue.attempts).toEqual([]);
    expect(result.quarantined).toHaveLength(1);
    const [key, record] = result.quarantined[0];
    expect(key).toMatch(/^quarantine\/pending\/20240301\/[0-9a-f]{64}\.json$/);
    expect(record).toEqual({
      version: 1,
      reason: result.json.reason,
      detail: result.json.detail,
      receivedAt: NOW.toISOString(),
      headers: { "content-type": "application/json" },
      body: expect.any(String),
      bodyEncoding: "utf8",
    });
    expect(decodeBody(record).toString()).toBe(request.body);
    // Neither the answer nor the log may carry the presigned URL's signature.
    expect(result.response.body).not.toContain("X-Amz-");
    expect(JSON.stringify(result.outcome)).not.toContain("X-Amz-");
    return result;
  }

  it("quarantines, answering 200, when the body is not JSON", async () => {
    await expectRejected(signed(`{"type":"data.full_table_exported","data":{"url":"https://x/?X-Amz-Signature=abc"`), /^the body is not valid JSON$/, QUARANTINE_REASONS.notJson);
  });

  it("quarantines, answering 200, when the body is empty", async () => {
    await expectRejected(signed(""), /not valid JSON/, QUARANTINE_REASONS.notJson);
  });

  it.each([["an array", "[]"], ["null", "null"], ["a string", '"data.full_table_exported"']])(
    "quarantines, answering 200, when the body is %s, not an object",
    async (_name, body) => {
      await expectRejected(signed(body), /^the body is not a JSON object$/, QUARANTINE_REASONS.notObject);
    },
  );

  it("quarantines, answering 200, when type is missing", async () => {
    const event: Partial<ReturnType<typeof webhookFixtureJson>> = webhookFixtureJson("full-table-exported");
    delete event.type;
    await expectRejected(signed(JSON.stringify(event)), /^type is missing or not a string$/, QUARANTINE_REASONS.noType);
  });

  it("quarantines, answering 200, when data is missing", async () => {
    await expectRejected(signed(JSON.stringify({ type: "data.full_table_exported", jid: "x" })), /^data is missing or not an object$/, QUARANTINE_REASONS.noData);
  });

  it("quarantines, answering 200, when data.table is missing", async () => {
    await expectRejected(signedVariant((data) => delete data.table), /^data\.table is missing or not a string$/, QUARANTINE_REASONS.noTable);
  });

  it.each(["Petitions", "petitions; drop table members", "../petitions", "", "1petitions", "a".repeat(64)])(
    "quarantines, answering 200, when data.table is not a table name: %j",
    async (table) => {
      await expectRejected(signedVariant((data) => (data.table = table)), /^data\.table .* is not a table name/, QUARANTINE_REASONS.badTable);
    },
  );

  it("quarantines, answering 200, when data.url is missing", async () => {
    await expectRejected(signedVariant((data) => delete data.url), /^data\.url is missing or not a string$/, QUARANTINE_REASONS.noUrl);
  });

  it("quarantines, answering 200, when data.url does not parse", async () => {
    await expectRejected(withUrl(`not a url ${FULL_PATH}?${PRESIGNED_QUERY}`), /^data\.url is not a valid URL$/, QUARANTINE_REASONS.unsafeUrl);
  });

  it("quarantines, answering 200, when data.url is not https", async () => {
    await expectRejected(
      withUrl(`http://agra-data-exports-production.s3.amazonaws.com${FULL_PATH}?${PRESIGNED_QUERY}`),
      /^data\.url must use https, not http$/, QUARANTINE_REASONS.unsafeUrl,
    );
  });

  it("quarantines, answering 200, when data.url carries credentials", async () => {
    await expectRejected(
      withUrl(`https://user:pass@agra-data-exports-production.s3.amazonaws.com${FULL_PATH}?${PRESIGNED_QUERY}`),
      /^data\.url must not carry credentials$/, QUARANTINE_REASONS.unsafeUrl,
    );
  });

  it("quarantines, answering 200, when data.url names a port other than 443", async () => {
    await expectRejected(
      withUrl(`https://agra-data-exports-production.s3.amazonaws.com:8443${FULL_PATH}?${PRESIGNED_QUERY}`),
      /^data\.url must not name port 8443$/, QUARANTINE_REASONS.unsafeUrl,
    );
  });

  it.each(["169.254.169.254", "[::1]", "0x7f.1"])("quarantines, answering 200, when the data.url host is an IP address: %s", async (host) => {
    await expectRejected(withUrl(`https://${host}${FULL_PATH}?${PRESIGNED_QUERY}`), /is an IP address/, QUARANTINE_REASONS.unsafeUrl);
  });

  it.each([
    ["another bucket", "someone-elses-bucket.s3.amazonaws.com"],
    ["a look-alike suffix", "agra-data-exports-production.s3.amazonaws.com.evil.example"],
    ["a longer bucket name", "evil-agra-data-exports-production.s3.amazonaws.com"],
    ["a bucket name prefix", "agra-data-exports.s3.amazonaws.com"],
    ["a bad region", "agra-data-exports-production.s3.evil.amazonaws.com"],
    ["a region with extra parts", "agra-data-exports-production.s3.us-east-1.evil.amazonaws.com"],
    ["path-style S3", "s3.amazonaws.com"],
    ["a trailing dot", "agra-data-exports-production.s3.amazonaws.com."],
    ["another service", "agra-data-exports-production.s3-website-us-east-1.amazonaws.com"],
  ])("quarantines, answering 200, when the data.url host is not an allowed ControlShift bucket: %s", async (_name, host) => {
    await expectRejected(
      withUrl(`https://${host}${FULL_PATH}?${PRESIGNED_QUERY}`),
      /^data\.url host .* is not one of the ControlShift export buckets/, QUARANTINE_REASONS.bucketNotAllowed,
    );
  });

  it("quarantines, answering 200, when the file name is not ControlShift's", async () => {
    await expectRejected(
      withUrl(`https://agra-data-exports-production.s3.amazonaws.com/acme/full/petitions/20240301/petitions.csv?${PRESIGNED_QUERY}`),
      /^data\.url: export file name "petitions\.csv" is not <table>_<YYYYMMDDHHMMSS>/, QUARANTINE_REASONS.badFileName,
    );
  });

  it("quarantines, answering 200, when the URL path ends with a slash", async () => {
    await expectRejected(
      withUrl(`https://agra-data-exports-production.s3.amazonaws.com/acme/full/petitions/?${PRESIGNED_QUERY}`),
      /^data\.url: export file name "" is not/, QUARANTINE_REASONS.badFileName,
    );
  });

  it("quarantines, answering 200, when the file name is for another table than data.table", async () => {
    await expectRejected(
      withUrl(
        `https://agra-data-exports-production.s3.amazonaws.com/acme/full/members/20240301/members_20240301020304.csv.bz2?${PRESIGNED_QUERY}`,
      ),
      /is for table "members", but the payload says "petitions"/, QUARANTINE_REASONS.badFileName,
    );
  });

  it("quarantines, answering 200, when the file name carries an impossible timestamp", async () => {
    await expectRejected(
      withUrl(
        `https://agra-data-exports-production.s3.amazonaws.com/acme/full/petitions/20241301/petitions_20241301020304.csv.bz2?${PRESIGNED_QUERY}`,
      ),
      /impossible timestamp/, QUARANTINE_REASONS.badFileName,
    );
  });

  it("quarantines, answering 200, when compression_format is neither bzip2 nor none", async () => {
    await expectRejected(
      signedVariant((data) => (data.compression_format = "gzip")),
      /^data\.compression_format "gzip" is not bzip2 or none$/, QUARANTINE_REASONS.badCompression,
    );
  });

  it("quarantines, answering 200, when compression_format is not a string", async () => {
    await expectRejected(
      signedVariant((data) => (data.compression_format = 1)),
      /^data\.compression_format 1 is not bzip2 or none$/, QUARANTINE_REASONS.badCompression,
    );
  });

  it("quarantines, answering 200, when compression_format is none but the path ends in .bz2", async () => {
    await expectRejected(
      signedVariant((data) => (data.compression_format = "none")),
      /^data\.compression_format is none, but the file name petitions_20240301020304\.csv\.bz2 ends in \.bz2$/, QUARANTINE_REASONS.compressionMismatch,
    );
  });

  it("quarantines, answering 200, when compression_format is bzip2 but the path does not end in .bz2", async () => {
    const event = webhookFixtureJson("incremental-table-exported");
    event.data.compression_format = "bzip2";
    await expectRejected(signed(JSON.stringify(event)), /is bzip2, but the file name .* does not end in \.bz2$/, QUARANTINE_REASONS.compressionMismatch);
  });

  it("logs a quarantined payload with the URL's host and path but not its query", async () => {
    const { outcome } = await expectRejected(
      signedVariant((data) => (data.compression_format = "none")),
      /compression_format/,
    );

    expect(outcome.details).toMatchObject({
      eventType: "data.full_table_exported",
      table: "petitions",
      sourceHost: "agra-data-exports-production.s3.amazonaws.com",
      sourcePath: FULL_PATH,
      quarantineReason: QUARANTINE_REASONS.compressionMismatch,
      detail: expect.stringMatching(/compression_format/),
      quarantineKey: expect.stringMatching(/^quarantine\/pending\//),
    });
    expect(outcome.error).toBeUndefined();
  });

  it("stores the headers without the signature or credentials, and a non-UTF-8 body as base64", async () => {
    const body = Buffer.concat([Buffer.from('{"type":"data.full_table_exported","data":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const { response, json, quarantined } = await receive({
      headers: {
        "Content-Type": "application/json",
        "X-ControlShift-Webhook-Signature": controlShiftSignature(body),
        Authorization: "Basic dXNlcjpwYXNz",
        "User-Agent": "ControlShift Webhooks",
      },
      body: body.toString("base64"),
      isBase64Encoded: true,
    });

    expect(response.statusCode).toBe(200);
    expect(json.status).toBe("quarantined");
    const [, record] = quarantined[0];
    expect(record.headers).toEqual({ "content-type": "application/json", "user-agent": "ControlShift Webhooks" });
    expect(record.bodyEncoding).toBe("base64");
    expect(decodeBody(record)).toEqual(body);
  });

  it("stores a ControlShift retry of the same payload (a new jid) under the same key", async () => {
    const first = webhookFixtureJson("full-table-exported");
    first.data.compression_format = "gzip";
    const retry = { ...first, jid: "a-new-job-id-for-the-retry" };
    const a = await receive(signed(JSON.stringify(first)));
    const b = await receive(signed(JSON.stringify(retry)));
    const other = await receive(signed(JSON.stringify({ ...first, data: { ...first.data, table: "signatures" } })));

    expect(a.quarantined[0][0]).toBe(b.quarantined[0][0]);
    expect(other.quarantined[0][0]).not.toBe(a.quarantined[0][0]);
  });

  it("answers 503 and queues nothing when the quarantine cannot be written, so ControlShift retries", async () => {
    const s3Error = Object.assign(new Error("Access Denied"), { name: "AccessDenied" });
    const quarantine = new FakeQuarantine(s3Error);
    const { response, json, outcome, sent } = await receive(signedVariant((data) => (data.compression_format = "gzip")), {
      quarantine,
    });

    expect(response.statusCode).toBe(503);
    expect(json).toEqual({ error: "the payload could not be quarantined; retry later" });
    expect(outcome).toMatchObject({ metric: "WebhookQuarantineFailed", level: "error" });
    expect(outcome.error).toBeInstanceOf(QuarantineWriteError);
    expect(outcome.error?.cause).toBe(s3Error);
    expect(outcome.details).toMatchObject({ quarantineReason: QUARANTINE_REASONS.badCompression });
    expect(sent).toEqual([]);
  });

  it("still answers 401 to an unsigned or wrongly signed payload it could not act on, storing nothing", async () => {
    const bad = signedVariant((data) => (data.compression_format = "gzip"));
    const unsigned = await receive({ ...bad, headers: { "content-type": "application/json" } });
    const wrong = await receive(signed(bad.body!, "another secret"));

    for (const r of [unsigned, wrong]) {
      expect(r.response.statusCode).toBe(401);
      expect(r.quarantined).toEqual([]);
      expect(r.sent).toEqual([]);
    }
  });
});

describe("receiveWebhook: both ControlShift production buckets", () => {
  it.each([
    ["the US bucket", "agra-data-exports-production.s3.amazonaws.com"],
    ["the EU bucket", "agra-data-exports-production-eu-central-1.s3.amazonaws.com"],
    ["the EU bucket's regional host", "agra-data-exports-production-eu-central-1.s3.eu-central-1.amazonaws.com"],
  ])("queues an export on %s with the default allow-list", async (_name, host) => {
    const { response, json, sent } = await receive(withUrl(`https://${host}${FULL_PATH}?${PRESIGNED_QUERY}`));

    expect(response.statusCode).toBe(200);
    expect(json.status).toBe("queued");
    expect(sent).toHaveLength(1);
  });

  it("quarantines the staging bucket unless it is configured", async () => {
    const url = `https://agra-data-exports-staging.s3.amazonaws.com${FULL_PATH}?${PRESIGNED_QUERY}`;
    const refused = await receive(withUrl(url));
    const allowed = await receive(withUrl(url), { settings: { buckets: [...SETTINGS.buckets, "agra-data-exports-staging"] } });

    expect(refused.json).toMatchObject({ status: "quarantined", reason: QUARANTINE_REASONS.bucketNotAllowed });
    expect(allowed.json).toMatchObject({ status: "queued" });
  });
});
