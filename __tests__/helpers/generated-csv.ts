/**
 * Deterministic CSV-like bytes of any length, generated on the fly: large downloads in tests and benchmarks
 * without holding the file in memory or on disk.
 *
 * A 1 MiB pool of ControlShift-shaped rows (quoted commas and newlines, `t`/`f` booleans, Postgres timestamps) is
 * built once per seed; the stream is slices of the pool at pseudo-random offsets. The same (size, seed) always gives
 * the same bytes, so a test can hash what it served without keeping it.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";

const POOL_SIZE = 1024 * 1024;
const CHUNK_SIZE = 128 * 1024;

export const GENERATED_CSV_HEADER = "id,title,comment,is_public,created_at\n";

/** mulberry32: tiny, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pools = new Map<number, Buffer>();

function pool(seed: number): Buffer {
  let cached = pools.get(seed);
  if (cached) return cached;
  const random = prng(seed);
  const words = ["petition", "signature", "save the", "local park", "réseau", "água", "climate", "school", "bus"];
  const rows: string[] = [GENERATED_CSV_HEADER];
  let length = GENERATED_CSV_HEADER.length;
  for (let id = 1; length < POOL_SIZE + 4096; id++) {
    const pick = () => words[Math.floor(random() * words.length)];
    const title = random() < 0.3 ? `"${pick()}, ${pick()}"` : pick();
    const comment = random() < 0.2 ? `"line one\nline ""two"", ${pick()}"` : random() < 0.5 ? "" : pick();
    const row = `${id},${title},${comment},${random() < 0.5 ? "t" : "f"},2024-03-01 02:03:${String(id % 60).padStart(2, "0")}.${id % 1000000}\n`;
    rows.push(row);
    length += Buffer.byteLength(row);
  }
  cached = Buffer.from(rows.join("")).subarray(0, POOL_SIZE);
  pools.set(seed, cached);
  return cached;
}

/** The chunks of a generated file of `size` bytes. Chunks are views of a shared pool: do not modify them. */
export function* generatedCsvChunks(size: number, seed = 1): Generator<Buffer> {
  const bytes = pool(seed);
  const random = prng(seed ^ 0x5bd1e995);
  let remaining = size;
  let offset = 0; // The first chunk starts with the header.
  while (remaining > 0) {
    const length = Math.min(CHUNK_SIZE, remaining);
    yield bytes.subarray(offset, offset + length);
    remaining -= length;
    offset = Math.floor(random() * (POOL_SIZE - CHUNK_SIZE));
  }
}

/** A Readable of a generated file. */
export function generatedCsvStream(size: number, seed = 1): Readable {
  return Readable.from(generatedCsvChunks(size, seed), { objectMode: false });
}

/** The whole generated file in memory (small sizes only). */
export function generatedCsvBuffer(size: number, seed = 1): Buffer {
  return Buffer.concat([...generatedCsvChunks(size, seed)]);
}

/** SHA-256 (hex) of a generated file, computed without holding it. */
export function generatedCsvSha256(size: number, seed = 1): string {
  const hash = createHash("sha256");
  for (const chunk of generatedCsvChunks(size, seed)) hash.update(chunk);
  return hash.digest("hex");
}
