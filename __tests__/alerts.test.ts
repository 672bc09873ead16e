/**
 * The alerts topic, its subscriptions and the alarms, as synthesized: one alarm of each kind per thing it watches,
 * every threshold from the config, every alarm notifying the topic on ALARM and on OK, and a topic CloudWatch can
 * actually publish to.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { CONTROLSHIFT_TABLES } from "../schemas/controlshift-tables";
import { Json, refTarget, resourceAt, resourcesOf, synthStack } from "./helpers/synth";
import { alarmViolations, allViolations } from "./stack-invariants";

const alarmsOf = (tf: Json): Json[] => resourcesOf(tf, "aws_cloudwatch_metric_alarm").map(([, a]) => a);
const alarmNamed = (tf: Json, name: string): Json => {
  const found = alarmsOf(tf).filter((a) => a.alarm_name === name);
  if (found.length !== 1) throw new Error(`expected one alarm named ${name}, found ${found.length}`);
  return found[0];
};
const byMetric = (tf: Json, namespace: string, metric: string): Json[] =>
  alarmsOf(tf).filter((a) => a.namespace === namespace && a.metric_name === metric);
const topicRef = (tf: Json) => `\${aws_sns_topic.${resourcesOf(tf, "aws_sns_topic")[0][0]}.arn}`;

describe("alerts in the default stack (63 tables)", () => {
  let tf: Json;
  beforeAll(() => {
    tf = synthStack();
  });

  it("has one DLQ alarm per dead-letter queue: the downloads DLQ and both loaders' DLQs of every table", () => {
    const dlqAlarms = byMetric(tf, "AWS/SQS", "ApproximateNumberOfMessagesVisible");
    const dlqs = resourcesOf(tf, "aws_sqs_queue").filter(([, q]) => q.name.endsWith("-dlq"));
    expect(dlqs).toHaveLength(1 + 2 * 63);
    expect(dlqAlarms).toHaveLength(dlqs.length);
    expect(new Set(dlqAlarms.map((a) => refTarget(a.dimensions.QueueName)))).toEqual(
      new Set(dlqs.map(([name]) => `aws_sqs_queue.${name}`)),
    );
  });

  it("has one age alarm per queue that feeds a function", () => {
    const ageAlarms = byMetric(tf, "AWS/SQS", "ApproximateAgeOfOldestMessage");
    const fed = resourcesOf(tf, "aws_lambda_event_source_mapping").map(([, m]) => refTarget(m.event_source_arn));
    expect(ageAlarms).toHaveLength(1 + 2 * 63);
    expect(new Set(ageAlarms.map((a) => refTarget(a.dimensions.QueueName)))).toEqual(new Set(fed));
  });

  it("has one errors alarm per function", () => {
    const errorAlarms = byMetric(tf, "AWS/Lambda", "Errors");
    const functions = resourcesOf(tf, "aws_lambda_function");
    expect(functions).toHaveLength(3 + 2 * 63);
    expect(errorAlarms).toHaveLength(functions.length);
    expect(new Set(errorAlarms.map((a) => refTarget(a.dimensions.FunctionName)))).toEqual(
      new Set(functions.map(([name]) => `aws_lambda_function.${name}`)),
    );
  });

  it("has one freshness alarm per table, and seven on the webhook", () => {
    const freshness = byMetric(tf, "ControlShiftMirror/cs-mirror", "FullLoadSucceeded");
    expect(freshness.map((a) => a.dimensions.table).sort()).toEqual([...CONTROLSHIFT_TABLES].sort());
    const webhook = alarmsOf(tf).filter((a) => /^cs-mirror-(receiver-(unauthorized|rejected|quarantined|queue-failed|quarantine-failed|secret-unavailable)|webhook-5xx)$/.test(a.alarm_name));
    expect(webhook).toHaveLength(7);
  });

  it("has 453 alarms in all (7 per table + 12), each with a unique name starting with the prefix", () => {
    const names = alarmsOf(tf).map((a) => a.alarm_name);
    expect(names).toHaveLength(7 * 63 + 12);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^cs-mirror-[a-z0-9_-]+$/);
  });

  it("notifies the topic on ALARM and on OK from every alarm", () => {
    for (const a of alarmsOf(tf)) {
      expect(a.alarm_actions).toEqual([topicRef(tf)]);
      expect(a.ok_actions).toEqual([topicRef(tf)]);
    }
  });

  it("holds every stack invariant, the alarm invariant among them", () => {
    expect(alarmViolations(tf)).toEqual([]);
    expect(allViolations(tf, "cs-mirror")).toEqual([]);
  });

  it("describes every alarm and points at a help entry that exists", () => {
    const help = readFileSync(path.join(__dirname, "..", "help"), "utf8");
    for (const a of alarmsOf(tf)) {
      const m = /See help: (ALARM: "[^"]+")\.$/.exec(a.alarm_description);
      expect({ alarm: a.alarm_name, entry: m?.[1] }).toEqual({ alarm: a.alarm_name, entry: expect.any(String) });
      expect(help).toContain(` ${m![1]}\n`);
    }
  });

  it("creates no subscription without alertEmails or alerts.httpsEndpoints", () => {
    expect(resourcesOf(tf, "aws_sns_topic_subscription")).toEqual([]);
  });

  it("outputs the topic's ARN", () => {
    expect(tf.output.alerts_topic_arn.value).toBe(topicRef(tf));
  });
});

describe("alerts topic", () => {
  const tf = synthStack({ tables: ["petitions"] });

  it("is <prefix>-alerts, encrypted with its own rotating key, not the AWS-managed alias/aws/sns", () => {
    const topic = resourceAt(tf, "aws_sns_topic", "alerts/topic");
    expect(topic.name).toBe("cs-mirror-alerts");
    expect(topic.kms_master_key_id).not.toBe("alias/aws/sns");
    expect(refTarget(topic.kms_master_key_id)).toMatch(/^aws_kms_key\.alerts_key_/);
    expect(resourceAt(tf, "aws_kms_key", "alerts/key")).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 7 });
    expect(resourceAt(tf, "aws_kms_alias", "alerts/key-alias").name).toBe("alias/cs-mirror-alerts");
    expect(topic.policy).toBeUndefined();
    expect(resourcesOf(tf, "aws_sns_topic_policy")).toEqual([]);
  });

  it("has a key policy that lets this deployment's alarms (only) encrypt, and the account administer through IAM", () => {
    const policy: string = resourceAt(tf, "aws_kms_key_policy", "alerts/key-policy").policy;
    expect(refTarget(resourceAt(tf, "aws_kms_key_policy", "alerts/key-policy").key_id)).toMatch(/^aws_kms_key\.alerts_key_/);
    expect(policy).toContain('"Principal" = {"Service" = "cloudwatch.amazonaws.com"}');
    expect(policy).toContain('"Action" = ["kms:Decrypt", "kms:GenerateDataKey*"]');
    expect(policy).toMatch(/"aws:SourceAccount" = element\(split\(":", aws_kms_key\.alerts_key_[A-F0-9]{8}\.arn\), 4\)/);
    expect(policy).toMatch(/"aws:SourceArn" = "arn:\$\{element\(split.*\), 1\)\}:cloudwatch:\$\{element\(split.*\), 3\)\}:\$\{element\(split.*\), 4\)\}:alarm:cs-mirror-\*"/);
    expect(policy).toMatch(/"Principal" = \{"AWS" = "arn:\$\{element\(split.*\), 1\)\}:iam::\$\{element\(split.*\), 4\)\}:root"\}, "Action" = "kms:\*"/);
    // Derived from the key's own ARN: no data source, so a plan runs offline.
    expect(tf.data?.aws_caller_identity).toBeUndefined();
    expect(tf.data?.aws_partition).toBeUndefined();
  });

  it("subscribes every alert e-mail and every https endpoint", () => {
    const subscribed = synthStack({
      tables: ["petitions"],
      alertEmails: ["data-team@example.org", "On.Call@Example.org"],
      alerts: {
        httpsEndpoints: [
          "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue",
          "https://api.opsgenie.com/v1/json/amazonsns?apiKey=00000000-0000-0000-0000-000000000000",
        ],
      },
    });
    const subs = resourcesOf(subscribed, "aws_sns_topic_subscription").map(([, s]) => s);
    expect(subs.map((s) => [s.protocol, s.endpoint]).sort()).toEqual([
      ["email", "On.Call@Example.org"],
      ["email", "data-team@example.org"],
      ["https", "https://api.opsgenie.com/v1/json/amazonsns?apiKey=00000000-0000-0000-0000-000000000000"],
      ["https", "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue"],
    ]);
    for (const s of subs) expect(s.topic_arn).toBe(topicRef(subscribed));
    expect(resourceAt(subscribed, "aws_sns_topic_subscription", "alerts/email-data-team-example-org").endpoint).toBe("data-team@example.org");
    expect(resourceAt(subscribed, "aws_sns_topic_subscription", "alerts/email-on-call-example-org").endpoint).toBe("On.Call@Example.org");
  });

  it("names subscriptions after their endpoint, so adding or removing one never replaces another", () => {
    const ids = (input: Parameters<typeof synthStack>[0]) =>
      resourcesOf(synthStack({ tables: ["petitions"], ...input }), "aws_sns_topic_subscription").map(([name]) => name);
    const url = "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue";
    const one = ids({ alertEmails: ["b@example.org"], alerts: { httpsEndpoints: [url] } });
    const more = ids({ alertEmails: ["a@example.org", "b@example.org"], alerts: { httpsEndpoints: ["https://example.net/sns", url] } });
    for (const id of one) expect(more).toContain(id);
    // The URL may carry a token: the id has its host and a hash, not its path.
    expect(one.find((id) => id.includes("https"))).toMatch(/^alerts_https-events-pagerduty-com-[0-9a-f]{10}_[A-F0-9]{8}$/);
  });
});

describe("alarm thresholds", () => {
  const defaults = synthStack({ tables: ["petitions"] });
  const custom = synthStack({
    tables: ["petitions"],
    alerts: {
      freshnessHours: 50,
      downloadsQueueAgeMinutes: 30,
      incrementalQueueAgeMinutes: 120,
      fullQueueAgeMinutes: 720,
      functionErrors: 3,
      webhookUnauthorized: 20,
      webhookRejected: 2,
      webhookServerErrors: 4,
    },
  });

  it("alarms on a single message in a dead-letter queue, over 5 minutes, quiet without data", () => {
    for (const name of ["cs-mirror-downloads-dlq-not-empty", "cs-mirror-load-full-petitions-dlq-not-empty", "cs-mirror-load-incremental-petitions-dlq-not-empty"]) {
      expect(alarmNamed(defaults, name)).toMatchObject({
        namespace: "AWS/SQS",
        metric_name: "ApproximateNumberOfMessagesVisible",
        statistic: "Maximum",
        comparison_operator: "GreaterThanThreshold",
        threshold: 0,
        period: 300,
        evaluation_periods: 1,
        treat_missing_data: "notBreaching",
      });
    }
    expect(refTarget(alarmNamed(defaults, "cs-mirror-downloads-dlq-not-empty").dimensions.QueueName)).toMatch(/^aws_sqs_queue\.downloads_dlq_/);
    expect(refTarget(alarmNamed(defaults, "cs-mirror-load-full-petitions-dlq-not-empty").dimensions.QueueName)).toMatch(
      /^aws_sqs_queue\.load-petitions_full_queue_dlq_/,
    );
  });

  it("alarms on the oldest message's age: downloads 15 min, incremental 1 h, full 6 h by default, in seconds", () => {
    const age = (tf: Json, name: string) => {
      const a = alarmNamed(tf, name);
      expect(a).toMatchObject({
        namespace: "AWS/SQS",
        metric_name: "ApproximateAgeOfOldestMessage",
        statistic: "Maximum",
        comparison_operator: "GreaterThanThreshold",
        period: 300,
        treat_missing_data: "notBreaching",
      });
      return a.threshold;
    };
    expect(age(defaults, "cs-mirror-downloads-queue-age")).toBe(15 * 60);
    expect(age(defaults, "cs-mirror-load-incremental-petitions-queue-age")).toBe(3600);
    expect(age(defaults, "cs-mirror-load-full-petitions-queue-age")).toBe(6 * 3600);
    expect(age(custom, "cs-mirror-downloads-queue-age")).toBe(30 * 60);
    expect(age(custom, "cs-mirror-load-incremental-petitions-queue-age")).toBe(2 * 3600);
    expect(age(custom, "cs-mirror-load-full-petitions-queue-age")).toBe(12 * 3600);
    expect(refTarget(alarmNamed(defaults, "cs-mirror-downloads-queue-age").dimensions.QueueName)).toMatch(/^aws_sqs_queue\.downloads_queue_/);
  });

  it("alarms on a function's errors summed over 5 minutes, from alerts.functionErrors", () => {
    for (const fn of ["receiver", "downloader", "load-full-petitions", "load-incremental-petitions"]) {
      expect(alarmNamed(defaults, `cs-mirror-${fn}-errors`)).toMatchObject({
        namespace: "AWS/Lambda",
        metric_name: "Errors",
        statistic: "Sum",
        comparison_operator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        period: 300,
        treat_missing_data: "notBreaching",
      });
      expect(alarmNamed(custom, `cs-mirror-${fn}-errors`).threshold).toBe(3);
    }
    expect(alarmNamed(defaults, "cs-mirror-receiver-errors").dimensions.FunctionName).toBe(
      `\${aws_lambda_function.${resourcesOf(defaults, "aws_lambda_function").find(([n]) => n.startsWith("receiver_function_"))![0]}.function_name}`,
    );
  });

  it("alarms when a table had no full load for freshnessHours: hourly sums below 1, every hour breaching, missing data breaching", () => {
    const stale = alarmNamed(defaults, "cs-mirror-load-full-petitions-stale");
    expect(stale).toMatchObject({
      namespace: "ControlShiftMirror/cs-mirror",
      metric_name: "FullLoadSucceeded",
      dimensions: { table: "petitions" },
      statistic: "Sum",
      comparison_operator: "LessThanThreshold",
      threshold: 1,
      period: 3600,
      evaluation_periods: 26,
      datapoints_to_alarm: 26,
      treat_missing_data: "breaching",
    });
    expect(alarmNamed(custom, "cs-mirror-load-full-petitions-stale")).toMatchObject({ evaluation_periods: 50, datapoints_to_alarm: 50 });
    // CloudWatch's limit for periods of an hour or more: 7 days of evaluation.
    expect(stale.period * stale.evaluation_periods).toBeLessThanOrEqual(7 * 86400);
  });

  it("alarms on the receiver's 401, 413, quarantines and 5xx answers from its own metrics, dimension service = its function name", () => {
    const receiver = resourceAt(defaults, "aws_lambda_function", "receiver/function");
    const receiverName = `\${aws_lambda_function.${resourcesOf(defaults, "aws_lambda_function").find(([n]) => n.startsWith("receiver_function_"))![0]}.function_name}`;
    const expected: [string, string, number, number][] = [
      ["receiver-unauthorized", "WebhookUnauthorized", 5, 20],
      ["receiver-rejected", "WebhookRejected", 1, 2],
      // Any quarantined payload alarms within the 5-minute period, whatever the config says.
      ["receiver-quarantined", "WebhookQuarantined", 1, 1],
      ["receiver-queue-failed", "WebhookQueueFailed", 1, 4],
      ["receiver-quarantine-failed", "WebhookQuarantineFailed", 1, 4],
      ["receiver-secret-unavailable", "WebhookSecretUnavailable", 1, 4],
    ];
    for (const [name, metric, threshold, customThreshold] of expected) {
      expect(alarmNamed(defaults, `cs-mirror-${name}`)).toMatchObject({
        namespace: receiver.environment.variables.POWERTOOLS_METRICS_NAMESPACE,
        metric_name: metric,
        dimensions: { service: receiverName },
        statistic: "Sum",
        comparison_operator: "GreaterThanOrEqualToThreshold",
        threshold,
        period: 300,
        treat_missing_data: "notBreaching",
      });
      expect(alarmNamed(custom, `cs-mirror-${name}`).threshold).toBe(customThreshold);
    }
    // Powertools' `service` dimension is POWERTOOLS_SERVICE_NAME, which the stack sets to the function name.
    expect(receiver.environment.variables.POWERTOOLS_SERVICE_NAME).toBe(receiver.function_name);
  });

  it("alarms on the HTTP API's own 5xx, on the $default stage", () => {
    const api = resourcesOf(defaults, "aws_apigatewayv2_api")[0][0];
    const [stageName, stage] = resourcesOf(defaults, "aws_apigatewayv2_stage")[0];
    expect(stage.name).toBe("$default");
    expect(alarmNamed(defaults, "cs-mirror-webhook-5xx")).toMatchObject({
      namespace: "AWS/ApiGateway",
      metric_name: "5xx",
      dimensions: { ApiId: `\${aws_apigatewayv2_api.${api}.id}`, Stage: `\${aws_apigatewayv2_stage.${stageName}.name}` },
      statistic: "Sum",
      comparison_operator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      period: 300,
    });
    expect(alarmNamed(custom, "cs-mirror-webhook-5xx").threshold).toBe(4);
  });

  it("starts every alarm name with the configured prefix", () => {
    const staging = synthStack({ prefix: "csm-staging", tables: ["petitions"] });
    expect(alarmsOf(staging).map((a) => a.alarm_name).sort()).toEqual(
      alarmsOf(defaults).map((a) => a.alarm_name.replace(/^cs-mirror-/, "csm-staging-")).sort(),
    );
    expect(resourceAt(staging, "aws_kms_key_policy", "alerts/key-policy").policy).toContain(":alarm:csm-staging-*");
    expect(allViolations(staging, "csm-staging")).toEqual([]);
  });
});

describe("the alarm invariant", () => {
  const clone = (): Json => JSON.parse(JSON.stringify(synthStack({ tables: ["petitions"] })));

  it("names a dead-letter queue without an alarm, and a function without an errors alarm", () => {
    const broken = clone();
    const alarms = broken.resource.aws_cloudwatch_metric_alarm;
    const dlqAlarm = Object.keys(alarms).find((n) => n.startsWith("alerts_load-full-petitions-dlq-not-empty_"))!;
    const errorsAlarm = Object.keys(alarms).find((n) => n.startsWith("alerts_downloader-errors_"))!;
    delete alarms[dlqAlarm];
    delete alarms[errorsAlarm];
    expect(alarmViolations(broken)).toEqual([
      expect.stringMatching(/^aws_sqs_queue\.load-petitions_full_queue_dlq_[A-F0-9]{8}: a dead-letter queue without an alarm/),
      expect.stringMatching(/^aws_lambda_function\.downloader_function_[A-F0-9]{8}: no alarm on its Errors$/),
    ]);
  });

  it("names an alarm that does not notify the topic on OK", () => {
    const broken = clone();
    const alarm = Object.entries(broken.resource.aws_cloudwatch_metric_alarm as Record<string, Json>).find(([n]) => n.startsWith("alerts_receiver-errors_"))!;
    delete alarm[1].ok_actions;
    expect(alarmViolations(broken)).toEqual([`aws_cloudwatch_metric_alarm.${alarm[0]}: no ok_actions`]);
  });

  it("names a topic encrypted with a key CloudWatch may not use (the AWS-managed alias/aws/sns)", () => {
    const broken = clone();
    const [topicName, topic] = Object.entries(broken.resource.aws_sns_topic as Record<string, Json>)[0];
    topic.kms_master_key_id = "alias/aws/sns";
    expect(alarmViolations(broken)).toEqual([
      `aws_sns_topic.${topicName}: encrypted with alias/aws/sns, which does not let CloudWatch alarms publish`,
    ]);
  });
});
