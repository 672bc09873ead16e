/**
 * Several environments (staging, production, ...) from one config file: each its own stack, state and name prefix.
 *
 * config.ts holds the settings every environment shares at its top level and, under `environments`, what each
 * environment changes. Each environment is the shared settings merged with its own, then resolved and validated
 * like a single config; every problem of every environment is reported in one pass. Without `environments`, the
 * file is one environment whose stack is named by its prefix (as before environments existed).
 */
import * as path from "node:path";
import { CONFIG_SHAPE, isPlainObject } from "./config/shape";
import { closest } from "./config/suggest";
import { ConfigError, backendWithDefaults, DEFAULT_PREFIX, MirrorConfig, MirrorConfigInput, resolveConfig } from "./config";

/** What config.ts exports: the shared settings, and optionally the environments that each change some of them. */
export interface MirrorConfigFile extends MirrorConfigInput {
  /**
   * The environments this repository deploys, by name; the name is the stack's (`cdktf deploy staging`), so it
   * must be 1 to 32 characters of a-z, 0-9 and -, starting with a letter. Each entry changes the shared settings
   * above: sections (`warehouse`, `network`, `alerts`, `tags`, ...) merge field by field, lists and `backend` are
   * taken whole. Each environment needs a prefix of its own and a state of its own.
   * @default one environment, named by the prefix
   */
  readonly environments?: Readonly<Record<string, MirrorConfigInput>>;
}

/** One environment, resolved and validated. */
export interface MirrorEnvironment {
  /** The stack's name: the environment's key, or the prefix when the file has no `environments`. */
  readonly name: string;
  readonly config: MirrorConfig;
}

const CONFIG_FIELDS = CONFIG_SHAPE.kind === "object" ? CONFIG_SHAPE.fields : {};

const ENVIRONMENT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * The shared settings with one environment's on top. Sections merge one level deep, like a config over the
 * defaults; `backend` is a choice between kinds, so it is taken whole; lists are taken whole.
 */
export function mergeEnvironment(shared: MirrorConfigInput, own: MirrorConfigInput): MirrorConfigInput {
  const merged: Record<string, unknown> = { ...shared };
  for (const [key, value] of Object.entries(own)) {
    const base = merged[key];
    merged[key] = key !== "backend" && isPlainObject(base) && isPlainObject(value) ? { ...base, ...value } : value;
  }
  return merged as MirrorConfigInput;
}

/** Where an environment's state lives, as a string two environments must not share. */
function stateLocation(stackName: string, config: MirrorConfig): string {
  const backend = backendWithDefaults(config.backend, config.prefix, config.region);
  switch (backend.type) {
    case "local":
      // The path is relative to cdktf.out/stacks/<stack> (modules/config/defaults.ts).
      return `local file ${path.posix.normalize(path.posix.join("cdktf.out/stacks", stackName, backend.path))}`;
    case "s3":
      return `s3://${backend.bucket}/${backend.key}`;
    case "cloud":
      return backend.tags !== undefined
        ? `Terraform Cloud workspaces tagged ${[...backend.tags].sort().join(", ")} in ${backend.hostname}/${backend.organization}`
        : `Terraform Cloud workspace ${backend.hostname}/${backend.organization}/${backend.workspace}`;
  }
}

/**
 * Terraform works with any workspace that has all of a cloud backend's tags: an environment whose tags are all
 * another environment's (a subset, in the same organization) could pick that environment's workspace and state.
 * Equal tag sets are already one state location.
 */
function sharedTagProblems(environments: readonly MirrorEnvironment[]): string[] {
  const tagged = environments.flatMap(({ name, config }) => {
    const b = backendWithDefaults(config.backend, config.prefix, config.region);
    return b.type === "cloud" && b.tags !== undefined ? [{ name, place: `${b.hostname}/${b.organization}`, tags: new Set(b.tags) }] : [];
  });
  const problems: string[] = [];
  for (const a of tagged) {
    for (const b of tagged) {
      if (a === b || a.place !== b.place || a.tags.size >= b.tags.size || ![...a.tags].every((t) => b.tags.has(t))) continue;
      problems.push(
        `environments.${a.name}.backend.tags are ${JSON.stringify([...a.tags])}, all of them tags of ${b.name} too: ` +
          `${b.name}'s workspaces would be ${a.name}'s as well; give each environment a tag of its own, such as "${a.name}"`,
      );
    }
  }
  return problems;
}

/**
 * Every environment of a config file, resolved and validated. Throws one ConfigError with every problem of every
 * environment: a problem every environment shares (a mistake in the shared settings) is listed once.
 */
export function resolveEnvironments(file: MirrorConfigFile): MirrorEnvironment[] {
  const { environments, ...shared } = file;
  if (environments === undefined) {
    // A misspelt `environments` would otherwise read as one unknown field of a single deployment.
    const misspelt = Object.keys(shared).find((key) => !Object.hasOwn(CONFIG_FIELDS, key) && closest(key, ["environments"]));
    if (misspelt !== undefined) {
      throw new ConfigError([`${misspelt} is not a field of the config: did you mean "environments"?`]);
    }
    const config = resolveConfig(shared);
    return [{ name: config.prefix, config }];
  }
  if (!isPlainObject(environments) || Object.keys(environments).length === 0) {
    throw new ConfigError([
      `environments is ${JSON.stringify(environments)}: must name at least one environment, e.g. { staging: { prefix: "cs-mirror-staging" } }, or be left out for one environment`,
    ]);
  }

  const problems: string[] = [];
  const perEnvironment = new Map<string, readonly string[]>();
  const resolved: MirrorEnvironment[] = [];
  for (const [name, own] of Object.entries(environments)) {
    if (!ENVIRONMENT_NAME_PATTERN.test(name)) {
      problems.push(
        `environments.${name}: the name must be 1 to 32 characters of a-z, 0-9 and -, starting with a letter (it names the stack)`,
      );
      continue;
    }
    if (!isPlainObject(own)) {
      problems.push(`environments.${name} is ${JSON.stringify(own)}: must be an object of settings, e.g. { prefix: "cs-mirror-${name}" }`);
      continue;
    }
    try {
      resolved.push({ name, config: resolveConfig(mergeEnvironment(shared, own)) });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      perEnvironment.set(name, err.problems);
    }
  }

  // A mistake in the shared settings shows in every environment: say it once.
  const names = Object.keys(environments);
  const everywhere = new Set(
    names.length > 1 && perEnvironment.size === names.length
      ? [...perEnvironment.values()].reduce((common, list) => common.filter((p) => list.includes(p)))
      : [],
  );
  for (const problem of everywhere) problems.push(`every environment: ${problem}`);
  for (const [name, list] of perEnvironment) {
    for (const problem of list) if (!everywhere.has(problem)) problems.push(`environments.${name}: ${problem}`);
  }

  // Two environments must never share resources or state.
  const seen = { prefix: new Map<string, string>(), state: new Map<string, string>() };
  for (const { name, config } of resolved) {
    const other = seen.prefix.get(config.prefix);
    if (other !== undefined) {
      problems.push(
        `environments.${name}.prefix is ${JSON.stringify(config.prefix)}, as in ${other}: each environment needs its own prefix` +
          (config.prefix === DEFAULT_PREFIX && file.prefix === undefined ? ` (set one in each, e.g. "${DEFAULT_PREFIX}-${name}")` : ""),
      );
    }
    seen.prefix.set(config.prefix, name);
    if (other !== undefined) continue; // the default state location derives from the prefix: one line says it
    const location = stateLocation(name, config);
    const sharing = seen.state.get(location);
    if (sharing !== undefined) {
      problems.push(`environments.${name}.backend keeps its state in the ${location}, as ${sharing} does: each environment needs its own state`);
    }
    seen.state.set(location, name);
  }
  problems.push(...sharedTagProblems(resolved));

  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}

/**
 * The environments a command works on: all of them without names, else the named ones (an unknown name is an
 * error that lists the known ones).
 */
export function selectEnvironments(all: readonly MirrorEnvironment[], names: readonly string[]): MirrorEnvironment[] {
  if (names.length === 0) return [...all];
  const known = all.map((e) => e.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.map((n) => `there is no environment ${JSON.stringify(n)} in config.ts: the environments are ${known.join(", ")}`),
    );
  }
  return all.filter((e) => names.includes(e.name));
}

/**
 * The one environment a command that acts on a deployment (replay, verify) works on: the named one, or the only
 * one; with several environments and no name it is an error that lists them.
 */
export function pickEnvironment(all: readonly MirrorEnvironment[], name: string | undefined): MirrorEnvironment {
  if (name !== undefined) return selectEnvironments(all, [name])[0];
  if (all.length === 1) return all[0];
  throw new ConfigError([
    `config.ts has ${all.length} environments (${all.map((e) => e.name).join(", ")}): name one with --env <name>`,
  ]);
}
