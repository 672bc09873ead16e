// Terraform Cloud, VCS-driven: Terraform Cloud runs terraform, never node, so it cannot synthesize. This writes the
// app's synthesized stacks into terraform-cloud/<stack>/, a folder to commit and to name as a workspace's
// "Terraform working directory": cdk.tf.json, the handler zips it names by relative paths (assets/...), and the
// AWS provider's .terraform.lock.hcl (terraform/aws-provider.lock.hcl).
//
// The lock file holds what `terraform providers lock -platform=linux_amd64` writes for 5.100.0 (Terraform Cloud
// runs linux_amd64): the h1: checksum of the linux_amd64 package, which `terraform init -lockfile=readonly` in
// `npm run test:terraform` checks against the provider installed from the local mirror, and the zh: checksums of
// the release's zip for every platform (darwin, windows, ...), HashiCorp's signed SHA256SUMS, with which terraform
// init verifies a download on any platform. Offline, `terraform providers lock` can compute only the h1: of the
// platform the mirror holds (linux_amd64); the zh: lines are the release's published checksums, the same in every
// lock file made from the registry. Another platform's init adds its own h1: line to a local copy.
//
// The backend is left out: in a VCS-driven workspace the workspace keeps the state, and a `backend` or `cloud`
// block in the folder would point terraform elsewhere. Everything else is the synthesized JSON, byte for byte.
//
//   npm run tfc:export           (re)write terraform-cloud/ from the code and config.ts
//   npm run tfc:check            fail, naming every difference, when the committed folder is not what the code
//                                gives (part of npm test)
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const EXPORT_DIR = path.join(root, "terraform-cloud");
const EXPORT_COMMAND = "npm run tfc:export";
const LOCK_SOURCE = path.join(root, "terraform", "aws-provider.lock.hcl");

const README = `# terraform-cloud/: the stacks for a VCS-driven Terraform Cloud workspace

Written by \`${EXPORT_COMMAND}\` from the code and config.ts; do not edit by hand. \`npm test\` fails when this
folder is stale: run \`${EXPORT_COMMAND}\` and commit it with the change that made it stale.

One folder per stack. In the workspace's settings, set the "Terraform working directory" to
\`terraform-cloud/<stack>\` and give the workspace the AWS credentials as environment variables. The folder has no
backend: the workspace keeps the state. Every file the plan needs is here (the handler zips are under assets/,
named by relative paths), and \`.terraform.lock.hcl\` pins the AWS provider.
`;

/** Synthesizes the app (the same entry as `cdktf synth`) into `outdir`, failing with its output if it fails. */
function synthesize(outdir) {
  const run = spawnSync(process.execPath, [path.join(root, "scripts", "synth.mjs")], {
    cwd: root,
    env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1", CONTROLSHIFT_MIRROR_OFFLINE_PLAN: ""},
    encoding: "utf8",
  });
  if (run.status !== 0) {
    process.stderr.write(run.stdout + run.stderr);
    throw new Error(`synth failed (exit ${run.status})`);
  }
}

/** The export of every stack of the app, written into `target` (created, or emptied first). */
function exportTo(target) {
  const work = mkdtempSync(path.join(tmpdir(), "tfc-export-"));
  try {
    const out = path.join(work, "cdktf.out");
    synthesize(out);
    const manifest = JSON.parse(readFileSync(path.join(out, "manifest.json"), "utf8"));
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    writeFileSync(path.join(target, "README.md"), README);
    const lock = readFileSync(LOCK_SOURCE);
    const stacks = Object.keys(manifest.stacks).sort();
    for (const name of stacks) {
      const from = path.join(out, manifest.stacks[name].workingDirectory);
      const to = path.join(target, name);
      mkdirSync(to, { recursive: true });
      const config = JSON.parse(readFileSync(path.join(from, "cdk.tf.json"), "utf8"));
      delete config.terraform.backend;
      delete config.terraform.cloud;
      if (config["//"]?.metadata) config["//"].metadata.backend = "terraform-cloud-workspace";
      writeFileSync(path.join(to, "cdk.tf.json"), JSON.stringify(config, null, 2) + "\n");
      if (existsSync(path.join(from, "assets"))) cpSync(path.join(from, "assets"), path.join(to, "assets"), { recursive: true });
      writeFileSync(path.join(to, ".terraform.lock.hcl"), lock);
    }
    return stacks;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Every file under `dir`, as sorted relative paths with "/" separators. */
function files(dir) {
  if (!existsSync(dir)) return [];
  const found = [];
  const walk = (rel) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else found.push(child);
    }
  };
  walk("");
  return found.sort();
}

/** How `actual` differs from `expected`, one line per file; empty when they are the same bytes. */
function compareTrees(expected, actual) {
  const want = files(expected);
  const have = new Set(files(actual));
  const problems = [];
  for (const file of want) {
    if (!have.has(file)) problems.push(`missing: ${file}`);
    else if (!readFileSync(path.join(expected, file)).equals(readFileSync(path.join(actual, file)))) problems.push(`differs: ${file}`);
    have.delete(file);
  }
  for (const file of have) problems.push(`not written by the export any more: ${file}`);
  return problems;
}

function main(args) {
  // --dir: another folder than terraform-cloud/ (the tests check a copy they spoil on purpose).
  const dirAt = args.indexOf("--dir");
  const exportDir = dirAt >= 0 ? path.resolve(args[dirAt + 1]) : EXPORT_DIR;
  const rel = path.relative(root, exportDir) || ".";
  if (args.includes("--check")) {
    const work = mkdtempSync(path.join(tmpdir(), "tfc-check-"));
    try {
      const fresh = path.join(work, "terraform-cloud");
      const stacks = exportTo(fresh);
      const problems = compareTrees(fresh, exportDir);
      if (problems.length > 0) {
        console.error(`${rel}/ is stale: it is not what the code and config.ts synthesize (${problems.length} file${problems.length === 1 ? "" : "s"}):`);
        for (const p of problems.slice(0, 20)) console.error(`  ${p}`);
        if (problems.length > 20) console.error(`  ... and ${problems.length - 20} more`);
        console.error(`Fix: run \`${EXPORT_COMMAND}\` and commit ${rel}/.`);
        return 1;
      }
      console.log(`${rel}/ is up to date: ${stacks.join(", ")}`);
      return 0;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const stacks = exportTo(exportDir);
  for (const name of stacks) {
    const bytes = files(path.join(exportDir, name)).reduce((sum, f) => sum + statSync(path.join(exportDir, name, f)).size, 0);
    console.log(`wrote ${rel}/${name}/ (${(bytes / 1024 / 1024).toFixed(1)} MiB): commit it; a VCS-driven workspace's working directory`);
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
