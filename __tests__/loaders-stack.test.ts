import { resolveConfig } from "../modules/config";
import { problemsOf } from "./helpers/config";
import { Json, refTarget, resourceAt, resourcesOf, synthStack } from "./helpers/synth";
import { allViolations, eventWiringViolations } from "./stack-invariants";

let tf: Json;
beforeAll(() => {
  tf = synthStack();
});

const policyStatements = (stack: Json, fnPath: string): Json[] => {
  const policy = resourceAt(stack, "aws_iam_role_policy", `${fnPath}/role-policy`);
  return stack.data.aws_iam_policy_document[refTarget(policy.policy).split(".")[1]].statement;
};

describe("table loaders", () => {
  it("makes a full and an incremental loader for each of the 63 default tables: 126 functions, each with its rule, queue, DLQ and role", () => {
    const loaders = resourcesOf(tf, "aws_lambda_function").filter(([, f]) => f.function_name.startsWith("cs-mirror-load-"));
    expect(loaders).toHaveLength(126);
    expect(resourcesOf(tf, "aws_cloudwatch_event_rule")).toHaveLength(126);
    expect(resourcesOf(tf, "aws_cloudwatch_event_target")).toHaveLength(126);
    expect(resourcesOf(tf, "aws_sqs_queue_policy")).toHaveLength(126);
    // 126 loader queues + their DLQs + the download queue and its DLQ.
    expect(resourcesOf(tf, "aws_sqs_queue")).toHaveLength(2 * 126 + 2);
    expect(resourcesOf(tf, "aws_iam_role").filter(([, r]) => r.name.startsWith("cs-mirror-load-"))).toHaveLength(126);
    expect(resourcesOf(tf, "aws_lambda_event_source_mapping")).toHaveLength(127);
    for (const [, fn] of loaders) {
      expect(fn.filename).toMatch(/^assets\/bundles_loader_[A-F0-9]+\/[A-F0-9]+\/loader\.zip$/);
    }
  });

  it("keeps every invariant with 126 loaders, including EventBridge's right to send to each queue", () => {
    expect(allViolations(tf, "cs-mirror")).toEqual([]);
  });

  it("matches each table's Object Created events under its own prefix in the exports bucket", () => {
    const rule = resourceAt(tf, "aws_cloudwatch_event_rule", "load-petitions/full/rule");
    expect(rule.name).toBe("cs-mirror-load-full-petitions");
    expect(rule.event_pattern).toMatch(
      /^\$\{jsonencode\(\{"source" = \["aws\.s3"\], "detail-type" = \["Object Created"\], "detail" = \{"bucket" = \{"name" = \[aws_s3_bucket\.exports_bucket_[A-F0-9]{8}\.bucket\]\}, "object" = \{"key" = \[\{"prefix" = "exports\/full\/petitions\/"\}\]\}\}\}\)\}$/,
    );
    const target = resourceAt(tf, "aws_cloudwatch_event_target", "load-petitions/full/target");
    expect(refTarget(target.arn)).toMatch(/^aws_sqs_queue\.load-petitions_full_queue_/);
  });

  it("lets a loader read only its own table's prefix, write only its own manifests, consume its own queue, and use the warehouse", () => {
    const statements = policyStatements(tf, "load-petitions/incremental/loader");
    const reads = statements.filter((s) => s.actions.includes("s3:GetObject"));
    expect(reads).toHaveLength(1);
    expect(reads[0].resources).toEqual([expect.stringMatching(/\.arn\}\/exports\/incremental\/petitions\/\*$/)]);
    const list = statements.find((s) => s.actions.includes("s3:ListBucket"))!;
    expect(list.condition).toEqual([{ test: "StringLike", variable: "s3:prefix", values: ["exports/incremental/petitions/*"] }]);
    const consume = statements.find((s) => s.actions.includes("sqs:ReceiveMessage"))!;
    expect(refTarget(consume.resources[0])).toMatch(/^aws_sqs_queue\.load-petitions_incremental_queue_/);
    expect(statements.some((s) => s.actions.includes("redshift-data:BatchExecuteStatement"))).toBe(true);
    // Its only write: the COPY manifests of its own table and kind (handlers/load/manifest.ts).
    const writes = statements.filter((s) => s.actions.some((a: string) => a.startsWith("s3:Put")));
    expect(writes.map((s) => [s.actions, s.resources])).toEqual([
      [["s3:PutObject"], [expect.stringMatching(/\.arn\}\/manifests\/incremental\/petitions\/\*$/)]],
    ]);
  });

  it("configures each loader by environment: table, kind, schemas, bucket, warehouse", () => {
    const env = resourceAt(tf, "aws_lambda_function", "load-petitions/incremental/loader/function").environment.variables;
    expect(env).toMatchObject({
      TABLE: "petitions",
      LOAD_KIND: "incremental",
      DATA_SCHEMA: "controlshift",
      METADATA_SCHEMA: "controlshift_mirror_meta",
      WAREHOUSE_DATABASE: "controlshift",
    });
    for (const name of ["EXPORTS_BUCKET", "COPY_ROLE_ARN", "WAREHOUSE_CLUSTER_ID", "WAREHOUSE_DB_USER"]) expect(env[name]).toBeDefined();
    expect(env).not.toHaveProperty("WAREHOUSE_SECRET_ARN");
  });

  it("batches incremental files (window and size from the config) and takes full exports one at a time", () => {
    const incremental = resourceAt(tf, "aws_lambda_event_source_mapping", "load-petitions/incremental/source");
    expect(incremental).toMatchObject({ batch_size: 10, maximum_batching_window_in_seconds: 60, function_response_types: ["ReportBatchItemFailures"] });
    const full = resourceAt(tf, "aws_lambda_event_source_mapping", "load-petitions/full/source");
    expect(full).toMatchObject({ batch_size: 1, maximum_batching_window_in_seconds: 0 });
    const custom = synthStack({ tables: ["petitions"], loaders: { incrementalBatchSize: 5, incrementalBatchingWindowSeconds: 120 } });
    expect(resourceAt(custom, "aws_lambda_event_source_mapping", "load-petitions/incremental/source")).toMatchObject({
      batch_size: 5,
      maximum_batching_window_in_seconds: 120,
    });
  });

  it("sizes signatures bigger by default and any table by config, with the queue's visibility at six times the timeout", () => {
    const sig = resourceAt(tf, "aws_lambda_function", "load-signatures/full/loader/function");
    expect(sig).toMatchObject({ memory_size: 1024, timeout: 900 });
    expect(resourceAt(tf, "aws_sqs_queue", "load-signatures/full/queue").visibility_timeout_seconds).toBe(5400);
    const pet = resourceAt(tf, "aws_lambda_function", "load-petitions/full/loader/function");
    expect(pet).toMatchObject({ memory_size: 512, timeout: 300 });
    const custom = synthStack({ tables: ["petitions"], loaders: { tables: { petitions: { memoryMiB: 2048 } } } });
    expect(resourceAt(custom, "aws_lambda_function", "load-petitions/full/loader/function")).toMatchObject({ memory_size: 2048, timeout: 300 });
  });

  it("makes loaders only for the configured tables", () => {
    const few = synthStack({ tables: ["petitions", "members"] });
    const names = resourcesOf(few, "aws_lambda_function").map(([, f]) => f.function_name).sort();
    expect(names).toEqual([
      "cs-mirror-bootstrap",
      "cs-mirror-downloader",
      "cs-mirror-load-full-members",
      "cs-mirror-load-full-petitions",
      "cs-mirror-load-incremental-members",
      "cs-mirror-load-incremental-petitions",
      "cs-mirror-receiver",
    ]);
  });

  it("detects a loader queue whose policy does not let its rule send", () => {
    const broken = JSON.parse(JSON.stringify(tf));
    const [first] = Object.keys(broken.resource.aws_sqs_queue_policy);
    delete broken.resource.aws_sqs_queue_policy[first];
    expect(eventWiringViolations(broken)).toHaveLength(1);
  });
});

describe("loader config", () => {
  const problems = problemsOf;

  it("refuses sizing for a table that is not mirrored, bad schema names and batch sizes SQS refuses", () => {
    expect(
      problems({
        tables: ["petitions"],
        loaders: { tables: { members: { memoryMiB: 1024 } }, dataSchema: "Data", incrementalBatchSize: 50, incrementalBatchingWindowSeconds: 301 },
      }),
    ).toEqual([
      'loaders.dataSchema is "Data": must be a schema name: lower-case letters, digits and _, not starting with a digit, at most 63 characters',
      'loaders.tables.members is {"memoryMiB":1024}: names a table that is not in tables or extraTables: size only tables you mirror',
      "loaders.incrementalBatchSize is 50: must be a whole number from 1 to 10",
      "loaders.incrementalBatchingWindowSeconds is 301: must be a whole number from 0 to 300",
    ]);
  });

  it("drops the default signatures sizing when signatures is not mirrored", () => {
    expect(resolveConfig({ tables: ["petitions"] }).loaders.tables).toEqual({});
  });

  it("refuses a prefix and table whose loader name is longer than Lambda allows", () => {
    expect(problems({ prefix: "a-very-long-prefix-x", tables: ["petitions"], extraTables: ["partnership_subscriptions_with_long_name"] })).toEqual([
      'extraTables is "partnership_subscriptions_with_long_name": gives the loader name "a-very-long-prefix-x-load-incremental-partnership_subscriptions_with_long_name", longer than Lambda\'s 64 characters: use a shorter prefix',
    ]);
  });

  it("refuses a metadata schema equal to the data schema", () => {
    expect(problems({ loaders: { dataSchema: "mirror", metadataSchema: "mirror" } })).toEqual([
      'loaders.metadataSchema is "mirror": must differ from loaders.dataSchema (a ControlShift table could be named like the ledger)',
    ]);
  });
});
