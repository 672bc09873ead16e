/**
 * The operator's replay CLI: re-drive dead letters, re-load tables through the deployed loaders.
 *
 *   npm run replay -- --help
 *   npm run replay -- redrive downloads --peek
 *   npm run replay -- reload petitions --execute
 *
 * Dry run unless --execute. The logic is in scripts/replay/ (plans, executor, ports); this file reads the config
 * once and wires the AWS SDK clients.
 */
import config from "../config";
import { ConfigError, resolveConfig } from "../modules/config";
import { awsReplayPorts } from "./replay/aws";
import { runReplay } from "./replay/cli";

async function main(): Promise<number> {
  let resolved;
  try {
    resolved = resolveConfig(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
  return runReplay(process.argv.slice(2), {
    config: resolved,
    ports: (region) => awsReplayPorts(region),
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
}

void main().then((code) => {
  process.exitCode = code;
});
