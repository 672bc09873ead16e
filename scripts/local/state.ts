/**
 * What the local runner keeps in its state folder (`.local/`, git-ignored) besides the bucket, the database and the
 * queues' journals:
 * - `runner.json`: who is using the folder. PGlite's data directory may be open in one process only, so a second
 *   `npm run local` refuses to start, and `sql` / `load` talk to the running runner instead of opening the database.
 *   It holds a bearer token for the runner's `POST /sql`: written readable by its owner only.
 * - `webhook-secret`: the signing secret generated when none was given, kept so a restart does not change it.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface RunnerState {
  readonly pid: number;
  /** `serve`, `load`, `sql`. */
  readonly command: string;
  readonly startedAt: string;
  /** Set when the process runs the webhook server. */
  readonly http?: { readonly origin: string; readonly sqlToken: string };
  /** Set when the process runs the bucket. */
  readonly s3?: { readonly endpoint: string; readonly bucket: string };
  /** `PGlite at ...` or the server URL without its password. */
  readonly database?: string;
}

export class StateBusyError extends Error {
  constructor(readonly owner: RunnerState, stateDir: string) {
    super(
      `${stateDir} is in use by pid ${owner.pid} (npm run local -- ${owner.command}, since ${owner.startedAt})` +
        (owner.http ? `, serving ${owner.http.origin}` : "") +
        `: stop it first, or give this one another --state-dir. (If that process is gone, delete ${join(stateDir, "runner.json")}.)`,
    );
    this.name = "StateBusyError";
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, someone else's.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const stateFile = (stateDir: string) => join(stateDir, "runner.json");

/** The process using the folder, if it is still alive. */
export function readLiveState(stateDir: string): RunnerState | undefined {
  let state: RunnerState;
  try {
    state = JSON.parse(readFileSync(stateFile(stateDir), "utf8")) as RunnerState;
  } catch {
    return undefined;
  }
  return typeof state.pid === "number" && isAlive(state.pid) ? state : undefined;
}

export interface StateClaim {
  /** Records what this process now offers (its server, its bucket). */
  update(state: Omit<RunnerState, "pid" | "command" | "startedAt">): void;
  release(): void;
}

/**
 * Claims the folder for this process. Throws StateBusyError when a live process holds it; a file left by a process
 * that is gone is taken over.
 */
export function claimState(stateDir: string, command: string): StateClaim {
  mkdirSync(stateDir, { recursive: true });
  const base: RunnerState = { pid: process.pid, command, startedAt: new Date().toISOString() };
  const write = (state: RunnerState, flag: "wx" | "w") =>
    writeFileSync(stateFile(stateDir), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, flag });
  for (let attempt = 0; ; attempt += 1) {
    try {
      write(base, "wx");
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw err;
      const owner = readLiveState(stateDir);
      if (owner !== undefined) throw new StateBusyError(owner, stateDir);
      rmSync(stateFile(stateDir), { force: true });
    }
  }
  let released = false;
  return {
    update(state) {
      if (!released) write({ ...base, ...state }, "w");
    },
    release() {
      if (released) return;
      released = true;
      try {
        const current = JSON.parse(readFileSync(stateFile(stateDir), "utf8")) as RunnerState;
        if (current.pid === process.pid) rmSync(stateFile(stateDir), { force: true });
      } catch {
        // Already gone.
      }
    },
  };
}

export type SecretSource = "--secret" | "CONTROLSHIFT_WEBHOOK_SECRET" | "saved" | "generated";

/**
 * The webhook signing secret: `--secret`, else CONTROLSHIFT_WEBHOOK_SECRET, else the one saved in the folder by an
 * earlier run, else a new random one (saved, readable by its owner only).
 */
export function webhookSecret(
  stateDir: string,
  given: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { readonly secret: string; readonly source: SecretSource; readonly path?: string } {
  if (given !== undefined && given.trim() !== "") return { secret: given.trim(), source: "--secret" };
  const fromEnv = env.CONTROLSHIFT_WEBHOOK_SECRET?.trim();
  if (fromEnv) return { secret: fromEnv, source: "CONTROLSHIFT_WEBHOOK_SECRET" };
  const path = join(stateDir, "webhook-secret");
  try {
    const saved = readFileSync(path, "utf8").trim();
    if (saved !== "") return { secret: saved, source: "saved", path };
  } catch {
    // None saved yet.
  }
  mkdirSync(stateDir, { recursive: true });
  const secret = `local-${randomBytes(24).toString("hex")}`;
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return { secret, source: "generated", path };
}

export function newToken(): string {
  return randomBytes(24).toString("hex");
}
