/**
 * Running a Lambda entry (handlers/<name>/index.ts) in a test as a cold start, and reading what Powertools writes.
 */
import { mockClient } from "aws-sdk-client-mock";

/** Sets the variables of `env` in process.env; an undefined value unsets the variable. */
export function setEnv(env: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

/**
 * A cold start: sets `env`, then runs `load` in a fresh module registry, so the entry reads the environment again
 * and the SDK modules `load` requires are the ones the entry uses (for aws-sdk-client-mock).
 */
export function coldStart<T>(env: Record<string, string | undefined>, load: () => T): T {
  setEnv(env);
  let loaded: { value: T } | undefined;
  jest.isolateModules(() => {
    loaded = { value: load() };
  });
  return loaded!.value;
}

/** Runs fn with stdout and stderr captured: Powertools writes one JSON document per line (errors to stderr). */
export async function captureOutput<T>(
  fn: () => T | Promise<T>,
): Promise<{ result: T; lines: Array<Record<string, any>>; raw: string }> {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, "write").mockImplementation(capture),
    jest.spyOn(process.stderr, "write").mockImplementation(capture),
  ];
  try {
    const result = await fn();
    const raw = chunks.join("");
    const lines = raw
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, any>);
    return { result, lines, raw };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/**
 * The receiver entry (handlers/receiver/index.ts) at a cold start under `env`, with Secrets Manager, SQS and S3 (the
 * quarantine) mocked through the very SDK modules the entry loaded. `before` runs first inside the fresh registry
 * (to jest.doMock a part of the receiver).
 */
export function loadReceiverEntry(env: Record<string, string | undefined>, before?: () => void) {
  const { handler, sm, sqs, s3 } = coldStart(env, () => {
    before?.();
    return {
      sm: require("@aws-sdk/client-secrets-manager") as typeof import("@aws-sdk/client-secrets-manager"),
      sqs: require("@aws-sdk/client-sqs") as typeof import("@aws-sdk/client-sqs"),
      s3: require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3"),
      handler: (require("../../handlers/receiver") as typeof import("../../handlers/receiver")).handler,
    };
  });
  return {
    handler,
    sm,
    sqs,
    s3,
    secretsManager: mockClient(sm.SecretsManagerClient),
    queue: mockClient(sqs.SQSClient),
    bucket: mockClient(s3.S3Client),
  };
}
