/**
 * The receiver's ports on AWS: the signing secret from Secrets Manager, download jobs onto SQS, quarantined payloads
 * into the exports bucket.
 * Each turns SDK failures into the receiver's typed errors, keeping the SDK error as `cause`.
 */
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SendMessageCommand, type SendMessageCommandInput, type SQSClient } from "@aws-sdk/client-sqs";
import type { DownloadJob } from "../shared/export-file";
import type { QuarantineRecord } from "../shared/quarantine";
import {
  type DownloadQueue,
  type QuarantineStore,
  QuarantineWriteError,
  QueueSendError,
  SigningSecretUnavailableError,
} from "./ports";
import type { FetchSigningSecret } from "./signing-secret-cache";

/**
 * Reads the signing secret: the AWSCURRENT `SecretString`, trimmed (operators paste it with a trailing newline).
 *
 * "Not configured" (undefined) covers a secret that does not exist, one the operator has not filled yet (no AWSCURRENT
 * version: Secrets Manager answers ResourceNotFoundException for both), and an empty or binary-only value. Every other
 * failure (throttling, 5xx, network, access denied, KMS) throws SigningSecretUnavailableError.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 */
export function secretsManagerSigningSecret(client: SecretsManagerClient, secretArn: string): FetchSigningSecret {
  return async () => {
    let secretString: string | undefined;
    try {
      ({ SecretString: secretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn })));
    } catch (err) {
      if ((err as { name?: unknown } | null)?.name === "ResourceNotFoundException") return undefined;
      throw new SigningSecretUnavailableError("the webhook signing secret could not be read; retry later", {
        cause: err,
      });
    }
    const value = secretString?.trim();
    return value === "" ? undefined : value;
  };
}

/** The SendMessage request for one job: the job as JSON, with table and kind as attributes for the console. */
export function downloadJobMessage(queueUrl: string, job: DownloadJob): SendMessageCommandInput {
  return {
    QueueUrl: queueUrl,
    MessageBody: JSON.stringify(job),
    MessageAttributes: {
      table: { DataType: "String", StringValue: job.table },
      kind: { DataType: "String", StringValue: job.kind },
    },
  };
}

export class SqsDownloadQueue implements DownloadQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(job: DownloadJob): Promise<void> {
    try {
      await this.client.send(new SendMessageCommand(downloadJobMessage(this.queueUrl, job)));
    } catch (err) {
      throw new QueueSendError("the export could not be queued; retry later", { cause: err });
    }
  }
}

/** Quarantined payloads as JSON objects in the exports bucket (the receiver may only PutObject under quarantine/pending/). */
export class S3QuarantineStore implements QuarantineStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, record: QuarantineRecord): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: JSON.stringify(record, null, 2),
          ContentType: "application/json",
        }),
      );
    } catch (err) {
      throw new QuarantineWriteError("the payload could not be quarantined; retry later", { cause: err });
    }
  }
}
