import { Construct } from "constructs";
import { Fn } from "cdktf";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { LOADER_ENV } from "../facts/environment";
import { type ExportKind, exportTablePrefix } from "../facts/exports";
import { Grant, setting } from "./access";
import { loaderFunctionName } from "./config";
import { ExportsBucket } from "./exports-bucket";
import { HandlerBundle } from "./handler-bundles";
import { MirrorFunction } from "./mirror-function";
import { QueueWithDlq, addQueueConsumer } from "./queue-with-dlq";

export interface TableLoaderProps {
  readonly prefix: string;
  readonly table: string;
  readonly kind: ExportKind;
  readonly bundle: HandlerBundle;
  readonly exportsBucket: ExportsBucket;
  /** The warehouse access every loader needs (Data API, credentials, COPY role), from the warehouse construct. */
  readonly warehouseGrants: readonly Grant[];
  /** Further settings shared by every loader (schema names). */
  readonly settings: readonly Grant[];
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
  readonly logRetentionDays: number;
  /** Files loaded together in one transaction (incremental loaders; full loaders take one file at a time). */
  readonly batchSize: number;
  /** How long the queue waits to fill a batch. */
  readonly batchingWindowSeconds: number;
  readonly maxReceiveCount: number;
  /** The deployment's metrics namespace (the freshness alarm reads FullLoadSucceeded there). */
  readonly metricsNamespace: string;
}

/**
 * One table's loader of one kind: an EventBridge rule matching the bucket's Object Created events under the
 * table's prefix, a queue (with DLQ) the rule sends to, and the function that loads what arrives.
 */
export class TableLoader extends Construct {
  readonly queue: QueueWithDlq;
  readonly loader: MirrorFunction;
  readonly rule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: TableLoaderProps) {
    super(scope, id);
    // `<prefix>-load-<kind>-<table>`: the name of the loader's function, role, queue and rule.
    const name = loaderFunctionName(props.prefix, props.kind, props.table);
    // The rule's filter and the loader's read scope.
    const keyPrefix = exportTablePrefix(props.kind, props.table);

    this.queue = new QueueWithDlq(this, "queue", {
      queueName: name,
      visibilityTimeoutSeconds: 6 * props.timeoutSeconds,
      maxReceiveCount: props.maxReceiveCount,
      // Full exports arrive nightly: a day of outage must not lose one.
      retentionSeconds: 4 * 24 * 3600,
    });

    this.rule = new CloudwatchEventRule(this, "rule", {
      name,
      description: `New ${props.kind} exports of ${props.table}`,
      eventPattern: Fn.jsonencode({
        source: ["aws.s3"],
        "detail-type": ["Object Created"],
        detail: {
          bucket: { name: [props.exportsBucket.bucket.bucket] },
          object: { key: [{ prefix: keyPrefix }] },
        },
      }),
    });
    new CloudwatchEventTarget(this, "target", {
      rule: this.rule.name,
      arn: this.queue.queue.arn,
      // A delivery that fails (queue policy missing, queue throttled) is retried for a day before EventBridge drops it.
      retryPolicy: { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 },
    });
    // Without this, EventBridge's sends are refused and files land but never load: a plan cannot see it missing.
    const queuePolicy = new DataAwsIamPolicyDocument(this, "queue-policy-document", {
      statement: [
        {
          sid: "AllowRuleToSend",
          effect: "Allow",
          actions: ["sqs:SendMessage"],
          resources: [this.queue.queue.arn],
          principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
          condition: [{ test: "ArnEquals", variable: "aws:SourceArn", values: [this.rule.arn] }],
        },
      ],
    });
    new SqsQueuePolicy(this, "queue-policy", { queueUrl: this.queue.queue.url, policy: queuePolicy.json });

    this.loader = new MirrorFunction(this, "loader", {
      functionName: name,
      description: `Loads ${props.kind} exports of ${props.table} into the warehouse`,
      bundle: props.bundle,
      memoryMiB: props.memoryMiB,
      timeoutSeconds: props.timeoutSeconds,
      logRetentionDays: props.logRetentionDays,
      metricsNamespace: props.metricsNamespace,
      grants: [
        setting(LOADER_ENV.table, props.table),
        setting(LOADER_ENV.kind, props.kind),
        props.exportsBucket.grantReadExports(keyPrefix),
        props.exportsBucket.grantWriteManifests(props.kind, props.table),
        this.queue.grantConsume(),
        ...props.warehouseGrants,
        ...props.settings,
      ],
    });
    addQueueConsumer(this, "source", this.queue, this.loader, {
      batchSize: props.kind === "full" ? 1 : props.batchSize,
      batchingWindowSeconds: props.kind === "full" ? 0 : props.batchingWindowSeconds,
      // Loads of one table serialise on the table's LOCK anyway; 2 is the smallest cap SQS event sources take.
      maxConcurrency: 2,
    });
  }
}
