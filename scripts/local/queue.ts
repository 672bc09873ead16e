/**
 * The local run's stand-in for SQS: a bounded in-process queue with at-least-once delivery, retries with back-off
 * and a dead-letter list.
 *
 * - Bounded: `send` refuses a message when `capacity` messages are waiting, in flight or waiting for a retry
 *   (QueueFullError). The receiver turns that into a 503, which ControlShift retries: the same answer as when SQS
 *   cannot be reached.
 * - At least once: a message leaves the queue only when its handler resolved, or when it is dead-lettered. With a
 *   `journalDir`, every message is a file there from `send` until then (written before `send` returns), so a message
 *   acknowledged to its sender survives a crash or Ctrl-C and is delivered again at the next start. Handlers must be
 *   idempotent, as with SQS: the downloader overwrites the same key, the loader's ledger decides skips.
 * - Retries: a handler that throws is retried after `retryDelayMs(attempt)`, up to `maxAttempts` deliveries (SQS's
 *   maxReceiveCount), then the message is dead-lettered with the last error. A handler that throws
 *   PermanentFailure is dead-lettered at once (the downloader's expired URL, a header that can never load).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Delivery {
  readonly id: string;
  readonly body: string;
  /** 1 for the first delivery (SQS's ApproximateReceiveCount). */
  readonly attempt: number;
}

export interface DeadLetter {
  readonly queue: string;
  readonly id: string;
  readonly body: string;
  readonly reason: string;
  readonly attempts: number;
  /** ISO 8601. */
  readonly at: string;
}

export type QueueHandler = (delivery: Delivery) => Promise<void>;

/** Thrown by a handler: retrying cannot help, dead-letter the message now. */
export class PermanentFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentFailure";
  }
}

/** The queue holds `capacity` messages already. */
export class QueueFullError extends Error {
  constructor(
    readonly queue: string,
    readonly capacity: number,
  ) {
    super(`the local ${queue} queue is full (${capacity} messages); retry later`);
    this.name = "QueueFullError";
  }
}

export interface LocalQueueOptions {
  /** For messages and dead letters: `downloads`, `loads`. */
  readonly name: string;
  readonly handler: QueueHandler;
  /** Messages waiting, in flight or waiting for a retry, at most. */
  readonly capacity: number;
  /** Deliveries of one message before it is dead-lettered (SQS's maxReceiveCount). */
  readonly maxAttempts: number;
  /** @default 1: messages handled at once. */
  readonly concurrency?: number;
  /** @default 1 s, 2 s, 4 s, ... at most 30 s: the wait before delivery `attempt + 1`. */
  readonly retryDelayMs?: (attempt: number) => number;
  /** Where messages (and dead letters, under `dead/`) are kept on disk. @default none: in memory only. */
  readonly journalDir?: string;
  /** A delivery failed and will be retried after `delayMs`. */
  readonly onRetry?: (delivery: Delivery, error: unknown, delayMs: number) => void;
  readonly onDeadLetter?: (letter: DeadLetter) => void;
}

export interface QueueStats {
  readonly waiting: number;
  readonly inFlight: number;
  readonly retrying: number;
  readonly deadLetters: number;
}

interface Message {
  readonly id: string;
  readonly body: string;
  /** Deliveries so far. */
  attempts: number;
}

const defaultRetryDelay = (attempt: number): number => Math.min(30_000, 1000 * 2 ** (attempt - 1));

export class LocalQueue {
  readonly name: string;
  private readonly options: LocalQueueOptions;
  private readonly waiting: Message[] = [];
  private readonly retryTimers = new Map<string, { timer: NodeJS.Timeout; message: Message }>();
  private inFlight = 0;
  private closed = false;
  private readonly letters: DeadLetter[] = [];
  private idleWaiters: Array<() => void> = [];
  private readonly running = new Set<Promise<void>>();
  private sequence = 0;

  constructor(options: LocalQueueOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new Error(`queue ${options.name}: capacity must be a whole number >= 1, not ${options.capacity}`);
    }
    if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
      throw new Error(`queue ${options.name}: maxAttempts must be a whole number >= 1, not ${options.maxAttempts}`);
    }
    this.name = options.name;
    this.options = options;
    if (options.journalDir !== undefined) this.recover(options.journalDir);
  }

  /**
   * Queues a message; once this returns, the message is held (and journaled). Throws QueueFullError when the queue
   * is at capacity, or an error when the journal cannot be written (then the message is not queued).
   */
  send(body: string): string {
    if (this.closed) throw new Error(`the local ${this.name} queue is closed`);
    if (this.size() >= this.options.capacity) throw new QueueFullError(this.name, this.options.capacity);
    // Sortable ids keep the journal's order across restarts.
    this.sequence += 1;
    const id = `${Date.now().toString(36).padStart(9, "0")}-${this.sequence.toString(36).padStart(4, "0")}-${randomBytes(3).toString("hex")}`;
    const message: Message = { id, body, attempts: 0 };
    this.journal(message);
    this.waiting.push(message);
    this.pump();
    return id;
  }

  /** Dead-letters a message that never made it into the queue, or that a handler gave up on itself. */
  deadLetter(body: string, reason: string, attempts = 0, id = `dead-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`): void {
    this.bury({ id, body, attempts }, reason);
  }

  stats(): QueueStats {
    return {
      waiting: this.waiting.length,
      inFlight: this.inFlight,
      retrying: this.retryTimers.size,
      deadLetters: this.letters.length,
    };
  }

  /** Dead letters of this run and, with a journal, of earlier runs. */
  deadLetters(): readonly DeadLetter[] {
    return [...this.letters];
  }

  /** Resolves when nothing is waiting, in flight or waiting for a retry. */
  idle(): Promise<void> {
    if (this.size() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops delivering: waits for the deliveries in flight, cancels the retry timers. With a journal, what was not
   * acknowledged is delivered again at the next start.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const { timer } of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    this.waiting.length = 0;
    await Promise.allSettled([...this.running]);
    this.settleIdle();
  }

  private size(): number {
    return this.waiting.length + this.inFlight + this.retryTimers.size;
  }

  private pump(): void {
    const concurrency = this.options.concurrency ?? 1;
    while (!this.closed && this.inFlight < concurrency && this.waiting.length > 0) {
      const message = this.waiting.shift()!;
      this.inFlight += 1;
      const run = this.deliver(message).finally(() => {
        this.inFlight -= 1;
        this.running.delete(run);
        this.pump();
        this.settleIdle();
      });
      this.running.add(run);
    }
  }

  private async deliver(message: Message): Promise<void> {
    message.attempts += 1;
    this.journal(message);
    const delivery: Delivery = { id: message.id, body: message.body, attempt: message.attempts };
    try {
      await this.options.handler(delivery);
    } catch (err) {
      if (err instanceof PermanentFailure) {
        this.bury(message, err.message);
        return;
      }
      if (message.attempts >= this.options.maxAttempts) {
        this.bury(message, `gave up after ${message.attempts} attempts: ${messageOf(err)}`);
        return;
      }
      if (this.closed) return; // Still journaled: the next start delivers it again.
      const delayMs = (this.options.retryDelayMs ?? defaultRetryDelay)(message.attempts);
      this.options.onRetry?.(delivery, err, delayMs);
      const timer = setTimeout(() => {
        this.retryTimers.delete(message.id);
        if (this.closed) return;
        this.waiting.push(message);
        this.pump();
      }, delayMs);
      this.retryTimers.set(message.id, { timer, message });
      return;
    }
    this.unjournal(message.id);
  }

  private bury(message: Message, reason: string): void {
    const letter: DeadLetter = {
      queue: this.name,
      id: message.id,
      body: message.body,
      reason,
      attempts: message.attempts,
      at: new Date().toISOString(),
    };
    this.letters.push(letter);
    const dir = this.options.journalDir;
    if (dir !== undefined) {
      writeAtomically(join(dir, "dead", `${message.id}.json`), JSON.stringify(letter));
      this.unjournal(message.id);
    }
    this.options.onDeadLetter?.(letter);
  }

  private settleIdle(): void {
    if (this.size() !== 0 && !this.closed) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private journal(message: Message): void {
    const dir = this.options.journalDir;
    if (dir === undefined) return;
    writeAtomically(join(dir, `${message.id}.json`), JSON.stringify(message));
  }

  private unjournal(id: string): void {
    const dir = this.options.journalDir;
    if (dir !== undefined) rmSync(join(dir, `${id}.json`), { force: true });
  }

  /** Messages and dead letters left by an earlier run: the messages are delivered again, in their order. */
  private recover(dir: string): void {
    mkdirSync(join(dir, "dead"), { recursive: true });
    for (const name of readdirSync(join(dir, "dead")).filter((n) => n.endsWith(".json")).sort()) {
      this.letters.push(JSON.parse(readFileSync(join(dir, "dead", name), "utf8")) as DeadLetter);
    }
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".json")).sort()) {
      const saved = JSON.parse(readFileSync(join(dir, name), "utf8")) as Message;
      this.waiting.push({ id: saved.id, body: saved.body, attempts: saved.attempts });
    }
    // Delivered from the next tick, once the owner has finished wiring (handlers may use what it builds).
    if (this.waiting.length > 0) setImmediate(() => this.pump());
  }
}

/** Write-then-rename: a crash leaves the old file or the new one, never half of one. */
function writeAtomically(path: string, text: string): void {
  const temp = `${path}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, path);
}

export function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" ? message : String(err);
}
