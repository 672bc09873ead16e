/**
 * `npm run plan:summary -- <plan.json>` (or the JSON on standard input): turns `terraform show -json <planfile>`
 * into a short markdown report for a pull request: what changes, counted per component and per table, and first,
 * the changes a reviewer must not miss (IAM policies and trust, security-group rules, public accessibility,
 * encryption, and deleting or replacing what holds data: the bucket, queues, warehouse, secrets).
 *
 * Components and tables come from the resource names cdktf gives (the construct path, `_`-joined, then a hash):
 * `load-<table>_<kind>_...` is a table's loader pair, `alerts_load-<kind>-<table>-...` its alarms.
 */
import { readFileSync } from "node:fs";

export type Action = "create" | "update" | "replace" | "delete";

interface ResourceChange {
  readonly address: string;
  readonly mode: string;
  readonly type: string;
  readonly name: string;
  readonly change: {
    readonly actions: readonly string[];
    readonly before: Record<string, unknown> | null;
    readonly after: Record<string, unknown> | null;
    readonly after_unknown?: Record<string, unknown>;
    readonly replace_paths?: readonly (readonly (string | number)[])[];
  };
  readonly action_reason?: string;
}

export interface PlanJson {
  readonly format_version?: string;
  readonly resource_changes?: readonly ResourceChange[];
}

export interface Flag {
  readonly category: string;
  readonly address: string;
  readonly action: Action;
  readonly detail: string;
}

export interface PlanSummary {
  readonly totals: Record<Action, number>;
  readonly byComponent: Map<string, Record<Action, number>>;
  readonly byTable: Map<string, Record<Action, number>>;
  readonly flags: Flag[];
  /** Every update and replacement: the address and the attributes that change. */
  readonly changes: { readonly address: string; readonly action: Action; readonly attributes: string[] }[];
}

const ACTIONS: readonly Action[] = ["create", "update", "replace", "delete"];

function actionOf(actions: readonly string[]): Action | undefined {
  if (actions.includes("create") && actions.includes("delete")) return "replace";
  if (actions.length === 1 && ACTIONS.includes(actions[0] as Action)) return actions[0] as Action;
  return undefined; // no-op, read
}

const LOADER = /^load-(.+?)_(full|incremental)_/;
const TABLE_ALARM = /^alerts_load-(full|incremental)-(.+)-(dlq-not-empty|queue-age|errors|stale)_[0-9A-F]{8}$/;

/** The component (first construct of the path) and, for a table's resources, the table. */
export function placeOf(name: string): { component: string; table?: string } {
  const loader = LOADER.exec(name);
  if (loader) return { component: "loaders", table: loader[1] };
  const alarm = TABLE_ALARM.exec(name);
  if (alarm) return { component: "alerts", table: alarm[2] };
  const component = name.replace(/_[0-9A-F]{8}$/, "").split("_")[0];
  return { component };
}

/** What holds data: deleting or replacing one loses it (or, for a secret, its value). */
const STATEFUL = new Set([
  "aws_s3_bucket",
  "aws_sqs_queue",
  "aws_redshift_cluster",
  "aws_redshiftserverless_namespace",
  "aws_redshiftserverless_workgroup",
  "aws_secretsmanager_secret",
  "aws_kms_key",
]);
const IAM_POLICY_TYPES = new Set([
  "aws_iam_role_policy",
  "aws_iam_policy",
  "aws_iam_role_policy_attachment",
  "aws_iam_user_policy",
  "aws_lambda_permission",
  "aws_sqs_queue_policy",
  "aws_s3_bucket_policy",
  "aws_sns_topic_policy",
  "aws_secretsmanager_secret_policy",
  "aws_redshift_cluster_iam_roles",
]);
const SECURITY_GROUP_TYPES = new Set([
  "aws_security_group",
  "aws_security_group_rule",
  "aws_vpc_security_group_ingress_rule",
  "aws_vpc_security_group_egress_rule",
]);
const PUBLIC_TYPES = new Set(["aws_s3_bucket_public_access_block", "aws_internet_gateway", "aws_eip"]);
const ENCRYPTION_TYPES = new Set(["aws_s3_bucket_server_side_encryption_configuration", "aws_kms_key", "aws_kms_alias"]);
const ENCRYPTION_ATTRIBUTE = /encrypt|kms|sse/i;

const json = (v: unknown) => JSON.stringify(v ?? null);

/** Top-level attributes whose value differs, known on both sides (unknown after values are "(known after apply)"). */
function changedAttributes(rc: ResourceChange): string[] {
  const before = rc.change.before ?? {};
  const after = rc.change.after ?? {};
  const unknown = rc.change.after_unknown ?? {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => k !== "tags_all" && (unknown[k] === true ? before[k] !== undefined : json(before[k]) !== json(after[k]))).sort();
}

/** Compact IAM or security-group detail: the before and after of the attributes that matter. */
function describe(rc: ResourceChange, attributes: readonly string[], action: Action): string {
  const side = (s: Record<string, unknown> | null, a: string) => {
    const v = s?.[a];
    if (typeof v === "string" && v.startsWith("{")) {
      try {
        return JSON.stringify(JSON.parse(v));
      } catch {
        return v;
      }
    }
    return json(v);
  };
  const shown = attributes.filter((a) => rc.change.before?.[a] !== undefined || rc.change.after?.[a] !== undefined);
  if (shown.length === 0) return "";
  return shown
    .map((a) => {
      const unknown = (rc.change.after_unknown ?? {})[a] === true;
      if (action === "create") return `\`${a}\` = ${unknown ? "(known after apply)" : truncate(side(rc.change.after, a))}`;
      if (action === "delete") return `\`${a}\` was ${truncate(side(rc.change.before, a))}`;
      return `\`${a}\`: ${truncate(side(rc.change.before, a))} → ${unknown ? "(known after apply)" : truncate(side(rc.change.after, a))}`;
    })
    .join("; ");
}

function truncate(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function cidrsOf(rule: unknown): string[] {
  if (!rule || typeof rule !== "object") return [];
  const r = rule as Record<string, unknown>;
  return [...((r.cidr_blocks as string[]) ?? []), ...((r.ipv6_cidr_blocks as string[]) ?? []), r.cidr_ipv4, r.cidr_ipv6].filter(
    (c): c is string => typeof c === "string" && c !== "",
  );
}

/** Who can reach what: the CIDRs a security-group change opens or closes. */
function securityGroupDetail(rc: ResourceChange, action: Action): string {
  const cidrs = (s: Record<string, unknown> | null) =>
    s === null ? [] : rc.type === "aws_security_group" ? [...((s.ingress as unknown[]) ?? [])].flatMap(cidrsOf) : cidrsOf(s);
  const before = new Set(cidrs(rc.change.before));
  const after = new Set(cidrs(rc.change.after));
  const opened = [...after].filter((c) => !before.has(c));
  const closed = [...before].filter((c) => !after.has(c));
  const port = rc.change.after?.from_port ?? rc.change.before?.from_port;
  const parts = [
    opened.length ? `opens ${opened.join(", ")}` : "",
    closed.length ? `closes ${closed.join(", ")}` : "",
    port !== undefined && port !== null ? `port ${port}` : "",
  ].filter(Boolean);
  const described = rc.change.after?.description ?? rc.change.before?.description;
  if (typeof described === "string" && described) parts.push(`"${described}"`);
  if (parts.length === 0 || (opened.length === 0 && closed.length === 0)) {
    const d = describe(rc, action === "update" ? changedAttributes(rc) : [], action);
    if (d) parts.push(d);
  }
  return parts.join(", ");
}

export function summarizePlan(plan: PlanJson): PlanSummary {
  const zero = (): Record<Action, number> => ({ create: 0, update: 0, replace: 0, delete: 0 });
  const totals = zero();
  const byComponent = new Map<string, Record<Action, number>>();
  const byTable = new Map<string, Record<Action, number>>();
  const flags: Flag[] = [];
  const changes: PlanSummary["changes"] = [];
  const flag = (category: string, rc: ResourceChange, action: Action, detail: string) =>
    flags.push({ category, address: rc.address, action, detail });

  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode !== "managed") continue;
    const action = actionOf(rc.change.actions);
    if (action === undefined) continue;
    totals[action]++;
    const { component, table } = placeOf(rc.name);
    const c = byComponent.get(component) ?? zero();
    c[action]++;
    byComponent.set(component, c);
    if (table !== undefined) {
      const t = byTable.get(table) ?? zero();
      t[action]++;
      byTable.set(table, t);
    }

    const changed = action === "update" || action === "replace" ? changedAttributes(rc) : [];
    if (action === "update" || action === "replace") changes.push({ address: rc.address, action, attributes: changed });
    if ((action === "delete" || action === "replace") && STATEFUL.has(rc.type)) {
      const why =
        action === "replace"
          ? `replaced (its data is lost)${rc.change.replace_paths?.length ? `: forced by ${rc.change.replace_paths.map((p) => `\`${p.join(".")}\``).join(", ")}` : ""}`
          : "deleted (its data is lost)";
      flag("Deletes or replaces what holds data", rc, action, why);
    }
    if (rc.type === "aws_iam_role") {
      if (action !== "update" || changed.includes("assume_role_policy")) {
        flag("IAM trust", rc, action, describe(rc, ["assume_role_policy"], action));
      }
      const other = changed.filter((a) => /policy|permissions_boundary|managed_policy_arns/.test(a) && a !== "assume_role_policy");
      if (other.length) flag("IAM policy", rc, action, describe(rc, other, action));
    } else if (IAM_POLICY_TYPES.has(rc.type)) {
      const attrs = action === "update" ? changed : ["policy", "policy_arn", "principal", "action", "source_arn"];
      flag("IAM policy", rc, action, describe(rc, attrs, action));
    }
    if (SECURITY_GROUP_TYPES.has(rc.type)) flag("Security-group rules", rc, action, securityGroupDetail(rc, action));
    const publicAttrs = ["publicly_accessible", "block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];
    if (PUBLIC_TYPES.has(rc.type)) {
      flag("Public accessibility", rc, action, describe(rc, action === "update" ? changed : publicAttrs, action));
    } else {
      const touched = publicAttrs.filter((a) =>
        action === "create" ? rc.change.after?.[a] === true : action === "delete" ? rc.change.before?.[a] === true : changed.includes(a),
      );
      if (touched.length) flag("Public accessibility", rc, action, describe(rc, touched, action));
    }
    if (ENCRYPTION_TYPES.has(rc.type)) {
      flag("Encryption", rc, action, action === "update" ? describe(rc, changed, action) : "");
    } else if (action !== "create") {
      const enc = (action === "delete" ? [] : changed).filter((a) => ENCRYPTION_ATTRIBUTE.test(a));
      if (enc.length) flag("Encryption", rc, action, describe(rc, enc, action));
    }
  }
  return { totals, byComponent, byTable, flags, changes };
}

const SYMBOL: Record<Action, string> = { create: "+", update: "~", replace: "-/+", delete: "-" };

function countCells(counts: Record<Action, number>): string {
  return ACTIONS.map((a) => (counts[a] ? String(counts[a]) : "")).join(" | ");
}

/** The report, in markdown. `title` names the stack or environment. */
export function renderSummary(summary: PlanSummary, title: string): string {
  const { totals, byComponent, byTable, flags, changes } = summary;
  const lines: string[] = [];
  const total = ACTIONS.reduce((n, a) => n + totals[a], 0);
  lines.push(`### Plan: ${title}`);
  lines.push("");
  if (total === 0) {
    lines.push("No changes.");
    return lines.join("\n") + "\n";
  }
  lines.push(ACTIONS.map((a) => `${SYMBOL[a]} ${totals[a]} to ${a}`).join(", "));
  lines.push("");
  if (flags.length > 0) {
    lines.push(`#### ⚠️ Review these (${flags.length})`);
    lines.push("");
    const categories = [...new Set(flags.map((f) => f.category))];
    for (const category of categories) {
      lines.push(`**${category}**`);
      lines.push("");
      // The same change to several resources of a type (a role per function) is one line, naming them.
      const groups = new Map<string, Flag[]>();
      for (const f of flags.filter((x) => x.category === category)) {
        const key = `${f.action}|${f.address.split(".")[0]}|${f.detail}`;
        groups.set(key, [...(groups.get(key) ?? []), f]);
      }
      for (const group of groups.values()) {
        const [f] = group;
        const what =
          group.length === 1
            ? `\`${f.address}\``
            : `${group.length} × \`${f.address.split(".")[0]}\` (${group
                .slice(0, 6)
                .map((g) => g.address.split(".")[1].replace(/_[0-9A-F]{8}$/, ""))
                .join(", ")}${group.length > 6 ? ", …" : ""})`;
        lines.push(`- \`${SYMBOL[f.action]}\` ${f.action} ${what}${f.detail ? `: ${f.detail}` : ""}`);
      }
      lines.push("");
    }
  } else {
    lines.push("Nothing flagged: no IAM, security-group, public-access or encryption change, and nothing that holds data is deleted or replaced.");
    lines.push("");
  }
  if (changes.length > 0) {
    lines.push(`#### Updated and replaced (${changes.length})`);
    lines.push("");
    for (const c of changes.slice(0, 25)) {
      const what = c.attributes.length ? c.attributes.map((a) => `\`${a}\``).join(", ") : "no attribute shown (provider-internal)";
      lines.push(`- \`${SYMBOL[c.action]}\` \`${c.address}\`: ${what}`);
    }
    if (changes.length > 25) lines.push(`- … and ${changes.length - 25} more`);
    lines.push("");
  }
  lines.push("| component | create | update | replace | delete |");
  lines.push("| --- | ---: | ---: | ---: | ---: |");
  for (const [component, counts] of [...byComponent].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`| ${component} | ${countCells(counts)} |`);
  }
  lines.push("");
  if (byTable.size > 0) {
    lines.push("| table | create | update | replace | delete |");
    lines.push("| --- | ---: | ---: | ---: | ---: |");
    for (const [table, counts] of [...byTable].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`| ${table} | ${countCells(counts)} |`);
    }
    lines.push("");
  }
  return lines.join("\n") + "\n";
}

function main(args: string[]): number {
  const usage = "usage: npm run plan:summary -- [--title <name>] [<plan.json>]   (terraform show -json <planfile>; stdin without a file)";
  let title = "plan";
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--title") title = args[++i] ?? title;
    else if (args[i] === "--help" || args[i] === "-h") {
      console.log(usage);
      return 0;
    } else file = args[i];
  }
  let plan: PlanJson;
  try {
    plan = JSON.parse(readFileSync(file ?? 0, "utf8")) as PlanJson;
  } catch (err) {
    console.error(`plan:summary: cannot read a plan's JSON from ${file ?? "standard input"}: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (!Array.isArray(plan.resource_changes) && plan.format_version === undefined) {
    console.error(`plan:summary: ${file ?? "standard input"} is not the output of terraform show -json <planfile>\n${usage}`);
    return 2;
  }
  process.stdout.write(renderSummary(summarizePlan(plan), title));
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
