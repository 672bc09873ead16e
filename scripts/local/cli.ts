/**
 * `npm run local`: the command line of the local mirror (see USAGE). Parsing is pure; `runLocalCli` runs a command and
 * answers an exit code (0 done, 1 failed, 2 bad command line), printing through `io` only.
 */
import { readFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createReadStream } from "node:fs";
import { S3Client } from "@aws-sdk/client-s3";
import { CONTROLSHIFT_TABLES } from "../../schemas/controlshift-tables";
import { libStorageUploader } from "../../handlers/downloader/adapters";
import { CONTENT_TYPES } from "../../handlers/downloader/download";
import { exportObjectKey } from "../../handlers/shared/export-file";
import { type ExportKind, TABLE_NAME_PATTERN } from "../../facts/exports";
import { ExportUrlError, type LoopbackUrlPrefix, parseLoopbackUrlPrefix } from "../../handlers/shared/export-url";
import { signBody } from "../../handlers/shared/signature";
import { formatSqlResult } from "./lines";
import { openLocalMirror, type PgliteClass, type SqlResult } from "./mirror";
import { localS3ClientConfig } from "./object-store";
import { messageOf } from "./queue";
import { CONTROLSHIFT_BUCKETS, exportFileOf, startLocalRunner, type LoadRecord, type LocalRunner } from "./runner";
import { claimState, newToken, readLiveState, StateBusyError, webhookSecret } from "./state";
import { readCommandLine, UsageError } from "../command-line";

export const DEFAULT_PORT = 8787;
export const DEFAULT_STATE_DIR = ".local";

export const USAGE = `npm run local [-- serve] [options]           webhook server, queues, bucket and mirror on this machine
npm run local -- load <file> --kind full|incremental
                                              put an export file in the bucket at its key, and load it
npm run local -- sql "<SQL>"                  query the mirror (through the running runner if there is one)
npm run local -- sign <file | ->              print the signature header ControlShift would send for a body
npm run local -- help

Options:
  --port <n>                the webhook server's port on 127.0.0.1 (default ${DEFAULT_PORT}; 0 picks a free one)
  --secret <s>              the webhook signing secret (default: $CONTROLSHIFT_WEBHOOK_SECRET, else one generated
                            once and kept in <state-dir>/webhook-secret)
  --allow-url-prefix <url>  also download export URLs under this loopback prefix, e.g. http://127.0.0.1:8000/
                            (repeatable; ControlShift's own buckets are always allowed)
  --tables <a,b>            the tables to mirror (default: all ${CONTROLSHIFT_TABLES.length} ControlShift tables)
  --database-url <url>      load into this PostgreSQL server instead of PGlite in <state-dir>/pglite
  --state-dir <dir>         bucket, database, queues and secret (default ${DEFAULT_STATE_DIR})
  --s3-port <n>             the bucket's port on 127.0.0.1 (default 0: a free one, printed at start)
  --kind full|incremental   (load) what the file is: a full export replaces the table, an incremental adds to it`;

export type Command =
  | { readonly name: "serve" }
  | { readonly name: "load"; readonly file: string; readonly kind: ExportKind }
  | { readonly name: "sql"; readonly sql: string }
  | { readonly name: "sign"; readonly file: string }
  | { readonly name: "help" };

export interface CliOptions {
  readonly command: Command;
  readonly port: number;
  readonly s3Port: number;
  readonly stateDir: string;
  readonly secret: string | undefined;
  readonly allowUrlPrefixes: readonly LoopbackUrlPrefix[];
  /** As given, for the banner. */
  readonly allowUrlPrefixTexts: readonly string[];
  readonly tables: readonly string[];
  readonly tablesGiven: boolean;
  readonly databaseUrl: string | undefined;
}

const VALUE_OPTIONS = ["port", "s3-port", "state-dir", "secret", "allow-url-prefix", "tables", "database-url", "kind"];
const COMMAND_OPTIONS: Record<Command["name"], readonly string[]> = {
  serve: ["port", "s3-port", "state-dir", "secret", "allow-url-prefix", "tables", "database-url"],
  load: ["s3-port", "state-dir", "tables", "database-url", "kind"],
  sql: ["state-dir", "database-url"],
  sign: ["state-dir", "secret"],
  help: [],
};

/** Parses the arguments after `npm run local --`. Throws UsageError listing every problem at once. */
export function parseLocalArgs(argv: readonly string[]): CliOptions {
  // Every value of an option is kept: --allow-url-prefix adds up, the others take the last one.
  const line = readCommandLine(argv, { values: VALUE_OPTIONS, flags: ["help"], short: { h: "help" }, once: false });
  const problems = line.problems;
  const positional = line.flags.has("help") ? ["help", ...line.positionals] : line.positionals;
  const values = line.values;

  const commandName = positional[0] ?? "serve";
  let command: Command = { name: "help" };
  const args = positional.slice(1);
  const kindText = values.get("kind")?.at(-1);
  switch (commandName) {
    case "serve":
    case "help":
      if (args.length > 0) problems.push(`${commandName} takes no arguments, got ${args.join(" ")}`);
      command = { name: commandName };
      break;
    case "load":
      if (args.length !== 1) problems.push("load needs exactly one file: npm run local -- load <file> --kind full|incremental");
      if (kindText === undefined) problems.push("load needs --kind full or --kind incremental (a full export replaces the table)");
      else if (kindText !== "full" && kindText !== "incremental") problems.push(`--kind is ${JSON.stringify(kindText)}: expected full or incremental`);
      command = { name: "load", file: args[0] ?? "", kind: kindText === "incremental" ? "incremental" : "full" };
      break;
    case "sql":
      if (args.length !== 1) problems.push('sql needs the statements as one argument: npm run local -- sql "select 1"');
      command = { name: "sql", sql: args[0] ?? "" };
      break;
    case "sign":
      if (args.length !== 1) problems.push("sign needs one file (or - for stdin): npm run local -- sign body.json");
      command = { name: "sign", file: args[0] ?? "-" };
      break;
    default:
      problems.push(`unknown command ${JSON.stringify(commandName)}: expected serve, load, sql, sign or help`);
  }
  if (command.name !== "help") {
    for (const name of values.keys()) {
      if (!COMMAND_OPTIONS[command.name].includes(name)) problems.push(`--${name} does not apply to ${command.name}`);
    }
  }

  const last = (name: string) => values.get(name)?.at(-1);
  const port = (name: string, fallback: number): number => {
    const raw = last(name);
    if (raw === undefined) return fallback;
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= 0 && n <= 65535)) {
      problems.push(`--${name} is ${JSON.stringify(raw)}: expected a port number from 0 to 65535`);
      return fallback;
    }
    return n;
  };

  const prefixTexts = (values.get("allow-url-prefix") ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  const allowUrlPrefixes: LoopbackUrlPrefix[] = [];
  for (const text of prefixTexts) {
    try {
      allowUrlPrefixes.push(parseLoopbackUrlPrefix(text));
    } catch (err) {
      if (!(err instanceof ExportUrlError)) throw err;
      problems.push(`--allow-url-prefix: ${err.message}`);
    }
  }

  const tablesText = last("tables");
  const tables = tablesText === undefined ? [...CONTROLSHIFT_TABLES] : tablesText.split(",").map((t) => t.trim()).filter(Boolean);
  const badTables = tables.filter((t) => !TABLE_NAME_PATTERN.test(t));
  if (tablesText !== undefined && (tables.length === 0 || badTables.length > 0)) {
    problems.push(
      `--tables is ${JSON.stringify(tablesText)}: expected ControlShift table names separated by commas (e.g. petitions,signatures)` +
        (badTables.length > 0 ? `; bad: ${badTables.join(", ")}` : ""),
    );
  }

  const databaseUrl = last("database-url");
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push("--database-url must be a postgres:// or postgresql:// URL");
  }

  const options: CliOptions = {
    command,
    port: port("port", DEFAULT_PORT),
    s3Port: port("s3-port", 0),
    stateDir: last("state-dir") ?? DEFAULT_STATE_DIR,
    secret: last("secret"),
    allowUrlPrefixes,
    allowUrlPrefixTexts: prefixTexts,
    tables: [...new Set(tables)],
    tablesGiven: tablesText !== undefined,
    databaseUrl,
  };
  if (problems.length > 0) throw new UsageError(problems);
  return options;
}

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `serve` runs until this aborts (main.ts: SIGINT / SIGTERM). */
  readonly stop?: AbortSignal;
  /** Called once `serve` is up (tests). */
  readonly onServing?: (runner: LocalRunner) => void;
  readonly pglite?: PgliteClass;
  readonly readStdin?: () => Buffer;
}

/** Runs one command. Never throws: problems are printed, and the exit code says how it went. */
export async function runLocalCli(argv: readonly string[], io: CliIo): Promise<number> {
  let options: CliOptions;
  try {
    options = parseLocalArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  try {
    switch (options.command.name) {
      case "help":
        io.out(USAGE);
        return 0;
      case "serve":
        return await serve(options, io);
      case "load":
        return await load(options, options.command.file, options.command.kind, io);
      case "sql":
        return await sql(options, options.command.sql, io);
      case "sign":
        return sign(options, options.command.file, io);
    }
  } catch (err) {
    io.err(`error: ${messageOf(err)}`);
    return 1;
  }
}

function printDeadLetterSummary(runner: LocalRunner, stateDir: string, io: CliIo): void {
  const letters = runner.deadLetters();
  if (letters.length === 0) return;
  io.out(`${letters.length} dead letter(s), kept in ${join(stateDir, "queues", "<queue>", "dead")}:`);
  for (const letter of letters) io.out(`  ${letter.queue} ${letter.id} after ${letter.attempts} attempt(s): ${letter.reason}`);
}

async function serve(options: CliOptions, io: CliIo): Promise<number> {
  const claim = claimState(options.stateDir, "serve");
  try {
    const { secret, source, path } = webhookSecret(options.stateDir, options.secret, io.env);
    const sqlToken = newToken();
    const runner = await startLocalRunner({
      stateDir: options.stateDir,
      s3Port: options.s3Port,
      databaseUrl: options.databaseUrl,
      pglite: io.pglite,
      tables: options.tables,
      webhook: { port: options.port, secret, loopbackUrlPrefixes: options.allowUrlPrefixes, sqlToken },
      print: io.out,
    });
    try {
      claim.update({
        http: { origin: runner.httpOrigin!, sqlToken },
        s3: { endpoint: runner.store.endpoint, bucket: runner.store.bucket },
        database: runner.mirror.description,
      });
      const secretNote =
        source === "generated" ? ` (generated, saved in ${path})` : source === "saved" ? ` (from ${path})` : ` (from ${source})`;
      const sample = options.tables.includes("petitions") ? "petitions" : options.tables[0];
      io.out(
        [
          "controlshift-mirror: local run",
          `  webhook  POST ${runner.webhookUrl}   health: GET ${runner.httpOrigin}/health`,
          `  secret   ${source === "generated" || source === "saved" ? secret : "<as given>"}${secretNote}`,
          `  URLs     ControlShift's buckets (${CONTROLSHIFT_BUCKETS.join(", ")})` +
            (options.allowUrlPrefixTexts.length > 0 ? ` and ${options.allowUrlPrefixTexts.join(", ")}` : ""),
          `  bucket   s3://${runner.store.bucket} at ${runner.store.endpoint} (files in ${runner.store.directory}; ` +
            "credentials S3RVER / S3RVER, path-style)",
          `  mirror   ${runner.mirror.description}; query: npm run local -- sql "select count(*) from ${runner.dataSchema}.${sample}"` +
            (runner.mirror.connectionString !== undefined ? ` or psql "${runner.mirror.connectionString}"` : ""),
          `  tables   ${options.tablesGiven ? options.tables.join(", ") : `all ${options.tables.length}`}`,
          `Ctrl-C stops; unfinished work stays in ${join(options.stateDir, "queues")} and resumes at the next start.`,
        ].join("\n"),
      );
      const stats = runner.stats();
      if (stats.downloads.deadLetters + stats.loads.deadLetters > 0) {
        io.out(`(${stats.downloads.deadLetters + stats.loads.deadLetters} dead letter(s) from earlier runs in ${join(options.stateDir, "queues")})`);
      }
      io.onServing?.(runner);
      await new Promise<void>((resolveStop) => {
        if (io.stop === undefined) return; // runs until the process is killed
        if (io.stop.aborted) return resolveStop();
        io.stop.addEventListener("abort", () => resolveStop(), { once: true });
      });
      io.out("stopping: finishing the downloads and loads in progress...");
    } finally {
      await runner.close();
    }
    printDeadLetterSummary(runner, options.stateDir, io);
    return 0;
  } finally {
    claim.release();
  }
}

async function load(options: CliOptions, file: string, kind: ExportKind, io: CliIo): Promise<number> {
  const path = resolve(file);
  const exportFile = exportFileOf(path, kind);
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  const live = readLiveState(options.stateDir);
  if (live?.s3 !== undefined && live.http !== undefined) return loadThroughRunner(live.s3, live.http.origin, path, kind, io);
  if (live !== undefined) throw new StateBusyError(live, options.stateDir);

  const claim = claimState(options.stateDir, "load");
  try {
    const runner = await startLocalRunner({
      stateDir: options.stateDir,
      s3Port: options.s3Port,
      databaseUrl: options.databaseUrl,
      pglite: io.pglite,
      tables: options.tables,
      print: io.out,
    });
    let record: LoadRecord | undefined;
    try {
      claim.update({ s3: { endpoint: runner.store.endpoint, bucket: runner.store.bucket }, database: runner.mirror.description });
      const key = await runner.replay(path, kind);
      await runner.idle();
      record = runner.lastLoad(key);
      io.out(`${exportFile.fileName} -> s3://${runner.store.bucket}/${key}: ${record?.outcome ?? "not loaded"}`);
    } finally {
      await runner.close();
    }
    printDeadLetterSummary(runner, options.stateDir, io);
    return record?.outcome === "loaded" || record?.outcome === "skipped-stale" ? 0 : 1;
  } finally {
    claim.release();
  }
}

/** `load` while a runner serves: put the file in its bucket (its ObjectCreated record queues the load), then wait. */
async function loadThroughRunner(
  s3: { readonly endpoint: string; readonly bucket: string },
  origin: string,
  path: string,
  kind: ExportKind,
  io: CliIo,
): Promise<number> {
  const file = exportFileOf(path, kind);
  const key = exportObjectKey(file);
  const compression = file.fileName.endsWith(".bz2") ? "bzip2" : "none";
  const client = new S3Client(localS3ClientConfig(s3.endpoint));
  const started = new Date().toISOString();
  try {
    await libStorageUploader(client, { partSizeBytes: 8 * 1024 * 1024, queueSize: 4 }).upload({
      bucket: s3.bucket,
      key,
      body: createReadStream(path),
      contentType: CONTENT_TYPES[compression],
      metadata: { "source-path": `replay/${file.fileName}`, compression, "exported-at": file.exportedAt, kind, table: file.table },
    });
  } finally {
    client.destroy();
  }
  io.out(`${file.fileName} -> s3://${s3.bucket}/${key} on the running local runner (${origin}); waiting for its load...`);
  for (;;) {
    const answer = (await (await fetch(`${origin}/load?key=${encodeURIComponent(key)}`)).json()) as { load: LoadRecord | null };
    if (answer.load !== null && answer.load.at >= started) {
      io.out(`${file.fileName}: ${answer.load.outcome}${answer.load.rows !== undefined ? `, ${answer.load.rows} rows` : ""}${answer.load.reason ? `: ${answer.load.reason}` : ""}`);
      return answer.load.outcome === "loaded" || answer.load.outcome === "skipped-stale" ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function printResults(results: readonly SqlResult[], io: CliIo): void {
  io.out(results.map(formatSqlResult).join("\n\n"));
}

async function sql(options: CliOptions, statements: string, io: CliIo): Promise<number> {
  if (options.databaseUrl !== undefined) {
    const mirror = await openLocalMirror({ databaseUrl: options.databaseUrl, pgliteDir: "" });
    try {
      printResults(await mirror.query(statements), io);
    } finally {
      await mirror.close();
    }
    return 0;
  }
  const live = readLiveState(options.stateDir);
  if (live?.http !== undefined) {
    const response = await fetch(`${live.http.origin}/sql`, {
      method: "POST",
      headers: { authorization: `Bearer ${live.http.sqlToken}`, "content-type": "text/plain; charset=utf-8" },
      body: statements,
    });
    const answer = (await response.json()) as { results?: SqlResult[]; error?: string };
    if (answer.results === undefined) throw new Error(answer.error ?? `the runner answered ${response.status}`);
    printResults(answer.results, io);
    return 0;
  }
  if (live !== undefined) throw new StateBusyError(live, options.stateDir);
  const pgliteDir = join(options.stateDir, "pglite");
  if (!existsSync(pgliteDir)) {
    throw new Error(`there is no local mirror in ${pgliteDir} yet: start one with npm run local, or load a file with npm run local -- load`);
  }
  const claim = claimState(options.stateDir, "sql");
  try {
    const mirror = await openLocalMirror({ pgliteDir, pglite: io.pglite });
    try {
      printResults(await mirror.query(statements), io);
    } finally {
      await mirror.close();
    }
    return 0;
  } finally {
    claim.release();
  }
}

function sign(options: CliOptions, file: string, io: CliIo): number {
  const body = file === "-" ? (io.readStdin ?? (() => readFileSync(0)))() : readFileSync(file);
  const { secret, source, path } = webhookSecret(options.stateDir, options.secret, io.env);
  if (source === "generated") io.err(`(generated a new webhook secret, saved in ${path})`);
  io.out(`x-controlshift-webhook-signature: ${signBody(secret, body)}`);
  return 0;
}
