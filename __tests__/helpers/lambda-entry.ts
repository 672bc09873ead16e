/**
 * Running a Lambda entry (handlers/<name>/index.ts) in a test as a cold start, and reading what Powertools writes.
 */

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
