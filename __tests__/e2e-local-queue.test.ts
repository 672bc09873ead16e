/**
 * The local runner's in-process queue (scripts/local/queue.ts), SQS's stand-in: bounded, at least once, retries,
 * dead letters, a journal that survives a restart; and the receiver's 503 when the downloads queue is full.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseLoopbackUrlPrefix } from "../handlers/shared/export-url";
import type { Fetch } from "../handlers/downloader/ports";
import { type DeadLetter, type Delivery, LocalQueue, PermanentFailure, QueueFullError } from "../scripts/local/queue";
import { startLocalRunner } from "../scripts/local/runner";
import { startExportServer } from "./helpers/export-server";
import { NodePGlite } from "./fixtures/local/node-pglite";
import { TEST_SIGNING_SECRET, controlShiftSignature } from "./fixtures/webhooks";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cs-mirror-queue-"));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("LocalQueue", () => {
  it("delivers messages in order, one at a time by default, and is idle once all are handled", async () => {
    const seen: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const queue = new LocalQueue({
      name: "test",
      capacity: 10,
      maxAttempts: 1,
      handler: async ({ body }) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 5));
        seen.push(body);
        running -= 1;
      },
    });
    for (const body of ["a", "b", "c"]) queue.send(body);
    await queue.idle();
    expect(seen).toEqual(["a", "b", "c"]);
    expect(maxRunning).toBe(1);
    expect(queue.stats()).toEqual({ waiting: 0, inFlight: 0, retrying: 0, deadLetters: 0 });
    await queue.close();
  });

  it("delivers a failed message again (at least once), with its attempt number, after the retry delay", async () => {
    const deliveries: Delivery[] = [];
    const retries: number[] = [];
    const queue = new LocalQueue({
      name: "test",
      capacity: 10,
      maxAttempts: 3,
      retryDelayMs: (attempt) => attempt * 10,
      onRetry: (_delivery, _err, delayMs) => retries.push(delayMs),
      handler: async (delivery) => {
        deliveries.push(delivery);
        if (delivery.attempt < 3) throw new Error(`flaky ${delivery.attempt}`);
      },
    });
    const id = queue.send("job");
    await queue.idle();
    expect(deliveries).toEqual([
      { id, body: "job", attempt: 1 },
      { id, body: "job", attempt: 2 },
      { id, body: "job", attempt: 3 },
    ]);
    expect(retries).toEqual([10, 20]);
    expect(queue.deadLetters()).toEqual([]);
    await queue.close();
  });

  it("dead-letters a message after maxAttempts with the last error, and a PermanentFailure at once", async () => {
    const letters: DeadLetter[] = [];
    const queue = new LocalQueue({
      name: "loads",
      capacity: 10,
      maxAttempts: 2,
      retryDelayMs: () => 1,
      onDeadLetter: (letter) => letters.push(letter),
      handler: async ({ body, attempt }) => {
        if (body === "never") throw new PermanentFailure("the header has no id column");
        throw new Error(`connection reset (attempt ${attempt})`);
      },
    });
    queue.send("flaky");
    queue.send("never");
    await queue.idle();
    expect(letters).toEqual([
      expect.objectContaining({ queue: "loads", body: "never", attempts: 1, reason: "the header has no id column" }),
      expect.objectContaining({ queue: "loads", body: "flaky", attempts: 2, reason: "gave up after 2 attempts: connection reset (attempt 2)" }),
    ]);
    expect(queue.deadLetters()).toEqual(letters);
    expect(queue.stats().deadLetters).toBe(2);
    await queue.close();
  });

  it("is bounded: waiting, in-flight and retrying messages count, and a full queue refuses with QueueFullError", async () => {
    const gate = deferred();
    const queue = new LocalQueue({ name: "downloads", capacity: 2, maxAttempts: 1, handler: () => gate.promise });
    queue.send("in flight");
    queue.send("waiting");
    expect(queue.stats()).toMatchObject({ waiting: 1, inFlight: 1 });
    expect(() => queue.send("one too many")).toThrow(QueueFullError);
    expect(() => queue.send("one too many")).toThrow("the local downloads queue is full (2 messages); retry later");
    gate.resolve();
    await queue.idle();
    expect(() => queue.send("room again")).not.toThrow();
    await queue.idle();
    await queue.close();
  });

  it("keeps unacknowledged messages in its journal: the next queue on the folder delivers them again", async () => {
    const dir = tempDir();
    const gate = deferred();
    const first = new LocalQueue({
      name: "loads",
      capacity: 10,
      maxAttempts: 3,
      retryDelayMs: () => 60_000,
      journalDir: dir,
      handler: async ({ body }) => {
        if (body === "done") return;
        if (body === "dead") throw new PermanentFailure("bad header");
        if (body === "in flight at stop") return gate.promise.then(() => Promise.reject(new Error("stopped mid-load")));
        throw new Error("warehouse unreachable"); // "retrying": waits 60 s for its retry
      },
    });
    for (const body of ["done", "dead", "retrying", "in flight at stop", "waiting"]) first.send(body);
    await new Promise((r) => setTimeout(r, 50));
    const closed = first.close();
    gate.resolve();
    await closed;
    expect(readdirSync(dir).filter((n) => n.endsWith(".json"))).toHaveLength(3);

    const redelivered: Delivery[] = [];
    const second = new LocalQueue({
      name: "loads",
      capacity: 10,
      maxAttempts: 3,
      journalDir: dir,
      handler: async (delivery) => void redelivered.push(delivery),
    });
    expect(second.deadLetters()).toEqual([expect.objectContaining({ body: "dead", reason: "bad header" })]);
    await new Promise((r) => setImmediate(r));
    await second.idle();
    expect(redelivered.map((d) => [d.body, d.attempt])).toEqual([
      ["retrying", 2],
      ["in flight at stop", 2],
      ["waiting", 1],
    ]);
    expect(readdirSync(dir).filter((n) => n.endsWith(".json"))).toEqual([]);
    await second.close();
  });
});

describe("the local runner when its downloads queue is full", () => {
  it("answers 503, which ControlShift retries, and takes the webhook once there is room", async () => {
    const dir = tempDir();
    const exports = await startExportServer();
    const gate = deferred();
    const gatedFetch: Fetch = async (url, init) => {
      await gate.promise;
      return fetch(url, init);
    };
    const runner = await startLocalRunner({
      stateDir: dir,
      tables: ["petitions"],
      webhook: { port: 0, secret: TEST_SIGNING_SECRET, loopbackUrlPrefixes: [parseLoopbackUrlPrefix(`${exports.origin}/`)] },
      queues: { downloadCapacity: 1, downloadConcurrency: 1 },
      fetch: gatedFetch,
      pglite: NodePGlite,
      print: () => undefined,
    });
    try {
      const post = async (fileName: string) => {
        const path = `/acme-campaigns/incremental/petitions/20240301/${fileName}`;
        exports.route(path, { type: "body", body: "id,title\n1,Save the park\n" });
        const body = JSON.stringify({
          type: "data.incremental_table_exported",
          data: { url: exports.url(path), table: "petitions", compression_format: "none" },
          jid: "5d1b2c3a4e5f60718293a4b5",
        });
        const response = await fetch(runner.webhookUrl!, {
          method: "POST",
          headers: { "x-controlshift-webhook-signature": controlShiftSignature(body) },
          body,
        });
        return { status: response.status, json: await response.json() };
      };

      expect((await post("petitions_20240301010000.csv")).status).toBe(200);
      expect(await post("petitions_20240301020000.csv")).toEqual({
        status: 503,
        json: { error: "the local downloads queue is full (1 messages); retry later" },
      });
      gate.resolve();
      await runner.idle();
      expect((await post("petitions_20240301020000.csv")).status).toBe(200);
      await runner.idle();
      const [result] = await runner.mirror.query(
        `SELECT object_key, outcome FROM controlshift_mirror_meta.load_ledger ORDER BY object_key`,
      );
      expect(result.rows).toEqual([
        ["exports/incremental/petitions/20240301/petitions_20240301010000.csv", "loaded"],
        ["exports/incremental/petitions/20240301/petitions_20240301020000.csv", "loaded"],
      ]);
    } finally {
      await runner.close();
      await exports.close();
    }
  });
});
