/**
 * Secure defaults as small pure functions, shared by every construct that makes the resource (STYLE: secure
 * defaults live in one place, and tests assert them over the whole synthesized stack).
 */
import { PolicyStatement } from "./access";

/** Deny every request to the bucket that does not use TLS. */
export function tlsOnlyBucketStatement(bucketArn: string): PolicyStatement {
  return {
    sid: "DenyInsecureTransport",
    effect: "Deny",
    actions: ["s3:*"],
    resources: [bucketArn, `${bucketArn}/*`],
    conditions: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
  };
}

/** All four public-access switches on. */
export const BLOCK_ALL_PUBLIC_ACCESS = {
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
} as const;

/** Queues are encrypted at rest with SQS-managed keys (no KMS key to administer or pay for). */
export const QUEUE_ENCRYPTION = { sqsManagedSseEnabled: true } as const;

/** The longest SQS keeps a message: dead letters wait two weeks for an operator. */
export const MAX_MESSAGE_RETENTION_SECONDS = 14 * 24 * 3600;
