/**
 * CDKTF is archived upstream (README, "CDKTF's status"): every import of cdktf, its provider packages and
 * constructs stays in main.ts and modules/, so moving to a fork changes those files only. Scripts and tests reach
 * cdktf through modules/ (modules/app.ts).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const ROOT = join(__dirname, "..");
const SKIP = new Set(["node_modules", ".build", "cdktf.out", ".git", "terraform-cloud", ".gen", "coverage"]);
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["'](cdktf|cdktf\/[^"']*|@cdktf\/[^"']*|constructs)["']/gm;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    if (SKIP.has(d.name)) return [];
    const at = join(dir, d.name);
    if (d.isDirectory()) return sources(at);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(d.name) ? [at] : [];
  });
}

export function cdktfImports(text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => m[1]);
}

describe("cdktf stays in main.ts and modules/", () => {
  const files = sources(ROOT).map((f) => relative(ROOT, f).split(sep).join("/"));

  it("scans the project's sources", () => {
    expect(files).toEqual(expect.arrayContaining(["main.ts", "modules/mirror-stack.ts", "scripts/synth-plan-stacks.ts", "handlers/receiver/index.ts"]));
  });

  it("imports cdktf, @cdktf/* and constructs nowhere else", () => {
    const outside = files
      // This file names them in its own check of the scan.
      .filter((f) => f !== "main.ts" && !f.startsWith("modules/") && f !== "__tests__/cdktf-boundary.test.ts")
      .flatMap((f) => cdktfImports(readFileSync(join(ROOT, f), "utf8")).map((m) => `${f}: ${m}`));
    expect(outside).toEqual([]);
  });

  it("recognizes every form of import (the scan can fail)", () => {
    expect(
      cdktfImports(
        [
          'import { App } from "cdktf";',
          "import { Construct } from 'constructs';",
          'import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";',
          'const c = require("cdktf");',
          'const m = await import("@cdktf/provider-aws");',
          'import "cdktf/lib/something";',
          'const s = "@cdktf/warn";',
          'import { x } from "./cdktf";',
        ].join("\n"),
      ),
    ).toEqual(["cdktf", "constructs", "@cdktf/provider-aws/lib/s3-bucket", "cdktf", "@cdktf/provider-aws", "cdktf/lib/something"]);
  });
});
