/** The one-pass problem collector every section validator writes to, and the error that lists what it found. */
import { AWS_REGIONS } from "./aws-regions";
import { didYouMean } from "./suggest";
import type { FunctionSizing } from "./types";

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `The deployment config has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${p}`).join("\n") +
        "\nFix them in config.ts (see `help`, section Config) and run the command again.",
    );
    this.name = "ConfigError";
  }
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** Collects problems; every check adds one line naming the field, the value and what is allowed. */
export class Checker {
  readonly problems: string[] = [];

  add(field: string, value: unknown, allowed: string): void {
    this.problems.push(`${field} is ${show(value)}: ${allowed}`);
  }

  integer(field: string, value: unknown, min: number, max: number): void {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.add(field, value, `must be a whole number from ${min} to ${max}`);
    }
  }

  boolean(field: string, value: unknown): void {
    if (typeof value !== "boolean") this.add(field, value, "must be true or false");
  }

  /** An AWS region code from the list of regions (config/aws-regions.ts), with the closest one for a typo. */
  region(field: string, value: unknown): void {
    if (typeof value === "string" && AWS_REGIONS.includes(value)) return;
    const hint = typeof value === "string" ? didYouMean(value, AWS_REGIONS) : "";
    this.add(field, value, hint ? `is not an AWS region code: ${hint}` : "must be an AWS region code such as us-east-1 or eu-central-1");
  }

  sizing(field: string, value: FunctionSizing, maxTimeout = 900): void {
    this.integer(`${field}.memoryMiB`, value.memoryMiB, 128, 10240);
    this.integer(`${field}.timeoutSeconds`, value.timeoutSeconds, 1, maxTimeout);
  }
}
