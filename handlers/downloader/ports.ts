/**
 * What the downloader's core needs from the outside world. The entry (index.ts) wires the real ones; tests and the
 * benchmark wire real servers on loopback or small fakes.
 */
import type { Readable } from "node:stream";

/** The global `fetch` (undici on Node.js), or anything with its shape. */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/** One object to write: the body is a stream, read once. */
export interface ExportUpload {
  readonly bucket: string;
  readonly key: string;
  readonly body: Readable;
  readonly contentType: string;
  /** S3 user metadata (`x-amz-meta-*`). */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Writes a stream to the object store with bounded memory. Must leave nothing behind when it fails: no object, no
 * unfinished multipart upload.
 */
export interface ExportUploader {
  upload(upload: ExportUpload): Promise<void>;
}

/** A job that can never succeed, on its way to the dead-letter queue. */
export interface DeadLetter {
  /** The queue message body exactly as received. */
  readonly body: string;
  /** Why it failed, redacted (no URL query). */
  readonly reason: string;
  /** The HTTP status that decided it, or `none` (a malformed job). */
  readonly status: string;
  /** The SQS message id it arrived with, for tracing. */
  readonly sourceMessageId: string;
}

export interface DeadLetterQueue {
  send(letter: DeadLetter): Promise<void>;
}

/**
 * The subset of Powertools' Logger the core uses. Every line that reports a failure carries `help: "see help: <text>"`:
 * the project's `help` file has an entry whose title holds that text (the error's name, or the line's own message).
 */
export interface DownloaderLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export type FailureKind = "permanent" | "transient";

/**
 * What the core decided for one job, typed (the log lines say the same for people), as the receiver and the loader
 * report theirs:
 * - `stored`: the export is in the bucket under `key`;
 * - `retried`: a transient failure; the message goes back to the queue;
 * - `dead-lettered`: a permanent failure; the job went to the dead-letter queue with `reason` and `status`;
 * - `dead-letter-failed`: a permanent failure whose send to the dead-letter queue failed: the message is retried.
 * `reason` never holds a presigned URL's query.
 */
export type DownloaderOutcome =
  | { readonly type: "stored"; readonly messageId: string; readonly key: string; readonly bytes: number; readonly durationMs: number }
  | { readonly type: "retried"; readonly messageId: string; readonly reason: string }
  | { readonly type: "dead-lettered"; readonly messageId: string; readonly reason: string; readonly status: string }
  | { readonly type: "dead-letter-failed"; readonly messageId: string; readonly reason: string };

export interface DownloaderMetrics {
  /** One export stored; `bytes` is its size. */
  exportDownloaded(bytes: number): void;
  exportDownloadFailed(kind: FailureKind): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
