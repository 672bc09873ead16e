/**
 * A config mistake through the real entry points, as child processes: the app cdktf.json runs (`node
 * scripts/synth.mjs`, what `cdktf synth`, `diff` and `deploy` start) and `npm run check`. Each runs in a copy of the
 * project whose config.ts has the mistakes (the code folders are links to this checkout's), so this checkout's
 * config.ts and build output are never touched.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");

const MISTAKES = `const config = {
  controlShift: { region: "eu" },
  region: "eu-wset-2",
  tables: ["petition"],
};
export default config;
`;

const EXPECTED = [
  'controlShift is not a field of the config: did you mean "controlshift"?',
  'region is "eu-wset-2": is not an AWS region code: did you mean "eu-west-2"?',
  'tables[0] is "petition": is not a ControlShift table this project knows (schemas/controlshift-tables.ts): did you mean "petitions"?',
];

let project: string;

beforeAll(() => {
  project = mkdtempSync(path.join(tmpdir(), "csm-config-entry-"));
  for (const dir of ["modules", "facts", "handlers", "schemas", "node_modules"]) {
    symlinkSync(path.join(ROOT, dir), path.join(project, dir), "dir");
  }
  for (const file of ["main.ts", "package.json", "cdktf.json", "tsconfig.json"]) cpSync(path.join(ROOT, file), path.join(project, file));
  // Copied, not linked: the scripts find the project folder from their own location.
  cpSync(path.join(ROOT, "scripts"), path.join(project, "scripts"), { recursive: true });
  // The handler bundles, when this checkout has them current, spare a cold build (the stamps say whether they are).
  if (existsSync(path.join(ROOT, ".build", "handlers.stamp.json"))) {
    mkdirSync(path.join(project, ".build"));
    cpSync(path.join(ROOT, ".build", "handlers"), path.join(project, ".build", "handlers"), { recursive: true });
    cpSync(path.join(ROOT, ".build", "handlers.stamp.json"), path.join(project, ".build", "handlers.stamp.json"));
  }
  writeFileSync(path.join(project, "config.ts"), MISTAKES);
});

afterAll(() => rmSync(project, { recursive: true, force: true }));

const run = (command: string, args: string[], outdir: string) =>
  spawnSync(command, args, {
    cwd: project,
    env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1" },
    encoding: "utf8",
  });

// First, while the copy has no app bundle: check must not build one.
it("npm run check fails on the same mistakes, without bundling or synthesizing", () => {
  const outdir = path.join(project, "cdktf.out");
  const result = run("npm", ["run", "--silent", "check"], outdir);
  expect(result.status).not.toBe(0);
  for (const line of EXPECTED) expect(result.stderr).toContain(`  - ${line}`);
  expect(existsSync(outdir)).toBe(false);
  expect(existsSync(path.join(project, ".build", "app"))).toBe(false);
}, 120_000);

it("the app cdktf.json runs exits 1 with every mistake, each with its field and suggestion, and writes no stack", () => {
  const outdir = path.join(project, "cdktf.out");
  const result = run(process.execPath, ["scripts/synth.mjs"], outdir);
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("The deployment config has 3 problems:\n");
  for (const line of EXPECTED) expect(result.stderr).toContain(`  - ${line}`);
  expect(existsSync(outdir)).toBe(false);
}, 180_000);
