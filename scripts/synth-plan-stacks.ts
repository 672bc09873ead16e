/**
 * Synthesizes the stacks that `npm run test:terraform` validates and plans offline: the default config (what
 * `config.ts` gives with zero edits) and the configs in scripts/plan-configs.ts (one per config branch that
 * changes which resources exist). Usage: tsx scripts/synth-plan-stacks.ts <outdir>
 */
import { App } from "cdktf";
import config from "../config";
import { resolveConfig } from "../modules/config";
import { MirrorStack } from "../modules/mirror-stack";
import { PLAN_CONFIGS } from "./plan-configs";

const outdir = process.argv[2];
if (!outdir) {
  console.error("usage: tsx scripts/synth-plan-stacks.ts <outdir>");
  process.exit(2);
}
const app = new App({ outdir });
const stacks = [{ name: "default", input: config }, ...PLAN_CONFIGS];
for (const { name, input } of stacks) {
  const resolved = resolveConfig(input);
  new MirrorStack(app, name, { config: resolved, offlinePlan: true });
}
app.synth();
console.log(stacks.map((s) => s.name).join(" "));
