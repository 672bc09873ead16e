import { readReceiverEnvironment } from "../handlers/receiver/config";
import { EnvironmentError } from "../handlers/shared/environment";

const GOOD = {
  SIGNING_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:cs-mirror-webhook-signing-AbCdEf",
  DOWNLOAD_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/cs-mirror-downloads",
  TABLES: "petitions,signatures",
  CONTROLSHIFT_BUCKETS: "agra-data-exports-production",
  QUARANTINE_BUCKET: "cs-mirror-exports-20240301020304123400000001",
  SECRET_CACHE_SECONDS: "300",
  MAX_BODY_BYTES: "65536",
  POWERTOOLS_SERVICE_NAME: "cs-mirror-receiver",
  POWERTOOLS_METRICS_NAMESPACE: "ControlShiftMirror/cs-mirror",
};

describe("readReceiverEnvironment", () => {
  it("reads the variables", () => {
    expect(readReceiverEnvironment(GOOD)).toEqual({
      signingSecretArn: GOOD.SIGNING_SECRET_ARN,
      downloadQueueUrl: GOOD.DOWNLOAD_QUEUE_URL,
      tables: ["petitions", "signatures"],
      controlshiftBuckets: ["agra-data-exports-production"],
      quarantineBucket: GOOD.QUARANTINE_BUCKET,
      secretCacheSeconds: 300,
      maxBodyBytes: 65_536,
      serviceName: "cs-mirror-receiver",
      metricsNamespace: "ControlShiftMirror/cs-mirror",
    });
  });

  it("trims list entries, skips empty ones and reads the optional variables", () => {
    const env = readReceiverEnvironment({
      ...GOOD,
      TABLES: " petitions , signatures,, ",
      CONTROLSHIFT_BUCKETS: "agra-data-exports-production, agra-data-exports-production-eu-central-1",
      SECRET_CACHE_SECONDS: "0",
      MAX_BODY_BYTES: "1024",
      POWERTOOLS_SERVICE_NAME: "cs-mirror-receiver",
      POWERTOOLS_METRICS_NAMESPACE: "Staging",
    });

    expect(env).toMatchObject({
      tables: ["petitions", "signatures"],
      controlshiftBuckets: ["agra-data-exports-production", "agra-data-exports-production-eu-central-1"],
      secretCacheSeconds: 0,
      maxBodyBytes: 1024,
      serviceName: "cs-mirror-receiver",
      metricsNamespace: "Staging",
    });
  });

  // No silent defaults: a namespace defaulted here would be one the alarms never read.
  it.each(Object.keys(GOOD))(
    "fails naming %s when it is missing",
    (name) => {
      const env: Record<string, string | undefined> = { ...GOOD, [name]: undefined };
      expect(() => readReceiverEnvironment(env)).toThrow(new RegExp(`${name} is not set`));
    },
  );

  it("reports every problem at once", () => {
    let error: unknown;
    try {
      readReceiverEnvironment({
        SIGNING_SECRET_ARN: "cs-mirror-webhook-signing",
        DOWNLOAD_QUEUE_URL: "http://sqs.example/queue",
        TABLES: "petitions,Bad-Table",
        CONTROLSHIFT_BUCKETS: ",",
        SECRET_CACHE_SECONDS: "-1",
        MAX_BODY_BYTES: "64k",
      });
    } catch (err) {
      error = err;
    }

    expect(error).toBeInstanceOf(EnvironmentError);
    const message = (error as Error).message;
    expect(message).toMatch(/^webhook receiver: bad environment: /);
    expect(message).toMatch(/SIGNING_SECRET_ARN is "cs-mirror-webhook-signing": expected a Secrets Manager secret ARN/);
    expect(message).toMatch(/DOWNLOAD_QUEUE_URL is "http:\/\/sqs\.example\/queue": expected an https SQS queue URL/);
    expect(message).toMatch(/TABLES is "petitions,Bad-Table": .*; bad: Bad-Table/);
    expect(message).toMatch(/CONTROLSHIFT_BUCKETS is ",": expected/);
    expect(message).toMatch(/SECRET_CACHE_SECONDS is "-1": expected a whole number >= 0/);
    expect(message).toMatch(/MAX_BODY_BYTES is "64k": expected a whole number >= 1/);
  });

  it("refuses a MAX_BODY_BYTES of 0", () => {
    expect(() => readReceiverEnvironment({ ...GOOD, MAX_BODY_BYTES: "0" })).toThrow(/MAX_BODY_BYTES is "0"/);
  });
});
