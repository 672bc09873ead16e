/**
 * The replay command line: what it accepts, what it refuses (naming the bad value), and the help per command.
 * No AWS call is reached here: the ports throw if anything asks for them.
 */
import { parseReplayArgs, runReplay, type ReplayPorts } from "../scripts/replay/cli";

const CONFIG = { prefix: "cs-mirror", region: "eu-west-1", tables: ["petitions", "signatures"] };

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReplay(argv, {
    config: CONFIG,
    ports: (): ReplayPorts => {
      throw new Error("no AWS call expected");
    },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("parseReplayArgs", () => {
  it("reads reload with its options, in either --name value or --name=value form", () => {
    expect(parseReplayArgs(["reload", "petitions", "--from", "20240301", "--bucket=cs-mirror-exports-1", "--region", "eu-west-1", "--execute"])).toEqual({
      type: "reload",
      table: "petitions",
      from: "20240301",
      bucket: "cs-mirror-exports-1",
      region: "eu-west-1",
      execute: true,
    });
    expect(parseReplayArgs(["reload", "petitions", "--object", "exports/full/petitions/20240301/petitions_20240301020304.csv"])).toEqual({
      type: "reload",
      table: "petitions",
      object: "exports/full/petitions/20240301/petitions_20240301020304.csv",
      execute: false,
    });
  });

  it("reads redrive: a dry run by default, 5 samples when peeking", () => {
    expect(parseReplayArgs(["redrive", "downloads"])).toEqual({ type: "redrive", queue: "downloads", peek: false, samples: 5, execute: false });
    expect(parseReplayArgs(["redrive", "downloads", "--peek", "--samples", "12", "--rate", "50", "--prefix", "cs-staging"])).toEqual({
      type: "redrive",
      queue: "downloads",
      peek: true,
      samples: 12,
      maxPerSecond: 50,
      prefix: "cs-staging",
      execute: false,
    });
  });

  it("reads redrive --status with or without a queue", () => {
    expect(parseReplayArgs(["redrive", "--status"])).toEqual({ type: "redrive-status" });
    expect(parseReplayArgs(["redrive", "load-full-petitions", "--status"])).toEqual({ type: "redrive-status", queue: "load-full-petitions" });
  });

  it("reads the help requests", () => {
    expect(parseReplayArgs(["--help"])).toEqual({ type: "help" });
    expect(parseReplayArgs(["help"])).toEqual({ type: "help" });
    expect(parseReplayArgs(["help", "reload"])).toEqual({ type: "help", topic: "reload" });
    expect(parseReplayArgs(["redrive", "-h"])).toEqual({ type: "help", topic: "redrive" });
    expect(parseReplayArgs(["reload", "petitions", "--execute", "--help"])).toEqual({ type: "help", topic: "reload" });
  });

  it.each([
    [[], "a command is missing: redrive, reload or quarantine (see `npm run replay -- --help`)"],
    [["replay"], 'unknown command "replay": the commands are redrive, reload and quarantine (see `npm run replay -- --help`)'],
    [["reload"], "reload needs a table, such as petitions (see `npm run replay -- reload --help`)"],
    [["reload", "petitions", "signatures"], "reload takes one table, not petitions signatures (see `npm run replay -- reload --help`)"],
    [["reload", "petitions", "--from", "2024-03-01"], '--from "2024-03-01" must be a day written YYYYMMDD, such as 20240301 (see `npm run replay -- reload --help`)'],
    [["reload", "petitions", "--from", "20240230"], '--from "20240230" must be a day written YYYYMMDD, such as 20240301 (see `npm run replay -- reload --help`)'],
    [["reload", "petitions", "--from"], "--from needs a value (see `npm run replay -- reload --help`)"],
    [["reload", "petitions", "--from", "--execute"], "--from needs a value (see `npm run replay -- reload --help`)"],
    [
      ["reload", "petitions", "--object", "exports/full/petitions/20240301/petitions_20240301020304.csv", "--from", "20240301"],
      "--object and --from do not go together: --object sends exactly one object (see `npm run replay -- reload --help`)",
    ],
    [["reload", "petitions", "--bucket", "s3://cs-mirror-exports-1"], '--bucket "s3://cs-mirror-exports-1" is not an S3 bucket name (give the name, not s3:// or an ARN) (see `npm run replay -- reload --help`)'],
    [["reload", "petitions", "--peek"], "--peek is not an option of reload (see `npm run replay -- reload --help`)"],
    [["reload", "petitions", "--dry-run"], "unknown option --dry-run (see `npm run replay -- reload --help`)"],
    [["redrive"], "redrive needs a queue, such as downloads or load-full-petitions (see `npm run replay -- redrive --help`)"],
    [["redrive", "downloads", "--object", "x"], "--object is not an option of redrive (see `npm run replay -- redrive --help`)"],
    [["redrive", "downloads", "--samples", "3"], "--samples goes with --peek (see `npm run replay -- redrive --help`)"],
    [["redrive", "downloads", "--peek", "--samples", "0"], '--samples "0" must be a whole number from 1 to 50 (see `npm run replay -- redrive --help`)'],
    [["redrive", "downloads", "--rate", "501"], '--rate "501" must be a whole number from 1 to 500 (see `npm run replay -- redrive --help`)'],
    [["redrive", "downloads", "--status", "--execute"], "--status only reads: --execute does not go with it (see `npm run replay -- redrive --help`)"],
    [["redrive", "downloads", "--prefix", "a", "--prefix", "b"], "--prefix is given twice (see `npm run replay -- redrive --help`)"],
    [["help", "frobnicate"], 'no help on "frobnicate": the commands are redrive, reload and quarantine (see `npm run replay -- --help`)'],
  ])("refuses %j", (argv, message) => {
    expect(() => parseReplayArgs(argv)).toThrow(message);
  });
});

describe("runReplay: usage and help", () => {
  it("exits 2 on bad usage, printing one error line and nothing else", async () => {
    expect(await cli(["reload", "petitions", "--from", "yesterday"])).toEqual({
      code: 2,
      out: "",
      err: 'error: --from "yesterday" must be a day written YYYYMMDD, such as 20240301 (see `npm run replay -- reload --help`)',
    });
  });

  it("shows the commands and the config's defaults in the main help", async () => {
    const { code, out, err } = await cli(["--help"]);
    expect([code, err]).toEqual([0, ""]);
    expect(out).toMatch(/^Usage: npm run replay -- <command> \[arguments\] \[options\]\n/);
    expect(out).toContain("Every command is a dry run unless you\nadd --execute");
    expect(out).toContain("  redrive <queue>  ");
    expect(out).toContain("  reload <table> --object <key>  ");
    expect(out).toContain("--prefix <prefix>   the deployment's name prefix (default: cs-mirror, from config.ts)");
    expect(out).toContain("--region <region>   the deployment's AWS region (default: eu-west-1, from config.ts)");
  });

  it("explains redrive, the queue names it takes, and the trade-off of --peek", async () => {
    const { code, out } = await cli(["redrive", "--help"]);
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: npm run replay -- redrive <queue> \[--peek \[--samples <n>\]\] \[--rate <n>\] \[--execute\]\n/);
    expect(out).toContain("StartMessageMoveTask) from the DLQ's ARN to the source queue's ARN");
    expect(out).toContain("cs-mirror-downloads-dlq, cs-mirror-load-full-petitions-dlq");
    expect(out).toContain("ReceiveMessage and VisibilityTimeout 0");
    expect(out).toContain("ApproximateReceiveCount goes up");
    expect(out).toContain("ControlShift's export URLs expire after 6 hours");
  });

  it("explains reload: which exports, in which order, to which queue", async () => {
    const { code, out } = await cli(["help", "reload"]);
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: npm run replay -- reload <table> \[--from <YYYYMMDD>\] \[--bucket <name>\] \[--execute\]\n/);
    expect(out).toContain("full exports go to cs-mirror-load-full-<table>");
    expect(out).toContain("latest by the export time in its file\nname, not by when the object was written");
    expect(out).toContain("the one bucket named cs-mirror-exports-*, found with ListBuckets");
  });
});
