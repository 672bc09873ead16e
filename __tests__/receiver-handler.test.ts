/**
 * The receiver's Lambda entry (`handlers/receiver/index.ts`) as API Gateway calls it, with Secrets Manager and SQS
 * replaced by aws-sdk-client-mock. The entry reads its environment at import, so every test loads a fresh copy of it
 * (and of the SDK clients it uses, which are mocked in that same module registry).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { TEST_SIGNING_SECRET, controlShiftSignature, webhookFixture } from "./fixtures/webhooks";
import { loadReceiverEntry } from "./helpers/lambda-entry";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cs-mirror-webhook-signing-AbCdEf";
const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/cs-mirror-downloads";
const ENV = {
  SIGNING_SECRET_ARN: SECRET_ARN,
  DOWNLOAD_QUEUE_URL: QUEUE_URL,
  TABLES: "petitions,signatures,members",
  CONTROLSHIFT_BUCKETS: "agra-data-exports-production,agra-data-exports-production-eu-central-1",
  QUARANTINE_BUCKET: "cs-mirror-exports-20240301020304123400000001",
  SECRET_CACHE_SECONDS: "300",
  MAX_BODY_BYTES: "65536",
  POWERTOOLS_SERVICE_NAME: "cs-mirror-receiver",
  POWERTOOLS_METRICS_NAMESPACE: "ControlShiftMirror",
  AWS_REGION: "us-east-1",
};
const ENV_NAMES = [
  ...Object.keys(ENV),
  "SECRET_CACHE_SECONDS",
  "MAX_BODY_BYTES",
  "POWERTOOLS_METRICS_NAMESPACE",
  "POWERTOOLS_DEV",
  "POWERTOOLS_METRICS_DISABLED",
];
const savedEnv = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));

function setEnv(env: Record<string, string | undefined>) {
  for (const name of ENV_NAMES) delete process.env[name];
  for (const [name, value] of Object.entries(env)) if (value !== undefined) process.env[name] = value;
}

afterEach(() => {
  setEnv(savedEnv);
  jest.restoreAllMocks();
  jest.useRealTimers();
});

/** Loads a fresh entry under `env`, with mocked Secrets Manager and SQS clients from the same module registry. */
function loadEntry(env: Record<string, string | undefined> = ENV) {
  setEnv(env);
  const { handler, sm, sqs, s3, secretsManager, queue, bucket } = loadReceiverEntry(env);
  secretsManager.on(sm.GetSecretValueCommand).resolves({ ARN: SECRET_ARN, SecretString: `${TEST_SIGNING_SECRET}\n` });
  queue.on(sqs.SendMessageCommand).resolves({ MessageId: "2f0e7c2a-5d7e-4f1b-9f55-6b0c4a1e8d3b" });
  bucket.on(s3.PutObjectCommand).resolves({});
  return { handler, sm, sqs, s3, secretsManager, queue, bucket };
}

/** Everything Powertools writes (logs and EMF metrics), one parsed JSON object per line. */
function captureOutput() {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(...String(chunk).split("\n").filter((line) => line.trim() !== ""));
    return true;
  };
  jest.spyOn(process.stdout, "write").mockImplementation(capture);
  jest.spyOn(process.stderr, "write").mockImplementation(capture);
  return {
    raw: () => lines.join("\n"),
    records: () => lines.map((line) => JSON.parse(line) as Record<string, any>),
    metrics: () =>
      lines
        .map((line) => JSON.parse(line) as Record<string, any>)
        .filter((record) => record._aws !== undefined)
        .map((record) => ({
          namespace: record._aws.CloudWatchMetrics[0].Namespace as string,
          name: record._aws.CloudWatchMetrics[0].Metrics[0].Name as string,
          reason: record.reason as string | undefined,
        })),
  };
}

/** An API Gateway HTTP API (payload format 2.0) event for a ControlShift delivery. */
function apiEvent(
  body: Buffer,
  { headers, base64 = false }: { headers?: Record<string, string>; base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "POST /webhook",
    rawPath: "/webhook",
    rawQueryString: "",
    headers: headers ?? {
      "content-type": "application/json",
      "user-agent": "ControlShift Webhooks",
      "x-controlshift-webhook-signature": controlShiftSignature(body),
    },
    requestContext: {
      accountId: "123456789012",
      apiId: "a1b2c3d4e5",
      domainName: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
      domainPrefix: "a1b2c3d4e5",
      http: {
        method: "POST",
        path: "/webhook",
        protocol: "HTTP/1.1",
        sourceIp: "54.144.65.46",
        userAgent: "ControlShift Webhooks",
      },
      requestId: "VxQ2biGtoAMEVbw=",
      routeKey: "POST /webhook",
      stage: "$default",
      time: "01/Mar/2024:02:05:00 +0000",
      timeEpoch: 1709258700000,
    },
    body: base64 ? body.toString("base64") : body.toString("utf8"),
    isBase64Encoded: base64,
  };
}

function json(response: APIGatewayProxyStructuredResultV2) {
  expect(response.headers).toEqual({ "content-type": "application/json" });
  return JSON.parse(response.body ?? "");
}

const FULL = webhookFixture("full-table-exported");

describe("receiver entry: environment", () => {
  it.each(["SIGNING_SECRET_ARN", "DOWNLOAD_QUEUE_URL", "TABLES", "CONTROLSHIFT_BUCKETS", "QUARANTINE_BUCKET", "POWERTOOLS_METRICS_NAMESPACE"])(
    "fails at cold start, naming %s, when it is missing",
    (name) => {
      expect(() => loadEntry({ ...ENV, [name]: undefined })).toThrow(new RegExp(`${name} is not set`));
    },
  );

  it("fails at cold start when a table name in TABLES is invalid", () => {
    expect(() => loadEntry({ ...ENV, TABLES: "petitions,Signatures" })).toThrow(/TABLES .*bad: Signatures/);
  });
});

describe("receiver entry: requests", () => {
  it("queues the exact SendMessage for a signed full export sent with mixed-case headers", async () => {
    const { handler, sm, sqs, secretsManager, queue } = loadEntry();
    const output = captureOutput();

    const response = await handler(
      apiEvent(FULL, {
        headers: {
          "Content-Type": "application/json",
          "X-ControlShift-Webhook-Signature": controlShiftSignature(FULL),
        },
      }),
    );

    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({
      status: "queued",
      table: "petitions",
      kind: "full",
      fileName: "petitions_20240301020304.csv.bz2",
    });
    expect(secretsManager.commandCalls(sm.GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: SECRET_ARN },
    ]);
    const sends = queue.commandCalls(sqs.SendMessageCommand);
    expect(sends).toHaveLength(1);
    const input = sends[0].args[0].input;
    expect(input).toEqual({
      QueueUrl: QUEUE_URL,
      MessageBody: expect.any(String),
      MessageAttributes: {
        table: { DataType: "String", StringValue: "petitions" },
        kind: { DataType: "String", StringValue: "full" },
      },
    });
    const path = "/acme-campaigns/full/petitions/20240301/petitions_20240301020304.csv.bz2";
    expect(JSON.parse(input.MessageBody!)).toEqual({
      version: 1,
      kind: "full",
      table: "petitions",
      fileName: "petitions_20240301020304.csv.bz2",
      exportedAt: "2024-03-01T02:03:04Z",
      dateFolder: "20240301",
      url:
        `https://agra-data-exports-production.s3.amazonaws.com${path}` +
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240301%2Fus-east-1%2Fs3%2Faws4_request" +
        "&X-Amz-Date=20240301T020310Z&X-Amz-Expires=21600&X-Amz-SignedHeaders=host" +
        "&X-Amz-Signature=3f1c0e7a9b5d2c4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e",
      compression: "bzip2",
      sourcePath: path,
      receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });

    expect(output.metrics()).toEqual([{ namespace: "ControlShiftMirror", name: "WebhookAccepted", reason: undefined }]);
    const logs = output.records().filter((record) => record._aws === undefined);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      level: "INFO",
      service: "cs-mirror-receiver",
      statusCode: 200,
      table: "petitions",
      sourcePath: path,
      request: { requestId: "VxQ2biGtoAMEVbw=", sourceIp: "54.144.65.46" },
    });
    expect(output.raw()).not.toContain("X-Amz-Signature");
    expect(output.raw()).not.toContain(controlShiftSignature(FULL));
  });

  it("accepts a base64-encoded body", async () => {
    const { handler, sqs, queue } = loadEntry();
    captureOutput();

    const response = await handler(apiEvent(FULL, { base64: true }));

    expect(response.statusCode).toBe(200);
    expect(queue.commandCalls(sqs.SendMessageCommand)).toHaveLength(1);
  });

  it("reads the secret once for a burst of webhooks", async () => {
    const { handler, sm, secretsManager } = loadEntry();
    captureOutput();

    await handler(apiEvent(FULL));
    await handler(apiEvent(webhookFixture("incremental-table-exported")));

    expect(secretsManager.commandCalls(sm.GetSecretValueCommand)).toHaveLength(1);
  });

  it("picks up a rotated secret from Secrets Manager without a new deploy", async () => {
    jest.useFakeTimers({ doNotFake: ["nextTick", "setImmediate", "setTimeout", "setInterval", "queueMicrotask"] });
    jest.setSystemTime(new Date("2024-03-01T02:05:00Z"));
    const { handler, sm, secretsManager } = loadEntry();
    captureOutput();
    await handler(apiEvent(FULL));

    // The operator rotates the secret in ControlShift and in Secrets Manager; a minute later a webhook comes signed
    // with the new one, while the old one is still cached.
    secretsManager.on(sm.GetSecretValueCommand).resolves({ SecretString: "the-rotated-secret" });
    jest.setSystemTime(new Date("2024-03-01T02:06:00Z"));
    const response = await handler(
      apiEvent(FULL, { headers: { "x-controlshift-webhook-signature": controlShiftSignature(FULL, "the-rotated-secret") } }),
    );

    expect(response.statusCode).toBe(200);
    expect(secretsManager.commandCalls(sm.GetSecretValueCommand)).toHaveLength(2);
  });

  it("answers 401 and queues nothing when the secret has no value yet (ResourceNotFoundException)", async () => {
    const { handler, sm, sqs, secretsManager, queue } = loadEntry();
    const output = captureOutput();
    secretsManager.on(sm.GetSecretValueCommand).rejects(
      new sm.ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        $metadata: { httpStatusCode: 400 },
      }),
    );

    const response = await handler(apiEvent(FULL));

    expect(response.statusCode).toBe(401);
    expect(json(response).error).toMatch(/no webhook signing secret is configured/);
    expect(queue.commandCalls(sqs.SendMessageCommand)).toHaveLength(0);
    expect(output.metrics().map((m) => m.name)).toEqual(["WebhookUnauthorized"]);
  });

  it.each([["empty", ""], ["only whitespace", " \n"], ["missing (binary secret)", undefined]])(
    "answers 401 when the secret's value is %s",
    async (_name, secretString) => {
      const { handler, sm, sqs, secretsManager, queue } = loadEntry();
      captureOutput();
      secretsManager.on(sm.GetSecretValueCommand).resolves({ SecretString: secretString });

      const response = await handler(apiEvent(FULL));

      expect(response.statusCode).toBe(401);
      expect(queue.commandCalls(sqs.SendMessageCommand)).toHaveLength(0);
    },
  );

  it("answers 401 when the body is signed with another secret", async () => {
    const { handler, sqs, queue } = loadEntry();
    captureOutput();

    const response = await handler(
      apiEvent(FULL, { headers: { "x-controlshift-webhook-signature": controlShiftSignature(FULL, "wrong") } }),
    );

    expect(response.statusCode).toBe(401);
    expect(queue.commandCalls(sqs.SendMessageCommand)).toHaveLength(0);
  });

  it("answers 503 and queues nothing when Secrets Manager throttles", async () => {
    const { handler, sm, sqs, secretsManager, queue } = loadEntry();
    const output = captureOutput();
    secretsManager.on(sm.GetSecretValueCommand).rejects(
      Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } }),
    );

    const response = await handler(apiEvent(FULL));

    expect(response.statusCode).toBe(503);
    expect(json(response)).toEqual({ error: "the webhook signing secret could not be read; retry later" });
    expect(queue.commandCalls(sqs.SendMessageCommand)).toHaveLength(0);
    expect(output.metrics().map((m) => m.name)).toEqual(["WebhookSecretUnavailable"]);
    const [log] = output.records().filter((record) => record._aws === undefined);
    expect(log).toMatchObject({ level: "ERROR", error: { name: "SigningSecretUnavailableError", cause: { name: "ThrottlingException" } } });
  });

  it("answers 503 when SQS refuses the message, after exactly one send", async () => {
    const { handler, sqs, queue } = loadEntry();
    const output = captureOutput();
    queue.on(sqs.SendMessageCommand).rejects(
      Object.assign(new Error("Service Unavailable"), { name: "ServiceUnavailable", $metadata: { httpStatusCode: 503 } }),
    );

    const response = await handler(apiEvent(FULL));

    expect(response.statusCode).toBe(503);
    expect(json(response)).toEqual({ error: "the export could not be queued; retry later" });
    expect(queue.commandCalls(sqs.SendMessageCommand)).toHaveLength(1);
    expect(output.metrics().map((m) => m.name)).toEqual(["WebhookQueueFailed"]);
  });

  it("answers 200, queues nothing and counts WebhookIgnored(reason=unconfigured-table) for another table", async () => {
    const { handler, sqs, queue } = loadEntry({ ...ENV, TABLES: "signatures", POWERTOOLS_METRICS_NAMESPACE: "CsMirrorStaging" });
    const output = captureOutput();

    const response = await handler(apiEvent(FULL));

    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({ status: "ignored", reason: "unconfigured-table" });
    expect(queue.commandCalls(sqs.SendMessageCommand)).toHaveLength(0);
    expect(output.metrics()).toEqual([
      { namespace: "CsMirrorStaging", name: "WebhookIgnored", reason: "unconfigured-table" },
    ]);
  });

  it("answers 200 and queues nothing for another event type", async () => {
    const { handler, sqs, queue } = loadEntry();
    const output = captureOutput();

    const response = await handler(apiEvent(webhookFixture("signature-created")));

    expect(response.statusCode).toBe(200);
    expect(queue.commandCalls(sqs.SendMessageCommand)).toHaveLength(0);
    expect(output.metrics()).toEqual([{ namespace: "ControlShiftMirror", name: "WebhookIgnored", reason: "event-type" }]);
  });

  it("quarantines a signed payload on another bucket: one PutObject, 200, WebhookQuarantined, nothing queued", async () => {
    const { handler, sqs, queue, s3, bucket } = loadEntry();
    const output = captureOutput();
    const body = Buffer.from(FULL.toString("utf8").replace("agra-data-exports-production.s3", "other-bucket.s3"));

    const response = await handler(apiEvent(body));

    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({
      status: "quarantined",
      reason: "data.url is not on an allowed export bucket",
      detail: expect.stringMatching(/host other-bucket\.s3\.amazonaws\.com is not one of the ControlShift export buckets/),
    });
    expect(queue.commandCalls(sqs.SendMessageCommand)).toHaveLength(0);
    const puts = bucket.commandCalls(s3.PutObjectCommand).map((c) => c.args[0].input);
    expect(puts).toEqual([
      expect.objectContaining({
        Bucket: ENV.QUARANTINE_BUCKET,
        Key: expect.stringMatching(/^quarantine\/pending\/\d{8}\/[0-9a-f]{64}\.json$/),
        ContentType: "application/json",
      }),
    ]);
    const stored = JSON.parse(String(puts[0].Body));
    expect(stored).toEqual({
      version: 1,
      reason: "data.url is not on an allowed export bucket",
      detail: json(response).detail,
      receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      headers: expect.not.objectContaining({ "x-controlshift-webhook-signature": expect.anything() }),
      body: body.toString("utf8"),
      bodyEncoding: "utf8",
    });
    expect(output.metrics().map((m) => m.name)).toEqual(["WebhookQuarantined"]);
    const logs = output.records().filter((record) => record._aws === undefined);
    expect(logs).toEqual([
      expect.objectContaining({
        level: "WARN",
        statusCode: 200,
        message: "webhook quarantined: data.url is not on an allowed export bucket",
        help: "see help: webhook quarantined: data.url is not on an allowed export bucket",
        sourceHost: "other-bucket.s3.amazonaws.com",
      }),
    ]);
    expect(output.raw()).not.toContain("X-Amz-");
    expect(output.raw()).not.toContain(controlShiftSignature(body));
  });

  it("answers 503 when the quarantine PutObject fails, so ControlShift retries", async () => {
    const { handler, sqs, queue, s3, bucket } = loadEntry();
    const output = captureOutput();
    bucket.on(s3.PutObjectCommand).rejects(Object.assign(new Error("Access Denied"), { name: "AccessDenied" }));
    const body = Buffer.from(FULL.toString("utf8").replace("agra-data-exports-production.s3", "other-bucket.s3"));

    const response = await handler(apiEvent(body));

    expect(response.statusCode).toBe(503);
    expect(json(response)).toEqual({ error: "the payload could not be quarantined; retry later" });
    expect(queue.commandCalls(sqs.SendMessageCommand)).toHaveLength(0);
    expect(output.metrics().map((m) => m.name)).toEqual(["WebhookQuarantineFailed"]);
    const logs = output.records().filter((record) => record._aws === undefined);
    expect(logs).toEqual([expect.objectContaining({ level: "ERROR", statusCode: 503, help: "see help: QuarantineWriteError" })]);
  });

  it("quarantines a signed bulk-data body over MAX_BODY_BYTES (no 413), after checking the signature", async () => {
    const { handler, sm, secretsManager, s3, bucket } = loadEntry({ ...ENV, MAX_BODY_BYTES: "256" });
    captureOutput();

    const response = await handler(apiEvent(FULL));

    expect(response.statusCode).toBe(200);
    expect(json(response)).toMatchObject({ status: "quarantined", reason: "the body is larger than expected" });
    expect(secretsManager.commandCalls(sm.GetSecretValueCommand)).toHaveLength(1);
    expect(bucket.commandCalls(s3.PutObjectCommand)).toHaveLength(1);
  });

  it("answers 200 ignored to another event type over MAX_BODY_BYTES", async () => {
    const { handler, s3, bucket } = loadEntry({ ...ENV, MAX_BODY_BYTES: "256" });
    captureOutput();
    const body = Buffer.from(JSON.stringify({ type: "petition.updated", data: { text: "x".repeat(100_000) } }));

    const response = await handler(apiEvent(body));

    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({ status: "ignored", reason: "event-type" });
    expect(bucket.commandCalls(s3.PutObjectCommand)).toHaveLength(0);
  });
});
