/**
 * The operator's cheat sheet (`help`) against the code that it documents:
 *
 * - every error class in handlers/ (found by reading the sources, so a new class counts at once) has an entry in
 *   "Errors in the functions' logs" whose title names it;
 * - every troubleshooting entry has the sheet's shape: a title, an underline as long as it, then Cause and Fix;
 * - every log line of the three functions that reports a failure carries `help: "see help: <text>"`, the text is in
 *   the title of the entry meant, and that title's fixed words are what the line really says (the functions are run
 *   into each failure, and every entry of the section must be reached that way).
 *
 * The alarms' entries are checked in alerts.test.ts ("describes every alarm and points at a help entry that exists"):
 * each alarm's description names its entry, which must exist here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import * as ts from "typescript";
import { loadDownloaderConfig } from "../handlers/downloader/config";
import { processDownloadBatch } from "../handlers/downloader/process-batch";
import { systemClock } from "../handlers/downloader/ports";
import { EmptyExportError, ExportChangedError, HeaderReadError, LoadFailedError } from "../handlers/load/errors";
import type { LoadPlan } from "../handlers/load/plan";
import {
  LoadStillRunningError,
  RedshiftDataApiError,
  RedshiftLoadFailedError,
  RedshiftStatementError,
} from "../handlers/load/redshift-errors";
import { renderRedshiftPlan } from "../handlers/load/render-redshift";
import type { LoadResult } from "../handlers/load/warehouse";
import { readLoaderEnvironment } from "../handlers/loader/config";
import { loadBatch, type LoaderRecord } from "../handlers/loader/load-batch";
import { readReceiverEnvironment } from "../handlers/receiver/config";
import { BootstrapStatementError } from "../handlers/bootstrap/adapters";
import { readBootstrapEnvironment } from "../handlers/bootstrap/config";
import { adminStatements, checkOwner, EMPTY_CATALOG, operatorGrants, type BootstrapNames } from "../handlers/bootstrap/sql";
import { REQUEST_SIZE_GUARD_BYTES } from "../handlers/receiver/receive";
import { QUARANTINE_REASONS, parseQuarantineRecord } from "../handlers/shared/quarantine";
import { makeDownloadJob, sqsRecord } from "./helpers/download-jobs";
import { TEST_SIGNING_SECRET, controlShiftSignature, webhookFixture } from "./fixtures/webhooks";
import { objectCreatedEvent } from "../scripts/object-created-event";
import { loadReceiverEntry } from "./helpers/lambda-entry";

const ROOT = join(__dirname, "..");
const HANDLERS = join(ROOT, "handlers");
const HELP_TEXT = readFileSync(join(ROOT, "help"), "utf8");
const ERRORS_SECTION = "Errors in the functions' logs";

// ---------------------------------------------------------------------------------------------------------------
// The sheet, parsed: banner sections ("=====" / " Title" / "====="), and in them entries (" Title" / " -----").

interface Entry {
  /** The title line without its leading space. */
  readonly title: string;
  readonly titleLine: string;
  readonly underline: string;
  readonly body: string[];
  /** 1-based line number of the title. */
  readonly line: number;
}

interface Section {
  readonly title: string;
  readonly entries: Entry[];
}

function parseHelp(text: string): Section[] {
  const lines = text.split("\n");
  const sections: Section[] = [{ title: "", entries: [] }];
  let entry: Entry | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (/^=+$/.test(lines[i]) && /^=+$/.test(lines[i + 2] ?? "")) {
      sections.push({ title: lines[i + 1].trim(), entries: [] });
      entry = undefined;
      i += 2;
      continue;
    }
    if (/^ \S/.test(lines[i]) && /^ -+$/.test(lines[i + 1] ?? "")) {
      entry = { title: lines[i].slice(1), titleLine: lines[i], underline: lines[i + 1], body: [], line: i + 1 };
      sections[sections.length - 1].entries.push(entry);
      i += 1;
      continue;
    }
    entry?.body.push(lines[i]);
  }
  return sections;
}

const SECTIONS = parseHelp(HELP_TEXT);
const TROUBLESHOOTING = SECTIONS.filter((s) => /^(Troubleshooting|Errors)\b/.test(s.title));
const ERROR_ENTRIES = SECTIONS.find((s) => s.title.startsWith(ERRORS_SECTION))?.entries ?? [];

/**
 * What a title says the operator sees, as a pattern: the text before a trailing "   (...)" note, with every
 * `<placeholder>` and every `...` standing for any text. Anchored at the start only: a title may stop early.
 */
function titlePattern(title: string): RegExp {
  const shown = title.split("   (")[0];
  const parts = shown.split(/(<[^>]*>|\.\.\.)/);
  const source = parts
    .map((part, i) => (i % 2 === 1 ? "[\\s\\S]*" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The sources.

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(join(dir, d.name)) : d.name.endsWith(".ts") ? [join(dir, d.name)] : [],
  );
}

const HANDLER_SOURCES = sourceFiles(HANDLERS).map((file) => ({
  file: relative(ROOT, file),
  text: readFileSync(file, "utf8"),
}));

interface ErrorClass {
  readonly name: string;
  readonly base: string;
  readonly abstract: boolean;
  readonly file: string;
}

/** Every class in handlers/ that extends Error, directly or through another such class. */
function errorClasses(): ErrorClass[] {
  const classes: ErrorClass[] = [];
  for (const { file, text } of HANDLER_SOURCES) {
    for (const m of text.matchAll(/^(?:export\s+)?(abstract\s+)?class\s+(\w+)\s+extends\s+(\w+)/gm)) {
      classes.push({ name: m[2], base: m[3], abstract: m[1] !== undefined, file });
    }
  }
  const errors = new Set(["Error"]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of classes) {
      if (errors.has(c.base) && !errors.has(c.name)) {
        errors.add(c.name);
        grew = true;
      }
    }
  }
  return classes.filter((c) => errors.has(c.name));
}

interface LoggerCall {
  readonly where: string;
  /** `info`, `warn`, `error`, or `any` for `logger[level](...)`. */
  readonly level: string;
  readonly message: string;
  readonly attributes: string;
}

/** Every `logger.<level>(message, attributes)` and `logger[level](...)` call in handlers/. */
function loggerCalls(): LoggerCall[] {
  const calls: LoggerCall[] = [];
  for (const { file, text } of HANDLER_SOURCES) {
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression;
        let level: string | undefined;
        if (ts.isPropertyAccessExpression(callee) && /\blogger$/.test(callee.expression.getText(source))) {
          level = callee.name.text;
        } else if (ts.isElementAccessExpression(callee) && /\blogger$/.test(callee.expression.getText(source))) {
          level = "any";
        }
        if (level !== undefined) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
          calls.push({
            where: `${file}:${line + 1}`,
            level,
            message: node.arguments[0]?.getText(source) ?? "",
            attributes: node.arguments[1]?.getText(source) ?? "",
          });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return calls;
}

// ---------------------------------------------------------------------------------------------------------------
// (a) every error class has an entry; (c) every troubleshooting entry has the sheet's shape.

describe("help: the troubleshooting entries", () => {
  it(`has a section "${ERRORS_SECTION}" with entries`, () => {
    expect(ERROR_ENTRIES.length).toBeGreaterThan(20);
  });

  it("has an entry in that section naming every error class the handlers define (abstract bases excepted)", () => {
    const classes = errorClasses();
    // The scan itself works: it finds classes of every part, through every level of inheritance.
    expect(classes.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        "UnacceptablePayloadError",
        "EnvironmentError",
        "PermanentDownloadError",
        "DownloadJobError",
        "HostileHeaderError",
        "RedshiftLoadFailedError",
        "LoaderMessageError",
      ]),
    );
    const missing = classes
      .filter((c) => !c.abstract)
      .filter((c) => !ERROR_ENTRIES.some((e) => new RegExp(`\\b${c.name}\\b`).test(e.title)))
      .map((c) => `${c.name} (${c.file})`);
    expect(missing).toEqual([]);
  });

  it("titles every troubleshooting entry once, underlines it to its length, and gives it a Cause and a Fix", () => {
    const problems: string[] = [];
    const titles = new Set<string>();
    for (const section of TROUBLESHOOTING) {
      for (const e of section.entries) {
        const at = `help:${e.line} ${JSON.stringify(e.title.slice(0, 60))}`;
        if (titles.has(e.title)) problems.push(`${at}: the same title twice`);
        titles.add(e.title);
        if (e.title !== e.title.trimEnd()) problems.push(`${at}: trailing spaces`);
        if (e.underline.length !== e.titleLine.length) problems.push(`${at}: underline of ${e.underline.length}, title of ${e.titleLine.length}`);
        const cause = e.body.findIndex((l) => /^ {3}Cause: +\S/.test(l));
        const fix = e.body.findIndex((l) => /^ {3}Fix: +\S/.test(l));
        if (cause < 0) problems.push(`${at}: no "   Cause:" paragraph`);
        if (fix < 0) problems.push(`${at}: no "   Fix:" paragraph`);
        if (cause >= 0 && fix >= 0 && fix < cause) problems.push(`${at}: Fix before Cause`);
        const unindented = e.body.filter((l) => l.trim() !== "" && !l.startsWith("   "));
        if (unindented.length > 0) problems.push(`${at}: body lines not indented three spaces: ${unindented[0]}`);
      }
    }
    expect(TROUBLESHOOTING.map((s) => s.title.split(":")[0])).toEqual(
      expect.arrayContaining(["Troubleshooting", "Troubleshooting the warehouse", "Troubleshooting alerts", ERRORS_SECTION]),
    );
    expect(problems).toEqual([]);
  });

  it("parses a broken entry as broken (the checks above can fail)", () => {
    const broken = parseHelp(
      [
        "=====",
        " Errors in the functions' logs",
        "=====",
        "",
        " FooError: something",
        " ------------",
        "   Cause: a reason.",
        "",
      ].join("\n"),
    );
    const [entry] = broken[1].entries;
    expect(entry.underline.length).not.toBe(entry.titleLine.length);
    expect(entry.body.some((l) => /^ {3}Fix: +\S/.test(l))).toBe(false);
    expect(titlePattern("FooError: <what>: the rest   (BarError)").test("FooError: x: y: the rest, and more")).toBe(true);
    expect(titlePattern("FooError: <what>: the rest   (BarError)").test("FooError: x: y: another")).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// (d) the pointers: statically, every failure line has one; dynamically, each points at the right entry.

describe("help: every failure the functions log points at its entry", () => {
  const calls = loggerCalls();

  it("finds the functions' log lines", () => {
    const files = new Set(calls.map((c) => c.where.split(":")[0]));
    expect([...files].sort()).toEqual(
      expect.arrayContaining(["handlers/downloader/process-batch.ts", "handlers/loader/load-batch.ts", "handlers/receiver/index.ts"]),
    );
  });

  it("gives a help field to every log line at level error, or that carries an error or a reason", () => {
    const carriesError = (c: LoggerCall) =>
      c.level === "error" || c.level === "any" || /\b(error|reason)\b\s*[:,}]/.test(c.attributes);
    const without = calls.filter(carriesError).filter((c) => !/\bhelp\s*:/.test(c.attributes));
    expect(without.map((c) => `${c.where} ${c.message.slice(0, 60)}`)).toEqual([]);
  });

  it("names, in every fixed help text, a title of the section", () => {
    const fixed = calls.flatMap((c) =>
      [...c.attributes.matchAll(/\bhelp\s*:\s*"see help: ([^"]+)"/g)].map((m) => ({ where: c.where, target: m[1] })),
    );
    expect(fixed.length).toBeGreaterThanOrEqual(5);
    expect(fixed.filter(({ target }) => !ERROR_ENTRIES.some((e) => e.title.includes(target)))).toEqual([]);
  });
});

/** One line a function logged, as its logger received it. */
interface Logged {
  readonly level: string;
  readonly message: string;
  readonly attributes: Record<string, any>;
}

interface Scenario {
  /** What goes wrong. */
  readonly name: string;
  /** How the title of the entry meant starts. */
  readonly entry: string;
  /** The failure's log line (or, for a cold-start error, the error the runtime logs). */
  readonly observe: () => Promise<Logged | Error>;
}

// The receiver: its Lambda entry, with Secrets Manager and SQS mocked, and Powertools' JSON lines read from stdout.

const RECEIVER_ENV = {
  SIGNING_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:cs-mirror-webhook-signing-AbCdEf",
  DOWNLOAD_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/cs-mirror-downloads",
  TABLES: "petitions",
  CONTROLSHIFT_BUCKETS: "agra-data-exports-production",
  QUARANTINE_BUCKET: "cs-mirror-exports-20240301020304123400000001",
  SECRET_CACHE_SECONDS: "300",
  MAX_BODY_BYTES: "65536",
  POWERTOOLS_SERVICE_NAME: "cs-mirror-receiver",
  POWERTOOLS_METRICS_NAMESPACE: "ControlShiftMirror/cs-mirror",
  AWS_REGION: "us-east-1",
};
const FULL = webhookFixture("full-table-exported");

interface ReceiverSetup {
  readonly env?: Record<string, string>;
  readonly body?: Buffer;
  readonly secret?: string;
  readonly secretFails?: boolean;
  readonly queueFails?: boolean;
  readonly quarantineFails?: boolean;
  /** Replace the core by one that throws a TypeError (a bug). */
  readonly coreThrows?: boolean;
}

async function receiverLines(setup: ReceiverSetup): Promise<Logged[]> {
  const env: Record<string, string> = { ...RECEIVER_ENV, ...setup.env };
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const { handler, sm, sqs, s3, secretsManager: secrets, queue, bucket } = loadReceiverEntry(env, () => {
    if (setup.coreThrows) {
      jest.doMock("../handlers/receiver/receive", () => ({
        receiveWebhook: async () => {
          throw new TypeError("Cannot read properties of undefined (reading 'headers')");
        },
      }));
    }
  });
  jest.dontMock("../handlers/receiver/receive");
  if (setup.quarantineFails) {
    bucket.on(s3.PutObjectCommand).rejects(Object.assign(new Error("Access Denied"), { name: "AccessDenied" }));
  } else {
    bucket.on(s3.PutObjectCommand).resolves({});
  }
  if (setup.secretFails) {
    secrets.on(sm.GetSecretValueCommand).rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));
  } else {
    secrets.on(sm.GetSecretValueCommand).resolves({ SecretString: TEST_SIGNING_SECRET });
  }
  if (setup.queueFails) {
    queue.on(sqs.SendMessageCommand).rejects(Object.assign(new Error("Access to the resource is denied."), { name: "AccessDenied" }));
  } else {
    queue.on(sqs.SendMessageCommand).resolves({ MessageId: "2f0e7c2a-5d7e-4f1b-9f55-6b0c4a1e8d3b" });
  }
  const out: string[] = [];
  const capture = (chunk: unknown) => {
    out.push(...String(chunk).split("\n").filter((l) => l.trim() !== ""));
    return true;
  };
  const stdout = jest.spyOn(process.stdout, "write").mockImplementation(capture);
  const stderr = jest.spyOn(process.stderr, "write").mockImplementation(capture);
  try {
    const body = setup.body ?? FULL;
    const event = {
      version: "2.0",
      routeKey: "POST /webhook",
      rawPath: "/webhook",
      rawQueryString: "",
      headers: { "x-controlshift-webhook-signature": controlShiftSignature(body, setup.secret) },
      requestContext: { requestId: "VxQ2biGtoAMEVbw=", http: { method: "POST", path: "/webhook", sourceIp: "54.144.65.46" } },
      body: body.toString("utf8"),
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    await handler(event).catch(() => undefined);
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    secrets.restore();
    queue.restore();
    bucket.restore();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  return out
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch {
        return [];
      }
    })
    .filter((r) => r._aws === undefined && typeof r.level === "string")
    .map(({ level, message, ...attributes }) => ({ level: String(level).toLowerCase(), message, attributes }));
}

async function receiverFailure(setup: ReceiverSetup): Promise<Logged> {
  const lines = await receiverLines(setup);
  expect(lines).toHaveLength(1);
  return lines[0];
}

const withFileUrl = (from: string, to: string) => Buffer.from(FULL.toString("utf8").replace(from, to));

// The downloader and the loader: their cores, with the ports faked and the logger recording.

function recordingLogger(lines: Logged[]) {
  const log = (level: string) => (message: string, attributes: Record<string, unknown>) => void lines.push({ level, message, attributes });
  return { info: log("info"), warn: log("warn"), error: log("error") };
}

const failures = (lines: Logged[]) => lines.filter((l) => l.level !== "info");

const EXPORT_URL =
  "https://agra-data-exports-production.s3.amazonaws.com/acme-campaigns/full/users/20240301/users_20240301020304.csv" +
  "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=3f1c0e7a9b5d";

const s3Error = (status: number, code: string, message: string) =>
  new Response(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`, {
    status,
    headers: { "content-type": "application/xml" },
  });

async function downloaderLines(
  body: string,
  answer: () => Response,
  deadLetters: { send: () => Promise<void> } = { send: async () => undefined },
): Promise<Logged[]> {
  const lines: Logged[] = [];
  await processDownloadBatch(
    [sqsRecord(body)],
    {
      fetch: async () => answer(),
      uploader: {
        upload: async ({ body: stream }) => {
          for await (const _ of stream) void _;
        },
      },
      deadLetters,
      logger: recordingLogger(lines),
      metrics: { exportDownloaded: () => undefined, exportDownloadFailed: () => undefined },
      clock: systemClock,
    },
    { bucket: "cs-mirror-exports-a1b2c3" },
  );
  return failures(lines);
}

const JOB = JSON.stringify(makeDownloadJob({ url: EXPORT_URL }));

const EXPORTS_BUCKET = "cs-mirror-exports-a1b2c3";
const COPY_ROLE = "arn:aws:iam::123456789012:role/cs-mirror-copy";
const COMMENTS_KEY = "exports/incremental/comments/20240311/comments_20240311020304.csv";

function objectCreated(key: string): LoaderRecord {
  return {
    messageId: "7b0d9a4e-1f2c-4d3b-8a5e-6c7d8e9f0a1b",
    body: objectCreatedEvent({
      id: "e-1",
      account: "123456789012",
      region: "us-east-1",
      time: new Date("2024-03-11T02:05:00Z"),
      bucket: EXPORTS_BUCKET,
      key,
      size: 1234,
    }),
    attributes: { ApproximateReceiveCount: "1" },
  };
}

interface LoaderFakes {
  readonly header?: readonly string[];
  readonly headerFails?: Error;
  readonly columns?: readonly string[];
  readonly run?: (plan: LoadPlan) => Promise<LoadResult>;
}

async function loaderLines(record: LoaderRecord, fakes: LoaderFakes = {}): Promise<Logged[]> {
  const lines: Logged[] = [];
  await loadBatch(
    [record],
    {
      table: "comments",
      kind: "incremental",
      dataSchema: "controlshift",
      metadataSchema: "controlshift_mirror_meta",
      exportsBucket: EXPORTS_BUCKET,
      knownColumns: undefined,
    },
    {
      warehouse: {
        maxFilesPerTransaction: 6,
        tableColumns: async () => fakes.columns,
        run: fakes.run ?? (async () => Promise.reject(new Error("the warehouse is not part of this scenario"))),
        recordRefused: async () => undefined,
      },
      readHeader: async () => {
        if (fakes.headerFails) throw fakes.headerFails;
        return fakes.header ?? ["id", "text"];
      },
      logger: recordingLogger(lines),
      metrics: { loadSucceeded: () => undefined, loadFailed: () => undefined },
      clock: () => 0,
    },
  );
  return failures(lines);
}

async function loaderFailure(fakes: LoaderFakes): Promise<Logged> {
  const lines = await loaderLines(objectCreated(COMMENTS_KEY), fakes);
  expect(lines).toHaveLength(1);
  return lines[0];
}

const failingRun = (error: Error) => async (): Promise<LoadResult> => Promise.reject(error);

const BOOTSTRAP_NAMES: BootstrapNames = {
  loaderUser: "controlshift_loader",
  readerGroup: "controlshift_readers",
  dataSchema: "controlshift",
  metadataSchema: "controlshift_mirror_meta",
};
const OWNER_CATALOG = {
  currentUser: "controlshift_loader",
  superuser: false,
  schemaOwners: new Map([
    ["controlshift", "controlshift_loader"],
    ["controlshift_mirror_meta", "controlshift_loader"],
  ]),
  dataTables: new Set<string>(),
  migrationsTableExists: false,
};

const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error");
};

/** One signed webhook per quarantine reason, through the Lambda entry: each lands on its own entry. */
function quarantineScenarios(): Scenario[] {
  const full = JSON.parse(FULL.toString("utf8")) as { type: string; data: Record<string, unknown>; jid: string };
  const variant = (change: (event: Record<string, any>) => void) => {
    const event = JSON.parse(JSON.stringify(full));
    change(event);
    return Buffer.from(JSON.stringify(event));
  };
  const bodies: Record<keyof typeof QUARANTINE_REASONS, { body: Buffer; env?: Record<string, string> }> = {
    notJson: { body: Buffer.from("not json") },
    notObject: { body: Buffer.from("[]") },
    noType: { body: variant((e) => delete e.type) },
    noData: { body: variant((e) => delete e.data) },
    noTable: { body: variant((e) => delete e.data.table) },
    badTable: { body: variant((e) => (e.data.table = "Petitions")) },
    tooLarge: { body: FULL, env: { MAX_BODY_BYTES: "256" } },
    noUrl: { body: variant((e) => delete e.data.url) },
    unsafeUrl: { body: withFileUrl("https://agra-data-exports-production.s3", "http://agra-data-exports-production.s3") },
    bucketNotAllowed: { body: withFileUrl("agra-data-exports-production.s3", "other-bucket.s3") },
    badFileName: { body: withFileUrl("petitions_20240301020304.csv.bz2", "petitions.csv.bz2") },
    badCompression: { body: variant((e) => (e.data.compression_format = "gzip")) },
    compressionMismatch: { body: variant((e) => (e.data.compression_format = "none")) },
  };
  return Object.entries(bodies).map(([code, { body, env }]) => {
    const reason = QUARANTINE_REASONS[code as keyof typeof QUARANTINE_REASONS];
    return {
      name: `receiver: quarantined because ${reason}`,
      entry: `webhook quarantined: ${reason}   (`,
      observe: () => receiverFailure({ body, env }),
    };
  });
}

const SCENARIOS: readonly Scenario[] = [
  // The receiver.
  ...quarantineScenarios(),
  {
    name: "receiver: the quarantine cannot be written",
    entry: "QuarantineWriteError:",
    observe: () => receiverFailure({ body: Buffer.from("not json"), quarantineFails: true }),
  },
  {
    name: "replay: a quarantined object that is not a record",
    entry: "QuarantineRecordError:",
    observe: async () => thrown(() => parseQuarantineRecord("not json")),
  },
  {
    name: "receiver: a body signed with another secret",
    entry: "webhook answered 401:",
    observe: () => receiverFailure({ secret: "another secret" }),
  },
  {
    name: "receiver: a body over the size guard",
    entry: "webhook answered 413:",
    observe: () => receiverFailure({ body: Buffer.alloc(REQUEST_SIZE_GUARD_BYTES + 1, "x") }),
  },
  {
    name: "receiver: Secrets Manager throttles",
    entry: "SigningSecretUnavailableError:",
    observe: () => receiverFailure({ secretFails: true }),
  },
  {
    name: "receiver: SQS refuses the job",
    entry: "QueueSendError:",
    observe: () => receiverFailure({ queueFails: true }),
  },
  {
    name: "receiver: a bug",
    entry: "webhook receiver failed unexpectedly",
    observe: () => receiverFailure({ coreThrows: true }),
  },
  {
    name: "receiver: cold start without its environment",
    entry: "EnvironmentError:",
    observe: async () => thrown(() => readReceiverEnvironment({})),
  },
  // The downloader.
  {
    name: "downloader: a job that is not JSON",
    entry: "PermanentDownloadError: malformed download job",
    observe: async () => (await downloaderLines("not json", () => new Response("")))[0],
  },
  {
    name: "downloader: an expired presigned URL (403)",
    entry: "PermanentDownloadError: https://",
    observe: async () => (await downloaderLines(JOB, () => s3Error(403, "AccessDenied", "Request has expired")))[0],
  },
  {
    name: "downloader: ControlShift's bucket answers 503",
    entry: "TransientDownloadError:",
    observe: async () => (await downloaderLines(JOB, () => s3Error(503, "SlowDown", "Please reduce your request rate.")))[0],
  },
  {
    name: "downloader: the dead-letter queue refuses the job",
    entry: "could not send the job to the dead-letter queue",
    observe: async () => {
      const lines = await downloaderLines(JOB, () => s3Error(404, "NoSuchKey", "The specified key does not exist."), {
        send: async () => Promise.reject(Object.assign(new Error("Access to the resource is denied."), { name: "AccessDenied" })),
      });
      expect(lines).toHaveLength(2);
      return lines[1];
    },
  },
  {
    name: "downloader: cold start with a bad environment",
    entry: "EnvironmentError:",
    observe: async () => thrown(() => loadDownloaderConfig({ PART_SIZE_MIB: "1" })),
  },
  // The loaders.
  {
    name: "loader: a queue message that is not an EventBridge event",
    entry: "queue message is not an S3 event",
    observe: async () => (await loaderLines({ ...objectCreated(COMMENTS_KEY), body: "not json" }))[0],
  },
  {
    name: "loader: an object under the table's prefix that is not an export",
    entry: "object ignored: not an export key",
    observe: async () => (await loaderLines(objectCreated("exports/incremental/comments/uploads.csv")))[0],
  },
  {
    name: "loader: a header with a column twice",
    entry: "InvalidHeaderError:",
    observe: () => loaderFailure({ header: ["id", "text", "text"] }),
  },
  {
    name: "loader: a header with a column that is not a plain identifier",
    entry: "HostileHeaderError:",
    observe: () => loaderFailure({ header: ["id", 'text"; drop table comments; --'] }),
  },
  {
    name: "loader: a .bz2 object that is not bzip2",
    entry: "HeaderReadError:",
    observe: () =>
      loaderFailure({ headerFails: new HeaderReadError(COMMENTS_KEY, "not a valid bzip2 stream, or cut short (bad magic)") }),
  },
  {
    name: "loader: an empty (0-byte) export",
    entry: "export refused: the file is empty (0 bytes)",
    observe: () => loaderFailure({ headerFails: new EmptyExportError(COMMENTS_KEY) }),
  },
  {
    name: "loader: the export changed after its header was read",
    entry: "ExportChangedError:",
    observe: () =>
      loaderFailure({
        columns: ["id", "text", "_cs_exported_at"],
        run: failingRun(new ExportChangedError(COMMENTS_KEY, '"etag-1"', '"etag-2"')),
      }),
  },
  {
    name: "loader: S3 refuses to read the header",
    entry: "could not read the export's header",
    observe: () => loaderFailure({ headerFails: Object.assign(new Error("Access Denied"), { name: "AccessDenied" }) }),
  },
  {
    name: "loader: the load is still running when the Lambda has to stop",
    entry: "load still running when the Lambda had to stop",
    observe: () =>
      loaderFailure({
        run: failingRun(
          new LoadStillRunningError({
            statementId: "0e3d3b8c-5f0e-4c59-9d3f-8a1b2c3d4e5f",
            phase: "load",
            table: "comments",
            objectKeys: [COMMENTS_KEY],
            waitedMs: 285_000,
          }),
        ),
      }),
  },
  {
    name: "loader: the Data API refuses a call",
    entry: "RedshiftDataApiError:",
    observe: () =>
      loaderFailure({
        run: failingRun(
          new RedshiftDataApiError(
            "BatchExecuteStatement",
            Object.assign(new Error("Active statements exceeded the allowed quota (200)."), {
              name: "ActiveStatementsExceededException",
              $metadata: { httpStatusCode: 400 },
            }),
          ),
        ),
      }),
  },
  {
    name: "loader: Redshift fails the load",
    entry: "RedshiftLoadFailedError:",
    observe: () =>
      loaderFailure({
        run: failingRun(
          new RedshiftLoadFailedError(
            "comments",
            [COMMENTS_KEY],
            new RedshiftStatementError(
              "0e3d3b8c-5f0e-4c59-9d3f-8a1b2c3d4e5f",
              "FAILED",
              "Load into table 'cs_stage_comments' failed. Check 'stl_load_errors' system table for details.",
              4,
            ),
            { statement: "COPY cs_stage_comments FROM 's3://...'" },
          ),
        ),
      }),
  },
  {
    name: "loader: PostgreSQL fails the load (npm run local)",
    entry: "LoadFailedError:",
    observe: () =>
      loaderFailure({
        run: failingRun(new LoadFailedError("comments", [COMMENTS_KEY], new Error('invalid input syntax for type bigint: "x"'))),
      }),
  },
  {
    name: "loader: a COPY role that cannot go into SQL",
    entry: "LoadPlanError:",
    observe: () =>
      loaderFailure({
        run: async (plan) => {
          renderRedshiftPlan(plan, { exportsBucket: EXPORTS_BUCKET, copyRoleArn: "not-a-role" });
          throw new Error("unreachable");
        },
      }),
  },
  {
    name: "loader: a file that adds more columns than one Data API batch can",
    entry: "RedshiftPlanTooLargeError:",
    observe: () =>
      loaderFailure({
        columns: ["id", "text", "_cs_exported_at"],
        header: ["id", "text", ...Array.from({ length: 45 }, (_, i) => `new_column_${i + 1}`)],
        run: async (plan) => {
          renderRedshiftPlan(plan, { exportsBucket: EXPORTS_BUCKET, copyRoleArn: COPY_ROLE });
          throw new Error("unreachable");
        },
      }),
  },
  {
    name: "loader: a bug",
    entry: "load failed unexpectedly",
    observe: () => loaderFailure({ run: failingRun(new TypeError("Cannot read properties of undefined (reading 'Id')")) }),
  },
  {
    name: "loader: cold start without its environment",
    entry: "EnvironmentError:",
    observe: async () => thrown(() => readLoaderEnvironment({})),
  },
  {
    name: "bootstrap: cold start without its environment",
    entry: "EnvironmentError:",
    observe: async () => thrown(() => readBootstrapEnvironment({})),
  },
  {
    name: "bootstrap: an existing warehouse whose grants were not run",
    entry: "BootstrapError: schema <schema> does not exist",
    observe: async () =>
      thrown(() =>
        checkOwner(BOOTSTRAP_NAMES, { ...OWNER_CATALOG, schemaOwners: new Map() }),
      ),
  },
  {
    name: "bootstrap: a schema of another owner",
    entry: "BootstrapError: schema <schema> is owned by",
    observe: async () =>
      thrown(() =>
        checkOwner(BOOTSTRAP_NAMES, { ...OWNER_CATALOG, schemaOwners: new Map([["controlshift", "etl"], ["controlshift_mirror_meta", "etl"]]) }),
      ),
  },
  {
    name: "bootstrap: an existing warehouse's loader secret of a superuser",
    entry: "BootstrapError: the loaders' database user",
    observe: async () => thrown(() => checkOwner(BOOTSTRAP_NAMES, { ...OWNER_CATALOG, currentUser: "admin", superuser: true })),
  },
  {
    name: "bootstrap: a loader user that is a superuser on the stack's warehouse",
    entry: "BootstrapError: database user",
    observe: async () => thrown(() => adminStatements(BOOTSTRAP_NAMES, { type: "iam" }, { ...EMPTY_CATALOG, loaderUser: { superuser: true } })),
  },
  {
    name: "bootstrap: Redshift refuses a statement",
    entry: "BootstrapStatementError:",
    observe: async () =>
      new BootstrapStatementError(
        "bootstrap:admin",
        {
          $metadata: {},
          Id: "b1",
          Status: "FAILED",
          SubStatements: [
            { Id: "b1:1", Status: "FINISHED", QueryString: 'CREATE USER "controlshift_loader" PASSWORD DISABLE' },
            { Id: "b1:2", Status: "FAILED", QueryString: 'CREATE GROUP "controlshift_readers"', Error: 'group "controlshift_readers" already exists' },
            { Id: "b1:3", Status: "ABORTED", QueryString: "GRANT ..." },
          ],
        },
        [],
      ),
  },
];

describe("help: each failure, provoked, points at the entry titled with what it says", () => {
  const observed = new Map<string, Logged | Error>();

  beforeAll(async () => {
    for (const s of SCENARIOS) observed.set(s.name, await s.observe());
  });

  it.each(SCENARIOS.map((s) => [s.name, s] as const))("%s", (_name, scenario) => {
    const seen = observed.get(scenario.name)!;
    expect(seen).toBeDefined();
    const entries = ERROR_ENTRIES.filter((e) => e.title.startsWith(scenario.entry));
    expect(entries.map((e) => e.title)).toHaveLength(1);
    const [entry] = entries;

    let texts: string[];
    if (seen instanceof Error) {
      // A cold-start error: the runtime logs the error itself; its stack trace starts with "<name>: <message>".
      texts = [seen.stack!.split("\n")[0]];
      expect(texts[0]).toBe(`${seen.name}: ${seen.message.split("\n")[0]}`);
      expect(entry.title).toMatch(new RegExp(`\\b${seen.name}\\b`));
    } else {
      const help = String(seen.attributes.help ?? "");
      expect(help).toMatch(/^see help: \S/);
      expect(entry.title).toContain(help.slice("see help: ".length));
      const error = seen.attributes.error as { name?: string; message?: string } | undefined;
      texts = [seen.message, ...(error?.name !== undefined ? [`${error.name}: ${error.message}`] : [])];
    }
    // The title's fixed words are the line's: a message, or an error's "<name>: <message>".
    expect(texts).toContainEqual(expect.stringMatching(titlePattern(entry.title)));
  });

  it("reaches every entry of the section (a new entry comes with the failure that shows it)", () => {
    const reached = new Set(SCENARIOS.map((s) => ERROR_ENTRIES.find((e) => e.title.startsWith(s.entry))?.title));
    expect(ERROR_ENTRIES.map((e) => e.title).filter((t) => !reached.has(t))).toEqual([]);
  });

  it("adds no help field to a line that reports no failure", async () => {
    const lines = await receiverLines({});
    expect(lines).toEqual([expect.objectContaining({ level: "info", message: "webhook accepted: export queued for download" })]);
    expect(lines[0].attributes.help).toBeUndefined();
  });
});

describe("help: the existing warehouse's grants", () => {
  it("are exactly what the bootstrap's admin part runs on an empty warehouse (generated from the same code)", () => {
    const entry = SECTIONS.flatMap((sec) => sec.entries).find((e) => e.title === "Existing warehouse: the grants to run once");
    expect(entry).toBeDefined();
    const block = entry!.body.filter((l) => /^ {5}(CREATE|GRANT|ALTER DEFAULT)/.test(l)).map((l) => l.trim());
    const iam = operatorGrants(BOOTSTRAP_NAMES, { type: "iam" }).map((sql) => `${sql};`);
    expect(block.slice(0, iam.length)).toEqual(iam);
    const password = operatorGrants(BOOTSTRAP_NAMES, { type: "password", placeholder: "<the password in your loader secret>" });
    expect(block[iam.length]).toBe(`${password[0]};`);
    expect(password.slice(1)).toEqual(iam.slice(1).map((sql) => sql.slice(0, -1)));
  });
});
