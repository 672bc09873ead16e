import { createHash } from "node:crypto";
import { Construct } from "constructs";
import { Fn } from "cdktf";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsKeyPolicy } from "@cdktf/provider-aws/lib/kms-key-policy";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { LOADER_METRICS, RECEIVER_METRICS, SERVICE_DIMENSION, TABLE_DIMENSION } from "../facts/metrics";
import { subscriptionSlug } from "./config";
import { MirrorFunction } from "./mirror-function";
import { QueueWithDlq } from "./queue-with-dlq";
import { WebhookApi } from "./webhook-api";

/** Counts (errors, answers) are summed over 5 minutes; queue depths and ages take the 5 minutes' maximum. */
export const ALARM_PERIOD_SECONDS = 300;
/** Freshness is counted per hour: "no full load in N hours" is N hourly sums below 1 (a period is at most a day). */
export const FRESHNESS_PERIOD_SECONDS = 3600;

export interface AlertsProps {
  /** Starts the topic's, the key's and every alarm's name. */
  readonly prefix: string;
  /** E-mail addresses subscribed to the topic (each confirms by a link AWS mails). */
  readonly emails: readonly string[];
  /** HTTPS endpoints subscribed to the topic (they must confirm the subscription themselves). */
  readonly httpsEndpoints: readonly string[];
  /** The namespace the handlers publish their metrics in (POWERTOOLS_METRICS_NAMESPACE): deploymentMetricsNamespace(prefix), facts/metrics.ts. */
  readonly metricsNamespace: string;
}

export interface WebhookAlarmThresholds {
  /** 401 answers in 5 minutes. */
  readonly unauthorized: number;
  /** 413 answers (bodies over the receiver's size guard, before the signature) in 5 minutes. */
  readonly rejected: number;
  /** 5xx answers in 5 minutes, per kind (queue failed, quarantine failed, secret unavailable, API Gateway's own 5xx). */
  readonly serverErrors: number;
}

/** "at least once" / "5 times or more", for descriptions. */
const times = (n: number) => (n === 1 ? "at least once" : `${n} times or more`);

/** What an alarm watches and when it fires; the name is the alarm's name without the prefix (also its construct id). */
interface AlarmSpec {
  readonly name: string;
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly statistic: "Sum" | "Maximum";
  readonly comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
  readonly threshold: number;
  readonly periodSeconds?: number;
  readonly evaluationPeriods?: number;
  readonly treatMissingData?: "notBreaching" | "breaching";
}

/**
 * Points at an alarm's entry in `help` (section "Alerts"), titled by the alarm name with its variable parts named:
 * a loader's `load-full-petitions` is `load-<kind>-<table>` there.
 */
const seeHelp = (name: string, condition: string) =>
  `See help: ALARM: "<prefix>-${name.startsWith("load-") ? "load-<kind>-<table>" : name}-${condition}".`;

/**
 * The alerts topic `<prefix>-alerts`, its subscriptions, and the alarms that notify it on ALARM and on OK.
 *
 * The topic is encrypted with its own KMS key, not the AWS-managed `alias/aws/sns`: that key's policy cannot be
 * changed, and it does not let CloudWatch encrypt, so every alarm action would fail ("CloudWatch Alarms does not
 * have authorization to access the SNS topic encryption key";
 * https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns). No topic policy is needed: the default one
 * lets the owning account's alarms publish.
 *
 * Alarm names are `<prefix>-<what>-<condition>`; each description says what it means and names its `help` entry.
 */
export class Alerts extends Construct {
  readonly topic: SnsTopic;
  readonly key: KmsKey;
  /** Every alarm, in the order they were added. */
  readonly alarms: CloudwatchMetricAlarm[] = [];
  private readonly prefix: string;
  private readonly namespace: string;

  constructor(scope: Construct, id: string, props: AlertsProps) {
    super(scope, id);
    this.prefix = props.prefix;
    this.namespace = props.metricsNamespace;

    this.key = new KmsKey(this, "key", {
      description: `Encrypts the ${props.prefix}-alerts topic (CloudWatch alarms may use it; the AWS-managed SNS key refuses them)`,
      enableKeyRotation: true,
      deletionWindowInDays: 7,
    });
    // The account, partition and region come from the key's own ARN: no data source, so a plan runs offline.
    const [partition, region, account] = [1, 3, 4].map((i) => Fn.element(Fn.split(":", this.key.arn), i));
    new KmsKeyPolicy(this, "key-policy", {
      keyId: this.key.keyId,
      // A key policy, not an IAM policy: "kms:*" for the account is AWS's default statement, which lets IAM policies
      // govern the key (without it, nobody could administer the key again).
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AccountAdministersKeyThroughIam",
            Effect: "Allow",
            Principal: { AWS: `arn:${partition}:iam::${account}:root` },
            Action: "kms:*",
            Resource: "*",
          },
          {
            Sid: "CloudWatchAlarmsPublish",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
            Resource: "*",
            Condition: {
              StringEquals: { "aws:SourceAccount": account },
              ArnLike: { "aws:SourceArn": `arn:${partition}:cloudwatch:${region}:${account}:alarm:${props.prefix}-*` },
            },
          },
        ],
      }),
    });
    new KmsAlias(this, "key-alias", { name: `alias/${props.prefix}-alerts`, targetKeyId: this.key.keyId });

    this.topic = new SnsTopic(this, "topic", {
      name: `${props.prefix}-alerts`,
      displayName: `${props.prefix} alerts`,
      kmsMasterKeyId: this.key.arn,
    });

    // Construct ids from the address (or the URL's host and a hash of the URL, which may carry a token): adding or
    // removing one never replaces another.
    for (const email of props.emails) {
      new SnsTopicSubscription(this, `email-${subscriptionSlug(email)}`, {
        topicArn: this.topic.arn,
        protocol: "email",
        endpoint: email,
      });
    }
    for (const url of props.httpsEndpoints) {
      const hash = createHash("sha256").update(url).digest("hex").slice(0, 10);
      new SnsTopicSubscription(this, `https-${subscriptionSlug(new URL(url).hostname)}-${hash}`, {
        topicArn: this.topic.arn,
        protocol: "https",
        endpoint: url,
      });
    }
  }

  /**
   * `<prefix>-<name>-dlq-not-empty`: a message is in the queue's dead-letter queue. It stays in ALARM until the
   * dead letters are re-driven or deleted.
   * @param name the queue's physical name without the prefix ("downloads", "load-full-petitions")
   * @param what what a message stands for, for the description ("a download job", "a full load of petitions")
   */
  alarmOnDeadLetters(name: string, queue: QueueWithDlq, what: string): CloudwatchMetricAlarm {
    return this.alarm({
      name: `${name}-dlq-not-empty`,
      description:
        `A message is in ${this.prefix}-${name}-dlq: ${what} failed for good (or maxReceiveCount times) and waits ` +
        `there to be re-driven. ${seeHelp(name, "dlq-not-empty")}`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: queue.deadLetterQueue.name },
      statistic: "Maximum",
      comparison: "GreaterThanThreshold",
      threshold: 0,
    });
  }

  /**
   * `<prefix>-<name>-queue-age`: the queue's oldest message is older than `maxAgeMinutes`: its consumer is stuck,
   * failing and retrying, or too slow.
   * @param name the queue's physical name without the prefix
   * @param what what the messages stand for, for the description ("download jobs", "full exports of petitions")
   */
  alarmOnQueueAge(name: string, queue: QueueWithDlq, maxAgeMinutes: number, what: string): CloudwatchMetricAlarm {
    return this.alarm({
      name: `${name}-queue-age`,
      description:
        `The oldest message in ${this.prefix}-${name} is more than ${maxAgeMinutes} minutes old: ${what} are not ` +
        `being consumed (failing and retried, throttled, or stuck). ${seeHelp(name, "queue-age")}`,
      namespace: "AWS/SQS",
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: queue.queue.name },
      statistic: "Maximum",
      comparison: "GreaterThanThreshold",
      threshold: maxAgeMinutes * 60,
    });
  }

  /**
   * `<prefix>-<name>-errors`: the function failed (threw, timed out, ran out of memory) at least `threshold` times
   * in 5 minutes. Failures a handler reports per message (batch item failures) are not errors: the queue's alarms see them.
   * @param name the function's physical name without the prefix ("receiver", "load-full-petitions")
   */
  alarmOnErrors(name: string, fn: MirrorFunction, threshold: number): CloudwatchMetricAlarm {
    return this.alarm({
      name: `${name}-errors`,
      description:
        `${this.prefix}-${name} failed ${times(threshold)} in 5 minutes ` +
        `(an unhandled error, a timeout or out of memory). ${seeHelp(name, "errors")}`,
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: fn.function.functionName },
      statistic: "Sum",
      comparison: "GreaterThanOrEqualToThreshold",
      threshold,
    });
  }

  /**
   * `<prefix>-load-full-<table>-stale`: no full load of the table succeeded in the last `hours` hours. Missing data
   * counts as "no load", so a table that never loads alarms too (also right after the first deploy).
   */
  alarmOnFreshness(table: string, hours: number): CloudwatchMetricAlarm {
    return this.alarm({
      name: `load-full-${table}-stale`,
      description:
        `No full export of ${table} was loaded in the last ${hours} hours: the table is older than the nightly ` +
        `export. See help: ALARM: "<prefix>-load-full-<table>-stale".`,
      namespace: this.namespace,
      metricName: LOADER_METRICS.fullLoadSucceeded,
      dimensions: { [TABLE_DIMENSION]: table },
      statistic: "Sum",
      comparison: "LessThanThreshold",
      threshold: 1,
      periodSeconds: FRESHNESS_PERIOD_SECONDS,
      evaluationPeriods: hours,
      treatMissingData: "breaching",
    });
  }

  /**
   * The receiver's answers, from its own metrics (one count per request, dimension `service` = its function name),
   * and the API's own 5xx (Lambda throttled or failing, integration timeouts, a missing invoke permission):
   * `<prefix>-receiver-unauthorized`, `-receiver-rejected`, `-receiver-quarantined`, `-receiver-queue-failed`,
   * `-receiver-quarantine-failed`, `-receiver-secret-unavailable`, `<prefix>-webhook-5xx`.
   * A quarantined payload alarms at once (threshold 1, the 5-minute period): it is an export the mirror will not
   * load until the operator acts.
   */
  alarmOnWebhook(receiver: MirrorFunction, api: WebhookApi, thresholds: WebhookAlarmThresholds): CloudwatchMetricAlarm[] {
    const receiverMetric = (
      suffix: string,
      metricName: string,
      threshold: number,
      meaning: string,
    ): CloudwatchMetricAlarm =>
      this.alarm({
        name: `receiver-${suffix}`,
        description: `${meaning} ${seeHelp("receiver", suffix)}`,
        namespace: this.namespace,
        metricName,
        dimensions: { [SERVICE_DIMENSION]: receiver.function.functionName },
        statistic: "Sum",
        comparison: "GreaterThanOrEqualToThreshold",
        threshold,
      });
    return [
      receiverMetric(
        "unauthorized",
        RECEIVER_METRICS.unauthorized,
        thresholds.unauthorized,
        `The receiver answered 401 ${times(thresholds.unauthorized)} in 5 minutes: the signing secret is empty or not ControlShift's.`,
      ),
      receiverMetric(
        "rejected",
        RECEIVER_METRICS.rejected,
        thresholds.rejected,
        `The receiver answered 413 ${times(thresholds.rejected)} in 5 minutes: bodies over its 10 MiB size guard, refused before the signature (not ControlShift's).`,
      ),
      receiverMetric(
        "quarantined",
        RECEIVER_METRICS.quarantined,
        1,
        `The receiver quarantined a signed webhook it cannot act on (answered 200, nothing downloaded): list it with npm run replay -- quarantine.`,
      ),
      receiverMetric(
        "queue-failed",
        RECEIVER_METRICS.queueFailed,
        thresholds.serverErrors,
        `The receiver answered 503 ${times(thresholds.serverErrors)} in 5 minutes: it could not queue download jobs (ControlShift retries).`,
      ),
      receiverMetric(
        "secret-unavailable",
        RECEIVER_METRICS.secretUnavailable,
        thresholds.serverErrors,
        `The receiver answered 503 ${times(thresholds.serverErrors)} in 5 minutes: it could not read the signing secret (ControlShift retries).`,
      ),
      receiverMetric(
        "quarantine-failed",
        RECEIVER_METRICS.quarantineFailed,
        thresholds.serverErrors,
        `The receiver answered 503 ${times(thresholds.serverErrors)} in 5 minutes: it could not store payloads to quarantine (ControlShift retries).`,
      ),
      this.alarm({
        name: "webhook-5xx",
        description:
          `The webhook API answered 5xx ${times(thresholds.serverErrors)} in 5 minutes (the receiver failing, throttled or ` +
          `timing out, or not allowed to be invoked). ${seeHelp("webhook", "5xx")}`,
        namespace: "AWS/ApiGateway",
        metricName: "5xx",
        dimensions: { ApiId: api.api.id, Stage: api.stage.name },
        statistic: "Sum",
        comparison: "GreaterThanOrEqualToThreshold",
        threshold: thresholds.serverErrors,
      }),
    ];
  }

  private alarm(spec: AlarmSpec): CloudwatchMetricAlarm {
    const alarm = new CloudwatchMetricAlarm(this, spec.name, {
      alarmName: `${this.prefix}-${spec.name}`,
      alarmDescription: spec.description,
      namespace: spec.namespace,
      metricName: spec.metricName,
      dimensions: spec.dimensions,
      statistic: spec.statistic,
      comparisonOperator: spec.comparison,
      threshold: spec.threshold,
      period: spec.periodSeconds ?? ALARM_PERIOD_SECONDS,
      evaluationPeriods: spec.evaluationPeriods ?? 1,
      datapointsToAlarm: spec.evaluationPeriods ?? 1,
      // A quiet queue or function publishes nothing: no data means nothing went wrong, except for freshness.
      treatMissingData: spec.treatMissingData ?? "notBreaching",
      alarmActions: [this.topic.arn],
      okActions: [this.topic.arn],
    });
    this.alarms.push(alarm);
    return alarm;
  }
}
