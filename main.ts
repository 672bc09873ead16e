/**
 * Entry point of `cdktf synth` (see cdktf.json): read the config once, validate it, build the stack, synth.
 *
 * CONTROLSHIFT_MIRROR_OFFLINE_PLAN=1 configures the provider for an offline `terraform plan` (CI); never set it
 * for an apply.
 */
import { App } from "cdktf";
import config from "./config";
import { ConfigError, configWarnings, resolveConfig } from "./modules/config";
import { MirrorStack } from "./modules/mirror-stack";

function main(): void {
  let resolved;
  try {
    resolved = resolveConfig(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  // cdktf prints construct warnings only under `cdktf synth`; print them for `npm run synth` too.
  for (const warning of configWarnings(resolved)) console.warn(`WARNING: ${warning}`);
  const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? "cdktf.out" });
  new MirrorStack(app, resolved.prefix, {
    config: resolved,
    offlinePlan: process.env.CONTROLSHIFT_MIRROR_OFFLINE_PLAN === "1",
  });
  app.synth();
}

main();
