/**
 * `npm run plan:examples`: offline plans of three real config changes against a deployed base, each turned into the
 * markdown `npm run plan:summary` gives: (a) add a table, (b) widen the network allow-list, (c) change the
 * warehouse node type. Writes docs/plan-summaries.md and the plans' resource changes to
 * __tests__/fixtures/plans/<change>.json (what __tests__/plan-summary.test.ts reads).
 *
 * A plan of a change needs a state of the base "as deployed", and nothing can be applied offline. So the base's
 * state is built from its own plan: `terraform show -json` of the base plan gives every resource's planned
 * attributes; the values known only after apply (ids, ARNs, URLs) get stand-ins of the right type and shape from
 * the provider's schema (`terraform providers schema -json`); then the base is planned again against that state,
 * and every attribute the plan still wants to change (a reference to another resource's stand-in ARN, say) is
 * taken from the plan, until the base plans with no changes: a state the base config agrees with, as after a real
 * apply. Each change is then planned against a copy of it with -refresh=false, so the provider computes real
 * updates and replacements (ForceNew), not only creates.
 *
 * Needs terraform and the AWS provider (the local mirror); takes a few minutes.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { createApp } from "../modules/app";
import { MirrorConfigInput, resolveConfig } from "../modules/config";
import { MirrorStack } from "../modules/mirror-stack";
import { renderSummary, summarizePlan, type PlanJson } from "./plan-summary";

const ROOT = path.resolve(__dirname, "..");
const WORK = path.join(ROOT, ".build", "plan-examples");
const PROVIDER = "registry.terraform.io/hashicorp/aws";

const BASE: MirrorConfigInput = {
  prefix: "csm-review",
  tables: ["petitions", "signatures"],
  network: { allowedCidrs: [{ cidr: "203.0.113.7/32", description: "Berlin office" }] },
  warehouse: { nodeType: "ra3.large", numberOfNodes: 2 },
};

export const CHANGES: readonly { readonly name: string; readonly title: string; readonly input: MirrorConfigInput }[] = [
  { name: "add-table", title: "(a) add a table: tables + members", input: { ...BASE, tables: ["petitions", "signatures", "members"] } },
  {
    name: "widen-allow-list",
    title: "(b) widen the allow-list: + 198.51.100.0/24 (Leipzig office)",
    input: {
      ...BASE,
      network: { allowedCidrs: [...BASE.network!.allowedCidrs!, { cidr: "198.51.100.0/24", description: "Leipzig office" }] },
    },
  },
  {
    name: "warehouse-node-type",
    title: "(c) change the warehouse node type: ra3.large -> ra3.xlplus",
    input: { ...BASE, warehouse: { ...BASE.warehouse, nodeType: "ra3.xlplus" } },
  },
];

type Json = any;

function terraform(dir: string, args: string[]): string {
  return execFileSync("terraform", [`-chdir=${dir}`, ...args], {
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
    env: {
      ...process.env,
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
      CHECKPOINT_DISABLE: "1",
      AWS_ACCESS_KEY_ID: "AKIAOFFLINEPLAN00000",
      AWS_SECRET_ACCESS_KEY: "offline-plan-fake-secret",
      AWS_EC2_METADATA_DISABLED: "true",
      ...(process.env.TF_CLI_CONFIG_FILE === undefined || process.env.TF_CLI_CONFIG_FILE.endsWith(".terraformrc")
        ? { TF_CLI_CONFIG_FILE: path.join(ROOT, "terraform", "mirror.tfrc") }
        : {}),
    },
  });
}

function plan(dir: string): PlanJson & Json {
  terraform(dir, ["plan", "-input=false", "-lock=false", "-refresh=false", "-no-color", "-out=plan.out"]);
  return JSON.parse(terraform(dir, ["show", "-json", "plan.out"]));
}

/** A stand-in for a value known only after apply, of the schema's type. */
function standIn(type: Json, attribute: string, resource: { type: string; name: string; after: Json }): Json {
  if (type === "string") {
    const service = resource.type.split("_")[1];
    const id = String(resource.after?.name ?? resource.name);
    if (attribute === "arn" || attribute.endsWith("_arn")) {
      return service === "iam" ? `arn:aws:iam::123456789012:role/${id}` : `arn:aws:${service}:us-east-1:123456789012:${id}`;
    }
    if (attribute === "url" || (attribute === "id" && resource.type === "aws_sqs_queue")) return `https://sqs.us-east-1.amazonaws.com/123456789012/${id}`;
    if (attribute === "id" || attribute.endsWith("_id") || attribute === "name") return `${resource.type}-${id}-${attribute}`.slice(0, 200);
    if (/endpoint|url|dns_name/.test(attribute)) return `https://${id}.example.invalid`;
    // Any other computed string (a FIFO setting, a status): empty, as the provider reads an unset one.
    return "";
  }
  if (type === "number") return 0;
  if (type === "bool") return false;
  if (Array.isArray(type)) {
    const [kind, inner] = type;
    if (kind === "list" || kind === "set") return [];
    if (kind === "map") return {};
    if (kind === "object") return Object.fromEntries(Object.entries(inner as Json).map(([k, t]) => [k, standIn(t, k, resource)]));
  }
  return null;
}

/** `value` with each unknown part replaced: by `prior` where it has one (the state so far), else a stand-in. */
function fillType(value: Json, unknown: Json, prior: Json, type: Json, attribute: string, resource: Json): Json {
  if (unknown === true) return prior !== undefined && prior !== null ? prior : standIn(type, attribute, resource);
  if (unknown === undefined || unknown === false || value === null || value === undefined) return value;
  if (Array.isArray(type) && Array.isArray(value)) {
    const [kind, inner] = type;
    if (kind === "list" || kind === "set") return value.map((v, i) => fillType(v, unknown?.[i], prior?.[i], inner, attribute, resource));
    if (kind === "map") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillType(v, unknown?.[k], prior?.[k], inner, attribute, resource)]));
    if (kind === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillType(v, unknown?.[k], prior?.[k], (inner as Json)[k], k, resource)]));
  }
  return value;
}

function fillBlock(value: Json, unknown: Json, prior: Json, block: Json, resource: Json): Json {
  const out: Json = { ...value };
  for (const [name, attr] of Object.entries<Json>(block.attributes ?? {})) {
    if (unknown?.[name] !== undefined) out[name] = fillType(value?.[name] ?? null, unknown[name], prior?.[name], attr.type, name, resource);
  }
  for (const [name, nested] of Object.entries<Json>(block.block_types ?? {})) {
    const v = value?.[name];
    if (Array.isArray(v)) out[name] = v.map((item, i) => fillBlock(item, unknown?.[name]?.[i], prior?.[name]?.[i], nested.block, resource));
    else if (v && typeof v === "object") out[name] = fillBlock(v, unknown?.[name], prior?.[name], nested.block, resource);
  }
  return out;
}

/** A version 4 state holding `attributes` for every managed resource of `planJson`. */
function stateFrom(planJson: Json, schemas: Json, prior: Map<string, Json>): { state: Json; attributes: Map<string, Json> } {
  const attributes = new Map<string, Json>();
  const resources: Json[] = [];
  for (const rc of planJson.resource_changes ?? []) {
    if (rc.mode !== "managed") continue;
    const schema = schemas[rc.type];
    const before = prior.get(rc.address);
    const actions: string[] = rc.change.actions;
    const filled = actions.length === 1 && actions[0] === "no-op"
      ? before
      : fillBlock(rc.change.after, rc.change.after_unknown, before, schema.block, { type: rc.type, name: rc.name, after: rc.change.after });
    attributes.set(rc.address, filled);
    resources.push({
      mode: "managed",
      type: rc.type,
      name: rc.name,
      provider: `provider["${PROVIDER}"]`,
      instances: [{ schema_version: schema.version ?? 0, attributes: filled, sensitive_attributes: [] }],
    });
  }
  return {
    attributes,
    state: { version: 4, terraform_version: planJson.terraform_version, serial: 1, lineage: "plan-examples", outputs: {}, resources },
  };
}

function changes(planJson: Json): Json[] {
  return (planJson.resource_changes ?? []).filter((rc: Json) => rc.mode === "managed" && !(rc.change.actions.length === 1 && rc.change.actions[0] === "no-op"));
}

/** The parts of a plan that plan:summary reads, so the test fixtures stay small. */
export function trimPlan(planJson: Json): PlanJson {
  return {
    format_version: planJson.format_version,
    resource_changes: changes(planJson).map((rc: Json) => ({
      address: rc.address,
      mode: rc.mode,
      type: rc.type,
      name: rc.name,
      action_reason: rc.action_reason,
      change: { actions: rc.change.actions, before: rc.change.before, after: rc.change.after, after_unknown: rc.change.after_unknown, replace_paths: rc.change.replace_paths },
    })),
  } as PlanJson;
}

let residue: string[] = [];

function main(): void {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const app = createApp(WORK);
  for (const { name, input } of [{ name: "base", input: BASE }, ...CHANGES]) {
    new MirrorStack(app, name, { config: resolveConfig(input), offlinePlan: true });
  }
  app.synth();
  const dirOf = (name: string) => path.join(WORK, "stacks", name);
  for (const name of ["base", ...CHANGES.map((c) => c.name)]) {
    // The state of these plans lives in their own folder, never the operator's.
    writeFileSync(path.join(dirOf(name), "backend_override.tf.json"), JSON.stringify({ terraform: { backend: { local: { path: "terraform.tfstate" } } } }));
    terraform(dirOf(name), ["init", "-input=false", "-no-color"]);
  }
  const schemas = JSON.parse(terraform(dirOf("base"), ["providers", "schema", "-json"])).provider_schemas[PROVIDER].resource_schemas;

  let planJson = plan(dirOf("base"));
  let prior = new Map<string, Json>();
  let before = "";
  for (let round = 1; ; round++) {
    const { state, attributes } = stateFrom(planJson, schemas, prior);
    writeFileSync(path.join(dirOf("base"), "terraform.tfstate"), JSON.stringify(state));
    prior = attributes;
    planJson = plan(dirOf("base"));
    const left = changes(planJson).map((rc: Json) => rc.address);
    console.log(`base state, round ${round}: ${left.length} resources the base would still change`);
    // Settled when nothing is left, or when the same resources are left twice (see the note in docs/).
    if (left.length === 0 || left.join() === before) {
      residue = left;
      break;
    }
    before = left.join();
    if (round === 8) throw new Error(`the base state does not settle: ${left.slice(0, 5).join(", ")}`);
  }

  const fixtures = path.join(ROOT, "__tests__", "fixtures", "plans");
  mkdirSync(fixtures, { recursive: true });
  const sections = [
    "# plan:summary on three config changes",
    "",
    "Written by `npm run plan:examples`: offline plans of each change against a state of the base config",
    "(prefix csm-review, tables petitions and signatures, a two-node ra3.large cluster reached from 203.0.113.7/32),",
    "built from the base's own plan (see scripts/plan-examples.ts). Each section is `npm run plan:summary` of that plan.",
    "",
    ...(residue.length === 0
      ? []
      : [
          `Artifact of the offline state: planned against its own state, the base still shows ${residue.length} in-place update(s)`,
          "that a real deployment would not (the provider plans an update of the cluster with no visible attribute, which",
          "defers the policy documents that name the cluster, so the roles' policies show as \"known after apply\"):",
          ...residue.map((a) => `\`${a}\``).join(", ").match(/.{1,110}(,|$)/g)!.map((l) => l.trim()),
          "They appear in every plan below; in (c) the cluster's update and the deferred policies are real.",
          "",
        ]),
  ];
  for (const change of CHANGES) {
    copyFileSync(path.join(dirOf("base"), "terraform.tfstate"), path.join(dirOf(change.name), "terraform.tfstate"));
    const trimmed = trimPlan(plan(dirOf(change.name)));
    writeFileSync(path.join(fixtures, `${change.name}.json`), JSON.stringify(trimmed, null, 1) + "\n");
    const markdown = renderSummary(summarizePlan(trimmed), change.title);
    sections.push(markdown);
    console.log(markdown);
  }
  mkdirSync(path.join(ROOT, "docs"), { recursive: true });
  writeFileSync(path.join(ROOT, "docs", "plan-summaries.md"), sections.join("\n"));
}

if (require.main === module) main();
