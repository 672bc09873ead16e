import { ConfigError, MirrorConfigInput, resolveConfig } from "../../modules/config";

/** The problems resolveConfig reports for a config input (none when it is valid). */
export function problemsOf(input: MirrorConfigInput): readonly string[] {
  try {
    resolveConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}
