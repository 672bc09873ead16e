/**
 * Appends one constant field to every record of a CSV stream, on the fly: `a,"b\nc"\n` -> `a,"b\nc",<value>\n`.
 *
 * The PostgreSQL adapter uses it to COPY a full export straight into the mirrored table with its `_cs_exported_at`
 * (see render-postgres.ts), instead of copying into a staging table and then copying again with INSERT ... SELECT.
 *
 * Record boundaries are found the way PostgreSQL's CSV COPY finds them (CopyReadLineText): every `"` toggles "inside
 * quotes" (a doubled `""` toggles twice), and a newline outside quotes ends the record. So a field holding a newline,
 * a comma or quotes is left whole. Bytes `"`, `\r` and `\n` never occur inside a multi-byte UTF-8 character, so the
 * scan works on bytes. CRLF line ends keep the field before the `\r`. Lines that are empty or exactly `\.` (COPY's
 * end-of-data marker) are passed through untouched, so COPY treats them as it would have without this transform.
 */
import { Transform } from "node:stream";

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const DOT = 0x2e;

/**
 * @param value appended to data records, unquoted: it must not contain `"`, `,`, `\r` or `\n`.
 * @param headerValue appended to the first record (the header line) instead of `value`.
 */
export function appendCsvColumn(value: string, headerValue: string = value): Transform {
  if (/[",\r\n]/.test(value) || /[",\r\n]/.test(headerValue)) {
    throw new Error(`appendCsvColumn: ${JSON.stringify(value)} would need quoting`);
  }
  const dataSuffix = Buffer.from(`,${value}`, "utf8");
  const headerSuffix = Buffer.from(`,${headerValue}`, "utf8");
  let inQuotes = false;
  let firstRecord = true;
  /** Content bytes of the current line so far (quotes included, line end excluded), and its first two. */
  let lineLength = 0;
  let first = -1;
  let second = -1;
  /** A `\r` at the end of the previous chunk, outside quotes: held until we know whether `\n` follows. */
  let heldCR = false;

  const account = (chunk: Buffer, start: number, end: number) => {
    let k = start;
    for (; k < end && lineLength < 2; k++, lineLength++) {
      if (lineLength === 0) first = chunk[k];
      else second = chunk[k];
    }
    lineLength += end - k;
  };
  /** Whether the line just ended gets the field: not when it is empty or COPY's `\.` end marker. */
  const wantsField = () => lineLength > 0 && !(lineLength === 2 && first === BACKSLASH && second === DOT);
  const suffix = () => {
    const s = firstRecord ? headerSuffix : dataSuffix;
    firstRecord = false;
    return s;
  };
  const CR_BYTE = Buffer.from([CR]);

  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const out: Buffer[] = [];
      let from = 0;
      let i = 0;
      if (heldCR) {
        heldCR = false;
        if (chunk.length > 0 && chunk[0] === LF) {
          // A CRLF split across chunks: the line ends before the held CR. The LF is handled below.
          if (wantsField()) out.push(suffix());
          lineLength = 0;
        } else {
          account(CR_BYTE, 0, 1);
        }
        out.push(CR_BYTE);
      }
      // Positions of the next quote and the next newline at or after i (-1: none in this chunk), searched again only
      // once passed: searching afresh for every line would rescan a quote-free chunk once per line.
      let nextQuote = -2;
      let nextLF = -2;
      const quoteFrom = (at: number) => {
        if (nextQuote !== -1 && nextQuote < at) nextQuote = chunk.indexOf(QUOTE, at);
        return nextQuote;
      };
      const lfFrom = (at: number) => {
        if (nextLF !== -1 && nextLF < at) nextLF = chunk.indexOf(LF, at);
        return nextLF;
      };
      while (i < chunk.length) {
        if (inQuotes) {
          const q = quoteFrom(i);
          const end = q === -1 ? chunk.length : q + 1;
          account(chunk, i, end);
          if (q !== -1) inQuotes = false;
          i = end;
          continue;
        }
        const q = quoteFrom(i);
        const n = lfFrom(i);
        if (n !== -1 && (q === -1 || n < q)) {
          // A record ends at n; with CRLF its content ends before the CR.
          const contentEnd = n > i && chunk[n - 1] === CR ? n - 1 : n;
          account(chunk, i, contentEnd);
          if (wantsField()) {
            out.push(chunk.subarray(from, contentEnd), suffix());
            from = contentEnd;
          }
          lineLength = 0;
          i = n + 1;
        } else if (q !== -1) {
          account(chunk, i, q + 1);
          inQuotes = true;
          i = q + 1;
        } else {
          // Neither quote nor newline in the rest of the chunk; hold a final CR (its LF may be in the next chunk).
          let end = chunk.length;
          if (chunk[end - 1] === CR) {
            heldCR = true;
            end -= 1;
          }
          account(chunk, i, end);
          out.push(chunk.subarray(from, end));
          from = chunk.length;
          i = chunk.length;
        }
      }
      if (from < chunk.length) out.push(chunk.subarray(from));
      callback(null, out.length === 1 ? out[0] : Buffer.concat(out));
    },
    flush(callback) {
      const out: Buffer[] = [];
      // The last record has no line end after it (or only a CR): it still gets its field.
      if (!inQuotes && wantsField()) out.push(suffix());
      if (heldCR) out.push(CR_BYTE);
      callback(null, out.length === 0 ? undefined : Buffer.concat(out));
    },
  });
}
