/**
 * bzip2 decompression as a Node.js Transform, on top of unbzip2-stream (pure JavaScript: no native module to bundle
 * for Lambda). ControlShift compresses exports with bzip2, never gzip (help, "The webhook ControlShift sends, and the export file name").
 *
 * unbzip2-stream is a classic `through` stream that works synchronously: a write decompresses every block it can and
 * emits the output before returning. It only decompresses a block once it holds the block's worst-case size
 * (about 100 kB x the block size level + 25 kB of compressed input, 925 kB for `bzip2 -9`) or at the end of input,
 * so the first output of a large file comes after about 1 MB of input.
 */
import { Transform } from "node:stream";
import unbzip2 from "unbzip2-stream";

/** A sink for decompressed bytes, fed compressed ones; synchronous, for callers that stop early (the header reader). */
export interface Bunzip2Feeder {
  /** Decompresses what it can; returns the output produced by this input. Throws on data that is not bzip2. */
  write(compressed: Uint8Array): Buffer[];
  /** Flushes the last block; throws when the stream ended before its end-of-stream marker. */
  end(): Buffer[];
}

export function bunzip2Feeder(): Bunzip2Feeder {
  const decoder = unbzip2();
  let out: Buffer[] = [];
  let failure: Error | undefined;
  decoder.on("data", (d: Buffer) => {
    out.push(d);
  });
  decoder.on("error", (e: Error) => {
    // unbzip2-stream's messages are terse ("No magic number found", or a TypeError when input runs short).
    failure ??= new Error(`not a valid bzip2 stream, or cut short (${e.message})`, { cause: e });
  });
  const take = (): Buffer[] => {
    if (failure) throw failure;
    const taken = out;
    out = [];
    return taken;
  };
  return {
    write(compressed) {
      if (failure) throw failure;
      decoder.write(Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength));
      return take();
    },
    end() {
      if (failure) throw failure;
      decoder.end();
      return take();
    },
  };
}

/** A Transform that decompresses a bzip2 stream; errors (not bzip2, cut short) destroy it with the decoder's error. */
export function bunzip2(): Transform {
  const feeder = bunzip2Feeder();
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let output: Buffer[];
      try {
        output = feeder.write(chunk);
      } catch (err) {
        callback(err as Error);
        return;
      }
      for (const d of output) this.push(d);
      callback();
    },
    flush(callback) {
      let output: Buffer[];
      try {
        output = feeder.end();
      } catch (err) {
        callback(err as Error);
        return;
      }
      for (const d of output) this.push(d);
      callback();
    },
  });
}
