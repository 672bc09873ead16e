/**
 * Synthesizes the stacks that `npm run test:terraform` validates and plans offline besides the app's own (which it
 * synthesizes through the real entry, scripts/synth.mjs): the configs in scripts/plan-configs.ts (one per config
 * branch that changes which resources exist). Usage: tsx scripts/synth-plan-stacks.ts <outdir>
 */
import { createApp } from "../modules/app";
import { resolveConfig } from "../modules/config";
import { MirrorStack } from "../modules/mirror-stack";
import { PLAN_CONFIGS } from "./plan-configs";

const outdir = process.argv[2];
if (!outdir) {
  console.error("usage: tsx scripts/synth-plan-stacks.ts <outdir>");
  process.exit(2);
}
const app = createApp(outdir);
const stacks = PLAN_CONFIGS;
for (const { name, input } of stacks) {
  const resolved = resolveConfig(input);
  new MirrorStack(app, name, { config: resolved, offlinePlan: true });
}
app.synth();
console.log(stacks.map((s) => s.name).join(" "));
