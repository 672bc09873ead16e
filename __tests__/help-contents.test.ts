/**
 * The cheat sheet opens with a table of contents that matches its titles, and `npm run help -- <words>` prints the
 * parts whose title has those words.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { contentsOf, findParts, HELP_FILE, withContents } from "../scripts/help";

const TEXT = readFileSync(HELP_FILE, "utf8");

describe("help: the table of contents", () => {
  it("is at the top and lists every section and entry as they are (fix: npm run help -- --update-contents)", () => {
    const contents = contentsOf(TEXT);
    const at = TEXT.indexOf(contents.join("\n"));
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(TEXT.indexOf(" Commands (from the project folder)"));
    expect(withContents(TEXT)).toBe(TEXT);
  });

  it("goes stale when a title changes (the check can fail)", () => {
    const renamed = TEXT.replace("\n Rotating the signing secret\n -", "\n Rotating the webhook secret\n -");
    expect(renamed).not.toBe(TEXT);
    expect(withContents(renamed)).not.toBe(renamed);
    expect(withContents(renamed)).toContain("       Rotating the webhook secret\n");
  });

  it("finds parts by the words of their titles, case-insensitively", () => {
    expect(findParts(TEXT, ["allow-list"]).map((p) => p.title)).toContain("Adding an IP to the allow-list");
    expect(findParts(TEXT, ["TERRAFORM", "cloud"]).map((p) => p.title)).toContain("Terraform Cloud");
  });

  it("npm run help -- <words> prints the part, and names the titles when nothing matches", () => {
    const tsx = require.resolve("tsx/cli");
    const found = spawnSync(process.execPath, [tsx, join(__dirname, "..", "scripts", "help.ts"), "signing", "secret"], { encoding: "utf8" });
    expect(found.status).toBe(0);
    expect(found.stdout).toContain(" Rotating the signing secret\n");
    const none = spawnSync(process.execPath, [tsx, join(__dirname, "..", "scripts", "help.ts"), "no-such-title"], { encoding: "utf8" });
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no part\'s title has "no-such-title"');
  });
});
