/**
 * Regenerates `schemas/` from ControlShift's `schema.json`.
 *
 *   npx tsx scripts/generate-schemas.ts <schema.json> [--out <dir>]
 *
 * Get the file from your instance: `curl -o schemas/source/schema.json https://<instance>/api/bulk_data/schema.json`.
 * Writes `table-schemas.ts`, `controlshift-tables.ts`, `metadata.sql` and `tables/<table>.sql` under `--out`
 * (default: this repository's `schemas/`), and removes `tables/*.sql` of tables no longer in the file. Output is
 * deterministic: review it with `git diff schemas/`.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { GENERATED_TABLES_DIR, SchemaJsonError, generateSchemaFiles } from "../schemas/generator";
import { readCommandLine, UsageError } from "./command-line";

const USAGE = "usage: npx tsx scripts/generate-schemas.ts <schema.json> [--out <dir>]";

export interface GenerateResult {
  readonly written: readonly string[];
  readonly removed: readonly string[];
}

/** Reads the command line (scripts/command-line.ts). Throws UsageError, with the usage, naming every problem. */
export function parseArgs(argv: readonly string[]): { input: string; outDir: string } {
  const line = readCommandLine(argv, { values: ["out"] });
  const problems = line.problems.map((p) => (p === "--out needs a value" ? "--out needs a directory" : p));
  const [input, ...extra] = line.positionals;
  if (input === undefined) problems.push("missing the schema.json path");
  for (const arg of extra) problems.push(`unexpected argument ${arg}`);
  if (problems.length > 0) throw new UsageError([...problems, USAGE]);
  const out = line.values.get("out")?.[0];
  return { input: resolve(input), outDir: out !== undefined ? resolve(out) : resolve(__dirname, "..", "schemas") };
}

/** Reads `input`, writes the generated files under `outDir`, removes stale `tables/*.sql`. */
export function generateSchemas(input: string, outDir: string): GenerateResult {
  const files = generateSchemaFiles(readFileSync(input, "utf8"));
  const tablesDir = join(outDir, GENERATED_TABLES_DIR);
  mkdirSync(tablesDir, { recursive: true });
  const removed: string[] = [];
  for (const name of readdirSync(tablesDir).sort()) {
    const rel = `${GENERATED_TABLES_DIR}/${name}`;
    if (name.endsWith(".sql") && !files.has(rel)) {
      rmSync(join(tablesDir, name));
      removed.push(rel);
    }
  }
  for (const [rel, content] of files) {
    const path = join(outDir, ...rel.split("/"));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, "utf8");
  }
  return { written: [...files.keys()], removed };
}

export function main(argv: readonly string[]): number {
  try {
    const { input, outDir } = parseArgs(argv);
    const { written, removed } = generateSchemas(input, outDir);
    const tables = written.filter((f) => f.startsWith(`${GENERATED_TABLES_DIR}/`)).length;
    console.log(`wrote ${written.length} files (${tables} tables) to ${outDir}`);
    for (const rel of removed) console.log(`removed ${rel}: the table is no longer in the schema.json`);
    return 0;
  } catch (err) {
    if (err instanceof SchemaJsonError || err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
