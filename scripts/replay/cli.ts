/**
 * The operator's command line: argument parsing, help, and the run of one command over the ports.
 * scripts/replay.ts builds the AWS ports and calls `runReplay`; tests call it with their own.
 */
import { S3_BUCKET_NAME_PATTERN } from "../../facts/aws-names";
import type { ReplayAction } from "./actions";
import { readCommandLine, UsageError } from "../command-line";
import { describeError, ReplayError } from "./errors";
import { executeActions, type ExecutorPorts } from "./execute";
import { QUARANTINE_PENDING_PREFIX, QUARANTINE_RESUBMITTED_PREFIX } from "../../facts/quarantine";
import type { ReceiverSettings } from "../../handlers/receiver/receive";
import { defaultConfig } from "../../modules/config";
import type { BucketFinder, MessagePeeker, ObjectLister, ObjectStore, QueueResolver } from "./ports";
import { describeQuarantinePlan, planQuarantine } from "./quarantine";
import { describeRedrivePlan, describeRedriveStatus, planRedrive, redriveStatus } from "./redrive";
import { describeReloadPlan, planReload } from "./reload";

export interface CommonOptions {
  /** Overrides the config's prefix. */
  readonly prefix?: string;
  /** Overrides the config's region. */
  readonly region?: string;
}

type Command = "redrive" | "reload" | "quarantine";
const COMMANDS: readonly Command[] = ["redrive", "reload", "quarantine"];
const COMMAND_LIST = "redrive, reload and quarantine";

export type ReplayCommand =
  | { readonly type: "help"; readonly topic?: Command }
  | (CommonOptions & {
      readonly type: "redrive";
      readonly queue: string;
      readonly peek: boolean;
      readonly samples: number;
      readonly maxPerSecond?: number;
      readonly execute: boolean;
    })
  | (CommonOptions & { readonly type: "redrive-status"; readonly queue?: string })
  | (CommonOptions & {
      readonly type: "reload";
      readonly table: string;
      readonly object?: string;
      readonly from?: string;
      readonly bucket?: string;
      readonly execute: boolean;
    })
  | (CommonOptions & {
      readonly type: "quarantine";
      readonly key?: string;
      readonly bucket?: string;
      readonly execute: boolean;
    });

/** What the help shows as defaults: the deployment's config. */
export interface HelpDefaults {
  readonly prefix: string;
  readonly region: string;
}

export const DEFAULT_SAMPLES = 5;
const MAX_SAMPLES = 50;
/** StartMessageMoveTask accepts 1 to 500 messages per second. */
const MAX_MOVE_RATE = 500;

export function mainHelp(d: HelpDefaults): string {
  return `Usage: npm run replay -- <command> [arguments] [options]

Re-drives dead letters, re-loads tables through the deployed loaders, and re-submits quarantined webhooks. Every command is a dry run unless you
add --execute: it reads from AWS, prints exactly what it would do, and changes nothing.

Commands
  redrive <queue>                  move a dead-letter queue's messages back to the queue they came from
  redrive [<queue>] --status       the message move tasks of one dead-letter queue, or of all of them
  reload <table>                   send the table's latest full export, and the incremental exports after it,
                                   to the table's loaders
  reload <table> --object <key>    send exactly that export to its loader
  quarantine                       list the signed webhooks the receiver quarantined, and what each would
                                   become now; with --execute, re-submit those the receiver's checks now accept

Options of every command
  --env <name>        the environment of config.ts to act on (needed when config.ts has several)
  --prefix <prefix>   the deployment's name prefix (default: ${d.prefix}, from config.ts)
  --region <region>   the deployment's AWS region (default: ${d.region}, from config.ts)
  --execute           do it (default: a dry run)
  --help, -h          this text; \`npm run replay -- <command> --help\` for one command

AWS credentials come from the SDK's usual chain (AWS_PROFILE, environment variables, SSO, an instance role).
`;
}

export function redriveHelp(d: HelpDefaults): string {
  return `Usage: npm run replay -- redrive <queue> [--peek [--samples <n>]] [--rate <n>] [--execute]
       npm run replay -- redrive [<queue>] --status

Moves the messages of a dead-letter queue (DLQ) back to its source queue with SQS's own redrive: a message move
task (StartMessageMoveTask) from the DLQ's ARN to the source queue's ARN. The source queue's consumer then takes
them again: the downloader for downloads, the table's loader for load-<kind>-<table>. It first checks that the
source queue's redrive policy does name this DLQ, and that no move task is running on it (SQS allows one).

<queue>  a dead-letter queue of the deployment, written any of these ways:
           downloads, load-full-petitions, load-incremental-signatures    (short: the prefix is added)
           ${d.prefix}-downloads-dlq, ${d.prefix}-load-full-petitions-dlq      (the full name)
           the queue's URL or ARN (e.g. the download_dead_letter_queue_url output of \`npx cdktf output\`)

Options
  --peek           also show up to --samples messages' key facts: for download jobs the table, kind, file name
                   and failure-reason; for loader messages the object key (never an export URL)
  --samples <n>    how many messages --peek shows, 1 to ${MAX_SAMPLES} (default ${DEFAULT_SAMPLES})
  --rate <n>       move at most n messages per second, 1 to ${MAX_MOVE_RATE} (default: SQS adapts the rate to the backlog)
  --status         list the DLQ's move tasks (ListMessageMoveTasks: its 10 most recent) and its message count;
                   without <queue>, every DLQ of the deployment that has messages or tasks
  --execute        start the move task (default: a dry run); SQS's redrive needs sqs:StartMessageMoveTask,
                   sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes on the DLQ, and sqs:SendMessage
                   on the source queue
  --prefix, --region, --help as for every command

What a dry run reads. Without --peek, only the DLQ's attributes (GetQueueAttributes: the approximate number of
messages) and its move tasks: nothing about the messages themselves. With --peek, it also reads messages with
ReceiveMessage and VisibilityTimeout 0: they stay in the DLQ and stay visible, but
  - each read counts as a receive: the messages' ApproximateReceiveCount goes up;
  - it needs sqs:ReceiveMessage on the DLQ, where the rest needs only sqs:GetQueueAttributes and
    sqs:ListMessageMoveTasks;
  - SQS answers from a sample of its servers: you may see fewer messages than the count, and other ones each time.

Before redriving downloads: a job is in the DLQ because its download failed for good (failure-reason says why).
ControlShift's export URLs expire after 6 hours, and a job whose URL has expired fails again: redrive once the
cause is fixed, and while the URLs are fresh; otherwise the next export brings the data.
`;
}

export function reloadHelp(d: HelpDefaults): string {
  return `Usage: npm run replay -- reload <table> [--from <YYYYMMDD>] [--bucket <name>] [--execute]
       npm run replay -- reload <table> --object <key> [--bucket <name>] [--execute]

Re-loads a table through its deployed loaders. For each export object it sends the loader's queue the S3
"Object Created" event that EventBridge sends for a new export, so the load runs as a nightly one does (ledger,
staleness checks, one transaction): full exports go to ${d.prefix}-load-full-<table>, incremental ones to
${d.prefix}-load-incremental-<table>.

Without --object: the table's latest full export in the exports bucket (latest by the export time in its file
name, not by when the object was written) and every incremental export after it, listed with ListObjectsV2 under
exports/full/<table>/ and exports/incremental/<table>/. The full export is sent first, then the incremental ones
in export-time order (the loaders reach the same result in any order). Objects there whose key is not an export
key are reported and skipped.

Options
  --from <YYYYMMDD>  only exports of that UTC day or later: the latest full export among them and the incremental
                     exports after it; when no full export is that recent, only the incremental exports since that
                     day (the table keeps the full export it has)
  --object <key>     exactly this object, e.g. exports/full/petitions/20240301/petitions_20240301020304.csv.bz2; it
                     must be an export of <table>, and its kind (full or incremental) picks the loader
  --bucket <name>    the exports bucket (default: the one bucket named ${d.prefix}-exports-*, found with ListBuckets;
                     it is the exports_bucket output of \`npx cdktf output\`)
  --execute          send the messages (default: a dry run, which lists the objects and the queue each goes to)
  --prefix, --region, --help as for every command

Sending an export the mirror has already loaded is safe: the loaders' semantics leave the mirror as it was (the
ledger records one more load).
`;
}

export function quarantineHelp(d: HelpDefaults): string {
  return `Usage: npm run replay -- quarantine [--key <key>] [--bucket <name>] [--execute]

Lists the correctly signed webhooks the receiver could not act on and quarantined instead of refusing them (see
help, "The receiver's answers to signed webhooks"): the JSON objects under ${QUARANTINE_PENDING_PREFIX} of the exports
bucket, oldest first, each with when and why it was quarantined, and what the receiver's checks make of it now:
  accepted            re-submitted with --execute
  still refused       the reason now; fix config.ts (or report the payload to ControlShift) and deploy first
  would be ignored    another event type, or a table no longer in config.ts: nothing to re-submit
  URL expired         ControlShift's download URLs live 6 hours; the next nightly full export brings the data
  not deployed        accepted by config.ts, but ${d.prefix}-load-<kind>-<table> does not exist yet: deploy first

How a re-submission goes through the same checks: this command runs the receiver's own checks (the function the
receiver runs on every webhook) on the stored body, with the settings config.ts gives the deployed receiver
(tables, controlshift.exportBuckets, receiver.maxBodyBytes). It does not re-sign the body and post it to the
webhook: that would need the signing secret on your machine, and a dry run could not show what each payload
becomes. So fix config.ts, npx cdktf deploy, then run this command: a payload is sent only when the deployment
has its table's loader queue. With --execute, each accepted payload's download job (the one the receiver would
have queued) goes to ${d.prefix}-downloads, and its object moves to ${QUARANTINE_RESUBMITTED_PREFIX} (with the time
and the message id added), so it is no longer listed. Running it twice sends nothing twice.

Options
  --key <key>        only this pending object, e.g. ${QUARANTINE_PENDING_PREFIX}20240301/<sha256>.json
  --bucket <name>    the exports bucket (default: the one bucket named ${d.prefix}-exports-*, found with ListBuckets)
  --execute          re-submit the accepted payloads (default: a dry run, which reads and changes nothing)
  --prefix, --region, --help as for every command

It needs s3:ListBucket, s3:GetObject on the bucket; with --execute also s3:PutObject and s3:DeleteObject under
quarantine/, and sqs:SendMessage on ${d.prefix}-downloads.
`;
}

/** Options that take a value, and flags (names without the leading --). */
const VALUE_OPTIONS = ["prefix", "region", "samples", "rate", "object", "from", "bucket", "key"];
const FLAG_OPTIONS = ["execute", "peek", "status", "help"];
const ALLOWED: Record<Command, ReadonlySet<string>> = {
  redrive: new Set(["prefix", "region", "samples", "rate", "execute", "peek", "status", "help"]),
  reload: new Set(["prefix", "region", "object", "from", "bucket", "execute", "help"]),
  quarantine: new Set(["prefix", "region", "key", "bucket", "execute", "help"]),
};

function usage(message: string, command?: string): UsageError {
  return new UsageError([`${message} (see \`npm run replay -- ${command ? `${command} ` : ""}--help\`)`]);
}

function integerOption(name: string, value: string, min: number, max: number, command: string): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw usage(`${name} ${JSON.stringify(value)} must be a whole number from ${min} to ${max}`, command);
  }
  return Number(value);
}

/** `YYYYMMDD` of a real day. */
function dayOption(value: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  const date = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])) : undefined;
  if (!m || !date || date.getUTCFullYear() !== +m[1] || date.getUTCMonth() !== +m[2] - 1 || date.getUTCDate() !== +m[3]) {
    throw usage(`--from ${JSON.stringify(value)} must be a day written YYYYMMDD, such as 20240301`, "reload");
  }
  return value;
}

/** Parses the arguments after `npm run replay --`. Throws UsageError naming what is wrong. */
export function parseReplayArgs(argv: readonly string[]): ReplayCommand {
  const line = readCommandLine(argv, { values: VALUE_OPTIONS, flags: FLAG_OPTIONS, short: { h: "help" } });
  const positional = line.positionals;
  if (line.problems.length > 0) throw usage(line.problems[0], positional[0]);
  const values = new Map([...line.values].map(([name, v]) => [name, v[0]]));
  const flags = line.flags;

  const [command, ...rest] = positional;
  if (command === undefined || command === "help") {
    if (rest.length > 1 || (rest[0] !== undefined && !COMMANDS.includes(rest[0] as Command))) {
      throw usage(`no help on ${JSON.stringify(rest.join(" "))}: the commands are ${COMMAND_LIST}`);
    }
    if (command === undefined && !flags.has("help")) throw usage("a command is missing: redrive, reload or quarantine");
    return { type: "help", ...(rest[0] ? { topic: rest[0] as Command } : {}) };
  }
  if (!COMMANDS.includes(command as Command)) {
    throw usage(`unknown command ${JSON.stringify(command)}: the commands are ${COMMAND_LIST}`);
  }
  if (flags.has("help")) return { type: "help", topic: command as Command };
  for (const name of [...values.keys(), ...flags]) {
    if (!ALLOWED[command as Command].has(name)) throw usage(`--${name} is not an option of ${command}`, command);
  }
  const common: CommonOptions = {
    ...(values.has("prefix") ? { prefix: values.get("prefix") } : {}),
    ...(values.has("region") ? { region: values.get("region") } : {}),
  };
  const execute = flags.has("execute");
  if (command === "quarantine") {
    if (rest.length > 0) throw usage(`quarantine takes no argument, not ${rest.join(" ")} (one object: --key <key>)`, command);
    const key = values.get("key");
    const bucket = values.get("bucket");
    if (key !== undefined && !key.startsWith(QUARANTINE_PENDING_PREFIX)) {
      throw usage(`--key ${JSON.stringify(key)} is not under ${QUARANTINE_PENDING_PREFIX}`, command);
    }
    if (bucket !== undefined && !S3_BUCKET_NAME_PATTERN.test(bucket)) {
      throw usage(`--bucket ${JSON.stringify(bucket)} is not an S3 bucket name (give the name, not s3:// or an ARN)`, command);
    }
    return {
      type: "quarantine",
      ...common,
      ...(key !== undefined ? { key } : {}),
      ...(bucket !== undefined ? { bucket } : {}),
      execute,
    };
  }
  if (rest.length > 1) throw usage(`${command} takes one ${command === "redrive" ? "queue" : "table"}, not ${rest.join(" ")}`, command);

  if (command === "redrive") {
    const queue = rest[0];
    if (flags.has("status")) {
      for (const name of ["execute", "peek", "samples", "rate"]) {
        if (flags.has(name) || values.has(name)) throw usage(`--status only reads: --${name} does not go with it`, command);
      }
      return { type: "redrive-status", ...common, ...(queue !== undefined ? { queue } : {}) };
    }
    if (queue === undefined) throw usage("redrive needs a queue, such as downloads or load-full-petitions", command);
    if (values.has("samples") && !flags.has("peek")) throw usage("--samples goes with --peek", command);
    const samples = values.has("samples") ? integerOption("--samples", values.get("samples")!, 1, MAX_SAMPLES, command) : DEFAULT_SAMPLES;
    const rate = values.get("rate");
    return {
      type: "redrive",
      ...common,
      queue,
      peek: flags.has("peek"),
      samples,
      ...(rate !== undefined ? { maxPerSecond: integerOption("--rate", rate, 1, MAX_MOVE_RATE, command) } : {}),
      execute,
    };
  }

  const table = rest[0];
  if (table === undefined) throw usage("reload needs a table, such as petitions", command);
  const object = values.get("object");
  const from = values.get("from");
  const bucket = values.get("bucket");
  if (object !== undefined && from !== undefined) {
    throw usage("--object and --from do not go together: --object sends exactly one object", command);
  }
  if (bucket !== undefined && !S3_BUCKET_NAME_PATTERN.test(bucket)) {
    throw usage(`--bucket ${JSON.stringify(bucket)} is not an S3 bucket name (give the name, not s3:// or an ARN)`, command);
  }
  return {
    type: "reload",
    ...common,
    table,
    ...(object !== undefined ? { object } : {}),
    ...(from !== undefined ? { from: dayOption(from) } : {}),
    ...(bucket !== undefined ? { bucket } : {}),
    execute,
  };
}

/** What `runReplay` needs: the deployment's config, and the ports for a region. */
export interface ReplayDependencies {
  readonly config: {
    readonly prefix: string;
    readonly region: string;
    readonly tables: readonly string[];
    /** @default the config's default (both production buckets) */
    readonly controlshift?: { readonly exportBuckets: readonly string[] };
    /** @default the config's default (65536) */
    readonly receiver?: { readonly maxBodyBytes: number };
  };
  readonly ports: (region: string) => ReplayPorts;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export interface ReplayPorts extends ExecutorPorts {
  readonly objects: ObjectLister;
  readonly store: ObjectStore;
  readonly buckets: BucketFinder;
  readonly queues: QueueResolver;
  readonly peeker: MessagePeeker;
  close?(): void;
}

/** The receiver's settings as the stack derives them from config.ts (modules/mirror-stack.ts). */
export function receiverSettings(config: ReplayDependencies["config"]): ReceiverSettings {
  const defaults = defaultConfig(config.prefix);
  return {
    tables: new Set(config.tables),
    buckets: config.controlshift?.exportBuckets ?? defaults.controlshift.exportBuckets,
    maxBodyBytes: config.receiver?.maxBodyBytes ?? defaults.receiver.maxBodyBytes,
  };
}

/** Runs one command line; returns the exit code (0 done, 1 failed, 2 bad usage). Never throws. */
export async function runReplay(argv: readonly string[], deps: ReplayDependencies): Promise<number> {
  const defaults = { prefix: deps.config.prefix, region: deps.config.region };
  let command: ReplayCommand;
  try {
    command = parseReplayArgs(argv);
  } catch (err) {
    deps.err(`error: ${(err as Error).message}`);
    return 2;
  }
  if (command.type === "help") {
    const help =
      command.topic === "redrive"
        ? redriveHelp(defaults)
        : command.topic === "reload"
          ? reloadHelp(defaults)
          : command.topic === "quarantine"
            ? quarantineHelp(defaults)
            : mainHelp(defaults);
    deps.out(help.trimEnd());
    return 0;
  }

  const prefix = command.prefix ?? deps.config.prefix;
  const region = command.region ?? deps.config.region;
  const base = { prefix, region, tables: deps.config.tables };
  const ports = deps.ports(region);
  const out = deps.out;
  const run = async (actions: readonly ReplayAction[], execute: boolean) => executeActions(actions, ports, { execute, out });
  try {
    const mode = command.type === "redrive-status" ? "" : command.execute ? " (--execute)" : " (dry run)";
    out(`deployment ${prefix} in ${region}${mode}`);
    switch (command.type) {
      case "reload": {
        const plan = await planReload({ ...base, table: command.table, bucket: command.bucket, object: command.object, from: command.from }, ports);
        describeReloadPlan(plan).forEach((line) => out(line));
        await run(plan.actions, command.execute);
        break;
      }
      case "redrive": {
        const plan = await planRedrive(
          { ...base, queue: command.queue, peek: command.peek, samples: command.samples, maxPerSecond: command.maxPerSecond },
          ports,
          ports.clock.now(),
        );
        describeRedrivePlan(plan).forEach((line) => out(line));
        if (plan.problem) throw plan.problem;
        await run(plan.actions, command.execute);
        break;
      }
      case "quarantine": {
        const plan = await planQuarantine(
          { prefix, region, settings: receiverSettings(deps.config), bucket: command.bucket, key: command.key },
          ports,
          ports.clock.now(),
        );
        describeQuarantinePlan(plan).forEach((line) => out(line));
        await run(plan.actions, command.execute);
        break;
      }
      case "redrive-status": {
        const status = await redriveStatus({ ...base, queue: command.queue }, ports);
        describeRedriveStatus(status, command.queue !== undefined).forEach((line) => out(line));
        break;
      }
    }
    return 0;
  } catch (err) {
    if (err instanceof ReplayError) {
      deps.err(`error: ${err.message}`);
      return 1;
    }
    // An AWS error (credentials, permissions, throttling): its own name and message say most.
    const hint =
      err instanceof Error && err.name === "CredentialsProviderError"
        ? " (no AWS credentials found: set AWS_PROFILE, or run `aws sso login`, then run the command again)"
        : "";
    deps.err(`error: ${describeError(err)}${hint}`);
    return 1;
  } finally {
    ports.close?.();
  }
}
