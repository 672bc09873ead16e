/**
 * The alarms read custom metrics the handlers publish as Powertools EMF lines. An alarm on a metric name, namespace or
 * dimension set nobody publishes stays quiet forever (or, for freshness, alarms forever), and no plan shows it. So
 * this runs the real handler code, captures the EMF it writes, and compares with the synthesized alarms.
 */
import { REQUEST_SIZE_GUARD_BYTES } from "../handlers/receiver/receive";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { LOADER_METRICS, METRICS_NAMESPACE, RECEIVER_METRICS, SERVICE_DIMENSION, deploymentMetricsNamespace } from "../facts/metrics";
import { powertoolsLoaderMetrics, useKindDimension } from "../handlers/loader/adapters";
import { captureOutput, loadReceiverEntry } from "./helpers/lambda-entry";
import { TEST_SIGNING_SECRET, controlShiftSignature, webhookFixture } from "./fixtures/webhooks";
import { Json, resourceAt, resourcesOf, synthStack } from "./helpers/synth";

interface EmfMetric {
  readonly namespace: string;
  readonly name: string;
  /** The dimension names of the metric's (one) dimension set. */
  readonly dimensionNames: readonly string[];
  /** The dimensions' values, from the record's top level. */
  readonly dimensions: Readonly<Record<string, string>>;
}

/** Every metric Powertools writes to stdout while `run` runs, from its EMF records. */
async function captureEmf(run: () => unknown): Promise<EmfMetric[]> {
  const { lines } = await captureOutput(run);
  return lines
    .filter((record) => record._aws !== undefined)
    .flatMap((record) =>
      record._aws.CloudWatchMetrics.flatMap((directive: Json) =>
        directive.Metrics.map((m: Json) => {
          const names: string[] = directive.Dimensions[0] ?? [];
          return {
            namespace: directive.Namespace,
            name: m.Name,
            dimensionNames: names,
            dimensions: Object.fromEntries(names.map((n) => [n, record[n]])),
          };
        }),
      ),
    );
}

const ENV_NAMES = [
  "SIGNING_SECRET_ARN",
  "DOWNLOAD_QUEUE_URL",
  "TABLES",
  "CONTROLSHIFT_BUCKETS",
  "SECRET_CACHE_SECONDS",
  "MAX_BODY_BYTES",
  "NODE_OPTIONS",
  "QUARANTINE_BUCKET",
  "POWERTOOLS_SERVICE_NAME",
  "POWERTOOLS_METRICS_NAMESPACE",
  "AWS_REGION",
  "POWERTOOLS_DEV",
  "POWERTOOLS_METRICS_DISABLED",
];
const savedEnv = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));
afterEach(() => {
  for (const name of ENV_NAMES) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
  jest.restoreAllMocks();
});

const tf = synthStack({ tables: ["petitions"] });
const alarmNamed = (name: string): Json => resourcesOf(tf, "aws_cloudwatch_metric_alarm").find(([, a]) => a.alarm_name === name)![1];
const receiverFunction = resourceAt(tf, "aws_lambda_function", "receiver/function");
const loaderFunction = resourceAt(tf, "aws_lambda_function", "load-petitions/full/loader/function");

/** The receiver entry, loaded fresh with the environment the stack gives it and mocked AWS clients. */
function loadReceiver() {
  const env = receiverFunction.environment.variables;
  for (const name of ENV_NAMES) delete process.env[name];
  // The synthesized environment, with what Terraform would resolve (the secret's ARN, the queue's URL) filled in.
  return loadReceiverEntry({
    ...env,
    SIGNING_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:cs-mirror-webhook-signing-AbCdEf",
    DOWNLOAD_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/cs-mirror-downloads",
    // A reference to the bucket's name in the synthesized stack, resolved at apply.
    QUARANTINE_BUCKET: "cs-mirror-exports-20240301020304123400000001",
    AWS_REGION: "us-east-1",
  });
}

function apiEvent(body: Buffer, signature: string): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "POST /webhook",
    rawPath: "/webhook",
    rawQueryString: "",
    headers: { "content-type": "application/json", "x-controlshift-webhook-signature": signature },
    requestContext: {
      accountId: "123456789012",
      apiId: "a1b2c3d4e5",
      domainName: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
      domainPrefix: "a1b2c3d4e5",
      http: { method: "POST", path: "/webhook", protocol: "HTTP/1.1", sourceIp: "54.144.65.46", userAgent: "ControlShift Webhooks" },
      requestId: "VxQ2biGtoAMEVbw=",
      routeKey: "POST /webhook",
      stage: "$default",
      time: "01/Mar/2024:02:05:00 +0000",
      timeEpoch: 1709258700000,
    },
    body: body.toString("utf8"),
    isBase64Encoded: false,
  };
}

describe("the receiver alarms read what the receiver publishes", () => {
  const FULL = webhookFixture("full-table-exported");
  const cases: [keyof typeof RECEIVER_METRICS, string, number, (r: ReturnType<typeof loadReceiver>) => Promise<unknown>][] = [
    ["unauthorized", "cs-mirror-receiver-unauthorized", 401, async ({ handler, sm, secretsManager }) => {
      secretsManager.on(sm.GetSecretValueCommand).resolves({ SecretString: TEST_SIGNING_SECRET });
      return handler(apiEvent(FULL, controlShiftSignature(FULL, "another-secret")));
    }],
    ["rejected", "cs-mirror-receiver-rejected", 413, async ({ handler }) => {
      const body = Buffer.alloc(REQUEST_SIZE_GUARD_BYTES + 1, "x");
      return handler(apiEvent(body, controlShiftSignature(body)));
    }],
    ["quarantined", "cs-mirror-receiver-quarantined", 200, async ({ handler, sm, secretsManager, s3, bucket }) => {
      secretsManager.on(sm.GetSecretValueCommand).resolves({ SecretString: TEST_SIGNING_SECRET });
      bucket.on(s3.PutObjectCommand).resolves({});
      const body = Buffer.from("{not json");
      return handler(apiEvent(body, controlShiftSignature(body)));
    }],
    ["quarantineFailed", "cs-mirror-receiver-quarantine-failed", 503, async ({ handler, sm, secretsManager, s3, bucket }) => {
      secretsManager.on(sm.GetSecretValueCommand).resolves({ SecretString: TEST_SIGNING_SECRET });
      bucket.on(s3.PutObjectCommand).rejects(new Error("SlowDown"));
      const body = Buffer.from("{not json");
      return handler(apiEvent(body, controlShiftSignature(body)));
    }],
    ["queueFailed", "cs-mirror-receiver-queue-failed", 503, async ({ handler, sm, sqs, secretsManager, queue }) => {
      secretsManager.on(sm.GetSecretValueCommand).resolves({ SecretString: TEST_SIGNING_SECRET });
      queue.on(sqs.SendMessageCommand).rejects(new Error("ServiceUnavailable"));
      return handler(apiEvent(FULL, controlShiftSignature(FULL)));
    }],
    ["secretUnavailable", "cs-mirror-receiver-secret-unavailable", 503, async ({ handler, sm, secretsManager }) => {
      secretsManager.on(sm.GetSecretValueCommand).rejects(new Error("InternalServiceError"));
      return handler(apiEvent(FULL, controlShiftSignature(FULL)));
    }],
  ];

  it.each(cases)("%s: the alarm's namespace, metric and dimensions are the EMF's", async (key, alarmName, status, request) => {
    const receiver = loadReceiver();
    let response: { statusCode?: number } | undefined;
    const emf = await captureEmf(async () => {
      response = (await request(receiver)) as { statusCode?: number };
    });
    expect(response?.statusCode).toBe(status);
    const alarm = alarmNamed(alarmName);
    expect(emf).toContainEqual({
      namespace: alarm.namespace,
      name: alarm.metric_name,
      dimensionNames: Object.keys(alarm.dimensions),
      // The alarm's dimension is a reference to the function's name; the EMF has the name itself.
      dimensions: { [SERVICE_DIMENSION]: receiverFunction.environment.variables.POWERTOOLS_SERVICE_NAME },
    });
    expect(alarm.metric_name).toBe(RECEIVER_METRICS[key]);
    expect(alarm.dimensions[SERVICE_DIMENSION]).toMatch(/^\$\{aws_lambda_function\.receiver_function_[A-F0-9]{8}\.function_name\}$/);
    expect(receiverFunction.environment.variables.POWERTOOLS_SERVICE_NAME).toBe(receiverFunction.function_name);
  });
});

describe("the freshness alarm reads what the full loader publishes", () => {
  it("counts FullLoadSucceeded in the stack's namespace with the table as its only dimension", async () => {
    const env = loaderFunction.environment.variables;
    const emf = await captureEmf(() => {
      const metrics = useKindDimension(
        new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE, serviceName: env.POWERTOOLS_SERVICE_NAME }),
        env.LOAD_KIND,
      );
      powertoolsLoaderMetrics(metrics, env.TABLE).loadSucceeded({ rowsLoaded: 12, filesSkippedStale: 0, seconds: 3, fullLoaded: true });
      metrics.publishStoredMetrics();
    });
    const alarm = alarmNamed("cs-mirror-load-full-petitions-stale");
    expect(emf).toContainEqual({
      namespace: alarm.namespace,
      name: alarm.metric_name,
      dimensionNames: Object.keys(alarm.dimensions),
      dimensions: alarm.dimensions,
    });
    expect(alarm.dimensions).toEqual({ table: "petitions" });
    expect(alarm.metric_name).toBe(LOADER_METRICS.fullLoadSucceeded);
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe(deploymentMetricsNamespace("cs-mirror"));
  });

  it("is not fed by an incremental load or a full export skipped as stale", async () => {
    const emf = await captureEmf(() => {
      const metrics = useKindDimension(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: "cs-mirror-load-full-petitions" }), "full");
      powertoolsLoaderMetrics(metrics, "petitions").loadSucceeded({ rowsLoaded: 0, filesSkippedStale: 1, seconds: 1, fullLoaded: false });
      metrics.publishStoredMetrics();
    });
    expect(emf.map((m) => m.name)).not.toContain(LOADER_METRICS.fullLoadSucceeded);
  });
});
