/**
 * How long `npm run synth` takes (scripts/synth.mjs, which is also cdktf.json's app), end to end, in a new process
 * each time:
 * - cold: nothing built yet (the handler zips and the app bundle are removed first), the figure after a clone or an
 *   edit to a handler. Target <= 5 s.
 * - warm: nothing changed since the last run, so no bundle is rebuilt. Target <= 3 s.
 * Prints the median of 3 runs of each, with the machine's load average (figures on a busy machine are slower).
 * Usage: npm run bench:synth
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

const root = path.resolve(__dirname, "..");

function run(clean: boolean): number {
  if (clean) {
    for (const built of ["handlers", "handlers.stamp.json", "app", "app.stamp.json"]) {
      rmSync(path.join(root, ".build", built), { recursive: true, force: true });
    }
  }
  const outdir = mkdtempSync(path.join(tmpdir(), "csm-bench-synth-"));
  const start = performance.now();
  execFileSync(process.execPath, [path.join(root, "scripts", "synth.mjs")], {
    cwd: root,
    env: { ...process.env, CDKTF_OUTDIR: outdir },
    stdio: "ignore",
  });
  const ms = performance.now() - start;
  // Every stack config.ts defines (one per environment), each with resources.
  const stacks = readdirSync(path.join(outdir, "stacks"));
  for (const stack of stacks) {
    const json = JSON.parse(readFileSync(path.join(outdir, "stacks", stack, "cdk.tf.json"), "utf8"));
    if (Object.keys(json.resource ?? {}).length === 0) throw new Error(`the synthesized stack ${stack} has no resources`);
  }
  if (stacks.length === 0) throw new Error("npm run synth wrote no stack");
  rmSync(outdir, { recursive: true, force: true });
  return ms;
}

function median(label: string, clean: boolean, target: number): void {
  const times = [run(clean), run(clean), run(clean)].sort((a, b) => a - b);
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`${label}: median ${s(times[1])} of ${times.map(s).join(", ")} (target <= ${target} s)`);
}

console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(" ")} (cores are shared: compare on an idle machine)`);
median("cold npm run synth (handler zips and app bundle rebuilt)", true, 5);
run(false);
median("warm npm run synth (no input changed)", false, 3);
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
