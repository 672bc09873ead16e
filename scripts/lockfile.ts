/**
 * Checks that package-lock.json is what `npm install` would leave, without the network, in about a second:
 *
 * 1. every optional dependency of every locked package is itself locked (npm ci refuses a lockfile that lacks
 *    another platform's optional binaries, e.g. `Missing: @swc/core-darwin-arm64 from lock file`, and npm install
 *    on a machine with the network adds them, so a fresh clone would be dirty); an offline `npm install` does not
 *    notice these, hence this check of our own;
 * 2. `npm install --package-lock-only --offline` in a temporary copy (an empty cache, so nothing is fetched) leaves
 *    the lockfile byte for byte as it is: package.json and the lockfile agree.
 *
 * Usage: npm run check:lockfile   (part of npm test). Fix: `npm install` on a machine with the network, commit
 * package-lock.json.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

interface LockedPackage {
  readonly version?: string;
  readonly optionalDependencies?: Record<string, string>;
  readonly link?: boolean;
}

export interface Lockfile {
  readonly lockfileVersion: number;
  readonly packages: Record<string, LockedPackage>;
}

/** Where Node would find `name` from the package at `from` ("" is the project): the nearest node_modules up. */
function resolveLocked(lock: Lockfile, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (candidate in lock.packages) return candidate;
    if (dir === "") return undefined;
    const at = dir.lastIndexOf("/node_modules/");
    dir = at < 0 ? "" : dir.slice(0, at);
  }
}

/** One line per optional dependency that the lockfile does not lock: `<package>: <dependency>@<range>`. */
export function missingOptionalEntries(lock: Lockfile): string[] {
  if (lock.lockfileVersion < 2) return [`lockfileVersion ${lock.lockfileVersion}: expected 2 or 3 (npm 7 or newer)`];
  const missing: string[] = [];
  for (const [where, pkg] of Object.entries(lock.packages)) {
    for (const [name, range] of Object.entries(pkg.optionalDependencies ?? {})) {
      if (resolveLocked(lock, where, name) === undefined) missing.push(`${where || "(project)"}: ${name}@${range}`);
    }
  }
  return missing;
}

/** The lockfile an offline `npm install --package-lock-only` leaves, or npm's complaint when it cannot. */
export function offlineInstallResult(projectDir: string): { readonly lock?: string; readonly error?: string } {
  const work = mkdtempSync(path.join(tmpdir(), "lockfile-check-"));
  try {
    for (const file of ["package.json", "package-lock.json"]) {
      writeFileSync(path.join(work, file), readFileSync(path.join(projectDir, file)));
    }
    const npm = spawnSync(
      "npm",
      ["install", "--package-lock-only", "--ignore-scripts", "--offline", "--no-audit", "--no-fund", "--cache", path.join(work, ".cache")],
      { cwd: work, encoding: "utf8", shell: process.platform === "win32" },
    );
    if (npm.status !== 0) return { error: (npm.stderr || npm.stdout).trim().split("\n").slice(-5).join("\n") };
    return { lock: readFileSync(path.join(work, "package-lock.json"), "utf8") };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Every problem with the project's lockfile, empty when `npm ci` accepts it everywhere and `npm install` keeps it. */
export function lockfileProblems(projectDir: string): string[] {
  const text = readFileSync(path.join(projectDir, "package-lock.json"), "utf8");
  const problems = missingOptionalEntries(JSON.parse(text) as Lockfile).map(
    (m) => `optional dependency not in the lockfile (npm ci fails on the platform that needs it): ${m}`,
  );
  const offline = offlineInstallResult(projectDir);
  if (offline.error !== undefined) {
    problems.push(`npm install --package-lock-only --offline failed: package.json needs a package the lockfile lacks:\n${offline.error}`);
  } else if (offline.lock !== text) {
    problems.push("npm install would rewrite package-lock.json: package.json and the lockfile disagree");
  }
  return problems;
}

if (require.main === module) {
  const root = path.resolve(__dirname, "..");
  const problems = lockfileProblems(root);
  if (problems.length > 0) {
    console.error(`package-lock.json is stale (${problems.length} problem${problems.length === 1 ? "" : "s"}):`);
    for (const p of problems) console.error(`  - ${p}`);
    console.error("Fix: run `npm install` on a machine with the network, then commit package-lock.json.");
    process.exit(1);
  }
  console.log("package-lock.json: complete for every platform, and what npm install would leave");
}
