/**
 * The replay executor and `redrive`, over an in-memory fake of the replay's own SQS ports (no local SQS exists)
 * that records every call; and whole command lines through runReplay with the same fake, so what an operator sees
 * is asserted too. The reload planner over real S3 is in replay-reload.test.ts.
 */
import { parseLoaderMessage } from "../handlers/loader/event";
import { parseExportObjectKey } from "../handlers/shared/export-file";
import type { SendObjectCreatedAction } from "../scripts/replay/actions";
import { runReplay, type ReplayPorts } from "../scripts/replay/cli";
import { ExecutionError, RedrivePolicyMismatchError, UnknownQueueError } from "../scripts/replay/errors";
import { executeActions } from "../scripts/replay/execute";
import type {
  ListedObject,
  MessageClock,
  MessagePeeker,
  MessageSender,
  MoveTask,
  OutgoingMessage,
  PeekedMessage,
  QueueDescription,
  QueueResolver,
} from "../scripts/replay/ports";
import { resolveDeadLetterQueue } from "../scripts/replay/queues";
import { planRedrive } from "../scripts/replay/redrive";
import { objectCreatedEvent } from "../scripts/object-created-event";

const REGION = "eu-west-1";
const ACCOUNT = "123456789012";
const TABLES = ["petitions", "signatures", "targets"];
const CONFIG = { prefix: "cs-mirror", region: REGION, tables: TABLES };
const BUCKET = "cs-mirror-exports-20240301020304123400000001";
const NOW = new Date("2024-03-05T09:00:00Z");

const arnOf = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
const urlOf = (name: string) => `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;

type Call =
  | { op: "describe"; name: string }
  | { op: "list-queues"; prefix: string }
  | { op: "peek"; url: string; max: number }
  | { op: "send"; message: OutgoingMessage }
  | { op: "start"; sourceArn: string; destinationArn: string; maxPerSecond?: number }
  | { op: "list-tasks"; sourceArn: string }
  | { op: "list-objects"; bucket: string; prefix: string }
  | { op: "list-buckets"; prefix: string };

interface FakeQueue {
  visible?: number;
  inFlight?: number;
  /** The redrive policy's target; by default `<name>-dlq` for a queue not ending in -dlq. */
  deadLetterTarget?: string | null;
  messages?: PeekedMessage[];
  tasks?: MoveTask[];
}

/** SQS and S3 as the replay's ports see them, in memory, recording every call in order. */
class FakeAws implements QueueResolver, MessagePeeker, MessageSender {
  readonly calls: Call[] = [];
  readonly queues = new Map<string, FakeQueue>();
  objects: ListedObject[] = [];
  bucketNames: string[] = [BUCKET];
  failSendNumber?: number;
  private sends = 0;

  /** The deployment's queues for TABLES: every one exists, empty. */
  constructor(prefix = "cs-mirror") {
    const names = [`${prefix}-downloads`, ...TABLES.flatMap((t) => [`${prefix}-load-full-${t}`, `${prefix}-load-incremental-${t}`])];
    for (const name of names) {
      this.queues.set(name, {});
      this.queues.set(`${name}-dlq`, {});
    }
  }

  queue(name: string, settings: FakeQueue): this {
    this.queues.set(name, { ...this.queues.get(name), ...settings });
    return this;
  }

  writes(): Call[] {
    return this.calls.filter((c) => c.op === "send" || c.op === "start");
  }

  async describe(name: string): Promise<QueueDescription | undefined> {
    this.calls.push({ op: "describe", name });
    const q = this.queues.get(name);
    if (q === undefined) return undefined;
    const target = q.deadLetterTarget === undefined ? (name.endsWith("-dlq") ? undefined : arnOf(`${name}-dlq`)) : q.deadLetterTarget ?? undefined;
    return {
      name,
      url: urlOf(name),
      arn: arnOf(name),
      visibleMessages: q.visible ?? 0,
      inFlightMessages: q.inFlight ?? 0,
      ...(target !== undefined ? { deadLetterTargetArn: target } : {}),
    };
  }

  async namesStartingWith(prefix: string): Promise<string[]> {
    this.calls.push({ op: "list-queues", prefix });
    return [...this.queues.keys()].filter((n) => n.startsWith(prefix));
  }

  async peek(url: string, max: number): Promise<PeekedMessage[]> {
    this.calls.push({ op: "peek", url, max });
    const name = url.slice(url.lastIndexOf("/") + 1);
    return (this.queues.get(name)?.messages ?? []).slice(0, max);
  }

  async send(message: OutgoingMessage): Promise<string> {
    this.calls.push({ op: "send", message });
    this.sends++;
    if (this.sends === this.failSendNumber) {
      throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    }
    return `msg-${this.sends}`;
  }

  async start(task: { sourceArn: string; destinationArn: string; maxPerSecond?: number }): Promise<string> {
    this.calls.push({ op: "start", ...task });
    return "eyJ0YXNrIjoiaGFuZGxlIn0=";
  }

  ports(): ReplayPorts {
    const noObjects = () => Promise.reject(new Error("no single-object S3 call in these tests"));
    return {
      store: { get: noObjects, put: noObjects, delete: noObjects },
      objects: {
        list: async (bucket, prefix) => {
          this.calls.push({ op: "list-objects", bucket, prefix });
          return this.objects.filter((o) => o.key.startsWith(prefix));
        },
      },
      buckets: {
        bucketsNamed: async (prefix) => {
          this.calls.push({ op: "list-buckets", prefix });
          return this.bucketNames;
        },
      },
      queues: this,
      peeker: this,
      sender: this,
      moveTasks: {
        start: (task) => this.start(task),
        list: async (sourceArn) => {
          this.calls.push({ op: "list-tasks", sourceArn });
          const name = sourceArn.slice(sourceArn.lastIndexOf(":") + 1);
          return this.queues.get(name)?.tasks ?? [];
        },
      },
      clock,
    };
  }
}

let ids = 0;
const clock: MessageClock = { now: () => NOW, newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, "0")}` };

/** Runs a command line; returns the exit code and what it printed. */
async function cli(aws: FakeAws, argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReplay(argv, { config: CONFIG, ports: () => aws.ports(), out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

function sendAction(key: string, size = 100): SendObjectCreatedAction {
  const file = parseExportObjectKey(key);
  const name = `cs-mirror-load-${file.kind}-${file.table}`;
  return { type: "send-object-created", queue: { name, url: urlOf(name), arn: arnOf(name) }, bucket: BUCKET, object: { key, size, etag: "0cc175b9c0f1b6a831c399e269772661", file } };
}

const FULL = "exports/full/petitions/20240303/petitions_20240303020304.csv.bz2";
const INC1 = "exports/incremental/petitions/20240303/petitions_20240303140000.csv";
const INC2 = "exports/incremental/petitions/20240304/petitions_20240304010000.csv";

describe("executeActions", () => {
  const actions = [sendAction(FULL, 5 * 1024 * 1024), sendAction(INC1), sendAction(INC2)];

  it("a dry run says what each action would do and writes nothing", async () => {
    const aws = new FakeAws();
    const out: string[] = [];
    const result = await executeActions(actions, aws.ports(), { execute: false, out: (l) => out.push(l) });

    expect(aws.calls).toEqual([]);
    expect(result).toEqual({ executed: false, messageIds: [], taskHandles: [] });
    expect(out).toEqual([
      `[1/3] would send ${FULL} (full, exported 2024-03-03T02:03:04Z, 5.0 MiB) to cs-mirror-load-full-petitions`,
      `[2/3] would send ${INC1} (incremental, exported 2024-03-03T14:00:00Z, 100 B) to cs-mirror-load-incremental-petitions`,
      `[3/3] would send ${INC2} (incremental, exported 2024-03-04T01:00:00Z, 100 B) to cs-mirror-load-incremental-petitions`,
      "dry run: nothing was changed; run the same command with --execute to do these 3 actions",
    ]);
  });

  it("--execute sends one message per action, in the plan's order, each to its action's queue", async () => {
    const aws = new FakeAws();
    const out: string[] = [];
    const result = await executeActions(actions, aws.ports(), { execute: true, out: (l) => out.push(l) });

    const sends = aws.calls.map((c) => {
      if (c.op !== "send") throw new Error(`unexpected ${c.op}`);
      const event = parseLoaderMessage(c.message.body);
      return [c.message.queueUrl, event.type === "object-created" ? event.key : event.description];
    });
    expect(sends).toEqual([
      [urlOf("cs-mirror-load-full-petitions"), FULL],
      [urlOf("cs-mirror-load-incremental-petitions"), INC1],
      [urlOf("cs-mirror-load-incremental-petitions"), INC2],
    ]);
    expect(result.messageIds).toEqual(["msg-1", "msg-2", "msg-3"]);
    expect(out.at(-1)).toBe("done: 3 actions");
    expect(out[0]).toBe(`[1/3] send ${FULL} (full, exported 2024-03-03T02:03:04Z, 5.0 MiB) to cs-mirror-load-full-petitions: sent, message id msg-1`);
  });

  it("stops at the first failed send, and says how many were sent", async () => {
    const aws = new FakeAws();
    aws.failSendNumber = 2;
    const error = await executeActions(actions, aws.ports(), { execute: true, out: () => undefined }).catch((e) => e);

    expect(aws.writes()).toHaveLength(2); // the third is never tried
    expect(error).toBeInstanceOf(ExecutionError);
    expect(error.message).toBe(
      `[2/3] send ${INC1} (incremental, exported 2024-03-03T14:00:00Z, 100 B) to cs-mirror-load-incremental-petitions ` +
        "failed after 1 of 3 actions succeeded: ThrottlingException: Rate exceeded. Running the command again re-sends " +
        "the done ones too, which is safe (a re-load of an already loaded export changes nothing).",
    );
  });

  it("with nothing to do, says so", async () => {
    const out: string[] = [];
    await executeActions([], new FakeAws().ports(), { execute: false, out: (l) => out.push(l) });
    expect(out).toEqual(["dry run: nothing to do"]);
  });
});

describe("redrive: naming the dead-letter queue", () => {
  it.each([
    ["downloads", "cs-mirror-downloads-dlq", "cs-mirror-downloads"],
    ["downloads-dlq", "cs-mirror-downloads-dlq", "cs-mirror-downloads"],
    ["cs-mirror-downloads-dlq", "cs-mirror-downloads-dlq", "cs-mirror-downloads"],
    ["cs-mirror-downloads", "cs-mirror-downloads-dlq", "cs-mirror-downloads"],
    ["load-full-petitions", "cs-mirror-load-full-petitions-dlq", "cs-mirror-load-full-petitions"],
    ["load-incremental-signatures-dlq", "cs-mirror-load-incremental-signatures-dlq", "cs-mirror-load-incremental-signatures"],
    ["cs-mirror-load-full-petitions-dlq", "cs-mirror-load-full-petitions-dlq", "cs-mirror-load-full-petitions"],
    [urlOf("cs-mirror-downloads-dlq"), "cs-mirror-downloads-dlq", "cs-mirror-downloads"],
    [arnOf("cs-mirror-load-full-targets-dlq"), "cs-mirror-load-full-targets-dlq", "cs-mirror-load-full-targets"],
  ])("%s is the DLQ %s of %s", (argument, dlq, source) => {
    const ref = resolveDeadLetterQueue(argument, "cs-mirror", TABLES);
    expect([ref.deadLetterQueueName, ref.sourceQueueName]).toEqual([dlq, source]);
  });

  it("adds another deployment's prefix to short names", () => {
    expect(resolveDeadLetterQueue("load-full-petitions", "cs-staging", TABLES).deadLetterQueueName).toBe("cs-staging-load-full-petitions-dlq");
  });

  it("tells what the queue is for", () => {
    expect(resolveDeadLetterQueue("downloads", "cs-mirror", TABLES).source).toEqual({ type: "downloads" });
    expect(resolveDeadLetterQueue("load-incremental-targets", "cs-mirror", TABLES).source).toEqual({
      type: "loader",
      kind: "incremental",
      table: "targets",
    });
  });

  it.each([
    ["uploads", 'queue "uploads" is not a dead-letter queue of the deployment cs-mirror: give downloads, load-<full|incremental>-<table>, or a full name such as cs-mirror-downloads-dlq (for another deployment, pass --prefix)'],
    ["cs-staging-downloads-dlq", 'queue "cs-staging-downloads-dlq" is not a dead-letter queue of the deployment cs-mirror: give downloads, load-<full|incremental>-<table>, or a full name such as cs-mirror-downloads-dlq (for another deployment, pass --prefix)'],
    ["load-full-petition", 'queue "load-full-petition" is the queue of a full loader of petition, which is not in this deployment\'s tables (config.ts): check the table\'s spelling'],
    ["load-partial-petitions", 'queue "load-partial-petitions" is not a dead-letter queue of the deployment cs-mirror: give downloads, load-<full|incremental>-<table>, or a full name such as cs-mirror-downloads-dlq (for another deployment, pass --prefix)'],
  ])("refuses %s", (argument, message) => {
    let error: unknown;
    try {
      resolveDeadLetterQueue(argument, "cs-mirror", TABLES);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UnknownQueueError);
    expect((error as Error).message).toBe(message);
  });
});

const DOWNLOAD_JOB = {
  version: 1,
  kind: "full",
  table: "petitions",
  fileName: "petitions_20240305020304.csv.bz2",
  exportedAt: "2024-03-05T02:03:04Z",
  dateFolder: "20240305",
  url: "https://agra-data-exports-production.s3.amazonaws.com/acme/full/petitions/20240305/petitions_20240305020304.csv.bz2?X-Amz-Signature=deadbeefcafe",
  compression: "bzip2",
  sourcePath: "/acme/full/petitions/20240305/petitions_20240305020304.csv.bz2",
  receivedAt: "2024-03-05T06:00:00.000Z", // three hours before NOW: the URL is still valid
};

describe("redrive <queue>", () => {
  it("a dry run shows the count from the DLQ's attributes, reads no message, and starts nothing", async () => {
    const aws = new FakeAws().queue("cs-mirror-downloads-dlq", { visible: 3, messages: [] });
    const { code, out, err } = await cli(aws, ["redrive", "downloads"]);

    expect([code, err]).toEqual([0, []]);
    expect(aws.calls).toEqual([
      { op: "describe", name: "cs-mirror-downloads-dlq" },
      { op: "describe", name: "cs-mirror-downloads" },
      { op: "list-tasks", sourceArn: arnOf("cs-mirror-downloads-dlq") },
    ]);
    expect(out).toEqual([
      `deployment cs-mirror in ${REGION} (dry run)`,
      "redrive cs-mirror-downloads-dlq -> cs-mirror-downloads",
      "  cs-mirror-downloads-dlq: about 3 message(s) waiting, 0 in flight (approximate counts, GetQueueAttributes)",
      "[1/1] would start a message move task from cs-mirror-downloads-dlq (about 3 messages) to cs-mirror-downloads",
      "dry run: nothing was changed; run the same command with --execute to do this",
    ]);
  });

  it("--execute starts SQS's move task from the DLQ's ARN to the source queue's ARN", async () => {
    const aws = new FakeAws().queue("cs-mirror-load-full-petitions-dlq", { visible: 2 });
    const { code, out } = await cli(aws, ["redrive", "load-full-petitions", "--execute"]);

    expect(code).toBe(0);
    expect(aws.writes()).toEqual([
      { op: "start", sourceArn: arnOf("cs-mirror-load-full-petitions-dlq"), destinationArn: arnOf("cs-mirror-load-full-petitions") },
    ]);
    expect(out.slice(-3)).toEqual([
      "[1/1] start a message move task from cs-mirror-load-full-petitions-dlq (about 2 messages) to cs-mirror-load-full-petitions: started, task handle eyJ0YXNrIjoiaGFuZGxlIn0=",
      "follow it with: npm run replay -- redrive cs-mirror-load-full-petitions-dlq --status",
      "done: 1 action",
    ]);
  });

  it("--rate caps the move task's messages per second", async () => {
    const aws = new FakeAws().queue("cs-mirror-downloads-dlq", { visible: 700 });
    await cli(aws, ["redrive", "cs-mirror-downloads-dlq", "--rate", "25", "--execute"]);
    expect(aws.writes()).toEqual([
      { op: "start", sourceArn: arnOf("cs-mirror-downloads-dlq"), destinationArn: arnOf("cs-mirror-downloads"), maxPerSecond: 25 },
    ]);
  });

  it("--prefix resolves the names of another deployment", async () => {
    const aws = new FakeAws("cs-staging").queue("cs-staging-downloads-dlq", { visible: 1 });
    const { code } = await cli(aws, ["redrive", "downloads", "--prefix", "cs-staging", "--execute"]);
    expect(code).toBe(0);
    expect(aws.writes()).toEqual([
      { op: "start", sourceArn: arnOf("cs-staging-downloads-dlq"), destinationArn: arnOf("cs-staging-downloads") },
    ]);
  });

  it("--peek shows each download job's table, kind, file name and failure-reason, never its URL", async () => {
    const aws = new FakeAws().queue("cs-mirror-downloads-dlq", {
      visible: 2,
      messages: [
        {
          messageId: "m-1",
          body: JSON.stringify(DOWNLOAD_JOB),
          attributes: { "failure-reason": "the export URL answered 403: it has expired", "failure-status": "403", "source-message-id": "s-1" },
          receiveCount: 1,
          sentAt: "2024-03-05T06:00:31.000Z",
        },
        { messageId: "m-2", body: "{not json", attributes: {}, receiveCount: 6 },
      ],
    });
    const { code, out } = await cli(aws, ["redrive", "downloads", "--peek", "--samples", "7"]);

    expect(code).toBe(0);
    expect(aws.calls).toContainEqual({ op: "peek", url: urlOf("cs-mirror-downloads-dlq"), max: 7 });
    expect(aws.writes()).toEqual([]);
    expect(out.slice(3, 17)).toEqual([
      "  2 message(s) peeked (left in the queue):",
      "  - message m-1",
      "      table: petitions",
      "      kind: full",
      "      fileName: petitions_20240305020304.csv.bz2",
      "      receivedAt: 2024-03-05T06:00:00.000Z",
      "      failure-reason: the export URL answered 403: it has expired",
      "      failure-status: 403",
      "      receives: 1",
      "      first sent: 2024-03-05T06:00:31.000Z",
      "  - message m-2",
      "      job: not a JSON object (a malformed job)",
      "      failure-reason: (none: SQS moved it after the downloader failed it repeatedly; see the downloader's logs)",
      "      receives: 6",
    ]);
    const printed = out.join("\n");
    expect(printed).not.toContain("X-Amz-Signature");
    expect(printed).not.toContain("agra-data-exports-production");
  });

  it("--peek flags a download job whose export URL has expired", async () => {
    const aws = new FakeAws().queue("cs-mirror-downloads-dlq", {
      visible: 1,
      messages: [{ messageId: "m-1", body: JSON.stringify({ ...DOWNLOAD_JOB, receivedAt: "2024-03-04T20:00:00.000Z" }), attributes: {} }],
    });
    const { out } = await cli(aws, ["redrive", "downloads", "--peek"]);
    expect(out).toContain(
      "      receivedAt: 2024-03-04T20:00:00.000Z (its export URL has expired: ControlShift's URLs last 6 hours, so this download fails again)",
    );
    expect(aws.calls).toContainEqual({ op: "peek", url: urlOf("cs-mirror-downloads-dlq"), max: 5 });
  });

  it("--peek shows each loader message's object key", async () => {
    const event = objectCreatedEvent({ id: "e-1", account: ACCOUNT, time: new Date("2024-03-05T02:05:00Z"), region: REGION, bucket: BUCKET, key: FULL, size: 1234 });
    const aws = new FakeAws().queue("cs-mirror-load-full-petitions-dlq", {
      visible: 2,
      messages: [
        { messageId: "m-1", body: event, attributes: {}, receiveCount: 5 },
        { messageId: "m-2", body: '{"hello":"world"}', attributes: {} },
      ],
    });
    const { out } = await cli(aws, ["redrive", "load-full-petitions", "--peek"]);
    expect(out.slice(3, 10)).toEqual([
      "  2 message(s) peeked (left in the queue):",
      "  - message m-1",
      `      object: ${FULL}`,
      "      size: 1234",
      "      receives: 5",
      "  - message m-2",
      '      event: unreadable: LoaderMessageError: message body is not an EventBridge event (no "source" and "detail-type")',
    ]);
  });

  it("with no visible message, has nothing to move", async () => {
    const aws = new FakeAws().queue("cs-mirror-downloads-dlq", { visible: 0, inFlight: 1 });
    const { code, out } = await cli(aws, ["redrive", "downloads", "--execute"]);
    expect(code).toBe(0);
    expect(aws.writes()).toEqual([]);
    expect(out.slice(2)).toEqual([
      "  cs-mirror-downloads-dlq: about 0 message(s) waiting, 1 in flight (approximate counts, GetQueueAttributes)",
      "  messages in flight are being read by someone else right now: a move task takes them only once they are visible again",
      "  nothing to move: cs-mirror-downloads-dlq has no visible messages (counts lag by up to a minute; try again if you just saw some)",
      "nothing to do",
    ]);
  });

  it("refuses while a move task is running on the DLQ, after showing the count", async () => {
    const aws = new FakeAws().queue("cs-mirror-downloads-dlq", {
      visible: 40,
      tasks: [{ status: "RUNNING", taskHandle: "h-1", sourceArn: arnOf("cs-mirror-downloads-dlq"), moved: 10, toMove: 50 }],
    });
    const { code, out, err } = await cli(aws, ["redrive", "downloads", "--execute"]);

    expect(code).toBe(1);
    expect(aws.writes()).toEqual([]);
    expect(out).toContain("  cs-mirror-downloads-dlq: about 40 message(s) waiting, 0 in flight (approximate counts, GetQueueAttributes)");
    expect(err).toEqual([
      "error: a message move task is already running on cs-mirror-downloads-dlq (h-1): follow it with " +
        "`npm run replay -- redrive cs-mirror-downloads-dlq --status`, or cancel it with " +
        "`aws sqs cancel-message-move-task --task-handle <handle>` before starting another",
    ]);
  });

  it("refuses when the source queue's redrive policy names another dead-letter queue", async () => {
    const aws = new FakeAws()
      .queue("cs-mirror-downloads-dlq", { visible: 1 })
      .queue("cs-mirror-downloads", { deadLetterTarget: arnOf("something-else-dlq") });
    const error = await planRedrive(
      { ...CONFIG, queue: "downloads", peek: false, samples: 5 },
      { queues: aws, peeker: aws, moveTasks: aws.ports().moveTasks },
      NOW,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(RedrivePolicyMismatchError);
    expect(error.message).toBe(
      `queue cs-mirror-downloads sends its dead letters to ${arnOf("something-else-dlq")}, not to ${arnOf("cs-mirror-downloads-dlq")}: ` +
        "redrive refuses to move messages between unrelated queues; check the stack with `npx cdktf diff`",
    );
  });

  it("names a dead-letter queue SQS does not have", async () => {
    const aws = new FakeAws();
    aws.queues.delete("cs-mirror-load-full-signatures-dlq");
    const { code, err } = await cli(aws, ["redrive", "load-full-signatures"]);
    expect(code).toBe(1);
    expect(err).toEqual([
      `error: SQS has no queue cs-mirror-load-full-signatures-dlq in ${REGION}: check --prefix and --region (defaults from config.ts), ` +
        "the AWS account of your credentials, and that the stack is deployed",
    ]);
  });
});

describe("redrive --status", () => {
  const task: MoveTask = {
    status: "COMPLETED",
    taskHandle: "h-9",
    sourceArn: arnOf("cs-mirror-load-full-petitions-dlq"),
    destinationArn: arnOf("cs-mirror-load-full-petitions"),
    moved: 12,
    toMove: 12,
    startedAt: "2024-03-05T08:00:00.000Z",
  };

  it("lists one dead-letter queue's move tasks", async () => {
    const aws = new FakeAws().queue("cs-mirror-load-full-petitions-dlq", { tasks: [task] });
    const { code, out } = await cli(aws, ["redrive", "load-full-petitions", "--status"]);
    expect(code).toBe(0);
    expect(out).toEqual([
      `deployment cs-mirror in ${REGION}`,
      "cs-mirror-load-full-petitions-dlq: about 0 message(s) waiting, 0 in flight",
      "  COMPLETED, moved 12 of 12, started 2024-03-05T08:00:00.000Z, to cs-mirror-load-full-petitions, handle h-9",
    ]);
  });

  it("without a queue, checks every dead-letter queue of the deployment and shows those with messages or tasks", async () => {
    const aws = new FakeAws()
      .queue("cs-mirror-load-full-petitions-dlq", { tasks: [task] })
      .queue("cs-mirror-downloads-dlq", {
        visible: 4,
        tasks: [{ status: "FAILED", sourceArn: arnOf("cs-mirror-downloads-dlq"), failureReason: "AccessDenied", maxPerSecond: 10 }],
      })
      // Another deployment whose prefix starts like this one's: not checked.
      .queue("cs-mirror-staging-downloads-dlq", { visible: 9 });
    const { code, out } = await cli(aws, ["redrive", "--status"]);

    expect(code).toBe(0);
    expect(aws.calls[0]).toEqual({ op: "list-queues", prefix: "cs-mirror-" });
    expect(aws.calls.filter((c) => c.op === "list-tasks")).toHaveLength(1 + 2 * TABLES.length);
    expect(out).toEqual([
      `deployment cs-mirror in ${REGION}`,
      "cs-mirror-downloads-dlq: about 4 message(s) waiting, 0 in flight",
      "  FAILED, to the original source queues, at most 10/s, failure: AccessDenied",
      "cs-mirror-load-full-petitions-dlq: about 0 message(s) waiting, 0 in flight",
      "  COMPLETED, moved 12 of 12, started 2024-03-05T08:00:00.000Z, to cs-mirror-load-full-petitions, handle h-9",
      "7 dead-letter queue(s) checked; 2 with messages or move tasks",
    ]);
  });
});

describe("reload through the command line", () => {
  function awsWithExports(): FakeAws {
    const aws = new FakeAws();
    aws.objects = [
      { key: "exports/full/petitions/20240302/petitions_20240302020304.csv.bz2", size: 10 },
      { key: FULL, size: 20, etag: "e1" },
      { key: INC1, size: 30 },
      { key: INC2, size: 40 },
    ];
    return aws;
  }

  it("a dry run lists the objects and the queue each would go to, and sends nothing", async () => {
    const aws = awsWithExports();
    const { code, out } = await cli(aws, ["reload", "petitions"]);

    expect(code).toBe(0);
    expect(aws.writes()).toEqual([]);
    expect(aws.calls.filter((c) => c.op === "list-buckets")).toEqual([{ op: "list-buckets", prefix: "cs-mirror-exports-" }]);
    expect(out).toEqual([
      `deployment cs-mirror in ${REGION} (dry run)`,
      `reload petitions from s3://${BUCKET}/ (listed exports/full/petitions/, exports/incremental/petitions/)`,
      "  not sent: 1 older full export(s) (the full export sent supersedes them)",
      `[1/3] would send ${FULL} (full, exported 2024-03-03T02:03:04Z, 20 B) to cs-mirror-load-full-petitions`,
      `[2/3] would send ${INC1} (incremental, exported 2024-03-03T14:00:00Z, 30 B) to cs-mirror-load-incremental-petitions`,
      `[3/3] would send ${INC2} (incremental, exported 2024-03-04T01:00:00Z, 40 B) to cs-mirror-load-incremental-petitions`,
      "dry run: nothing was changed; run the same command with --execute to do these 3 actions",
    ]);
  });

  it("--execute sends them in that order; --bucket skips ListBuckets", async () => {
    const aws = awsWithExports();
    const { code } = await cli(aws, ["reload", "petitions", "--bucket", BUCKET, "--execute"]);

    expect(code).toBe(0);
    expect(aws.calls.some((c) => c.op === "list-buckets")).toBe(false);
    const keys = aws.writes().map((c) => (c.op === "send" ? JSON.parse(c.message.body).detail.object.key : c.op));
    expect(keys).toEqual([FULL, INC1, INC2]);
  });

  it("prints a refusal as one line and exits 1", async () => {
    const aws = new FakeAws();
    const { code, out, err } = await cli(aws, ["reload", "petitions"]);
    expect(code).toBe(1);
    expect(out).toEqual([`deployment cs-mirror in ${REGION} (dry run)`]);
    expect(err).toEqual([
      `error: no full export of petitions under exports/full/petitions/ in bucket ${BUCKET}: wait for the nightly export or pass --object`,
    ]);
  });

  it("prints an AWS error with its name, and a hint when credentials are missing", async () => {
    const aws = new FakeAws();
    const ports = aws.ports();
    const failing: ReplayPorts = {
      ...ports,
      buckets: { bucketsNamed: () => Promise.reject(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" })) },
    };
    const err: string[] = [];
    const code = await runReplay(["reload", "petitions"], { config: CONFIG, ports: () => failing, out: () => undefined, err: (l) => err.push(l) });
    expect(code).toBe(1);
    expect(err).toEqual([
      "error: CredentialsProviderError: Could not load credentials from any providers (no AWS credentials found: set AWS_PROFILE, or run `aws sso login`, then run the command again)",
    ]);
  });
});
