/**
 * The one command-line layer of the project's CLIs (npm run replay, npm run local, npm run schemas): node:util
 * parseArgs reads the tokens; this collects every problem at once (unknown option, missing value, a value given
 * twice, a flag given a value) so a CLI reports them together, and gives one UsageError for all of them.
 */
import { parseArgs } from "node:util";

/** The command line is wrong. Each CLI prints its message and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";

  constructor(readonly problems: readonly string[], separator = "\n") {
    super(problems.join(separator));
  }
}

export interface OptionSpec {
  /** Options that take a value, without the leading `--`. */
  readonly values?: readonly string[];
  /** Options that take none. */
  readonly flags?: readonly string[];
  /** One-letter aliases: { h: "help" }. */
  readonly short?: Readonly<Record<string, string>>;
  /** Whether an option given twice is a problem (else every value is kept, in order). @default true */
  readonly once?: boolean;
}

export interface CommandLine {
  readonly positionals: string[];
  /** Every value of each value option, in order (one unless `once: false`). */
  readonly values: Map<string, string[]>;
  readonly flags: Set<string>;
  /** What is wrong, as `--name needs a value`, `unknown option --x`, `--name is given twice`. */
  readonly problems: string[];
}

/** Reads `argv` against `spec`. Never throws: problems are listed in the result. */
export function readCommandLine(argv: readonly string[], spec: OptionSpec): CommandLine {
  const values = new Set(spec.values ?? []);
  const flags = new Set(spec.flags ?? []);
  const shortOf = Object.fromEntries(Object.entries(spec.short ?? {}).map(([letter, name]) => [name, letter]));
  const options = Object.fromEntries([
    ...[...values].map((name) => [name, { type: "string" as const, multiple: true }]),
    ...[...flags].map((name) => [name, { type: "boolean" as const, multiple: true, ...(shortOf[name] ? { short: shortOf[name] } : {}) }]),
  ]);
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const result: CommandLine = { positionals: [], values: new Map(), flags: new Set(), problems: [] };
  const seen = new Set<string>();
  const once = spec.once ?? true;
  for (const token of tokens) {
    if (token.kind === "positional") {
      result.positionals.push(token.value);
      continue;
    }
    if (token.kind === "option-terminator") continue;
    const display = token.rawName.startsWith("--") ? `--${token.name}` : token.rawName;
    if (values.has(token.name)) {
      // parseArgs takes the next argument as the value even when it is another option: that is a missing value.
      if (token.value === undefined || token.value === "" || (!token.inlineValue && token.value.startsWith("--"))) {
        result.problems.push(`--${token.name} needs a value`);
        if (!token.inlineValue && token.value?.startsWith("--")) {
          // Read the swallowed option again, as itself.
          const again = readCommandLine([token.value], spec);
          again.positionals.forEach((p) => result.positionals.push(p));
          again.flags.forEach((f) => result.flags.add(f));
          again.problems.forEach((p) => result.problems.push(p));
        }
        continue;
      }
      if (once && seen.has(token.name)) {
        result.problems.push(`--${token.name} is given twice`);
        continue;
      }
      seen.add(token.name);
      result.values.set(token.name, [...(result.values.get(token.name) ?? []), token.value]);
    } else if (flags.has(token.name) && token.value === undefined) {
      result.flags.add(token.name);
    } else {
      result.problems.push(`unknown option ${token.inlineValue ? `${display}=${token.value}` : display}`);
    }
  }
  return result;
}
