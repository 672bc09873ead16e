/**
 * The programs outside npm that some checks need (terraform, a PostgreSQL 15 server, bzip2), and the one rule for
 * when one is missing: outside CI the check is skipped with one loud SKIPPED line; under CI (CI set, as every CI
 * service does) nothing may skip, so the run fails with a message naming the install step.
 *
 * From TypeScript: `toolAvailable("bzip2", "the bzip2 header tests")`. From a shell script:
 * `npx tsx scripts/tools.ts terraform "terraform validate and plan"`: exit 0 when found, 3 after printing SKIPPED,
 * 1 after printing the CI failure.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";

/** Where the PostgreSQL 15 server binaries are (Debian's postgresql-15 package), unless POSTGRES_BIN says. */
export const POSTGRES_BIN = process.env.POSTGRES_BIN ?? "/usr/lib/postgresql/15/bin";

interface Tool {
  /** What it is, for messages. */
  readonly label: string;
  readonly found: () => boolean;
  /** The install step, as a command or a pointer. */
  readonly install: string;
}

function onPath(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export const TOOLS = {
  terraform: {
    label: "terraform",
    found: () => onPath("terraform"),
    install: "install Terraform 1.11 (https://developer.hashicorp.com/terraform/install) so `terraform` is on the PATH",
  },
  postgres: {
    label: `a PostgreSQL 15 server (${path.join(POSTGRES_BIN, "initdb")} and pg_ctl)`,
    found: () => existsSync(path.join(POSTGRES_BIN, "initdb")) && existsSync(path.join(POSTGRES_BIN, "pg_ctl")),
    install: "apt-get install -y postgresql-15 (or set POSTGRES_BIN to the folder holding initdb and pg_ctl)",
  },
  bzip2: {
    label: "bzip2",
    found: () => onPath("bzip2"),
    install: "apt-get install -y bzip2",
  },
} as const satisfies Record<string, Tool>;

export type ToolName = keyof typeof TOOLS;

/** Whether this run is CI's: any CI value but "false" or "0" (GitHub Actions and others set CI=true). */
export function isCi(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== "" && ci !== "false" && ci !== "0";
}

export class MissingToolError extends Error {
  override readonly name = "MissingToolError";
}

/**
 * Whether `tool` is installed. When it is not: under CI, throws MissingToolError naming the install step (nothing
 * skips in CI); otherwise prints `SKIPPED: <what> (<tool> not found: <install step>)` to stderr and returns false.
 */
export function toolAvailable(
  tool: ToolName,
  what: string,
  options: { env?: Readonly<Record<string, string | undefined>>; log?: (line: string) => void } = {},
): boolean {
  const t: Tool = TOOLS[tool];
  if (t.found()) return true;
  if (isCi(options.env)) {
    throw new MissingToolError(`${t.label} not found, and CI never skips ${what}: ${t.install}`);
  }
  (options.log ?? ((line) => process.stderr.write(`${line}\n`)))(`SKIPPED: ${what} (${t.label} not found: ${t.install})`);
  return false;
}

if (require.main === module) {
  const [tool, what] = process.argv.slice(2);
  if (!(tool in TOOLS) || !what) {
    console.error(`usage: tsx scripts/tools.ts <${Object.keys(TOOLS).join("|")}> "<what needs it>"`);
    process.exit(2);
  }
  try {
    process.exit(toolAvailable(tool as ToolName, what) ? 0 : 3);
  } catch (err) {
    console.error(`FAILED: ${(err as Error).message}`);
    process.exit(1);
  }
}
