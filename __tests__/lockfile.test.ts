/**
 * package-lock.json is complete for every platform (npm ci accepts it on Linux, macOS and Windows) and is what
 * `npm install` would leave; and the check finds each way it can go stale.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Lockfile, lockfileProblems, missingOptionalEntries } from "../scripts/lockfile";

const ROOT = join(__dirname, "..");
const LOCK = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as Lockfile;

function projectWith(edit: (pkg: Record<string, any>, lock: Record<string, any>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "lockfile-test-"));
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
  edit(pkg, lock);
  writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  writeFileSync(join(dir, "package-lock.json"), JSON.stringify(lock, null, 2) + "\n");
  return dir;
}

describe("package-lock.json", () => {
  it("locks every platform's optional binaries, and an offline npm install leaves it byte for byte", () => {
    expect(lockfileProblems(ROOT)).toEqual([]);
  });

  it("really has other platforms' binaries to check (the check is not vacuous)", () => {
    for (const name of ["@swc/core-darwin-arm64", "@swc/core-win32-x64-msvc", "@esbuild/darwin-arm64", "@esbuild/win32-x64"]) {
      expect(LOCK.packages).toHaveProperty([`node_modules/${name}`]);
    }
  });

  it("finds a missing optional platform entry (what made npm ci fail on macOS)", () => {
    const packages = { ...LOCK.packages };
    delete packages["node_modules/@swc/core-darwin-arm64"];
    expect(missingOptionalEntries({ ...LOCK, packages })).toEqual([
      expect.stringMatching(/^node_modules\/@swc\/core: @swc\/core-darwin-arm64@/),
    ]);
  });

  it("resolves an optional dependency nested under its parent, as Node would", () => {
    const lock: Lockfile = {
      lockfileVersion: 3,
      packages: {
        "": {},
        "node_modules/a": { optionalDependencies: { b: "1", c: "1" } },
        "node_modules/a/node_modules/b": { version: "1.0.0" },
        "node_modules/c": { version: "1.0.0" },
        "node_modules/d": { optionalDependencies: { b: "1" } },
      },
    };
    expect(missingOptionalEntries(lock)).toEqual(["node_modules/d: b@1"]);
  });

  it("finds a package.json that asks for what the lockfile lacks", () => {
    const dir = projectWith((pkg) => {
      pkg.dependencies["left-pad"] = "1.3.0";
    });
    try {
      expect(lockfileProblems(dir)).toEqual([expect.stringContaining("npm install --package-lock-only --offline failed")]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("finds a lockfile that npm install would rewrite", () => {
    const dir = projectWith((pkg, lock) => {
      pkg.version = "0.1.1";
      lock.version = "0.1.0";
    });
    try {
      expect(lockfileProblems(dir)).toEqual(["npm install would rewrite package-lock.json: package.json and the lockfile disagree"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
