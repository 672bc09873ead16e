/**
 * appendCsvColumn: one constant field appended to every CSV record, whatever the quoting and however the stream is cut.
 */
import fc from "fast-check";
import { parse } from "csv-parse/sync";
import { Readable } from "node:stream";
import { appendCsvColumn } from "../handlers/load/csv-append-column";

async function run(input: Buffer, cuts: readonly number[], value = "V", header = "H"): Promise<string> {
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of [...points, input.length]) {
    chunks.push(input.subarray(last, p));
    last = p;
  }
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks.filter((c) => c.length > 0)).pipe(appendCsvColumn(value, header))) {
    out.push(c as Buffer);
  }
  return Buffer.concat(out).toString("utf8");
}

/** The same rule, written the slow obvious way over a whole string. */
function reference(text: string, value = "V", header = "H"): string {
  let out = "";
  let line = "";
  let inQuotes = false;
  let first = true;
  const endLine = (eol: string) => {
    const content = line;
    const wants = content.length > 0 && content !== "\\.";
    out += content + (wants ? `,${first ? header : value}` : "") + eol;
    if (wants) first = false;
    line = "";
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') inQuotes = !inQuotes;
    if (!inQuotes && ch === "\n") {
      if (line.endsWith("\r")) {
        line = line.slice(0, -1);
        endLine("\r\n");
      } else {
        endLine("\n");
      }
      continue;
    }
    line += ch;
  }
  if (inQuotes) return out + line;
  if (line.endsWith("\r")) {
    const content = line.slice(0, -1);
    const wants = content.length > 0 && content !== "\\.";
    return out + content + (wants ? `,${first ? header : value}` : "") + "\r";
  }
  const wants = line.length > 0 && line !== "\\.";
  return out + line + (wants ? `,${first ? header : value}` : "");
}

describe("appendCsvColumn", () => {
  it("appends the field to the header and to every record, leaving quoted newlines and commas whole", async () => {
    const input = 'id,text\n1,"a,\nb"\n2,""""\n3,\n';
    expect(await run(Buffer.from(input), [])).toBe('id,text,H\n1,"a,\nb",V\n2,"""",V\n3,,V\n');
  });

  it("keeps CRLF line ends, also when a chunk ends between CR and LF", async () => {
    const input = Buffer.from('id,text\r\n1,"x\r\ny"\r\n2,z\r\n');
    for (let cut = 0; cut <= input.length; cut++) {
      expect(await run(input, [cut])).toBe('id,text,H\r\n1,"x\r\ny",V\r\n2,z,V\r\n');
    }
  });

  it("gives the last record its field when the file has no final newline", async () => {
    expect(await run(Buffer.from("id\n1"), [])).toBe("id,H\n1,V");
  });

  it("leaves empty lines and COPY's end marker alone", async () => {
    expect(await run(Buffer.from("id\n1\n\n\\.\n"), [])).toBe("id,H\n1,V\n\n\\.\n");
  });

  it("refuses a value that would need quoting", () => {
    expect(() => appendCsvColumn("a,b")).toThrow(/would need quoting/);
  });

  it("property: any bytes, any chunking, same as the obvious rule", async () => {
    const text = fc.string({ unit: fc.constantFrom("a", "é", ",", '"', "\n", "\r", "\\", "."), maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.nat(), { maxLength: 6 }), async (t, cuts) => {
        expect(await run(Buffer.from(t, "utf8"), cuts)).toBe(reference(t));
      }),
      { numRuns: 1000 },
    );
  });

  it("property: for well-formed CSV, every parsed record gains exactly the field", async () => {
    const field = fc.string({ unit: fc.constantFrom("a", " ", ",", '"', "\n", "\r\n", "é"), maxLength: 6 });
    const csvField = (f: string) => (/[",\n\r]/.test(f) || f === "" ? `"${f.replace(/"/g, '""')}"` : f);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }).chain((width) =>
          fc.tuple(fc.array(fc.array(field, { minLength: width, maxLength: width }), { maxLength: 6 }), fc.constant(width)),
        ),
        fc.constantFrom("\n", "\r\n"),
        fc.array(fc.nat(), { maxLength: 6 }),
        async ([rows, width], eol, cuts) => {
          const header = Array.from({ length: width }, (_, i) => `c${i}`);
          const input = [header.join(","), ...rows.map((r) => r.map(csvField).join(","))].join(eol) + eol;
          const output = await run(Buffer.from(input, "utf8"), cuts, "2024-03-01 02:03:04", "_cs_exported_at");
          const parsed = parse(output, { relax_column_count: false }) as string[][];
          expect(parsed).toEqual([
            [...header, "_cs_exported_at"],
            ...rows.map((r) => [...r, "2024-03-01 02:03:04"]),
          ]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
