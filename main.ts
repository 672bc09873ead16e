/**
 * Entry point of `cdktf synth` (see cdktf.json): read the config once, validate every environment, build one stack
 * per environment, synth.
 *
 * `npm run synth -- <environment> ...` synthesizes only the named environments (all of them are still validated);
 * `cdktf synth|diff|deploy <stack>` synthesizes all and acts on the named stack.
 *
 * CONTROLSHIFT_MIRROR_OFFLINE_PLAN=1 configures the provider for an offline `terraform plan` (CI); never set it
 * for an apply.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { App } from "cdktf";
import config from "./config";
import { ConfigError, configWarnings } from "./modules/config";
import { resolveEnvironments, selectEnvironments } from "./modules/environments";
import { MirrorStack } from "./modules/mirror-stack";

function main(): void {
  let environments;
  try {
    environments = selectEnvironments(resolveEnvironments(config), process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const outdir = process.env.CDKTF_OUTDIR ?? "cdktf.out";
  const app = new App({ outdir });
  for (const { name, config: resolved } of environments) {
    // cdktf prints construct warnings only under `cdktf synth`; print them for `npm run synth` too.
    const label = environments.length > 1 ? ` (${name})` : "";
    for (const warning of configWarnings(resolved)) console.warn(`WARNING${label}: ${warning}`);
    new MirrorStack(app, name, {
      config: resolved,
      offlinePlan: process.env.CONTROLSHIFT_MIRROR_OFFLINE_PLAN === "1",
    });
  }
  app.synth();
  // One line per stack: where it went and how big it is (cdktf itself says nothing under npm run synth).
  for (const { name } of environments) {
    const file = path.join(outdir, "stacks", name, "cdk.tf.json");
    const tf = JSON.parse(readFileSync(file, "utf8")) as { resource?: Record<string, Record<string, unknown>> };
    const resources = Object.values(tf.resource ?? {}).reduce((n, byName) => n + Object.keys(byName).length, 0);
    console.log(`synthesized ${name}: ${path.relative(process.cwd(), file) || file} (${resources} resources)`);
  }
}

main();
