/**
 * Each function's environment as the stack synthesizes it, read by that function's own reader: a variable renamed on
 * one side (modules/ or handlers/) fails here instead of at the first cold start after a deployment. Names come from
 * facts/environment.ts on both sides; this proves the stack sets what each reader needs and that each reader reads
 * everything the stack sets.
 */
import { COMMON_ENV } from "../facts/environment";
import { readBootstrapEnvironment } from "../handlers/bootstrap/config";
import { loadDownloaderConfig } from "../handlers/downloader/config";
import { readLoaderEnvironment } from "../handlers/loader/config";
import { readReceiverEnvironment } from "../handlers/receiver/config";
import type { Env } from "../handlers/shared/environment";
import { type Json, resourcesOf, synthStack } from "./helpers/synth";

/**
 * What Terraform would put in place of a reference, from the referenced resource's own synthesized attributes: a
 * queue's URL, a bucket's name, a role's or secret's ARN, a Redshift-managed admin secret's ARN.
 */
function resolve(tf: Json, value: string): string {
  return value.replace(/\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}/g, (whole, type: string, name: string, attribute: string) => {
    const resource: Json | undefined = tf.resource?.[type]?.[name];
    if (resource === undefined) throw new Error(`${whole}: no such resource`);
    const account = "123456789012";
    const region = "us-east-1";
    switch (`${type}.${attribute}`) {
      case "aws_sqs_queue.url":
        return `https://sqs.${region}.amazonaws.com/${account}/${resource.name}`;
      case "aws_s3_bucket.bucket":
        return `${resource.bucket_prefix}20240301020304000000000001`;
      case "aws_iam_role.arn":
        return `arn:aws:iam::${account}:role/${resource.name}`;
      case "aws_secretsmanager_secret.arn":
        return `arn:aws:secretsmanager:${region}:${account}:secret:${resource.name}-AbCdEf`;
      case "aws_redshift_cluster.master_password_secret_arn":
        return `arn:aws:secretsmanager:${region}:${account}:secret:redshift!${resource.cluster_identifier}-admin-AbCdEf`;
      case "aws_redshiftserverless_namespace.admin_password_secret_arn":
        return `arn:aws:secretsmanager:${region}:${account}:secret:redshift!${resource.namespace_name}-admin-AbCdEf`;
      default:
        throw new Error(`${whole}: teach resolve() what Terraform puts here`);
    }
  });
}

/** The reader of each function, by the function name's suffix after the prefix. */
const READERS: readonly [RegExp, string, (env: Env) => unknown][] = [
  [/^cs-mirror-receiver$/, "receiver", readReceiverEnvironment],
  [/^cs-mirror-downloader$/, "downloader", loadDownloaderConfig],
  [/^cs-mirror-load-(full|incremental)-[a-z_]+$/, "loader", readLoaderEnvironment],
  [/^cs-mirror-bootstrap$/, "bootstrap", readBootstrapEnvironment],
];

/**
 * Variables a function is given but does not read, each with its reason. NODE_OPTIONS is Node's own. The bootstrap
 * gets COPY_ROLE_ARN with the Data API grant it shares with the loaders, and publishes no metrics.
 */
const NOT_READ: Readonly<Record<string, readonly string[]>> = {
  receiver: [COMMON_ENV.nodeOptions],
  downloader: [COMMON_ENV.nodeOptions],
  loader: [COMMON_ENV.nodeOptions],
  bootstrap: [COMMON_ENV.nodeOptions, "COPY_ROLE_ARN", COMMON_ENV.metricsNamespace],
};

/** Runs `read` on `env`, returning the names it looked at. */
function namesRead(read: (env: Env) => unknown, env: Record<string, string>): Set<string> {
  const names = new Set<string>();
  const recording = new Proxy(env, {
    get(target, name) {
      if (typeof name === "string") names.add(name);
      return target[name as string];
    },
  });
  read(recording);
  return names;
}

describe.each(["cluster", "serverless"] as const)("a stack with a %s warehouse", (mode) => {
  const tf = synthStack({ tables: ["petitions"], warehouse: { mode } });
  const functions = resourcesOf(tf, "aws_lambda_function").map(([, fn]) => fn);

  it("has a reader for every function", () => {
    const unread = functions.filter((fn) => !READERS.some(([pattern]) => pattern.test(fn.function_name)));
    expect(unread.map((fn) => fn.function_name)).toEqual([]);
    expect(functions).toHaveLength(5);
  });

  it.each(READERS.map(([pattern, name, read]) => [name, pattern, read] as const))(
    "the %s reads its synthesized environment, and every variable in it",
    (name, pattern, read) => {
      const mine = functions.filter((fn) => pattern.test(fn.function_name));
      expect(mine.length).toBeGreaterThan(0);
      for (const fn of mine) {
        const variables: Record<string, string> = fn.environment.variables;
        const env = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolve(tf, v)]));
        const read_ = namesRead(read, env);
        const unused = Object.keys(env).filter((k) => !read_.has(k) && !NOT_READ[name].includes(k));
        expect({ function: fn.function_name, unused }).toEqual({ function: fn.function_name, unused: [] });
      }
    },
  );
});
