import { Construct } from "constructs";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketNotification } from "@cdktf/provider-aws/lib/s3-bucket-notification";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { DOWNLOADER_ENV, LOADER_ENV, RECEIVER_ENV } from "../facts/environment";
import { EXPORTS_KEY_PREFIX, MANIFESTS_KEY_PREFIX, manifestTablePrefix, type ExportKind } from "../facts/exports";
import { QUARANTINE_KEY_PREFIX, QUARANTINE_PENDING_PREFIX } from "../facts/quarantine";
import { Grant } from "./access";
import { BLOCK_ALL_PUBLIC_ACCESS, tlsOnlyBucketStatement } from "./secure-defaults";

export interface ExportsBucketProps {
  /** Physical names start with it; the bucket gets a unique suffix from Terraform (bucket names are global). */
  readonly prefix: string;
  /** Objects under `exports/` and `quarantine/` expire after this many days. */
  readonly expireAfterDays: number;
  /** Keep overwritten exports as noncurrent versions for `noncurrentDays`. */
  readonly versioned: boolean;
  readonly noncurrentDays: number;
}

/**
 * Our own copy of every export file: private, encrypted, TLS-only, expiring. Loads read from here, so they can be
 * replayed after ControlShift's 6-hour URL expiry. Object-created events go to EventBridge (the loaders' rules).
 *
 * Signed webhooks the receiver cannot act on are kept under `quarantine/` (facts/quarantine.ts). No
 * loader's rule matches that prefix (each matches `exports/<kind>/<table>/`), and it expires like the exports.
 */
export class ExportsBucket extends Construct {
  readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: ExportsBucketProps) {
    super(scope, id);

    this.bucket = new S3Bucket(this, "bucket", { bucketPrefix: `${props.prefix}-exports-` });
    const bucket = this.bucket.id;

    new S3BucketPublicAccessBlock(this, "public-access-block", { bucket, ...BLOCK_ALL_PUBLIC_ACCESS });
    // No ACLs at all: the bucket owner owns every object.
    new S3BucketOwnershipControls(this, "ownership", { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    });
    new S3BucketVersioningA(this, "versioning", {
      bucket,
      versioningConfiguration: { status: props.versioned ? "Enabled" : "Suspended" },
    });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket,
      rule: [
        {
          id: "expire-exports",
          status: "Enabled",
          filter: [{ prefix: EXPORTS_KEY_PREFIX }],
          expiration: [{ days: props.expireAfterDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentDays }],
        },
        {
          // The loaders' COPY manifests (one small JSON per loaded export version) go with the exports they name.
          id: "expire-manifests",
          status: "Enabled",
          filter: [{ prefix: MANIFESTS_KEY_PREFIX }],
          expiration: [{ days: props.expireAfterDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentDays }],
        },
        {
          // Kept as long as the exports: long enough to fix the config and re-submit (npm run replay -- quarantine).
          id: "expire-quarantine",
          status: "Enabled",
          filter: [{ prefix: QUARANTINE_KEY_PREFIX }],
          expiration: [{ days: props.expireAfterDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentDays }],
        },
        {
          // A download that died mid-stream leaves parts behind only if its abort also failed; clean them anyway.
          id: "abort-incomplete-uploads",
          status: "Enabled",
          filter: [{ prefix: "" }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });

    const tlsOnly = tlsOnlyBucketStatement(this.bucket.arn);
    const policy = new DataAwsIamPolicyDocument(this, "policy-document", {
      statement: [
        {
          sid: tlsOnly.sid,
          effect: tlsOnly.effect,
          actions: [...tlsOnly.actions],
          resources: [...tlsOnly.resources],
          principals: [{ type: "*", identifiers: ["*"] }],
          condition: tlsOnly.conditions?.map((c) => ({ ...c, values: [...c.values] })),
        },
      ],
    });
    new S3BucketPolicy(this, "policy", { bucket, policy: policy.json });

    // The loaders' EventBridge rules match these events (S3 ObjectCreated -> EventBridge rule per table x kind, README "How it flows").
    new S3BucketNotification(this, "eventbridge", { bucket, eventbridge: true });
  }

  /** Write (and overwrite) export objects, and abort a failed multipart upload. Sets EXPORTS_BUCKET. */
  grantWriteExports(): Grant {
    return {
      environment: { [DOWNLOADER_ENV.exportsBucket]: this.bucket.bucket },
      statements: [
        {
          sid: "WriteExports",
          actions: ["s3:PutObject", "s3:AbortMultipartUpload"],
          resources: [`${this.bucket.arn}/${EXPORTS_KEY_PREFIX}*`],
        },
      ],
    };
  }

  /**
   * Write the COPY manifests of one table and kind (handlers/load/manifest.ts): PutObject under its own
   * manifests/<kind>/<table>/ only.
   */
  grantWriteManifests(kind: ExportKind, table: string): Grant {
    return {
      statements: [
        { sid: "WriteManifests", actions: ["s3:PutObject"], resources: [`${this.bucket.arn}/${manifestTablePrefix(kind, table)}*`] },
      ],
    };
  }

  /**
   * Write quarantined payloads, and nothing else: PutObject under `quarantine/pending/` only (the receiver). Sets
   * QUARANTINE_BUCKET.
   */
  grantWriteQuarantine(): Grant {
    return {
      environment: { [RECEIVER_ENV.quarantineBucket]: this.bucket.bucket },
      statements: [
        { sid: "WriteQuarantine", actions: ["s3:PutObject"], resources: [`${this.bucket.arn}/${QUARANTINE_PENDING_PREFIX}*`] },
      ],
    };
  }

  /** Read every loader's COPY manifests (the warehouse's COPY role: COPY reads the manifest, then the export). */
  grantReadManifests(): Grant {
    return {
      statements: [{ sid: "ReadManifests", actions: ["s3:GetObject"], resources: [`${this.bucket.arn}/${MANIFESTS_KEY_PREFIX}*`] }],
    };
  }

  /** Read the exports under one key prefix (a table's), and list them. Sets EXPORTS_BUCKET. */
  grantReadExports(keyPrefix: string = EXPORTS_KEY_PREFIX): Grant {
    return {
      environment: { [LOADER_ENV.exportsBucket]: this.bucket.bucket },
      statements: [
        { sid: "ReadExports", actions: ["s3:GetObject"], resources: [`${this.bucket.arn}/${keyPrefix}*`] },
        {
          sid: "ListExports",
          actions: ["s3:ListBucket"],
          resources: [this.bucket.arn],
          conditions: [{ test: "StringLike", variable: "s3:prefix", values: [`${keyPrefix}*`] }],
        },
      ],
    };
  }
}
