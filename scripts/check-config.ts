/**
 * `npm run check`, the edit loop's first half: validate config.ts exactly as synth does (every environment, unknown
 * fields, values, tables, regions) and print its warnings, without bundling a handler or synthesizing a stack.
 * package.json runs `tsc --noEmit` after it. Exits 1 with every problem when the config is wrong.
 */
import config from "../config";
import { ConfigError, configWarnings } from "../modules/config";
import { resolveEnvironments } from "../modules/environments";

function main(): number {
  let environments;
  try {
    environments = resolveEnvironments(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
  for (const { name, config: resolved } of environments) {
    const label = environments.length > 1 ? ` (${name})` : "";
    for (const warning of configWarnings(resolved)) console.warn(`WARNING${label}: ${warning}`);
  }
  const names = environments.map((e) => e.name).join(", ");
  console.log(`config.ts is valid: ${environments.length} environment${environments.length === 1 ? "" : "s"} (${names}); type-checking...`);
  return 0;
}

process.exitCode = main();
