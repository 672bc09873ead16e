/**
 * Synthesizes MirrorStacks for tests, with tiny fixed handler zips (so snapshots do not change with handler code)
 * and helpers to walk the synthesized JSON.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { MirrorConfigInput, resolveConfig } from "../../modules/config";
import { createApp, createTestApp, synthesizeInMemory } from "../../modules/app";
import { MirrorStack } from "../../modules/mirror-stack";

// A minimal, valid, empty zip archive (end-of-central-directory record only) plus one byte naming the handler,
// so each bundle has its own hash.
function fixtureZip(name: string): Buffer {
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(name.length, 20);
  return Buffer.concat([eocd, Buffer.from(name)]);
}

let bundleDir: string | undefined;

/** A folder of fixture zips for every handler the stack may ask for. */
export function fixtureBundleDir(): string {
  if (bundleDir) return bundleDir;
  bundleDir = mkdtempSync(path.join(tmpdir(), "csm-bundles-"));
  for (const name of ["receiver", "downloader", "loader", "bootstrap"]) {
    writeFileSync(path.join(bundleDir, `${name}.zip`), fixtureZip(name));
  }
  return bundleDir;
}

export type Json = Record<string, any>;

/**
 * A short table list for tests of things that do not depend on the tables: every table's loaders have the same
 * shape, and the 63-table default stack takes seconds to synthesize.
 */
export const FEW_TABLES: readonly string[] = ["petitions", "signatures"];

/** Synthesizes a stack from a config input and returns the parsed cdk.tf.json. */
export function synthStack(input: MirrorConfigInput = {}, options: { offlinePlan?: boolean } = {}): Json {
  const app = createTestApp();
  const stack = new MirrorStack(app, "test", {
    config: resolveConfig(input),
    bundleDir: fixtureBundleDir(),
    offlinePlan: options.offlinePlan,
  });
  return JSON.parse(synthesizeInMemory(stack));
}

/** Synthesizes through a real App into a folder and returns the folder (for byte comparisons). */
export function synthToDir(input: MirrorConfigInput = {}, stackName = "test"): string {
  const outdir = mkdtempSync(path.join(tmpdir(), "csm-synth-"));
  mkdirSync(outdir, { recursive: true });
  const app = createApp(outdir);
  new MirrorStack(app, stackName, { config: resolveConfig(input), bundleDir: fixtureBundleDir() });
  app.synth();
  return outdir;
}

/** Every resource of a type: [logical id, attributes]. */
export function resourcesOf(tf: Json, type: string): [string, Json][] {
  return Object.entries((tf.resource?.[type] ?? {}) as Record<string, Json>);
}

export function dataOf(tf: Json, type: string): [string, Json][] {
  return Object.entries((tf.data?.[type] ?? {}) as Record<string, Json>);
}

/**
 * The one resource of a type at a construct path below the stack (e.g. "receiver/function"): cdktf names it
 * `receiver_function_<8 hex digits>`.
 */
export function resourceAt(tf: Json, type: string, constructPath: string): Json {
  const logical = new RegExp(`^${constructPath.replace(/\//g, "_")}_[A-F0-9]{8}$`);
  const found = resourcesOf(tf, type).filter(([name]) => logical.test(name));
  if (found.length !== 1) throw new Error(`expected one ${type} at ${constructPath}, found ${found.length}`);
  return found[0][1];
}

/** Resolves a `${type.name.attr}` reference to the logical name it points at, e.g. "aws_s3_bucket.exports_bucket_X". */
export function refTarget(ref: string): string {
  const m = /^\$\{data\.([a-z0-9_]+)\.([A-Za-z0-9_-]+)/.exec(ref) ?? /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\.|\})/.exec(ref);
  if (!m) throw new Error(`not a reference: ${ref}`);
  return `${m[1]}.${m[2]}`;
}

/** Every string anywhere in the JSON, with its path. */
export function* walkStrings(value: unknown, at = "$"): Generator<[string, string]> {
  if (typeof value === "string") yield [at, value];
  else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* walkStrings(value[i], `${at}[${i}]`);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) yield* walkStrings(v, `${at}.${k}`);
  }
}
