/**
 * The deployment an operator's command (replay, verify) acts on: `--env <name>` (or `--env=<name>`) picks one of
 * config.ts's environments; it may be left out when config.ts has only one.
 */
import config from "../config";
import type { MirrorConfig } from "../modules/config";
import { pickEnvironment, resolveEnvironments } from "../modules/environments";

/** Takes `--env <name>` out of a command line; the rest goes to the command's own parser. */
export function takeEnvironmentFlag(argv: readonly string[]): { readonly env?: string; readonly rest: string[] } {
  const rest: string[] = [];
  let env: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === "--env") {
      env = argv[++i];
      if (env === undefined || env.startsWith("-")) throw new EnvironmentFlagError("--env needs an environment name, e.g. --env staging");
    } else if (arg.startsWith("--env=")) {
      env = arg.slice("--env=".length);
    } else {
      rest.push(arg);
    }
  }
  return { env, rest };
}

export class EnvironmentFlagError extends Error {
  override readonly name = "EnvironmentFlagError";
}

/** How many environments config.ts names (1 without `environments`); nothing is validated. */
export function environmentCount(): number {
  return config.environments === undefined ? 1 : Object.keys(config.environments).length;
}

/** The environment's resolved config; throws ConfigError (every problem) or the pick's error. */
export function environmentConfig(env: string | undefined): MirrorConfig {
  return pickEnvironment(resolveEnvironments(config), env).config;
}
