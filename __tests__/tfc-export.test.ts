/**
 * The committed Terraform Cloud folders (terraform-cloud/<stack>/, written by `npm run tfc:export`) are
 * self-contained: no backend, every file they name inside them by a relative path, the provider's lock file.
 * Freshness against the code is `npm run tfc:check` (in npm test); here, that it finds each kind of difference.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";

const ROOT = join(__dirname, "..");
const EXPORT_DIR = join(ROOT, "terraform-cloud");
const stacks = readdirSync(EXPORT_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

/** Every string value under a key named `key`, anywhere in the JSON. */
function valuesOf(node: unknown, key: string, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => valuesOf(n, key, found));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === key && typeof v === "string") found.push(v);
      valuesOf(v, key, found);
    }
  }
  return found;
}

describe("terraform-cloud/: the VCS-driven workspace folders", () => {
  it("has at least one stack", () => {
    expect(stacks.length).toBeGreaterThan(0);
  });

  it.each(stacks)("%s: no backend, relative paths to files inside it, the provider's lock file", (stack) => {
    const dir = join(EXPORT_DIR, stack);
    const config = JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8"));
    expect(config.terraform.backend).toBeUndefined();
    expect(config.terraform.cloud).toBeUndefined();
    const files = valuesOf(config.resource, "filename");
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      expect(isAbsolute(file)).toBe(false);
      expect(file.startsWith("assets/")).toBe(true);
      expect(existsSync(join(dir, file))).toBe(true);
    }
    const lock = readFileSync(join(dir, ".terraform.lock.hcl"), "utf8");
    expect(lock).toBe(readFileSync(join(ROOT, "terraform", "aws-provider.lock.hcl"), "utf8"));
    const version = config.terraform.required_providers.aws.version;
    expect(lock).toContain(`version     = "${version}"`);
    expect(lock).toContain(`constraints = "${version}"`);
    expect(readFileSync(join(ROOT, ".gitignore"), "utf8")).not.toMatch(/terraform\.lock\.hcl/);
  });

  it("fails the check, naming each stale file and the command that fixes it (npm test checks the real folder fresh)", () => {
    const work = mkdtempSync(join(tmpdir(), "tfc-check-"));
    const copy = join(work, "terraform-cloud");
    const check = () =>
      spawnSync(process.execPath, [join(ROOT, "scripts", "tfc-export.mjs"), "--check", "--dir", copy], { cwd: ROOT, encoding: "utf8" });
    try {
      cpSync(EXPORT_DIR, copy, { recursive: true });
      const stack = join(copy, stacks[0]);
      writeFileSync(join(stack, "cdk.tf.json"), readFileSync(join(stack, "cdk.tf.json"), "utf8").replace("}", ' }'));
      const zip = valuesOf(JSON.parse(readFileSync(join(EXPORT_DIR, stacks[0], "cdk.tf.json"), "utf8")).resource, "filename")[0];
      rmSync(join(stack, zip));
      writeFileSync(join(stack, "assets", "old.zip"), "left over");
      const stale = check();
      expect(stale.status).toBe(1);
      expect(stale.stderr).toContain("is stale");
      expect(stale.stderr).toContain(`differs: ${stacks[0]}/cdk.tf.json`);
      expect(stale.stderr).toContain(`missing: ${stacks[0]}/${zip}`);
      expect(stale.stderr).toContain(`not written by the export any more: ${stacks[0]}/assets/old.zip`);
      expect(stale.stderr).toContain("Fix: run `npm run tfc:export`");

    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
