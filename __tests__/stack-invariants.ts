/**
 * Invariants that hold over any synthesized MirrorStack, whatever the config. Each returns the list of
 * violations (empty when the invariant holds), so a failing test names every offender at once.
 * Shared by the intake, warehouse and loader tests.
 */
import { Json, dataOf, refTarget, resourcesOf, walkStrings } from "./helpers/synth";

const policyDocs = (tf: Json) => dataOf(tf, "aws_iam_policy_document");

/**
 * Data API actions that act only on the caller's own statements, and that IAM does not scope by resource:
 * the only actions allowed on `*`. (Redshift Data API docs, "Authorizing access to the Amazon Redshift Data API".)
 */
export const STATEMENT_OWNER_SCOPED_ACTIONS = new Set([
  "redshift-data:DescribeStatement",
  "redshift-data:GetStatementResult",
  "redshift-data:CancelStatement",
  "redshift-data:ListStatements",
]);

/** No Allow statement names a wildcard action, and `*` resources only for statement-owner-scoped actions. */
export function wildcardViolations(tf: Json): string[] {
  const out: string[] = [];
  for (const [name, doc] of policyDocs(tf)) {
    for (const st of doc.statement ?? []) {
      if ((st.effect ?? "Allow") !== "Allow") continue;
      for (const a of st.actions ?? []) if (a.includes("*")) out.push(`${name}: action ${a}`);
      if (st.not_actions) out.push(`${name}: not_actions in an Allow`);
      if ((st.resources ?? []).includes("*") && !(st.actions ?? []).every((a: string) => STATEMENT_OWNER_SCOPED_ACTIONS.has(a))) {
        out.push(`${name}: resource * for ${st.actions.join(", ")}`);
      }
    }
  }
  for (const [name, pol] of resourcesOf(tf, "aws_iam_role_policy")) {
    if (!String(pol.policy).startsWith("${data.aws_iam_policy_document.")) out.push(`${name}: inline policy is not a typed policy document`);
  }
  if (resourcesOf(tf, "aws_iam_role_policy_attachment").length > 0) out.push("managed policy attachments exist");
  return out;
}

/** Every bucket has a public access block with all four switches, encryption, and a TLS-only policy. */
export function bucketViolations(tf: Json): string[] {
  const out: string[] = [];
  const forBucket = (type: string, bucket: string) =>
    resourcesOf(tf, type).filter(([, r]) => refTarget(r.bucket) === `aws_s3_bucket.${bucket}`);
  for (const [name] of resourcesOf(tf, "aws_s3_bucket")) {
    const pab = forBucket("aws_s3_bucket_public_access_block", name);
    if (pab.length !== 1 || !["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"].every((k) => pab[0][1][k] === true)) {
      out.push(`${name}: public access not fully blocked`);
    }
    const sse = forBucket("aws_s3_bucket_server_side_encryption_configuration", name);
    if (sse.length !== 1 || !sse[0][1].rule?.[0]?.apply_server_side_encryption_by_default?.sse_algorithm) out.push(`${name}: not encrypted`);
    const pol = forBucket("aws_s3_bucket_policy", name);
    const doc = pol.length === 1 ? tf.data?.aws_iam_policy_document?.[refTarget(pol[0][1].policy).split(".")[1]] : undefined;
    const tls = doc?.statement?.some(
      (s: Json) =>
        s.effect === "Deny" &&
        s.actions?.includes("s3:*") &&
        s.condition?.some((c: Json) => c.variable === "aws:SecureTransport" && c.values?.includes("false")),
    );
    if (!tls) out.push(`${name}: no TLS-only policy`);
  }
  return out;
}

/** Every function logs to its own log group, which has a retention, and the function's role may write only there. */
export function functionLogViolations(tf: Json): string[] {
  const out: string[] = [];
  const groups = Object.fromEntries(resourcesOf(tf, "aws_cloudwatch_log_group"));
  for (const [name, fn] of resourcesOf(tf, "aws_lambda_function")) {
    const groupRef = fn.logging_config?.log_group;
    if (!groupRef) {
      out.push(`${name}: no logging_config.log_group`);
      continue;
    }
    const group = groups[refTarget(groupRef).split(".")[1]];
    if (!group) out.push(`${name}: log group ${groupRef} is not in the stack`);
    else if (!(group.retention_in_days > 0)) out.push(`${name}: log group without retention`);
  }
  for (const [name, group] of Object.entries(groups)) {
    if (!(group.retention_in_days > 0)) out.push(`${name}: log group without retention`);
  }
  return out;
}

/** Every physical name starts with the prefix. */
export function nameViolations(tf: Json, prefix: string): string[] {
  const named: [string, string][] = [
    ["aws_lambda_function", "function_name"],
    ["aws_iam_role", "name"],
    ["aws_sqs_queue", "name"],
    ["aws_s3_bucket", "bucket_prefix"],
    ["aws_secretsmanager_secret", "name"],
    ["aws_apigatewayv2_api", "name"],
    ["aws_sns_topic", "name"],
    ["aws_cloudwatch_metric_alarm", "alarm_name"],
    ["aws_cloudwatch_event_rule", "name"],
    ["aws_redshift_cluster", "cluster_identifier"],
    ["aws_redshift_subnet_group", "name"],
    ["aws_redshift_parameter_group", "name"],
    ["aws_redshiftserverless_namespace", "namespace_name"],
    ["aws_redshiftserverless_workgroup", "workgroup_name"],
    ["aws_security_group", "name"],
  ];
  const out: string[] = [];
  for (const [type, attr] of named) {
    for (const [name, r] of resourcesOf(tf, type)) {
      const value = r[attr] ?? r.tags?.Name;
      if (typeof value !== "string" || !value.startsWith(prefix)) out.push(`${type}.${name}: ${attr} ${JSON.stringify(value)}`);
    }
  }
  for (const [name, r] of resourcesOf(tf, "aws_cloudwatch_log_group")) {
    if (!String(r.name).includes(`/${prefix}-`)) out.push(`aws_cloudwatch_log_group.${name}: ${r.name}`);
  }
  return out;
}

/** What a plan cannot see but an apply needs: the API may invoke the receiver, every event source may consume. */
export function wiringViolations(tf: Json): string[] {
  const out: string[] = [];
  const fns = Object.fromEntries(resourcesOf(tf, "aws_lambda_function"));
  // Each API integration's function has a permission for API Gateway.
  for (const [name, integ] of resourcesOf(tf, "aws_apigatewayv2_integration")) {
    const fn = refTarget(integ.integration_uri);
    const ok = resourcesOf(tf, "aws_lambda_permission").some(
      ([, p]) => p.principal === "apigateway.amazonaws.com" && refTarget(p.function_name) === fn && p.action === "lambda:InvokeFunction",
    );
    if (!ok) out.push(`${name}: no lambda permission for API Gateway on ${fn}`);
  }
  // Each SQS event source mapping's function role may receive, delete and read attributes on that queue.
  for (const [name, esm] of resourcesOf(tf, "aws_lambda_event_source_mapping")) {
    const fnName = refTarget(esm.function_name).split(".")[1];
    const fn = fns[fnName];
    const queueArn = esm.event_source_arn;
    const roleName = refTarget(fn.role).split(".")[1];
    const pols = resourcesOf(tf, "aws_iam_role_policy").filter(([, p]) => refTarget(p.role).split(".")[1] === roleName);
    const statements = pols.flatMap(([, p]) => tf.data.aws_iam_policy_document[refTarget(p.policy).split(".")[1]].statement);
    for (const action of ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]) {
      if (!statements.some((s: Json) => s.actions.includes(action) && s.resources.includes(queueArn))) {
        out.push(`${name}: role of ${fnName} lacks ${action} on ${queueArn}`);
      }
    }
    if (!(esm.function_response_types ?? []).includes("ReportBatchItemFailures")) out.push(`${name}: no ReportBatchItemFailures`);
  }
  return out;
}

/**
 * Every EventBridge target that is an SQS queue has a queue policy letting events.amazonaws.com send, for that
 * rule only; and the bucket the rules match sends its events to EventBridge.
 */
export function eventWiringViolations(tf: Json): string[] {
  const out: string[] = [];
  const queuePolicies = resourcesOf(tf, "aws_sqs_queue_policy");
  for (const [name, target] of resourcesOf(tf, "aws_cloudwatch_event_target")) {
    const queue = refTarget(target.arn);
    if (!queue.startsWith("aws_sqs_queue.")) continue;
    const rule = refTarget(target.rule);
    const allowed = queuePolicies.some(([, p]) => {
      if (refTarget(p.queue_url) !== queue) return false;
      const doc = tf.data.aws_iam_policy_document[refTarget(p.policy).split(".")[1]];
      return doc.statement.some(
        (s: Json) =>
          s.effect === "Allow" &&
          s.actions.includes("sqs:SendMessage") &&
          s.principals?.some((pr: Json) => pr.type === "Service" && pr.identifiers.includes("events.amazonaws.com")) &&
          s.condition?.some((c: Json) => c.variable === "aws:SourceArn" && c.values.some((v: string) => refTarget(v) === rule)),
      );
    });
    if (!allowed) out.push(`${name}: ${queue} does not let ${rule} send`);
  }
  if (resourcesOf(tf, "aws_cloudwatch_event_rule").some(([, r]) => String(r.event_pattern).includes("aws.s3"))) {
    const notifications = resourcesOf(tf, "aws_s3_bucket_notification");
    if (!notifications.some(([, n]) => n.eventbridge === true)) out.push("rules match S3 events, but no bucket sends events to EventBridge");
  }
  return out;
}

/** No attribute anywhere carries a password or secret value. */
export function secretValueViolations(tf: Json): string[] {
  const out: string[] = [];
  const forbidden = /(^|\.)(master_password|admin_user_password|secret_string|secret_binary|password)$/;
  for (const [at] of walkStrings(tf)) if (forbidden.test(at)) out.push(at);
  if (resourcesOf(tf, "aws_secretsmanager_secret_version").length > 0) out.push("a secret version (value) is in the config");
  if (tf.variable) out.push(`Terraform variables exist: ${Object.keys(tf.variable).join(", ")}`);
  return out;
}

/** `${aws_sqs_queue.<name>.arn}` references inside an expression (a redrive policy is a jsonencode(...) expression). */
const referencedQueues = (expression: unknown): string[] =>
  [...String(expression ?? "").matchAll(/aws_sqs_queue\.([A-Za-z0-9_-]+)\.arn/g)].map((m) => m[1]);

/**
 * Every SQS dead-letter queue has an alarm on a message in it; every function has an errors alarm; every alarm
 * notifies a topic of the stack on ALARM and on OK; and CloudWatch may use the key of every topic an alarm notifies
 * (with the AWS-managed `alias/aws/sns`, or a key whose policy leaves CloudWatch out, every alarm action fails at
 * run time, which no plan shows).
 */
export function alarmViolations(tf: Json): string[] {
  const out: string[] = [];
  const alarms = resourcesOf(tf, "aws_cloudwatch_metric_alarm");
  const watches = (namespace: string, metric: string, dimension: string, target: string) =>
    alarms.some(
      ([, a]) =>
        a.namespace === namespace &&
        a.metric_name === metric &&
        typeof a.dimensions?.[dimension] === "string" &&
        a.dimensions[dimension].startsWith("${") &&
        refTarget(a.dimensions[dimension]) === target &&
        (a.alarm_actions ?? []).length > 0,
    );

  const deadLetterQueues = new Set(resourcesOf(tf, "aws_sqs_queue").flatMap(([, q]) => referencedQueues(q.redrive_policy)));
  for (const dlq of deadLetterQueues) {
    if (!watches("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", `aws_sqs_queue.${dlq}`)) {
      out.push(`aws_sqs_queue.${dlq}: a dead-letter queue without an alarm on ApproximateNumberOfMessagesVisible`);
    }
  }
  for (const [name] of resourcesOf(tf, "aws_lambda_function")) {
    if (!watches("AWS/Lambda", "Errors", "FunctionName", `aws_lambda_function.${name}`)) {
      out.push(`aws_lambda_function.${name}: no alarm on its Errors`);
    }
  }

  const topics = new Set(resourcesOf(tf, "aws_sns_topic").map(([name]) => `aws_sns_topic.${name}`));
  const notified = new Set<string>();
  for (const [name, a] of alarms) {
    for (const attr of ["alarm_actions", "ok_actions"]) {
      const actions: string[] = a[attr] ?? [];
      if (actions.length === 0) out.push(`aws_cloudwatch_metric_alarm.${name}: no ${attr}`);
      for (const action of actions) {
        const target = action.startsWith("${") ? refTarget(action) : action;
        if (!topics.has(target)) out.push(`aws_cloudwatch_metric_alarm.${name}: ${attr} ${action} is not a topic of the stack`);
        else notified.add(target);
      }
    }
  }
  for (const topic of notified) {
    const key = tf.resource.aws_sns_topic[topic.split(".")[1]].kms_master_key_id;
    if (key === undefined) continue;
    const keyRef = String(key).startsWith("${") ? refTarget(String(key)) : String(key);
    const policies = resourcesOf(tf, "aws_kms_key_policy").filter(([, p]) => refTarget(p.key_id) === keyRef);
    const lets = policies.some(
      ([, p]) => /cloudwatch\.amazonaws\.com/.test(p.policy) && p.policy.includes("kms:Decrypt") && p.policy.includes("kms:GenerateDataKey"),
    );
    if (!lets) out.push(`${topic}: encrypted with ${key}, which does not let CloudWatch alarms publish`);
  }
  return out;
}

export function allViolations(tf: Json, prefix: string): string[] {
  return [
    ...wildcardViolations(tf),
    ...bucketViolations(tf),
    ...functionLogViolations(tf),
    ...nameViolations(tf, prefix),
    ...wiringViolations(tf),
    ...eventWiringViolations(tf),
    ...secretValueViolations(tf),
    ...alarmViolations(tf),
  ];
}
