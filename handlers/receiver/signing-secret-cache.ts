/**
 * Keeps the webhook signing secret in memory for a while, so a burst of webhooks (the nightly full exports: ~63 in a
 * few seconds) costs one Secrets Manager read, and a rotated secret is picked up without a deploy.
 */
import type { Clock, SigningSecret, SigningSecretSource } from "./ports";

/** Reads the secret from its store: the value, or undefined when none is configured. Throws when the store fails. */
export type FetchSigningSecret = () => Promise<string | undefined>;

export class CachedSigningSecret implements SigningSecretSource {
  #cached: SigningSecret | undefined;
  #pending: Promise<SigningSecret> | undefined;

  /** `ttlMs` of 0 reads the store on every call. */
  constructor(
    private readonly fetchSecret: FetchSigningSecret,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  current(): Promise<SigningSecret> {
    const cached = this.#cached;
    if (cached !== undefined && this.clock().getTime() - cached.fetchedAt.getTime() < this.ttlMs) {
      return Promise.resolve(cached);
    }
    return this.refresh();
  }

  refresh(): Promise<SigningSecret> {
    // Concurrent callers share one read. A failed read is not cached: the next call tries again.
    this.#pending ??= this.#read().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #read(): Promise<SigningSecret> {
    const value = await this.fetchSecret();
    const secret: SigningSecret = { value: value === "" ? undefined : value, fetchedAt: this.clock() };
    this.#cached = secret;
    return secret;
  }
}
