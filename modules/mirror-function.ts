import { Construct } from "constructs";
import { TerraformStack } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { COMMON_ENV } from "../facts/environment";
import { Grant, PolicyStatement } from "./access";
import { HandlerBundle } from "./handler-bundles";

export interface MirrorFunctionProps {
  /** Physical name; must start with the deployment prefix. At most 64 characters. */
  readonly functionName: string;
  readonly description: string;
  readonly bundle: HandlerBundle;
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
  readonly logRetentionDays: number;
  /** What the function may use, each with its environment variables. */
  readonly grants: readonly Grant[];
  /** Powertools metrics namespace: the deployment's own (see deploymentMetricsNamespace). */
  readonly metricsNamespace: string;
}

/** Node.js runtime of every function (the handler bundles target node22: scripts/build-handlers.mjs). */
export const LAMBDA_RUNTIME = "nodejs22.x";
/** Graviton: cheaper per GB-second, and the bundles are pure JavaScript. */
export const LAMBDA_ARCHITECTURE = "arm64";

const trustPolicies = new WeakMap<TerraformStack, DataAwsIamPolicyDocument>();

/** The trust policy every function role shares ("Lambda may assume this role"): one document per stack. */
function lambdaTrustPolicy(scope: Construct): DataAwsIamPolicyDocument {
  const stack = TerraformStack.of(scope);
  let doc = trustPolicies.get(stack);
  if (!doc) {
    doc = new DataAwsIamPolicyDocument(stack, "lambda-trust-policy", {
      statement: [
        {
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["lambda.amazonaws.com"] }],
        },
      ],
    });
    trustPolicies.set(stack, doc);
  }
  return doc;
}

/**
 * A Lambda function with its own role, its own log group (with retention) and an inline policy built from
 * its grants. The role may write only to its own log group: no account-wide managed policy.
 */
export class MirrorFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: IamRole;
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: MirrorFunctionProps) {
    super(scope, id);
    if (props.functionName.length > 64) {
      throw new Error(`Function name ${JSON.stringify(props.functionName)} is longer than Lambda's 64 characters: use a shorter prefix.`);
    }

    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: props.logRetentionDays,
    });

    this.role = new IamRole(this, "role", {
      name: props.functionName,
      description: `Runs ${props.functionName}`,
      assumeRolePolicy: lambdaTrustPolicy(this).json,
    });

    const logWrite: PolicyStatement = {
      sid: "WriteOwnLogs",
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      resources: [`${this.logGroup.arn}:*`],
    };
    const statements = [logWrite, ...props.grants.flatMap((g) => g.statements)];
    const policy = new DataAwsIamPolicyDocument(this, "policy", {
      statement: statements.map((s) => ({
        sid: s.sid,
        effect: s.effect ?? "Allow",
        actions: [...s.actions],
        resources: [...s.resources],
        condition: s.conditions?.map((c) => ({ test: c.test, variable: c.variable, values: [...c.values] })),
      })),
    });
    const rolePolicy = new IamRolePolicy(this, "role-policy", {
      name: "least-privilege",
      role: this.role.id,
      policy: policy.json,
    });

    const environment: Record<string, string> = {
      [COMMON_ENV.serviceName]: props.functionName,
      [COMMON_ENV.metricsNamespace]: props.metricsNamespace,
      [COMMON_ENV.nodeOptions]: "--enable-source-maps",
    };
    for (const grant of props.grants) {
      for (const [name, value] of Object.entries(grant.environment ?? {})) {
        if (name in environment && environment[name] !== value) {
          throw new Error(`Function ${props.functionName}: two grants set ${name} to different values.`);
        }
        environment[name] = value;
      }
    }

    this.function = new LambdaFunction(this, "function", {
      functionName: props.functionName,
      description: props.description,
      role: this.role.arn,
      runtime: LAMBDA_RUNTIME,
      architectures: [LAMBDA_ARCHITECTURE],
      handler: "index.handler",
      filename: props.bundle.asset.path,
      sourceCodeHash: props.bundle.sha256,
      memorySize: props.memoryMiB,
      timeout: props.timeoutSeconds,
      environment: { variables: environment },
      loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name },
      // The policy must exist before the function runs, or the first invocations fail to log or to reach SQS.
      dependsOn: [rolePolicy, this.logGroup],
    });
  }
}
