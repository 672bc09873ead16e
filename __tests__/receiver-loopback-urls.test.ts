/**
 * The receiver's one seam for local runs: download URLs under explicit loopback prefixes (`npm run local` serves
 * export files from 127.0.0.1). Production never has such a prefix, so it still refuses every URL that is not an
 * HTTPS URL on a ControlShift bucket, loopback ones included.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { DownloadJob } from "../handlers/shared/export-file";
import { ExportUrlError, parseExportUrl, parseLoopbackUrlPrefix } from "../handlers/shared/export-url";
import { type ReceiverSettings, receiveWebhook } from "../handlers/receiver/receive";
import { TEST_SIGNING_SECRET, controlShiftSignature, webhookFixtureJson } from "./fixtures/webhooks";
import { loadReceiverEntry } from "./helpers/lambda-entry";

const BUCKETS = ["agra-data-exports-production"];
const LOCAL_PATH = "/acme-campaigns/full/petitions/20240301/petitions_20240301020304.csv";
const LOCAL_URL = `http://127.0.0.1:8901${LOCAL_PATH}?X-Amz-Signature=abc`;

/** The full-export fixture pointing at `url`, signed with the test secret. */
function signedBody(url: string): { body: string; signature: string } {
  const event = webhookFixtureJson("full-table-exported");
  event.data.url = url;
  event.data.compression_format = "none";
  delete event.data.s3;
  const body = JSON.stringify(event);
  return { body, signature: controlShiftSignature(body) };
}

describe("parseLoopbackUrlPrefix", () => {
  it.each([
    ["http://127.0.0.1:8901/", "http://127.0.0.1:8901", "/"],
    ["http://127.0.0.1:8901", "http://127.0.0.1:8901", "/"],
    ["http://127.1.2.3/exports/", "http://127.1.2.3", "/exports/"],
    ["http://localhost:9000/a/b/", "http://localhost:9000", "/a/b/"],
    ["https://[::1]:8443/", "https://[::1]:8443", "/"],
  ])("accepts %s", (raw, origin, path) => {
    expect(parseLoopbackUrlPrefix(raw)).toEqual({ origin, path });
  });

  it.each([
    ["https://agra-data-exports-production.s3.amazonaws.com/", /not this machine/],
    ["http://10.0.0.5:8080/", /not this machine/],
    ["http://169.254.169.254/", /not this machine/],
    ["http://localhost.example.com/", /not this machine/],
    ["ftp://127.0.0.1/", /http or https/],
    ["file:///tmp/", /http or https/],
    ["http://user:pw@127.0.0.1/", /credentials/],
    ["http://127.0.0.1/?x=1", /query/],
    ["http://127.0.0.1/exports", /must end in "\/"/],
    ["not a url", /not a valid URL/],
  ])("refuses %s", (raw, message) => {
    expect(() => parseLoopbackUrlPrefix(raw)).toThrow(ExportUrlError);
    expect(() => parseLoopbackUrlPrefix(raw)).toThrow(message);
  });
});

describe("parseExportUrl with loopback prefixes", () => {
  const prefix = parseLoopbackUrlPrefix("http://127.0.0.1:8901/acme-campaigns/");

  it("accepts a URL under a prefix, query kept for the downloader, no bucket", () => {
    expect(parseExportUrl(LOCAL_URL, BUCKETS, [prefix])).toEqual({
      href: LOCAL_URL,
      bucket: undefined,
      host: "127.0.0.1:8901",
      path: LOCAL_PATH,
      fileName: "petitions_20240301020304.csv",
    });
  });

  it.each([
    ["another port", `http://127.0.0.1:8902${LOCAL_PATH}`],
    ["another scheme", `https://127.0.0.1:8901${LOCAL_PATH}`],
    ["a path outside the prefix", "http://127.0.0.1:8901/other/petitions_20240301020304.csv"],
    ["a path that climbs out of it", "http://127.0.0.1:8901/acme-campaigns/../other/petitions_20240301020304.csv"],
    ["a look-alike host", `http://127.0.0.1.nip.io:8901${LOCAL_PATH}`],
    ["credentials", `http://127.0.0.1:8901@evil.example${LOCAL_PATH}`],
    ["credentials on the right host", `http://u:p@127.0.0.1:8901${LOCAL_PATH}`],
  ])("still refuses %s", (_what, url) => {
    expect(() => parseExportUrl(url, BUCKETS, [prefix])).toThrow(ExportUrlError);
  });

  it("refuses loopback URLs without a prefix, as production does", () => {
    expect(() => parseExportUrl(LOCAL_URL, BUCKETS)).toThrow("data.url must use https, not http");
    expect(() => parseExportUrl(`https://127.0.0.1${LOCAL_PATH}`, BUCKETS)).toThrow(/is an IP address/);
  });
});

describe("receiveWebhook and loopback prefixes", () => {
  const settings: ReceiverSettings = { tables: new Set(["petitions"]), buckets: BUCKETS, maxBodyBytes: 65_536 };
  const now = new Date("2024-03-01T02:05:00Z");

  async function receive(body: string, signature: string, extra: Partial<ReceiverSettings> = {}) {
    const sent: DownloadJob[] = [];
    const response = await receiveWebhook(
      { headers: { "x-controlshift-webhook-signature": signature }, body, isBase64Encoded: false },
      { ...settings, ...extra },
      {
        secret: {
          current: async () => ({ value: TEST_SIGNING_SECRET, fetchedAt: now }),
          refresh: async () => ({ value: TEST_SIGNING_SECRET, fetchedAt: now }),
        },
        queue: { send: async (job) => void sent.push(job) },
        quarantine: { put: async () => undefined },
        clock: () => now,
        report: () => undefined,
      },
    );
    return { response, json: JSON.parse(response.body), sent };
  }

  it("quarantines and queues nothing for a loopback URL when no prefix is configured", async () => {
    const { body, signature } = signedBody(LOCAL_URL);
    const { response, json, sent } = await receive(body, signature);
    expect(response.statusCode).toBe(200);
    expect(json).toEqual({ status: "quarantined", reason: "data.url is not a safe https URL", detail: "data.url must use https, not http" });
    expect(sent).toEqual([]);
  });

  it("queues a loopback URL under a configured prefix", async () => {
    const { body, signature } = signedBody(LOCAL_URL);
    const { response, sent } = await receive(body, signature, {
      loopbackUrlPrefixes: [parseLoopbackUrlPrefix("http://127.0.0.1:8901/")],
    });
    expect(response.statusCode).toBe(200);
    expect(sent).toEqual([expect.objectContaining({ url: LOCAL_URL, sourcePath: LOCAL_PATH, compression: "none" })]);
  });
});

describe("the receiver Lambda entry", () => {
  const ENV: Record<string, string> = {
    SIGNING_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:cs-mirror-webhook-signing-AbCdEf",
    DOWNLOAD_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/cs-mirror-downloads",
    TABLES: "petitions",
    CONTROLSHIFT_BUCKETS: BUCKETS.join(","),
    QUARANTINE_BUCKET: "cs-mirror-exports-20240301020304123400000001",
    SECRET_CACHE_SECONDS: "300",
    MAX_BODY_BYTES: "65536",
    POWERTOOLS_SERVICE_NAME: "cs-mirror-receiver",
    POWERTOOLS_METRICS_NAMESPACE: "ControlShiftMirror/cs-mirror",
    POWERTOOLS_METRICS_DISABLED: "true",
    AWS_REGION: "us-east-1",
    // Whatever an operator might try: the entry reads no variable that adds a prefix.
    ALLOW_URL_PREFIX: "http://127.0.0.1:8901/",
    LOOPBACK_URL_PREFIXES: "http://127.0.0.1:8901/",
  };
  const saved = { ...process.env };

  afterEach(() => {
    process.env = { ...saved };
    jest.restoreAllMocks();
  });

  it("quarantines a signed webhook whose URL is on 127.0.0.1, and sends nothing to SQS", async () => {
    process.env = { ...saved, ...ENV };
    jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    const { handler, sm, sqs, s3, secretsManager, queue, bucket } = loadReceiverEntry(ENV);
    bucket.on(s3.PutObjectCommand).resolves({});
    secretsManager.on(sm.GetSecretValueCommand).resolves({ SecretString: TEST_SIGNING_SECRET });
    queue.on(sqs.SendMessageCommand).resolves({ MessageId: "m-1" });

    const { body, signature } = signedBody(LOCAL_URL);
    const event = {
      version: "2.0",
      routeKey: "POST /webhook",
      rawPath: "/webhook",
      rawQueryString: "",
      headers: { "content-type": "application/json", "x-controlshift-webhook-signature": signature },
      requestContext: { http: { method: "POST", path: "/webhook", sourceIp: "127.0.0.1" }, requestId: "r-1" },
      body,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const response = await handler(event);

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body ?? "")).toMatchObject({ status: "quarantined", detail: "data.url must use https, not http" });
    expect(queue.commandCalls(sqs.SendMessageCommand)).toHaveLength(0);
    expect(bucket.commandCalls(s3.PutObjectCommand)).toHaveLength(1);
  });
});
