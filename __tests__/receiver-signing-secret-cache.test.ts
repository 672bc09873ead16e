import { SigningSecretUnavailableError } from "../handlers/receiver/ports";
import { CachedSigningSecret } from "../handlers/receiver/signing-secret-cache";

/** A store whose successive reads give the listed results, and a clock the test moves. */
function setup(reads: Array<string | undefined | Error>, ttlMs = 300_000) {
  let now = new Date("2024-03-01T00:00:00.000Z");
  const calls: number[] = [];
  const fetchSecret = async () => {
    calls.push(now.getTime());
    const next = reads.shift();
    if (next instanceof Error) throw next;
    return next;
  };
  const cache = new CachedSigningSecret(fetchSecret, () => now, ttlMs);
  const advance = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };
  return { cache, calls, advance, now: () => now };
}

describe("CachedSigningSecret", () => {
  it("reads the store once and serves the cached value while it is younger than the TTL", async () => {
    const { cache, calls, advance } = setup(["first", "second"], 300_000);

    expect((await cache.current()).value).toBe("first");
    advance(299_999);
    expect((await cache.current()).value).toBe("first");
    expect(calls).toHaveLength(1);
  });

  it("reads the store again once the TTL has passed (rotation without a deploy)", async () => {
    const { cache, calls, advance, now } = setup(["first", "second"], 300_000);

    await cache.current();
    advance(300_000);
    const secret = await cache.current();

    expect(secret).toEqual({ value: "second", fetchedAt: now() });
    expect(calls).toHaveLength(2);
  });

  it("refresh() bypasses a fresh cache and refills it", async () => {
    const { cache, calls } = setup(["first", "second", "third"]);

    await cache.current();
    expect((await cache.refresh()).value).toBe("second");
    expect((await cache.current()).value).toBe("second");
    expect(calls).toHaveLength(2);
  });

  it("reads the store on every call with a TTL of 0", async () => {
    const { cache, calls } = setup(["first", "second"], 0);

    await cache.current();
    expect((await cache.current()).value).toBe("second");
    expect(calls).toHaveLength(2);
  });

  it("reports an empty value as not configured", async () => {
    const { cache } = setup([""]);

    expect((await cache.current()).value).toBeUndefined();
  });

  it("does not cache a failed read: the next call reads again", async () => {
    const failure = new SigningSecretUnavailableError("throttled");
    const { cache, calls } = setup([failure, "recovered"]);

    await expect(cache.current()).rejects.toBe(failure);
    expect((await cache.current()).value).toBe("recovered");
    expect(calls).toHaveLength(2);
  });

  it("shares one read between concurrent callers", async () => {
    const { cache, calls } = setup(["only", "unexpected"]);

    const values = await Promise.all([cache.current(), cache.current(), cache.refresh()]);

    expect(values.map((s) => s.value)).toEqual(["only", "only", "only"]);
    expect(calls).toHaveLength(1);
  });
});
