import { Construct } from "constructs";
import { Fn } from "cdktf";
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { Grant } from "./access";
import { MirrorFunction } from "./mirror-function";
import { MAX_MESSAGE_RETENTION_SECONDS, QUEUE_ENCRYPTION } from "./secure-defaults";

export interface QueueWithDlqProps {
  /** Physical name of the queue; the dead-letter queue is `<name>-dlq`. */
  readonly queueName: string;
  /** At least six times the consuming function's timeout (AWS's advice for SQS event sources). */
  readonly visibilityTimeoutSeconds: number;
  /** Deliveries before a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** How long the main queue keeps a message. @default 4 days (SQS's default) */
  readonly retentionSeconds?: number;
}

/** An encrypted SQS queue and its dead-letter queue, wired by a redrive policy. */
export class QueueWithDlq extends Construct {
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps) {
    super(scope, id);
    this.deadLetterQueue = new SqsQueue(this, "dlq", {
      name: `${props.queueName}-dlq`,
      messageRetentionSeconds: MAX_MESSAGE_RETENTION_SECONDS,
      ...QUEUE_ENCRYPTION,
    });
    this.queue = new SqsQueue(this, "queue", {
      name: props.queueName,
      visibilityTimeoutSeconds: props.visibilityTimeoutSeconds,
      messageRetentionSeconds: props.retentionSeconds ?? 4 * 24 * 3600,
      redrivePolicy: Fn.jsonencode({
        deadLetterTargetArn: this.deadLetterQueue.arn,
        maxReceiveCount: props.maxReceiveCount,
      }),
      ...QUEUE_ENCRYPTION,
    });
  }

  /** Put messages on the queue. Sets `envName` to the queue URL. */
  grantSend(envName: string): Grant {
    return {
      environment: { [envName]: this.queue.url },
      statements: [{ actions: ["sqs:SendMessage"], resources: [this.queue.arn] }],
    };
  }

  /** Put messages on the dead-letter queue (a consumer's permanent failures go there at once). */
  grantSendToDeadLetter(envName: string): Grant {
    return {
      environment: { [envName]: this.deadLetterQueue.url },
      statements: [{ actions: ["sqs:SendMessage"], resources: [this.deadLetterQueue.arn] }],
    };
  }

  /** What a Lambda event source mapping needs on the queue. */
  grantConsume(): Grant {
    return {
      statements: [
        {
          sid: "ConsumeQueue",
          actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
          resources: [this.queue.arn],
        },
      ],
    };
  }
}

export interface QueueConsumerOptions {
  /** @default 1 */
  readonly batchSize?: number;
  /** Wait up to this long to fill a batch. @default 0 */
  readonly batchingWindowSeconds?: number;
  /** At most this many concurrent invocations from this queue (2 to 1000). */
  readonly maxConcurrency: number;
}

/**
 * Feeds a function from a queue. The function must have `queue.grantConsume()` among its grants; the mapping
 * depends on the function (and so on its policy), or the first poll fails with an access error.
 * Failures are reported per message (ReportBatchItemFailures), so one bad file does not retry its batch mates.
 */
export function addQueueConsumer(
  scope: Construct,
  id: string,
  queue: QueueWithDlq,
  fn: MirrorFunction,
  options: QueueConsumerOptions,
): LambdaEventSourceMapping {
  return new LambdaEventSourceMapping(scope, id, {
    eventSourceArn: queue.queue.arn,
    functionName: fn.function.arn,
    batchSize: options.batchSize ?? 1,
    maximumBatchingWindowInSeconds: options.batchingWindowSeconds ?? 0,
    functionResponseTypes: ["ReportBatchItemFailures"],
    scalingConfig: { maximumConcurrency: options.maxConcurrency },
    dependsOn: [fn.function],
  });
}
