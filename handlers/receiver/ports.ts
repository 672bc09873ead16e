/**
 * What the webhook receiver's core needs from the outside world, and the typed errors those ports throw.
 * The entry (`index.ts`) wires them to Secrets Manager, SQS, the system clock and Powertools; tests pass plain fakes.
 */
import type { WebhookMetric } from "../../facts/metrics";
import type { DownloadJob } from "../shared/export-file";
import type { QuarantineRecord } from "../shared/quarantine";
import { ServiceUnavailableError } from "../shared/http-errors";

export type Clock = () => Date;

export interface SigningSecret {
  /** The secret as the operator stored it, trimmed; undefined when none is configured (yet). */
  readonly value: string | undefined;
  /** When this value was read from the store: the core refetches an old value on a mismatch (rotation). */
  readonly fetchedAt: Date;
}

export interface SigningSecretSource {
  /** The secret, from the cache while it is fresh. Throws SigningSecretUnavailableError when the store fails. */
  current(): Promise<SigningSecret>;
  /** The secret read again from the store, bypassing the cache (and refilling it). Same errors as current(). */
  refresh(): Promise<SigningSecret>;
}

/** The secret store failed (throttling, 5xx, network, access denied): the sender should retry. */
export class SigningSecretUnavailableError extends ServiceUnavailableError {
  override readonly name: string = "SigningSecretUnavailableError";
}

export interface DownloadQueue {
  /** Resolves once the job is durably queued. Throws QueueSendError otherwise. */
  send(job: DownloadJob): Promise<void>;
}

/** The download job could not be queued: the sender should retry. */
export class QueueSendError extends ServiceUnavailableError {
  override readonly name: string = "QueueSendError";
}

export interface QuarantineStore {
  /** Resolves once the record is durably stored under `key`. Throws QuarantineWriteError otherwise. */
  put(key: string, record: QuarantineRecord): Promise<void>;
}

/** A payload to quarantine could not be stored: the sender should retry, so nothing is lost. */
export class QuarantineWriteError extends ServiceUnavailableError {
  override readonly name: string = "QuarantineWriteError";
}

/** Why a request was answered 200 without queueing anything (the `reason` dimension of WebhookIgnored). */
export type IgnoreReason = "event-type" | "unconfigured-table";

/**
 * How one request ended: what to answer, what to log and what to count. The core reports exactly one per request.
 * `details` and `response` never hold the signature header, the secret, or the export URL's query string.
 */
export interface WebhookOutcome {
  readonly statusCode: number;
  /** The JSON response body. */
  readonly response: Readonly<Record<string, unknown>>;
  readonly metric: WebhookMetric;
  readonly dimensions?: Readonly<Record<string, string>>;
  readonly level: "info" | "warn" | "error";
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
  /** The failure behind a 5xx, with its cause chain, for the log. */
  readonly error?: Error;
  /** `see help: <entry title>` for an outcome the operator must act on that is not a failure (a quarantine). */
  readonly help?: string;
}

export interface ReceiverPorts {
  readonly secret: SigningSecretSource;
  readonly queue: DownloadQueue;
  readonly quarantine: QuarantineStore;
  readonly clock: Clock;
  /** Logs and counts one outcome. */
  readonly report: (outcome: WebhookOutcome) => void;
}
