import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createTestApp, synthesizeInMemory } from "../modules/app";
import exampleConfig from "../config";
import { ConfigError } from "../modules/config";
import {
  MirrorConfigFile,
  mergeEnvironment,
  pickEnvironment,
  resolveEnvironments,
  selectEnvironments,
} from "../modules/environments";
import { MirrorStack } from "../modules/mirror-stack";
import { EnvironmentFlagError, takeEnvironmentFlag } from "../scripts/environment";
import { FEW_TABLES, fixtureBundleDir } from "./helpers/synth";

function problemsOfFile(file: MirrorConfigFile): readonly string[] {
  try {
    resolveEnvironments(file);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

const TWO: MirrorConfigFile = {
  region: "eu-west-1",
  tables: FEW_TABLES,
  alertEmails: ["data@example.org"],
  warehouse: { nodeType: "ra3.xlplus" },
  tags: { team: "data" },
  environments: {
    staging: { prefix: "csm-staging", warehouse: { mode: "serverless" }, tags: { stage: "staging" } },
    production: {
      prefix: "csm-prod",
      tables: ["petitions", "signatures", "members"],
      backend: { type: "cloud", organization: "acme", workspace: "mirror-production", project: "data" },
    },
  },
};

describe("one config file, several environments", () => {
  it("is one environment named by its prefix when the file has no environments", () => {
    const [only, ...rest] = resolveEnvironments({ prefix: "csm-solo", tables: FEW_TABLES });
    expect(rest).toEqual([]);
    expect(only.name).toBe("csm-solo");
    expect(only.config.prefix).toBe("csm-solo");
  });

  it("merges each environment over the shared settings: sections field by field, lists and backend whole", () => {
    const [staging, production] = resolveEnvironments(TWO);
    expect(staging.name).toBe("staging");
    expect(staging.config.region).toBe("eu-west-1");
    expect(staging.config.tables).toEqual(FEW_TABLES);
    expect(staging.config.warehouse).toMatchObject({ mode: "serverless", nodeType: "ra3.xlplus" });
    expect(staging.config.tags).toEqual({ team: "data", stage: "staging" });
    expect(staging.config.backend).toEqual({ type: "local" });
    expect(production.config.tables).toEqual(["petitions", "signatures", "members"]);
    expect(production.config.warehouse.mode).toBe("cluster");
    expect(production.config.backend).toEqual({ type: "cloud", organization: "acme", workspace: "mirror-production", project: "data" });
  });

  it("takes an environment's backend whole, never mixing in the shared backend's fields", () => {
    const merged = mergeEnvironment(
      { backend: { type: "s3", bucket: "state-bucket", key: "shared.tfstate" } },
      { backend: { type: "cloud", organization: "acme", workspace: "w" } },
    );
    expect(merged.backend).toEqual({ type: "cloud", organization: "acme", workspace: "w" });
  });

  it("reports every problem of every environment in one pass, a shared mistake once", () => {
    expect(
      problemsOfFile({
        region: "us-east-1",
        logRetentionDays: 31,
        environments: {
          staging: { prefix: "csm-staging", warehouse: { numberOfNodes: 0 } },
          production: { prefix: "Prod" },
        },
      }),
    ).toEqual([
      "every environment: logRetentionDays is 31: must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
      "environments.staging: warehouse.numberOfNodes is 0: must be a whole number from 1 to 128",
      'environments.production: prefix is "Prod": must be 3 to 20 characters of a-z, 0-9 and -, starting with a letter, not ending with -',
    ]);
  });

  it("refuses two environments with one prefix, naming the fix when neither set one", () => {
    expect(problemsOfFile({ tables: FEW_TABLES, environments: { staging: {}, production: {} } })).toEqual([
      'environments.production.prefix is "cs-mirror", as in staging: each environment needs its own prefix (set one in each, e.g. "cs-mirror-production")',
    ]);
  });

  it.each([
    [
      "one Terraform Cloud workspace",
      { type: "cloud", organization: "acme", workspace: "mirror" } as const,
      "environments.production.backend keeps its state in the Terraform Cloud workspace app.terraform.io/acme/mirror, as staging does: each environment needs its own state",
    ],
    [
      "one S3 key",
      { type: "s3", bucket: "tf-state", key: "mirror.tfstate" } as const,
      "environments.production.backend keeps its state in the s3://tf-state/mirror.tfstate, as staging does: each environment needs its own state",
    ],
    [
      "one local file",
      { type: "local", path: "../../../state/mirror.tfstate" } as const,
      "environments.production.backend keeps its state in the local file state/mirror.tfstate, as staging does: each environment needs its own state",
    ],
  ])("refuses two environments sharing %s", (_, backend, message) => {
    expect(
      problemsOfFile({
        tables: FEW_TABLES,
        backend,
        environments: { staging: { prefix: "csm-staging" }, production: { prefix: "csm-prod" } },
      }),
    ).toEqual([message]);
  });

  it("refuses Terraform Cloud tags that are one environment's and all another's, each mistake of the tags in one pass", () => {
    const cloud = (tags: readonly unknown[]) => ({ type: "cloud", organization: "acme", tags }) as never;
    expect(
      problemsOfFile({
        tables: FEW_TABLES,
        environments: {
          staging: { prefix: "csm-staging", backend: cloud(["controlshift-mirror", "staging"]) },
          production: { prefix: "csm-prod", backend: cloud(["controlshift-mirror"]) },
        },
      }),
    ).toEqual([
      'environments.production.backend.tags are ["controlshift-mirror"], all of them tags of staging too: staging\'s workspaces would be production\'s as well; give each environment a tag of its own, such as "production"',
    ]);
    expect(
      problemsOfFile({
        tables: FEW_TABLES,
        environments: {
          staging: { prefix: "csm-staging", backend: cloud(["cs", "staging"]) },
          production: { prefix: "csm-prod", backend: cloud(["staging", "cs"]) },
        },
      }),
    ).toEqual([
      "environments.production.backend keeps its state in the Terraform Cloud workspaces tagged cs, staging in app.terraform.io/acme, as staging does: each environment needs its own state",
    ]);
    expect(
      problemsOfFile({
        tables: FEW_TABLES,
        prefix: "csm-prod",
        backend: { type: "cloud", organization: "acme", workspace: "w", tags: ["a"] },
        environments: { production: {} },
      }),
    ).toEqual(['environments.production: backend is {"workspace":"w","tags":["a"]}: must name one workspace or give tags, not both']);
    expect(
      problemsOfFile({ tables: FEW_TABLES, prefix: "csm-prod", backend: cloud(["ok", "has space", "ok"]), environments: { production: {} } }),
    ).toEqual([
      'environments.production: backend.tags[1] is "has space": must be a Terraform Cloud tag: 1 to 255 letters, numbers, :, - and _',
      'environments.production: backend.tags[2] is "ok": is listed twice',
    ]);
    expect(
      problemsOfFile({ tables: FEW_TABLES, prefix: "csm-prod", backend: { type: "cloud", organization: "acme" }, environments: { production: {} } }),
    ).toEqual([
      "environments.production: backend.workspace is undefined: must name the Terraform Cloud workspace: 1 to 90 letters, numbers, - and _ (or give backend.tags instead)",
    ]);
  });

  it("synthesizes Terraform Cloud workspace tags into the terraform { cloud } block", () => {
    const [production] = resolveEnvironments({
      tables: FEW_TABLES,
      environments: {
        production: {
          prefix: "csm-prod",
          backend: { type: "cloud", organization: "acme", tags: ["controlshift-mirror", "production"], project: "data", hostname: "tfe.example.org" },
        },
      },
    });
    const tf = JSON.parse(synthesizeInMemory(new MirrorStack(createTestApp(), "production", { config: production.config, bundleDir: fixtureBundleDir() })));
    expect(tf.terraform.cloud).toEqual({
      hostname: "tfe.example.org",
      organization: "acme",
      workspaces: { tags: ["controlshift-mirror", "production"], project: "data" },
    });
  });

  it("keeps the default local state beside cdktf.json, outside the build output", () => {
    const [staging] = resolveEnvironments(TWO);
    const backend = JSON.parse(synthesizeInMemory(new MirrorStack(createTestApp(), "staging", { config: staging.config, bundleDir: fixtureBundleDir() })))
      .terraform.backend.local.path as string;
    expect(path.posix.normalize(path.posix.join("cdktf.out/stacks/staging", backend))).toBe("terraform.csm-staging.tfstate");
  });

  it("keeps distinct default state files for distinct prefixes", () => {
    const envs = resolveEnvironments({ tables: FEW_TABLES, environments: { a: { prefix: "csm-a" }, b: { prefix: "csm-b" } } });
    expect(envs.map((e) => e.name)).toEqual(["a", "b"]);
  });

  it("suggests environments for a misspelt environments key, instead of reading the file as one deployment", () => {
    expect(problemsOfFile({ enviroments: { staging: { prefix: "csm-s" } } } as MirrorConfigFile)).toEqual([
      'enviroments is not a field of the config: did you mean "environments"?',
    ]);
  });

  it("refuses environment names that cannot name a stack, and an empty environments map", () => {
    expect(problemsOfFile({ tables: FEW_TABLES, environments: { Staging: { prefix: "csm-s" } } })).toEqual([
      "environments.Staging: the name must be 1 to 32 characters of a-z, 0-9 and -, starting with a letter (it names the stack)",
    ]);
    expect(problemsOfFile({ environments: {} })).toEqual([
      'environments is {}: must name at least one environment, e.g. { staging: { prefix: "cs-mirror-staging" } }, or be left out for one environment',
    ]);
  });

  it("selects environments by name and lists the known ones for an unknown name", () => {
    const all = resolveEnvironments(TWO);
    expect(selectEnvironments(all, []).map((e) => e.name)).toEqual(["staging", "production"]);
    expect(selectEnvironments(all, ["production"]).map((e) => e.name)).toEqual(["production"]);
    expect(() => selectEnvironments(all, ["prod"])).toThrow(
      'there is no environment "prod" in config.ts: the environments are staging, production',
    );
  });

  it("makes an operator's command name the environment when there are several", () => {
    const all = resolveEnvironments(TWO);
    expect(() => pickEnvironment(all, undefined)).toThrow("config.ts has 2 environments (staging, production): name one with --env <name>");
    expect(pickEnvironment(all, "staging").config.prefix).toBe("csm-staging");
    expect(pickEnvironment(resolveEnvironments({ prefix: "csm-solo" }), undefined).name).toBe("csm-solo");
  });

  it("takes --env out of an operator's command line and leaves the rest to the command", () => {
    expect(takeEnvironmentFlag(["reload", "petitions", "--env", "staging", "--execute"])).toEqual({
      env: "staging",
      rest: ["reload", "petitions", "--execute"],
    });
    expect(takeEnvironmentFlag(["--env=production", "redrive", "downloads"])).toEqual({ env: "production", rest: ["redrive", "downloads"] });
    expect(takeEnvironmentFlag(["sql", "--", "--env", "x"])).toEqual({ env: undefined, rest: ["sql", "--", "--env", "x"] });
    expect(() => takeEnvironmentFlag(["reload", "--env"])).toThrow(EnvironmentFlagError);
  });

  it("synthesizes each environment's own Terraform Cloud workspace into its terraform { cloud } block", () => {
    const app = createTestApp();
    const stacks = resolveEnvironments(TWO).map(
      ({ name, config }) => new MirrorStack(app, name, { config, bundleDir: fixtureBundleDir() }),
    );
    const [staging, production] = stacks.map((s) => JSON.parse(synthesizeInMemory(s)));
    expect(production.terraform.cloud).toEqual({
      hostname: "app.terraform.io",
      organization: "acme",
      workspaces: { name: "mirror-production", project: "data" },
    });
    expect(production.terraform.backend).toBeUndefined();
    expect(staging.terraform.cloud).toBeUndefined();
    expect(staging.terraform.backend).toEqual({ local: { path: "../../../terraform.csm-staging.tfstate" } });
  });

  it("validates the example config.ts: staging and production, each its own prefix", () => {
    const envs = resolveEnvironments(exampleConfig);
    expect(envs.map((e) => [e.name, e.config.prefix])).toEqual([
      ["staging", "cs-mirror-staging"],
      ["production", "cs-mirror"],
    ]);
  });
});

describe("the real synth entry (scripts/synth.mjs, what cdktf.json runs)", () => {
  const root = path.resolve(__dirname, "..");
  let outdir: string;
  beforeAll(() => {
    outdir = mkdtempSync(path.join(tmpdir(), "csm-env-synth-"));
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it("synthesizes only the environments named on its command line", () => {
    execFileSync(process.execPath, ["scripts/synth.mjs", "staging"], {
      cwd: root,
      env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1" },
      stdio: "pipe",
    });
    expect(readdirSync(path.join(outdir, "stacks"))).toEqual(["staging"]);
    const stack = JSON.parse(readFileSync(path.join(outdir, "stacks", "staging", "cdk.tf.json"), "utf8"));
    expect(stack.terraform.backend).toEqual({ local: { path: "../../../terraform.cs-mirror-staging.tfstate" } });
  });

  it("exits 1 naming the known environments for an unknown one, and writes no stack", () => {
    const unknownOut = path.join(outdir, "unknown");
    const run = spawnSync(process.execPath, ["scripts/synth.mjs", "prod"], {
      cwd: root,
      env: { ...process.env, CDKTF_OUTDIR: unknownOut, CHECKPOINT_DISABLE: "1" },
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('there is no environment "prod" in config.ts: the environments are staging, production');
    expect(existsSync(unknownOut)).toBe(false);
  });
});
