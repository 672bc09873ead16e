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

const USAGE = "usage: npx tsx scripts/generate-schemas.ts <schema.json> [--out <dir>]";

export interface GenerateResult {
  readonly written: readonly string[];
  readonly removed: readonly string[];
}

export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
    this.name = "UsageError";
  }
}

export function parseArgs(argv: readonly string[]): { input: string; outDir: string } {
  let input: string | undefined;
  let outDir = resolve(__dirname, "..", "schemas");
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--out") {
      const value = argv[++i];
      if (!value) throw new UsageError("--out needs a directory");
      outDir = resolve(value);
    } else if (arg.startsWith("--out=")) {
      outDir = resolve(arg.slice("--out=".length));
    } else if (arg.startsWith("-")) {
      throw new UsageError(`unknown option ${arg}`);
    } else if (input === undefined) {
      input = arg;
    } else {
      throw new UsageError(`unexpected argument ${arg}`);
    }
  }
  if (input === undefined) throw new UsageError("missing the schema.json path");
  return { input: resolve(input), outDir };
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
