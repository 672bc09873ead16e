// Rebuild only when an input changed: a build records the files esbuild read (its metafile's inputs) with a hash of
// each, plus a key for everything else that shapes the output (esbuild's version, the build script, the options);
// the next build is skipped when the key is the same, every recorded file hashes the same and the outputs exist.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

/** SHA-256 of a file's bytes, or undefined when it is gone. */
function fileHash(file) {
  try {
    return createHash("sha256").update(readFileSync(file)).digest("hex");
  } catch {
    return undefined;
  }
}

/**
 * Whether the build recorded in `stampFile` is still current: the same `key`, every recorded input unchanged, every
 * file of `outputs` present. Paths are relative to `root`.
 */
export function isCurrent(root, stampFile, key, outputs) {
  if (!existsSync(stampFile) || !outputs.every((o) => existsSync(path.join(root, o)))) return false;
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, "utf8"));
  } catch {
    return false;
  }
  if (stamp.key !== key) return false;
  return Object.entries(stamp.inputs).every(([file, hash]) => fileHash(path.join(root, file)) === hash);
}

/** Records a finished build: its key and the hash of every input in esbuild's metafile. */
export function writeStamp(root, stampFile, key, metafile) {
  const inputs = Object.fromEntries(Object.keys(metafile.inputs).map((file) => [file, fileHash(path.join(root, file))]));
  writeFileSync(stampFile, JSON.stringify({ key, inputs }));
}

/** The key of a build: esbuild's version, the build script's own bytes, and the options that are not files. */
export function buildKey(esbuildVersion, script, options) {
  return createHash("sha256").update(esbuildVersion).update(readFileSync(script)).update(JSON.stringify(options)).digest("hex");
}
