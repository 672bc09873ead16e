/**
 * The operator's replay CLI: re-drive dead letters, re-load tables through the deployed loaders, re-submit
 * quarantined webhooks.
 *
 *   npm run replay -- --help
 *   npm run replay -- redrive downloads --peek
 *   npm run replay -- reload petitions --execute
 *   npm run replay -- quarantine
 *
 * Dry run unless --execute; `--env <name>` picks one of config.ts's environments. The logic is in scripts/replay/ (plans, executor, ports); this file reads the config
 * once and wires the AWS SDK clients.
 */
import { ConfigError, mirroredTables } from "../modules/config";
import { EnvironmentFlagError, environmentConfig, environmentCount, takeEnvironmentFlag } from "./environment";
import { awsReplayPorts } from "./replay/aws";
import { runReplay } from "./replay/cli";

async function main(): Promise<number> {
  let config;
  let argv;
  try {
    const { env, rest } = takeEnvironmentFlag(process.argv.slice(2));
    argv = rest;
    const wantsHelp = rest.length === 0 || rest.includes("--help") || rest.includes("-h");
    if (env === undefined && wantsHelp && environmentCount() > 1) {
      // The help needs no deployment: show where the defaults come from instead of refusing it.
      config = { prefix: "the --env environment's prefix", region: "its region", tables: [] };
    } else {
      const resolved = environmentConfig(env);
      config = { prefix: resolved.prefix, region: resolved.region, tables: mirroredTables(resolved) };
    }
  } catch (err) {
    if (err instanceof ConfigError || err instanceof EnvironmentFlagError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
  return runReplay(argv, {
    config,
    ports: (region) => awsReplayPorts(region),
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
}

void main().then((code) => {
  process.exitCode = code;
});
