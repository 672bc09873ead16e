// Bundles every Lambda handler (handlers/<name>/index.ts) in one esbuild call and zips each bundle with fixed
// file dates and modes, so the same source gives the same zip bytes and the same Terraform plan.
// Output: .build/handlers/<name>.zip (git-ignored). Skipped when no input changed since the last build (see
// build-stamp.mjs); --force rebuilds anyway. Usage: node scripts/build-handlers.mjs [--force]
import { build, version as esbuildVersion } from "esbuild";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import yazl from "yazl";
import { buildKey, isCurrent, writeStamp } from "./build-stamp.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const handlersDir = path.join(root, "handlers");
const outDir = path.join(root, ".build", "handlers");
const stampFile = path.join(root, ".build", "handlers.stamp.json");

// A fixed local date: zip stores local date fields, so this gives the same bytes in every time zone.
const FIXED_DATE = new Date(2020, 0, 1, 0, 0, 0);

async function zip(name) {
  const zipFile = new yazl.ZipFile();
  for (const file of ["index.js", "index.js.map"]) {
    zipFile.addBuffer(readFileSync(path.join(outDir, name, file)), file, { mtime: FIXED_DATE, mode: 0o100644 });
  }
  zipFile.end();
  const target = path.join(outDir, `${name}.zip`);
  await new Promise((resolve, reject) => {
    zipFile.outputStream.pipe(createWriteStream(target)).on("close", resolve).on("error", reject);
  });
  return target;
}

/** Builds the handler zips unless they are current. Returns whether it built. */
export async function buildHandlers({ force = false, quiet = false } = {}) {
  const names = readdirSync(handlersDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(handlersDir, d.name, "index.ts")))
    .map((d) => d.name)
    .sort();
  const key = buildKey(esbuildVersion, fileURLToPath(import.meta.url), { names });
  const zips = names.map((n) => path.join(".build", "handlers", `${n}.zip`));
  if (!force && isCurrent(root, stampFile, key, zips)) {
    if (!quiet) console.log(`handler bundles are current (${names.join(", ")})`);
    return false;
  }

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: Object.fromEntries(names.map((n) => [`${n}/index`, path.join(handlersDir, n, "index.ts")])),
    outdir: outDir,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    minify: true,
    // Source maps in the zip, used through NODE_OPTIONS=--enable-source-maps: stack traces name our files.
    sourcemap: "external",
    sourcesContent: false,
    legalComments: "none",
    // The runtime ships an AWS SDK, but of a version we do not choose: bundle ours.
    external: [],
    metafile: true,
    logLevel: "warning",
    absWorkingDir: root,
  });

  for (const name of names) {
    const target = await zip(name);
    const js = result.metafile.outputs[path.relative(root, path.join(outDir, name, "index.js"))];
    const zipped = readFileSync(target).length;
    if (!quiet) console.log(`built ${name}: ${(js.bytes / 1024).toFixed(0)} KiB JavaScript, ${(zipped / 1024).toFixed(0)} KiB zip`);
  }
  writeStamp(root, stampFile, key, result.metafile);
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await buildHandlers({ force: process.argv.includes("--force") });
}
