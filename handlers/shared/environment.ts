/**
 * The one environment reader of every function: read once at cold start, every problem reported at once in one
 * EnvironmentError naming the function, each variable, its value and what is expected, so a misconfigured deployment
 * fails its first invocation loudly instead of half-working.
 *
 * Rules, the same for every function: a variable the stack always sets is required (no default here: the defaults
 * live in the config, modules/config/defaults.ts, and a silent default could hide a renamed variable); values are
 * trimmed; an empty value is a missing one. Variable names come from facts/environment.ts.
 */
import { COMMON_ENV } from "../../facts/environment";

export type Env = Readonly<Record<string, string | undefined>>;

export class EnvironmentError extends Error {
  override readonly name: string = "EnvironmentError";

  constructor(
    /** The function, as it starts the message: "webhook receiver", "downloader", "loader", "bootstrap". */
    readonly functionName: string,
    readonly problems: readonly string[],
  ) {
    super(`${functionName}: bad environment: ${problems.join("; ")}`);
  }
}

export class EnvironmentReader {
  private readonly problems: string[] = [];

  constructor(
    private readonly env: Env,
    private readonly functionName: string,
  ) {}

  /** The trimmed value, "" when unset. For a variable whose absence means something (see `required`). */
  optional(name: string): string {
    return this.env[name]?.trim() ?? "";
  }

  /** The trimmed value; a problem when unset or empty. */
  required(name: string, what: string): string {
    const value = this.optional(name);
    if (value === "") this.problems.push(`${name} is not set: expected ${what}`);
    return value;
  }

  /** Adds a problem when `value` is set but not `ok`. */
  check(name: string, value: string, ok: boolean, what: string): void {
    if (value !== "" && !ok) this.problems.push(`${name} is ${JSON.stringify(value)}: expected ${what}`);
  }

  /** A required value matching `pattern`. */
  matching(name: string, what: string, pattern: RegExp): string {
    const value = this.required(name, what);
    this.check(name, value, pattern.test(value), what);
    return value;
  }

  /** A required value among `values`. */
  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const what = values.join(" or ");
    const value = this.required(name, what);
    this.check(name, value, (values as readonly string[]).includes(value), what);
    return value as T;
  }

  /** A required comma-separated list, at least one item, each matching `pattern`. */
  list(name: string, what: string, pattern: RegExp): string[] {
    const raw = this.required(name, what);
    const items = raw.split(",").map((item) => item.trim()).filter((item) => item !== "");
    const bad = items.filter((item) => !pattern.test(item));
    if (raw !== "" && (items.length === 0 || bad.length > 0)) {
      this.problems.push(`${name} is ${JSON.stringify(raw)}: expected ${what}${bad.length > 0 ? `; bad: ${bad.join(", ")}` : ""}`);
    }
    return items;
  }

  /** A required whole number from `min` to `max`. */
  integer(name: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
    const what = max === Number.MAX_SAFE_INTEGER ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`;
    const raw = this.required(name, what);
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    this.check(name, raw, Number.isSafeInteger(value) && value >= min && value <= max, what);
    return value;
  }

  /** POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE, which the stack sets on every function. */
  powertools(): { readonly serviceName: string; readonly metricsNamespace: string } {
    return {
      serviceName: this.required(COMMON_ENV.serviceName, "the service name on logs and metrics (the function name)"),
      metricsNamespace: this.required(COMMON_ENV.metricsNamespace, "the CloudWatch namespace of the metrics (ControlShiftMirror/<prefix>)"),
    };
  }

  /** A problem that is not about one variable's value (two variables that exclude each other). */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws EnvironmentError listing every problem found so far, or returns `build()`. */
  done<T>(build: () => T): T {
    if (this.problems.length > 0) throw new EnvironmentError(this.functionName, this.problems);
    return build();
  }
}

/** Whether `value` parses as an https URL. */
export function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === "https:";
  } catch {
    return false;
  }
}
