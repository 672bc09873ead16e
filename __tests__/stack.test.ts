import { readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { Json, dataOf, refTarget, resourceAt, resourcesOf, synthStack, synthToDir, FEW_TABLES } from "./helpers/synth";
import { allViolations, bucketViolations, wildcardViolations } from "./stack-invariants";

let tf: Json;
beforeAll(() => {
  tf = synthStack();
});

const policyOf = (fnPath: string): Json[] => {
  const policy = resourceAt(tf, "aws_iam_role_policy", `${fnPath}/role-policy`);
  return tf.data.aws_iam_policy_document[refTarget(policy.policy).split(".")[1]].statement;
};

describe("the default stack", () => {
  it("holds every invariant: no wildcard actions, private encrypted TLS-only buckets, log groups, prefixed names, wiring, no secret values", () => {
    expect(allViolations(tf, "cs-mirror")).toEqual([]);
  });

  it("matches the reviewed snapshot (two tables: every table's loaders have the same shape)", () => {
    expect(synthStack({ tables: ["petitions", "signatures"] })).toMatchSnapshot();
  });

  it("uses a local backend with a relative path, so cdk.tf.json names no folder of this machine", () => {
    expect(tf.terraform.backend).toEqual({ local: { path: "../../../terraform.cs-mirror.tfstate" } });
  });

  it("tags every resource through the provider's default tags", () => {
    expect(tf.provider.aws[0].default_tags[0].tags).toEqual({
      application: "controlshift-mirror",
      "controlshift-mirror:prefix": "cs-mirror",
    });
    expect(tf.provider.aws[0].skip_credentials_validation).toBeUndefined();
  });
});

describe("exports bucket", () => {
  it("blocks all public access, enforces bucket-owner objects and encrypts with SSE-S3", () => {
    expect(resourceAt(tf, "aws_s3_bucket_public_access_block", "exports/public-access-block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(resourceAt(tf, "aws_s3_bucket_ownership_controls", "exports/ownership").rule.object_ownership).toBe("BucketOwnerEnforced");
    expect(
      resourceAt(tf, "aws_s3_bucket_server_side_encryption_configuration", "exports/encryption").rule[0]
        .apply_server_side_encryption_by_default.sse_algorithm,
    ).toBe("AES256");
  });

  it("denies every request without TLS", () => {
    const statements = dataOf(tf, "aws_iam_policy_document").find(([n]) => n.startsWith("exports_policy-document"))![1].statement;
    expect(statements).toEqual([
      expect.objectContaining({
        effect: "Deny",
        actions: ["s3:*"],
        condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      }),
    ]);
  });

  it("expires exports after the configured days, aborts stale multipart uploads, and versions by default", () => {
    const rules = resourceAt(tf, "aws_s3_bucket_lifecycle_configuration", "exports/lifecycle").rule;
    expect(rules[0]).toMatchObject({ filter: [{ prefix: "exports/" }], expiration: [{ days: 30 }], noncurrent_version_expiration: [{ noncurrent_days: 7 }] });
    expect(rules[1]).toMatchObject({ filter: [{ prefix: "manifests/" }], expiration: [{ days: 30 }] });
    expect(rules[2]).toMatchObject({
      id: "expire-quarantine",
      filter: [{ prefix: "quarantine/" }],
      expiration: [{ days: 30 }],
      noncurrent_version_expiration: [{ noncurrent_days: 7 }],
    });
    expect(rules[3]).toMatchObject({ abort_incomplete_multipart_upload: [{ days_after_initiation: 1 }] });
    expect(resourceAt(tf, "aws_s3_bucket_versioning", "exports/versioning").versioning_configuration.status).toBe("Enabled");
    const custom = synthStack({ tables: FEW_TABLES, exports: { expireAfterDays: 90, versioned: false } });
    expect(resourceAt(custom, "aws_s3_bucket_lifecycle_configuration", "exports/lifecycle").rule[0].expiration).toEqual([{ days: 90 }]);
    expect(resourceAt(custom, "aws_s3_bucket_lifecycle_configuration", "exports/lifecycle").rule[2].expiration).toEqual([{ days: 90 }]);
    expect(resourceAt(custom, "aws_s3_bucket_versioning", "exports/versioning").versioning_configuration.status).toBe("Suspended");
  });

  it("sends object-created events to EventBridge (the loaders' rules)", () => {
    expect(resourceAt(tf, "aws_s3_bucket_notification", "exports/eventbridge").eventbridge).toBe(true);
  });

  it("gets a unique name starting with the prefix", () => {
    expect(resourceAt(tf, "aws_s3_bucket", "exports/bucket").bucket_prefix).toBe("cs-mirror-exports-");
  });
});

describe("download queue", () => {
  it("has an encrypted dead-letter queue and a visibility timeout six times the downloader's timeout", () => {
    const queue = resourceAt(tf, "aws_sqs_queue", "downloads/queue");
    const dlq = resourceAt(tf, "aws_sqs_queue", "downloads/dlq");
    expect(queue).toMatchObject({ name: "cs-mirror-downloads", visibility_timeout_seconds: 1800, sqs_managed_sse_enabled: true });
    expect(dlq).toMatchObject({ name: "cs-mirror-downloads-dlq", message_retention_seconds: 1209600, sqs_managed_sse_enabled: true });
    expect(queue.redrive_policy).toMatch(/^\$\{jsonencode\(\{"deadLetterTargetArn" = aws_sqs_queue\.downloads_dlq_[A-Z0-9]+\.arn, "maxReceiveCount" = 5\}\)\}$/);
    const slow = synthStack({ tables: FEW_TABLES, downloader: { timeoutSeconds: 900, memoryMiB: 1024 } });
    expect(resourceAt(slow, "aws_sqs_queue", "downloads/queue").visibility_timeout_seconds).toBe(5400);
  });

  it("feeds the downloader one job at a time, with per-message failures and a concurrency cap", () => {
    const [[, esm]] = resourcesOf(tf, "aws_lambda_event_source_mapping");
    expect(esm).toMatchObject({
      batch_size: 1,
      function_response_types: ["ReportBatchItemFailures"],
      scaling_config: { maximum_concurrency: 10 },
    });
    expect(refTarget(esm.event_source_arn)).toMatch(/^aws_sqs_queue\.downloads_queue_/);
  });
});

describe("functions", () => {
  it("run Node.js 22 on arm64 from their bundle, with the zip's SHA-256 as source hash", () => {
    for (const name of ["receiver", "downloader"]) {
      const fn = resourceAt(tf, "aws_lambda_function", `${name}/function`);
      expect(fn).toMatchObject({ function_name: `cs-mirror-${name}`, runtime: "nodejs22.x", architectures: ["arm64"], handler: "index.handler" });
      expect(fn.filename).toMatch(new RegExp(`^assets/bundles_${name}_[A-F0-9]+/[A-F0-9]+/${name}\\.zip$`));
      expect(fn.source_code_hash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(fn.logging_config.log_format).toBe("JSON");
    }
  });

  it("gives the receiver exactly: read the signing secret, send to the download queue, quarantine, write its logs", () => {
    const statements = policyOf("receiver");
    expect(statements.map((s) => s.actions)).toEqual([
      ["logs:CreateLogStream", "logs:PutLogEvents"],
      ["secretsmanager:GetSecretValue"],
      ["sqs:SendMessage"],
      ["s3:PutObject"],
    ]);
    expect(refTarget(statements[1].resources[0])).toMatch(/^aws_secretsmanager_secret\.signing-secret_[A-F0-9]{8}$/);
    expect(refTarget(statements[2].resources[0])).toMatch(/^aws_sqs_queue\.downloads_queue_/);
    // PutObject under quarantine/pending/ only: never on exports/, where an object would trigger a load.
    expect(statements[3].resources).toEqual([expect.stringMatching(/^\$\{aws_s3_bucket\.exports_bucket_[A-Z0-9]+\.arn\}\/quarantine\/pending\/\*$/)]);
  });

  it("gives the downloader exactly: write exports, consume its queue, send to its dead-letter queue, write its logs", () => {
    const statements = policyOf("downloader");
    expect(statements.map((s) => s.actions)).toEqual([
      ["logs:CreateLogStream", "logs:PutLogEvents"],
      ["s3:PutObject", "s3:AbortMultipartUpload"],
      ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
      ["sqs:SendMessage"],
    ]);
    expect(statements[1].resources[0]).toMatch(/^\$\{aws_s3_bucket\.exports_bucket_[A-Z0-9]+\.arn\}\/exports\/\*$/);
    expect(refTarget(statements[3].resources[0])).toMatch(/^aws_sqs_queue\.downloads_dlq_/);
  });

  it("hands the receiver its table list, allowed buckets and limits, and the downloader its upload sizing", () => {
    const receiverEnv = resourceAt(tf, "aws_lambda_function", "receiver/function").environment.variables;
    expect(Object.keys(receiverEnv).sort()).toEqual(
      ["CONTROLSHIFT_BUCKETS", "DOWNLOAD_QUEUE_URL", "MAX_BODY_BYTES", "NODE_OPTIONS", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME", "QUARANTINE_BUCKET", "SECRET_CACHE_SECONDS", "SIGNING_SECRET_ARN", "TABLES"].sort(),
    );
    expect(receiverEnv.TABLES.split(",")).toHaveLength(63);
    expect(receiverEnv.CONTROLSHIFT_BUCKETS).toBe("agra-data-exports-production,agra-data-exports-production-eu-central-1");
    expect(receiverEnv.QUARANTINE_BUCKET).toMatch(/^\$\{aws_s3_bucket\.exports_bucket_[A-Z0-9]+\.bucket\}$/);
    expect(receiverEnv.MAX_BODY_BYTES).toBe("65536");
    const downloaderEnv = resourceAt(tf, "aws_lambda_function", "downloader/function").environment.variables;
    expect(downloaderEnv).toMatchObject({ PART_SIZE_MIB: "8", UPLOAD_QUEUE_SIZE: "4" });
    expect(downloaderEnv.EXPORTS_BUCKET).toMatch(/^\$\{aws_s3_bucket\.exports_bucket_[A-Z0-9]+\.bucket\}$/);
    expect(downloaderEnv.DEAD_LETTER_QUEUE_URL).toMatch(/^\$\{aws_sqs_queue\.downloads_dlq_[A-Z0-9]+\.url\}$/);
  });

  it("keep logs for the configured retention", () => {
    const custom = synthStack({ tables: FEW_TABLES, logRetentionDays: 90 });
    for (const [, group] of resourcesOf(custom, "aws_cloudwatch_log_group")) expect(group.retention_in_days).toBe(90);
  });
});

describe("webhook API", () => {
  it("routes POST /webhook to the receiver with payload 2.0, access logs and throttling", () => {
    expect(resourceAt(tf, "aws_apigatewayv2_route", "webhook/route").route_key).toBe("POST /webhook");
    expect(resourceAt(tf, "aws_apigatewayv2_integration", "webhook/integration")).toMatchObject({
      integration_type: "AWS_PROXY",
      payload_format_version: "2.0",
    });
    const stage = resourceAt(tf, "aws_apigatewayv2_stage", "webhook/stage");
    expect(stage.default_route_settings).toMatchObject({ throttling_rate_limit: 50, throttling_burst_limit: 100 });
    expect(JSON.parse(stage.access_log_settings.format)).toHaveProperty("status", "$context.status");
    expect(refTarget(stage.access_log_settings.destination_arn)).toMatch(/^aws_cloudwatch_log_group\.webhook_access-logs_/);
  });

  it("lets API Gateway invoke the receiver only from this API's webhook route", () => {
    const permission = resourceAt(tf, "aws_lambda_permission", "webhook/invoke-permission");
    expect(permission).toMatchObject({ principal: "apigateway.amazonaws.com", action: "lambda:InvokeFunction" });
    expect(permission.source_arn).toMatch(/^\$\{aws_apigatewayv2_api\.webhook_api_[A-Z0-9]+\.execution_arn\}\/\*\/\*\/webhook$/);
  });

  it("outputs the webhook URL and the secret's name, never a secret value", () => {
    expect(Object.keys(tf.output).sort()).toEqual([
      "alerts_topic_arn",
      "copy_role_arn",
      "download_dead_letter_queue_url",
      "exports_bucket",
      "signing_secret_name",
      "warehouse_admin_secret_arn",
      "warehouse_database",
      "warehouse_endpoint",
      "warehouse_loader_user",
      "warehouse_port",
      "warehouse_reader_group",
      "webhook_url",
    ]);
    expect(tf.output.webhook_url.value).toMatch(/^\$\{aws_apigatewayv2_api\.webhook_api_[A-Z0-9]+\.api_endpoint\}\/webhook$/);
    expect(resourceAt(tf, "aws_secretsmanager_secret", "signing-secret").name).toBe("cs-mirror/webhook-signing-secret");
    expect(resourcesOf(tf, "aws_secretsmanager_secret_version")).toEqual([]);
  });
});

describe("config branches", () => {
  it("names everything from the prefix, so two deployments fit in one account", () => {
    const staging = synthStack({ tables: FEW_TABLES, prefix: "csm-staging" });
    expect(allViolations(staging, "csm-staging")).toEqual([]);
    expect(resourceAt(staging, "aws_lambda_function", "receiver/function").function_name).toBe("csm-staging-receiver");
  });

  it.each(["us", "eu"] as const)("allows both production export buckets, and not staging, for controlshift.region %s", (region) => {
    const synth = synthStack({ tables: FEW_TABLES, controlshift: { region } });
    expect(resourceAt(synth, "aws_lambda_function", "receiver/function").environment.variables.CONTROLSHIFT_BUCKETS).toBe(
      "agra-data-exports-production,agra-data-exports-production-eu-central-1",
    );
  });

  it("allows the staging bucket only when configured", () => {
    const staging = synthStack({ tables: FEW_TABLES, controlshift: { exportBuckets: ["agra-data-exports-staging"] } });
    expect(resourceAt(staging, "aws_lambda_function", "receiver/function").environment.variables.CONTROLSHIFT_BUCKETS).toBe(
      "agra-data-exports-staging",
    );
  });

  it("passes only the configured tables to the receiver", () => {
    const few = synthStack({ tables: ["petitions", "signatures"] });
    expect(resourceAt(few, "aws_lambda_function", "receiver/function").environment.variables.TABLES).toBe("petitions,signatures");
  });

  it("selects an S3 backend with native locking, or Terraform Cloud", () => {
    const s3 = synthStack({ tables: FEW_TABLES, backend: { type: "s3", bucket: "my-tf-state" } });
    expect(s3.terraform.backend.s3).toMatchObject({ bucket: "my-tf-state", key: "controlshift-mirror/cs-mirror.tfstate", region: "us-east-1", encrypt: true, use_lockfile: true });
    const cloud = synthStack({ tables: FEW_TABLES, backend: { type: "cloud", organization: "acme", workspace: "mirror" } });
    expect(cloud.terraform.cloud).toEqual({ hostname: "app.terraform.io", organization: "acme", workspaces: { name: "mirror" } });
  });

  it("configures the provider for an offline plan only when asked", () => {
    const offline = synthStack({ tables: FEW_TABLES }, { offlinePlan: true });
    expect(offline.provider.aws[0]).toMatchObject({
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: "true",
    });
  });
});

describe("the invariant checks themselves", () => {
  it("catch a wildcard action and a bucket without a TLS policy", () => {
    const broken = JSON.parse(JSON.stringify(tf));
    const [docName] = Object.keys(broken.data.aws_iam_policy_document).filter((n) => n.startsWith("receiver_policy"));
    broken.data.aws_iam_policy_document[docName].statement[1].actions = ["secretsmanager:*"];
    expect(wildcardViolations(broken)).toEqual([`${docName}: action secretsmanager:*`]);
    delete broken.resource.aws_s3_bucket_policy;
    expect(bucketViolations(broken)).toEqual([expect.stringMatching(/no TLS-only policy$/)]);
  });
});

describe("synthesis", () => {
  it("gives identical bytes when run twice", () => {
    const a = synthToDir({}, "same");
    const b = synthToDir({}, "same");
    try {
      const file = (dir: string) => readFileSync(path.join(dir, "stacks", "same", "cdk.tf.json"));
      expect(file(a).equals(file(b))).toBe(true);
      expect(file(a).toString()).not.toContain(a);
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });
});
