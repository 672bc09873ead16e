/**
 * How long `cdktf synth` of the default stack takes, without the handler and app builds (esbuild, well under a
 * second together; run first by `npm run bench:synth`). Prints the time of a cold process (the figure an operator sees) and of warm runs in
 * the same process, and the stack's size. Target: cold synth of the default stack <= 5 s.
 * Usage: npm run bench:synth
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

const root = path.resolve(__dirname, "..");

function coldRun(): number {
  const outdir = mkdtempSync(path.join(tmpdir(), "csm-bench-synth-"));
  const start = performance.now();
  // What `cdktf synth` runs (cdktf.json's app), minus the builds: the bundled app on plain node.
  execFileSync(process.execPath, ["--enable-source-maps", path.join(root, ".build/app/main.cjs")], {
    cwd: root,
    env: { ...process.env, CDKTF_OUTDIR: outdir },
    stdio: "ignore",
  });
  const ms = performance.now() - start;
  const json = JSON.parse(readFileSync(path.join(outdir, "stacks", "cs-mirror", "cdk.tf.json"), "utf8"));
  const resources = Object.values(json.resource as Record<string, object>).reduce((n, r) => n + Object.keys(r).length, 0);
  rmSync(outdir, { recursive: true, force: true });
  console.log(`cold: ${(ms / 1000).toFixed(2)} s  (${resources} resources)`);
  return ms;
}

async function warmRuns(): Promise<void> {
  const { App } = await import("cdktf");
  const { resolveConfig } = await import("../modules/config");
  const { MirrorStack } = await import("../modules/mirror-stack");
  for (let i = 0; i < 3; i++) {
    const outdir = mkdtempSync(path.join(tmpdir(), "csm-bench-synth-"));
    const start = performance.now();
    const app = new App({ outdir });
    new MirrorStack(app, "cs-mirror", { config: resolveConfig({}) });
    app.synth();
    console.log(`warm run ${i + 1}: ${((performance.now() - start) / 1000).toFixed(2)} s`);
    rmSync(outdir, { recursive: true, force: true });
  }
}

const cold = [coldRun(), coldRun(), coldRun()].sort((a, b) => a - b);
console.log(`cold synth of the default stack, median of 3: ${(cold[1] / 1000).toFixed(2)} s (target <= 5 s)`);
void warmRuns();
