/**
 * `npm run cdktf -- <command> [stack...]`: the project's cdktf-cli, without HashiCorp's checkpoint call
 * (CHECKPOINT_DISABLE=1; offline it prints a red getaddrinfo error), and after `deploy` or `output`, the outputs
 * an operator acts on with what to do with each: `terraform output` shows values, never descriptions.
 *
 *   npm run deploy -- staging        cdktf deploy staging, then the outputs with their instructions
 *   npm run outputs -- staging       the same outputs again, any time later
 *   npm run cdktf -- diff staging    any other cdktf command
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const OUTDIR = process.env.CDKTF_OUTDIR ?? path.join(ROOT, "cdktf.out");

interface SynthesizedStack {
  readonly "//"?: { readonly outputs?: Record<string, Record<string, unknown>> };
  readonly output?: Record<string, { readonly description?: string; readonly sensitive?: boolean }>;
}

/** Flattens cdktf's outputs file ({ stack: { constructId: value | { nested } } }) into terraform output names. */
function flatten(tree: Record<string, unknown>, names: Record<string, unknown>, into: Map<string, unknown>): void {
  for (const [key, value] of Object.entries(tree)) {
    const name = names[key];
    if (typeof name === "string") into.set(name, value);
    else if (name && typeof name === "object" && value && typeof value === "object") {
      flatten(value as Record<string, unknown>, name as Record<string, unknown>, into);
    }
  }
}

/**
 * The stack's outputs as an operator reads them: each name, its value and, indented under it, its description
 * (what to paste into ControlShift, which secret to fill). Outputs without a value (sensitive, or not applied) say so.
 */
export function operatorOutputs(stack: string, synthesized: SynthesizedStack, outputs: Record<string, unknown>): string {
  const values = new Map<string, unknown>();
  // cdktf's map from construct ids to output names; without it (an in-memory synth) the ids are the names.
  const names = synthesized["//"]?.outputs?.[stack] ?? Object.fromEntries(Object.keys(synthesized.output ?? {}).map((n) => [n, n]));
  flatten((outputs[stack] ?? {}) as Record<string, unknown>, names as Record<string, unknown>, values);
  const lines = [`Outputs of ${stack}, and what to do with them:`, ""];
  for (const [name, spec] of Object.entries(synthesized.output ?? {})) {
    const value = values.get(name);
    const shown = value === undefined ? (spec.sensitive ? "(sensitive: npx cdktf output --outputs-file-include-sensitive-outputs)" : "(no value yet: deploy first)") : typeof value === "string" ? value : JSON.stringify(value);
    lines.push(`  ${name} = ${shown}`);
    if (spec.description) lines.push(`      ${spec.description}`);
  }
  return lines.join("\n") + "\n";
}

/** The environment cdktf-cli runs in: the caller's, with the checkpoint call off unless the caller chose. */
export function cdktfEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, CHECKPOINT_DISABLE: env.CHECKPOINT_DISABLE || "1" };
}

function cdktf(args: string[]): number {
  const bin = require.resolve("cdktf-cli/bundle/bin/cdktf");
  const run = spawnSync(process.execPath, [bin, ...args], {
    cwd: ROOT,
    stdio: "inherit",
    env: cdktfEnvironment(process.env),
  });
  return run.status ?? 1;
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command !== "deploy" && command !== "output") return cdktf(argv);
  const stacks = rest.filter((a) => !a.startsWith("-"));
  const file = path.join(ROOT, ".build", "outputs.json");
  mkdirSync(path.dirname(file), { recursive: true });
  rmSync(file, { force: true });
  const status = cdktf([...argv, "--outputs-file", file]);
  if (status !== 0 || !existsSync(file)) return status;
  const outputs = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  for (const stack of stacks.length > 0 ? stacks : Object.keys(outputs)) {
    const synthesizedFile = path.join(OUTDIR, "stacks", stack, "cdk.tf.json");
    if (!existsSync(synthesizedFile)) continue;
    console.log("\n" + operatorOutputs(stack, JSON.parse(readFileSync(synthesizedFile, "utf8")) as SynthesizedStack, outputs));
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
