/**
 * `npm run help`: the operator's cheat sheet (the file `help`), without colliding with the shell's `help` builtin.
 *
 *   npm run help                         the whole sheet (pipe it to less)
 *   npm run help -- <words>              only the parts whose title has those words: npm run help -- allow-list
 *   npm run help -- --update-contents    rewrite the sheet's table of contents from its titles
 *
 * The sheet is banner sections ("=====" / " Title" / "=====") holding entries (" Title" / " -----"); the table of
 * contents at its top lists them, and __tests__/help-contents.test.ts fails when it no longer matches.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export const HELP_FILE = path.join(__dirname, "..", "help");
const CONTENTS_TITLE = " Contents (npm run help -- <words of a title> prints that part alone)";

export interface HelpPart {
  readonly section: string;
  readonly title: string;
  /** The part's lines, its title and underline included. */
  readonly lines: string[];
}

/** The sheet's entries in order, each with its banner section's title. */
export function helpParts(text: string): HelpPart[] {
  const lines = text.split("\n");
  const parts: HelpPart[] = [];
  let section = "";
  let current: HelpPart | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (/^=+$/.test(lines[i]) && /^=+$/.test(lines[i + 2] ?? "")) {
      section = lines[i + 1].trim();
      current = undefined;
      i += 2;
      continue;
    }
    if (/^ \S/.test(lines[i]) && /^ -+$/.test(lines[i + 1] ?? "")) {
      current = { section, title: lines[i].slice(1), lines: [lines[i], lines[i + 1]] };
      parts.push(current);
      i += 1;
      continue;
    }
    current?.lines.push(lines[i]);
  }
  return parts;
}

/** The table of contents the sheet should open with: each section, then its entries' titles (troubleshooting counted). */
export function contentsOf(text: string): string[] {
  const parts = helpParts(text).filter((p) => p.title !== CONTENTS_TITLE.slice(1));
  const sections = [...new Set(parts.map((p) => p.section))];
  const out = [CONTENTS_TITLE, ` ${"-".repeat(CONTENTS_TITLE.length - 1)}`];
  for (const section of sections) {
    const titles = parts.filter((p) => p.section === section).map((p) => p.title);
    out.push(`   ${section}`);
    if (/^(Troubleshooting|Errors)\b/.test(section)) {
      out.push(`       ${titles.length} entries, each titled by the text you see`);
    } else {
      for (const t of titles) out.push(`       ${t.length > 96 ? `${t.slice(0, 95)}…` : t}`);
    }
  }
  return out;
}

/** The sheet with its table of contents rewritten (or inserted before the first entry). */
export function withContents(text: string): string {
  const lines = text.split("\n");
  const start = lines.indexOf(CONTENTS_TITLE);
  if (start >= 0) {
    let end = start + 2;
    while (end < lines.length && lines[end].trim() !== "") end++;
    lines.splice(start, end - start, ...contentsOf(text));
  } else {
    const first = lines.findIndex((l, i) => i > 3 && /^ \S/.test(l) && /^ -+$/.test(lines[i + 1] ?? ""));
    lines.splice(first, 0, ...contentsOf(text), "");
  }
  return lines.join("\n");
}

/** The parts whose title (or section) has every word of the query, case-insensitively. */
export function findParts(text: string, words: readonly string[]): HelpPart[] {
  const wanted = words.map((w) => w.toLowerCase());
  return helpParts(text).filter((p) => {
    const title = `${p.section} ${p.title}`.toLowerCase();
    return wanted.every((w) => title.includes(w));
  });
}

function main(args: string[]): number {
  const text = readFileSync(HELP_FILE, "utf8");
  if (args.includes("--update-contents")) {
    writeFileSync(HELP_FILE, withContents(text));
    console.log("help: table of contents rewritten from the titles");
    return 0;
  }
  if (args.length === 0) {
    process.stdout.write(text);
    return 0;
  }
  const parts = findParts(text, args);
  if (parts.length === 0) {
    console.error(`help: no part's title has "${args.join(" ")}". The titles:\n${contentsOf(text).slice(2).join("\n")}`);
    return 1;
  }
  for (const p of parts) console.log(`[${p.section}]\n${p.lines.join("\n").trimEnd()}\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
