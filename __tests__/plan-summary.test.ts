/**
 * npm run plan:summary on real offline plans of three config changes (__tests__/fixtures/plans, written by
 * npm run plan:examples from terraform plans against a state of the base config), and on hand-made changes for
 * each flag a reviewer must not miss.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { placeOf, renderSummary, summarizePlan, type PlanJson } from "../scripts/plan-summary";

const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, "fixtures", "plans", `${name}.json`), "utf8")) as PlanJson;

function change(type: string, name: string, actions: string[], before: Record<string, unknown> | null, after: Record<string, unknown> | null, extra: object = {}) {
  return { address: `${type}.${name}`, mode: "managed", type, name, change: { actions, before, after, after_unknown: {}, ...extra } };
}

describe("plan:summary on real plans of config changes", () => {
  it("(a) add a table: the new table's resources counted under it, its roles' trust flagged", () => {
    const summary = summarizePlan(fixture("add-table"));
    expect(summary.byTable.get("members")).toEqual({ create: 27, update: 0, replace: 0, delete: 0 });
    expect(summary.byComponent.get("loaders")?.create).toBe(20);
    expect(summary.byComponent.get("alerts")?.create).toBe(7);
    const trust = summary.flags.filter((f) => f.category === "IAM trust");
    expect(trust.map((f) => f.address)).toEqual([
      expect.stringMatching(/^aws_iam_role\.load-members_full_loader_role_/),
      expect.stringMatching(/^aws_iam_role\.load-members_incremental_loader_role_/),
    ]);
    expect(summary.flags.some((f) => f.category === "Deletes or replaces what holds data")).toBe(false);
    const md = renderSummary(summary, "add a table");
    expect(md).toContain("| members | 27 |  |  |  |");
    expect(md).toContain("⚠️ Review these");
  });

  it("(b) widen the allow-list: the new ingress rule flagged with the CIDR it opens", () => {
    const summary = summarizePlan(fixture("widen-allow-list"));
    const rules = summary.flags.filter((f) => f.category === "Security-group rules");
    expect(rules).toEqual([
      expect.objectContaining({ action: "create", detail: expect.stringContaining("opens 198.51.100.0/24, port 5439") }),
    ]);
    expect(summary.totals.create).toBe(1);
  });

  it("(c) change the node type: the cluster updated in place (node_type), nothing holding data replaced", () => {
    const summary = summarizePlan(fixture("warehouse-node-type"));
    expect(summary.changes).toContainEqual({ address: expect.stringMatching(/^aws_redshift_cluster\./), action: "update", attributes: ["node_type"] });
    expect(summary.totals.replace).toBe(0);
    expect(renderSummary(summary, "node type")).toMatch(/aws_redshift_cluster\.warehouse_cluster_[0-9A-F]{8}`: `node_type`/);
  });
});

describe("plan:summary flags", () => {
  it("flags replacing or deleting what holds data, with what forces it", () => {
    const summary = summarizePlan({
      resource_changes: [
        change("aws_redshift_cluster", "warehouse_cluster_CE7290EF", ["delete", "create"], { encrypted: true }, { encrypted: true }, {
          replace_paths: [["cluster_identifier"]],
        }),
        change("aws_sqs_queue", "downloads_queue_12345678", ["delete"], { name: "q" }, null),
        change("aws_secretsmanager_secret", "signing-secret_secret_12345678", ["delete", "create"], {}, {}),
        change("aws_lambda_function", "receiver_function_12345678", ["delete"], {}, null),
      ],
    });
    const data = summary.flags.filter((f) => f.category === "Deletes or replaces what holds data");
    expect(data.map((f) => [f.address.split(".")[0], f.action])).toEqual([
      ["aws_redshift_cluster", "replace"],
      ["aws_sqs_queue", "delete"],
      ["aws_secretsmanager_secret", "replace"],
    ]);
    expect(data[0].detail).toContain("forced by `cluster_identifier`");
  });

  it("flags trust and policy changes, public accessibility and encryption, and leaves plain updates unflagged", () => {
    const summary = summarizePlan({
      resource_changes: [
        change("aws_iam_role", "receiver_role_12345678", ["update"], { assume_role_policy: '{"a":1}', name: "r" }, { assume_role_policy: '{"a":2}', name: "r" }),
        change("aws_iam_role_policy", "receiver_role-policy_12345678", ["update"], { policy: "{}" }, { policy: '{"Statement":[]}' }),
        change("aws_redshift_cluster", "warehouse_cluster_12345678", ["update"], { publicly_accessible: false, encrypted: true }, { publicly_accessible: true, encrypted: false }),
        change("aws_lambda_function", "receiver_function_12345678", ["update"], { memory_size: 256 }, { memory_size: 512 }),
        change("aws_security_group_rule", "network_rule_12345678", ["delete"], { cidr_blocks: ["10.0.0.0/8"], from_port: 5439 }, null),
      ],
    });
    const by = (category: string) => summary.flags.filter((f) => f.category === category).map((f) => f.detail);
    expect(by("IAM trust")).toEqual(['`assume_role_policy`: {"a":1} → {"a":2}']);
    expect(by("IAM policy")).toEqual(['`policy`: {} → {"Statement":[]}']);
    expect(by("Public accessibility")).toEqual(["`publicly_accessible`: false → true"]);
    expect(by("Encryption")).toEqual(["`encrypted`: true → false"]);
    expect(by("Security-group rules")).toEqual([expect.stringContaining("closes 10.0.0.0/8")]);
    expect(summary.flags.some((f) => f.address.startsWith("aws_lambda_function"))).toBe(false);
  });

  it("says so when nothing changes", () => {
    expect(renderSummary(summarizePlan({ format_version: "1.2", resource_changes: [] }), "x")).toContain("No changes.");
  });

  it("places a resource by its cdktf name: component, and the table for loaders and their alarms", () => {
    expect(placeOf("load-blast_emails_incremental_queue_dlq_BD18E70B")).toEqual({ component: "loaders", table: "blast_emails" });
    expect(placeOf("alerts_load-full-local_chapter_members-errors_924FA12B")).toEqual({ component: "alerts", table: "local_chapter_members" });
    expect(placeOf("alerts_downloads-dlq-not-empty_924FA12B")).toEqual({ component: "alerts" });
    expect(placeOf("network_ingress-198-51-100-0-24_9C87DE30")).toEqual({ component: "network" });
  });
});
