/**
 * facts/ is the neutral home of shared facts: the stack, the Lambda bundles, schemas/ and scripts/ all import it, so
 * it may import nothing but itself (no cdktf, no constructs, no AWS SDK, no project folder).
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

const FACTS = path.join(__dirname, "..", "facts");

describe("facts/", () => {
  const files = readdirSync(FACTS).filter((f) => f.endsWith(".ts"));

  it("has its README saying new shared facts go there, and lists every file", () => {
    const readme = readFileSync(path.join(FACTS, "README.md"), "utf8");
    expect(readme).toMatch(/New shared facts go here/);
    for (const file of files) expect(readme).toContain(`\`${file}\``);
  });

  it.each(files)("%s imports nothing outside facts/", (file) => {
    const source = readFileSync(path.join(FACTS, file), "utf8");
    const imports = [...source.matchAll(/(?:from|import|require\()\s*["']([^"']+)["']/g)].map((m) => m[1]);
    expect(imports.filter((spec) => !spec.startsWith("./"))).toEqual([]);
  });
});
