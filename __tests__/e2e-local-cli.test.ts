/**
 * `npm run local`'s command line (scripts/local/cli.ts), run in process on a temp state folder: replaying an export
 * file and querying without a server, then `serve` with `sql` and `load` going through the running server (PGlite may
 * be open in one process only), a second server refused, a generated secret kept, a clean stop.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseLocalArgs, runLocalCli, type CliIo } from "../scripts/local/cli";
import type { LocalRunner } from "../scripts/local/runner";
import { startExportServer } from "./helpers/export-server";
import { NodePGlite } from "./fixtures/local/node-pglite";
import { controlShiftSignature } from "./fixtures/webhooks";

const PETITIONS = join(__dirname, "fixtures", "exports", "petitions_20240301020304.csv");
const COMMENTS_BZ2 = join(__dirname, "fixtures", "csv", "comments_20240305020304.csv.bz2");

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cs-mirror-cli-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function io(extra: Partial<CliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, pglite: NodePGlite, ...extra };
  return { io: value, out, err, text: () => out.join("\n") };
}

describe("npm run local: the command line", () => {
  it("reports every problem of a bad command line at once, with the usage, and exits 2", async () => {
    const run = io();
    const code = await runLocalCli(
      ["load", "a.csv", "--port", "99999", "--tables", "Petitions", "--allow-url-prefix", "http://10.0.0.1/", "--frobnicate"],
      run.io,
    );
    expect(code).toBe(2);
    const message = run.err.join("\n");
    expect(message).toContain("unknown option --frobnicate");
    expect(message).toContain("load needs --kind full or --kind incremental");
    expect(message).toContain('--port is "99999": expected a port number from 0 to 65535');
    expect(message).toContain("--port does not apply to load");
    expect(message).toContain("bad: Petitions");
    expect(message).toContain("host 10.0.0.1 is not this machine");
    expect(message).toContain("npm run local -- load <file> --kind full|incremental");
  });

  it("defaults to serve on 127.0.0.1:8787 with every table, PGlite in .local", () => {
    const options = parseLocalArgs([]);
    expect(options).toMatchObject({ command: { name: "serve" }, port: 8787, s3Port: 0, stateDir: ".local", databaseUrl: undefined });
    expect(options.tables).toHaveLength(63);
    expect(parseLocalArgs(["--tables=petitions,signatures", "--allow-url-prefix", "http://127.0.0.1:8000/"])).toMatchObject({
      tables: ["petitions", "signatures"],
      allowUrlPrefixes: [{ origin: "http://127.0.0.1:8000", path: "/" }],
    });
  });

  it("signs a body as ControlShift would, with --secret", async () => {
    const body = Buffer.from('{"type":"signature.created"}');
    const run = io({ readStdin: () => body });
    expect(await runLocalCli(["sign", "-", "--secret", "s3cret", "--state-dir", dir], run.io)).toBe(0);
    expect(run.out).toEqual([`x-controlshift-webhook-signature: ${controlShiftSignature(body, "s3cret")}`]);
  });

  it("replays an export file without a server, then queries the mirror", async () => {
    const load = io();
    expect(await runLocalCli(["load", PETITIONS, "--kind", "full", "--state-dir", dir], load.io)).toBe(0);
    expect(load.text()).toMatch(/load\s+petitions\s+full\s+petitions_20240301020304\.csv\s+3 rows\s+\S+ s\s+loaded/);
    expect(load.text()).toContain(
      "petitions_20240301020304.csv -> s3://controlshift-mirror-exports/exports/full/petitions/20240301/petitions_20240301020304.csv: loaded",
    );

    const sql = io();
    expect(await runLocalCli(["sql", "select count(*) as petitions from controlshift.petitions", "--state-dir", dir], sql.io)).toBe(0);
    expect(sql.text()).toBe([" petitions", "-----------", " 3", "(1 row)"].join("\n"));

    const bad = io();
    expect(await runLocalCli(["sql", "select * from controlshift.nope", "--state-dir", dir], bad.io)).toBe(1);
    expect(bad.err.join("\n")).toMatch(/relation "controlshift\.nope" does not exist/);
    expect(existsSync(join(dir, "runner.json"))).toBe(false);
  }, 120_000);

  it("serves webhooks; sql and load go through the running server; a second server is refused; Ctrl-C stops it", async () => {
    const exports = await startExportServer();
    const stop = new AbortController();
    let serving!: (runner: LocalRunner) => void;
    const up = new Promise<LocalRunner>((resolve) => (serving = resolve));
    const server = io({ stop: stop.signal, onServing: (runner) => serving(runner) });
    const exited = runLocalCli(
      ["--port", "0", "--state-dir", dir, "--allow-url-prefix", `${exports.origin}/`, "--tables", "petitions,comments"],
      server.io,
    );
    try {
      const runner = await up;
      // No secret given: one was generated, printed, and kept for the next start.
      const secret = readFileSync(join(dir, "webhook-secret"), "utf8").trim();
      expect(server.text()).toContain(`secret   ${secret} (generated, saved in ${join(dir, "webhook-secret")})`);
      expect(server.text()).toContain(`webhook  POST ${runner.webhookUrl}`);

      // The mirror kept what the earlier `load` put in it.
      const count = io();
      expect(await runLocalCli(["sql", "select count(*) from controlshift.petitions", "--state-dir", dir], count.io)).toBe(0);
      expect(count.text()).toContain(" 3\n(1 row)");

      // A webhook signed with the generated secret, for a file on the loopback server.
      const path = "/acme-campaigns/full/petitions/20240302/petitions_20240302020304.csv";
      exports.route(path, { type: "body", body: "id,title\n7,Only this one now\n" });
      const body = JSON.stringify({
        type: "data.full_table_exported",
        data: { url: exports.url(path), table: "petitions", compression_format: "none" },
        jid: "cf0f50d7d225e20a188be328",
      });
      const answer = await fetch(runner.webhookUrl!, {
        method: "POST",
        headers: { "x-controlshift-webhook-signature": controlShiftSignature(body, secret) },
        body,
      });
      expect(answer.status).toBe(200);
      await runner.idle();

      // `load` while serving: the file goes into the server's bucket, and the server loads it.
      const load = io();
      expect(await runLocalCli(["load", COMMENTS_BZ2, "--kind", "incremental", "--state-dir", dir], load.io)).toBe(0);
      expect(load.text()).toContain("on the running local runner");
      expect(load.text()).toContain("comments_20240305020304.csv.bz2: loaded, 2 rows");

      // A table the server does not mirror: no loader takes it, and `load` says so.
      const ignored = io();
      const signatures = join(__dirname, "fixtures", "exports", "signatures_20240301020304.csv.bz2");
      expect(await runLocalCli(["load", signatures, "--kind", "incremental", "--state-dir", dir], ignored.io)).toBe(1);
      expect(ignored.text()).toContain("signatures_20240301020304.csv.bz2: ignored: the table is not in --tables (petitions, comments)");

      const rows = io();
      expect(
        await runLocalCli(
          ["sql", "select id, title from controlshift.petitions; select count(*) from controlshift.comments", "--state-dir", dir],
          rows.io,
        ),
      ).toBe(0);
      expect(rows.text()).toContain(" 7  | Only this one now\n(1 row)");
      expect(rows.text()).toContain(" 2\n(1 row)");

      const second = io();
      expect(await runLocalCli(["--port", "0", "--state-dir", dir], second.io)).toBe(1);
      expect(second.err.join("\n")).toMatch(new RegExp(`is in use by pid ${process.pid} \\(npm run local -- serve`));
    } finally {
      stop.abort();
      expect(await exited).toBe(0);
      await exports.close();
    }
    expect(server.text()).toContain("stopping: finishing the downloads and loads in progress...");
    expect(existsSync(join(dir, "runner.json"))).toBe(false);
  }, 120_000);
});
