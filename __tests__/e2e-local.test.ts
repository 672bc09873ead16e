/**
 * End to end through the local runner (scripts/local): the receiver's, downloader's and loader's own code, wired as
 * `npm run local` wires them, on ephemeral ports and a temp state folder. A signed webhook is POSTed over HTTP to the
 * runner, which downloads from a loopback server playing ControlShift's bucket, stores in s3rver through the S3
 * client, and loads into PGlite on disk. Every assertion on data queries the mirror.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { parseLoopbackUrlPrefix } from "../handlers/shared/export-url";
import { startLocalRunner, type LocalRunner } from "../scripts/local/runner";
import { FAKE_SIGNATURE, startExportServer, type ExportServer } from "./helpers/export-server";
import { NodePGlite } from "./fixtures/local/node-pglite";
import { TEST_SIGNING_SECRET, controlShiftSignature, webhookFixtureJson } from "./fixtures/webhooks";

const FIXTURES = join(__dirname, "fixtures");
const fixture = (path: string) => readFileSync(join(FIXTURES, path));
const META = "controlshift_mirror_meta";

let dir: string;
let exports: ExportServer;
let runner: LocalRunner;
const lines: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cs-mirror-e2e-local-"));
  exports = await startExportServer();
  runner = await startLocalRunner({
    stateDir: dir,
    tables: ["petitions", "signatures", "comments", "members"],
    webhook: { port: 0, secret: TEST_SIGNING_SECRET, loopbackUrlPrefixes: [parseLoopbackUrlPrefix(`${exports.origin}/`)] },
    queues: { maxAttempts: 2, retryDelayMs: () => 20 },
    pglite: NodePGlite,
    print: (line) => lines.push(line),
  });
});

afterAll(async () => {
  await runner?.close();
  await exports?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Serves `body` as ControlShift's object `<org>/<kind>/<table>/<date>/<file>`; returns its presigned-looking URL. */
function serveExport(kind: "full" | "incremental", fileName: string, body: Buffer): string {
  const table = fileName.replace(/_\d{14}\.csv(\.bz2)?$/, "");
  const path = `/acme-campaigns/${kind}/${table}/${fileName.slice(table.length + 1, table.length + 9)}/${fileName}`;
  exports.route(path, { type: "body", body, contentType: fileName.endsWith(".bz2") ? "application/x-bzip2" : "text/csv" });
  return exports.url(path);
}

/** A webhook body as ControlShift sends it (from the fixtures: compact JSON, `&` escaped as `\u0026`). */
function webhookBody(kind: "full" | "incremental", url: string): string {
  const event = webhookFixtureJson(kind === "full" ? "full-table-exported" : "incremental-table-exported");
  const fileName = new URL(url).pathname.split("/").pop()!;
  event.data.url = url;
  event.data.table = fileName.replace(/_\d{14}\.csv(\.bz2)?$/, "");
  event.data.compression_format = fileName.endsWith(".bz2") ? "bzip2" : "none";
  delete event.data.s3;
  return JSON.stringify(event).replace(/&/g, "\\u0026");
}

async function post(body: string, signature = controlShiftSignature(body)) {
  const response = await fetch(runner.webhookUrl!, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "ControlShift Webhooks", "x-controlshift-webhook-signature": signature },
    body,
  });
  return { status: response.status, contentType: response.headers.get("content-type"), json: await response.json() };
}

/** Serves the export and POSTs its signed webhook; expects 200 queued. */
async function deliver(kind: "full" | "incremental", fileName: string, body: Buffer) {
  const answer = await post(webhookBody(kind, serveExport(kind, fileName, body)));
  expect(answer).toEqual({
    status: 200,
    contentType: "application/json",
    json: { status: "queued", table: fileName.replace(/_\d{14}\.csv(\.bz2)?$/, ""), kind, fileName },
  });
}

async function query(sql: string): Promise<(string | null)[][]> {
  const [result] = await runner.mirror.query(sql);
  return result.rows.map((row) => [...row]);
}

async function ledger(table: string) {
  return query(
    `SELECT kind, object_key, outcome, rows_loaded::text FROM "${META}"."load_ledger" WHERE table_name = '${table}' ` +
      "ORDER BY finished_at, object_key",
  );
}

async function objectBytes(key: string): Promise<Buffer> {
  const out = await runner.store.client.send(new GetObjectCommand({ Bucket: runner.store.bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

describe("npm run local, end to end", () => {
  it("takes a signed full-export webhook to rows in the mirror: download, bucket, load", async () => {
    const csv = fixture("exports/petitions_20240301020304.csv");
    await deliver("full", "petitions_20240301020304.csv", csv);
    await runner.idle();

    const key = "exports/full/petitions/20240301/petitions_20240301020304.csv";
    expect(await objectBytes(key)).toEqual(csv);
    const head = await runner.store.client.send(new HeadObjectCommand({ Bucket: runner.store.bucket, Key: key }));
    expect(head.Metadata).toMatchObject({ kind: "full", table: "petitions", "exported-at": "2024-03-01T02:03:04Z" });

    expect(await query("SELECT id::text, title, what, launched::text, _cs_exported_at::text FROM controlshift.petitions ORDER BY petitions.id")).toEqual([
      ["1", "Save the park, please", "Keep the park open\nfor everyone", "true", "2024-03-01 02:03:04"],
      ["2", "Bring back route 12", null, "false", "2024-03-01 02:03:04"],
      ["3", "Água limpa já", "Água potável, para todos", "true", "2024-03-01 02:03:04"],
    ]);
    expect(await ledger("petitions")).toEqual([["full", key, "loaded", "3"]]);
    expect(runner.lastLoad(key)).toMatchObject({ outcome: "loaded", rows: 3 });
    // One readable line per step: webhook, download, load.
    expect(lines.join("\n")).toMatch(/webhook\s+petitions\s+full\s+petitions_20240301020304\.csv\s+200\s+-\s+queued/);
    expect(lines.join("\n")).toMatch(/download\s+petitions\s+full\s+petitions_20240301020304\.csv\s+[\d.]+ (B|KiB)\s+\d+\.\d\d s\s+stored/);
    expect(lines.join("\n")).toMatch(/load\s+petitions\s+full\s+petitions_20240301020304\.csv\s+3 rows\s+\d+\.\d\d s\s+loaded/);
  });

  it("stores a bzip2 export as it came and loads it decompressed", async () => {
    const bz2 = fixture("exports/signatures_20240301020304.csv.bz2");
    await deliver("incremental", "signatures_20240301020304.csv.bz2", bz2);
    await runner.idle();

    expect(await objectBytes("exports/incremental/signatures/20240301/signatures_20240301020304.csv.bz2")).toEqual(bz2);
    expect(await query("SELECT id::text, last_name, additional_fields FROM controlshift.signatures ORDER BY signatures.id")).toEqual([
      ["101", "Silva", '{"comment":"Yes, please"}'],
      ["102", "O'Neil, Jr.", '{"comment":"Line one\nline two"}'],
      ["103", "Doe", null],
    ]);
  });

  it("after a full export, an older incremental resurrects nothing and a newer one survives, also a redelivered full", async () => {
    const full = fixture("csv/comments_20240302020304.csv");
    await deliver("full", "comments_20240302020304.csv", full);
    await runner.idle();
    expect(await query("SELECT id::text FROM controlshift.comments ORDER BY comments.id")).toEqual([["1"], ["3"], ["4"], ["5"]]);

    // Out of order: the newer incremental first, then one older than the full (it carries id 2, deleted since).
    await deliver("incremental", "comments_20240305020304.csv.bz2", fixture("csv/comments_20240305020304.csv.bz2"));
    await runner.idle();
    await deliver("incremental", "comments_20240301120000.csv", fixture("local/comments_20240301120000.csv"));
    await runner.idle();

    const mirror = "SELECT id::text, text, _cs_exported_at::text FROM controlshift.comments ORDER BY comments.id";
    const expected = [
      ["1", "Great idea, count me in (edited)", "2024-03-02 02:03:04"],
      ["3", "", "2024-03-02 02:03:04"],
      ["4", null, "2024-03-02 02:03:04"],
      ["5", 'Comma, "quote" and\r\nCRLF inside', "2024-03-02 02:03:04"],
      ["20", "Ça marche, «très» bien\n— 👍", "2024-03-05 02:03:04"],
      ["21", "", "2024-03-05 02:03:04"],
    ];
    expect(await query(mirror)).toEqual(expected);
    expect(await ledger("comments")).toEqual([
      ["full", "exports/full/comments/20240302/comments_20240302020304.csv", "loaded", "4"],
      ["incremental", "exports/incremental/comments/20240305/comments_20240305020304.csv.bz2", "loaded", "2"],
      ["incremental", "exports/incremental/comments/20240301/comments_20240301120000.csv", "skipped-stale", "0"],
    ]);
    expect(lines.join("\n")).toMatch(/load\s+comments\s+incremental\s+comments_20240301120000\.csv\s+0 rows\s+\S+ s\s+skipped-stale/);

    // ControlShift delivers at least once: the same full again wipes nothing newer than itself.
    await deliver("full", "comments_20240302020304.csv", full);
    await runner.idle();
    expect(await query(mirror)).toEqual(expected);
  });

  it("answers 401 to a wrong signature, and downloads and loads nothing", async () => {
    const url = serveExport("full", "members_20240301020304.csv", Buffer.from("id,email\n1,a@example.org\n"));
    const body = webhookBody("full", url);
    const answer = await post(body, controlShiftSignature(body, "not-the-secret"));
    await runner.idle();

    expect(answer).toEqual({
      status: 401,
      contentType: "application/json",
      json: { error: "the x-controlshift-webhook-signature header does not match the body" },
    });
    expect(exports.requests.filter((r) => r.path.includes("members"))).toEqual([]);
    const listed = await runner.store.client.send(
      new ListObjectsV2Command({ Bucket: runner.store.bucket, Prefix: "exports/full/members/" }),
    );
    expect(listed.Contents ?? []).toEqual([]);
    expect(await query("SELECT to_regclass('controlshift.members')::text")).toEqual([[null]]);
    expect(await ledger("members")).toEqual([]);
  });

  it("quarantines a signed webhook it cannot act on: 200, kept under quarantine/pending/, nothing downloaded", async () => {
    const url = serveExport("full", "members_20240301020304.csv", Buffer.from("id,email\n1,a@example.org\n"));
    const event = JSON.parse(webhookBody("full", url));
    event.data.compression_format = "gzip";
    const body = JSON.stringify(event);
    const answer = await post(body);
    await runner.idle();

    expect(answer).toEqual({
      status: 200,
      contentType: "application/json",
      json: { status: "quarantined", reason: "data.compression_format is not bzip2 or none", detail: 'data.compression_format "gzip" is not bzip2 or none' },
    });
    expect(exports.requests.filter((r) => r.path.includes("members"))).toEqual([]);
    const listed = await runner.store.client.send(new ListObjectsV2Command({ Bucket: runner.store.bucket, Prefix: "quarantine/pending/" }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([expect.stringMatching(/^quarantine\/pending\/\d{8}\/[0-9a-f]{64}\.json$/)]);
    const stored = await runner.store.client.send(new GetObjectCommand({ Bucket: runner.store.bucket, Key: listed.Contents![0].Key! }));
    const record = JSON.parse(await stored.Body!.transformToString());
    expect(record).toMatchObject({ reason: "data.compression_format is not bzip2 or none", body, bodyEncoding: "utf8" });
    expect(record.headers["x-controlshift-webhook-signature"]).toBeUndefined();
    expect(lines.some((line) => line.includes("quarantined") && line.includes("data.compression_format is not bzip2 or none"))).toBe(true);
  });

  it("retries a failing download, then dead-letters it and prints why, never the presigned query", async () => {
    const path = "/acme-campaigns/incremental/petitions/20240302/petitions_20240302000000.csv";
    exports.route(path, { type: "status", status: 500, body: "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>" });
    const expired = "/acme-campaigns/incremental/petitions/20240302/petitions_20240302000100.csv";
    exports.route(expired, { type: "status", status: 403, body: "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>" });
    const before = lines.length;
    expect((await post(webhookBody("incremental", exports.url(path)))).status).toBe(200);
    expect((await post(webhookBody("incremental", exports.url(expired)))).status).toBe(200);
    await runner.idle();

    expect(exports.requests.filter((r) => r.path === path)).toHaveLength(2);
    expect(exports.requests.filter((r) => r.path === expired)).toHaveLength(1);
    const letters = runner.deadLetters().filter((l) => l.queue === "downloads");
    expect(letters).toEqual([
      expect.objectContaining({ attempts: 1, reason: expect.stringMatching(/answered 403 \(AccessDenied: Request has expired\)/) }),
      expect.objectContaining({ attempts: 2, reason: expect.stringMatching(/^gave up after 2 attempts: .*answered 500/) }),
    ]);
    const printed = lines.slice(before).join("\n");
    expect(printed).toMatch(/download\s+petitions\s+incremental\s+petitions_20240302000000\.csv.*FAILED: attempt 1 of 2, retry in/);
    expect(printed).toMatch(/download\s+petitions\s+incremental\s+petitions_20240302000000\.csv.*DEAD LETTER: gave up after 2 attempts/);
    expect(printed).toMatch(/download\s+petitions\s+incremental\s+petitions_20240302000100\.csv.*DEAD LETTER: .*expired/);
    expect(lines.join("\n")).not.toContain(FAKE_SIGNATURE);
    // Nothing reached the mirror: the petitions ledger still holds the one full load.
    expect(await ledger("petitions")).toHaveLength(1);
  });

  it("retries a file whose header can never load, then dead-letters it; the mirror is unchanged", async () => {
    const before = lines.length;
    const hostile = Buffer.from('id,"email; DROP TABLE x",created_at\n104,dee@example.org,2024-03-02 01:00:00\n');
    await deliver("incremental", "signatures_20240302010000.csv", hostile);
    await runner.idle();

    const key = "exports/incremental/signatures/20240302/signatures_20240302010000.csv";
    expect(runner.lastLoad(key)).toMatchObject({ outcome: "dead-letter", reason: expect.stringMatching(/^gave up after 2 attempts: export refused: \S+: header column "email; DROP TABLE x" is not a plain identifier/) });
    const printed = lines.slice(before).join("\n");
    expect(printed).toMatch(/load\s+signatures\s+incremental\s+signatures_20240302010000\.csv.*FAILED: attempt 1 of 2/);
    expect(printed).toMatch(/load\s+signatures\s+incremental\s+signatures_20240302010000\.csv.*DEAD LETTER: gave up after 2 attempts/);
    expect(await query("SELECT count(*)::text FROM controlshift.signatures")).toEqual([["3"]]);
    expect(await ledger("signatures")).toHaveLength(1);
  });

  it("answers GET /health with the queues, and 404 elsewhere", async () => {
    const health = await fetch(`${runner.httpOrigin}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: "ok",
      tables: 4,
      queues: { downloads: { waiting: 0, inFlight: 0, retrying: 0 }, loads: { waiting: 0, inFlight: 0, retrying: 0 } },
    });
    expect((await fetch(`${runner.httpOrigin}/elsewhere`)).status).toBe(404);
    expect((await fetch(runner.webhookUrl!)).status).toBe(405);
    // /sql is off unless the runner was given a token (the CLI's serve does).
    expect((await fetch(`${runner.httpOrigin}/sql`, { method: "POST", body: "select 1" })).status).toBe(404);
  });
});
