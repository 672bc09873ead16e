/**
 * Reading an export's header from the first bytes of the object: ranged reads that grow, bzip2 decompressed on the
 * way, RFC 4180 quoting (a header field may hold a newline). Real bzip2 bytes (fixtures made with `bzip2 -9`), and the
 * S3 ports against a real S3-compatible server.
 */
import { execFileSync } from "node:child_process";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { EmptyExportError, HeaderReadError, InvalidHeaderError } from "../handlers/load/errors";
import { readExportHeader, s3ObjectOpener, s3RangeReader } from "../handlers/load/header";
import { startLocalS3, type LocalS3 } from "./helpers/local-s3";
import { fixture, MemoryObjectStore } from "./load-test-support";
import { toolAvailable } from "../scripts/tools";

/** Two tests compress with the bzip2 program (the others read committed .bz2 fixtures). */
const itWithBzip2 = toolAvailable("bzip2", "the load-header tests that compress with bzip2") ? it : it.skip;

const QUOTED_NEWLINE_HEADER = ["id", "first\nsecond, still the second", 'third"'];

/** Deterministic text that compresses poorly, so a bzip2 file of it is megabytes. */
function noisyCsv(rows: number): string {
  let x = 0x2545f491;
  const lines = ["id,payload,created_at"];
  for (let i = 1; i <= rows; i++) {
    let payload = "";
    for (let j = 0; j < 24; j++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      payload += String.fromCharCode(97 + ((x >>> 0) % 26));
    }
    lines.push(`${i},${payload},2024-03-01 00:00:00`);
  }
  return lines.join("\n") + "\n";
}

describe("readExportHeader", () => {
  it("reads only the first range of a large plain file", async () => {
    const store = new MemoryObjectStore();
    const body = noisyCsv(100_000);
    store.put("k", body);
    expect(await readExportHeader(store.readRange, "k", "none")).toEqual(["id", "payload", "created_at"]);
    expect(store.rangeReads).toEqual([{ key: "k", start: 0, end: 65535 }]);
    expect(body.length).toBeGreaterThan(4_000_000);
  });

  it("grows the range, doubling it, when the first line is longer", async () => {
    const store = new MemoryObjectStore();
    const columns = Array.from({ length: 40 }, (_, i) => `column_number_${i}`);
    store.put("k", `${columns.join(",")}\n1,2\n`);
    expect(await readExportHeader(store.readRange, "k", "none", { initialRangeBytes: 16 })).toEqual(columns);
    expect(store.rangeReads.map((r) => [r.start, r.end])).toEqual([
      [0, 15],
      [16, 47],
      [48, 111],
      [112, 239],
      [240, 495],
      [496, 1007],
    ]);
  });

  it("parses a header with a quoted newline, comma and quote (RFC 4180), even split across ranges", async () => {
    const store = new MemoryObjectStore();
    store.put("k", fixture("header_quoted_newline.csv"));
    expect(await readExportHeader(store.readRange, "k", "none", { initialRangeBytes: 3 })).toEqual(QUOTED_NEWLINE_HEADER);
  });

  it("decompresses real bzip2 bytes", async () => {
    const store = new MemoryObjectStore();
    store.put("quoted", fixture("header_quoted_newline.csv.bz2"));
    store.put("comments", fixture("comments_20240305020304.csv.bz2"));
    expect(await readExportHeader(store.readRange, "quoted", "bzip2", { initialRangeBytes: 8 })).toEqual(
      QUOTED_NEWLINE_HEADER,
    );
    expect(await readExportHeader(store.readRange, "comments", "bzip2")).toEqual([
      "text",
      "id",
      "signature_id",
      "up_count",
      "approved",
      "created_at",
      "updated_at",
    ]);
  });

  itWithBzip2("stops reading a large bzip2 file once its first block is decompressed", async () => {
    const store = new MemoryObjectStore();
    const compressed = execFileSync("bzip2", ["-9", "-c"], { input: noisyCsv(200_000), maxBuffer: 1 << 28 });
    store.put("k", compressed);
    expect(await readExportHeader(store.readRange, "k", "bzip2")).toEqual(["id", "payload", "created_at"]);
    const read = store.rangeReads.reduce((sum, r) => sum + Math.min(r.end + 1, compressed.length) - r.start, 0);
    // A bzip2 -9 block needs ~925 kB of input before unbzip2-stream decodes it: 64 + 128 + 256 + 512 KiB.
    expect(read).toBeLessThanOrEqual(960 * 1024 + 65536);
    expect(compressed.length).toBeGreaterThan(3 * read);
  });

  it("strips a byte order mark and accepts CRLF line ends", async () => {
    const store = new MemoryObjectStore();
    store.put("k", "\uFEFFid,name\r\n1,a\r\n");
    expect(await readExportHeader(store.readRange, "k", "none")).toEqual(["id", "name"]);
  });

  it("reads a header-only file without a final newline to its end", async () => {
    const store = new MemoryObjectStore();
    store.put("plain", "id,name");
    expect(await readExportHeader(store.readRange, "plain", "none", { initialRangeBytes: 4 })).toEqual(["id", "name"]);
  });

  itWithBzip2("reads a header-only bzip2 file to its end", async () => {
    const store = new MemoryObjectStore();
    store.put("bz", execFileSync("bzip2", ["-c"], { input: "id,name" }));
    expect(await readExportHeader(store.readRange, "bz", "bzip2", { initialRangeBytes: 4 })).toEqual(["id", "name"]);
  });

  it("refuses an empty (0-byte) object with EmptyExportError, compressed or not", async () => {
    const store = new MemoryObjectStore();
    store.put("k", "");
    await expect(readExportHeader(store.readRange, "k", "none")).rejects.toThrow(EmptyExportError);
    await expect(readExportHeader(store.readRange, "k", "bzip2")).rejects.toMatchObject({
      name: "EmptyExportError",
      objectKey: "k",
      message: "k: export refused: the file is empty (0 bytes); nothing was loaded",
    });
  });

  it("fails with HeaderReadError when a file said to be bzip2 is not", async () => {
    const store = new MemoryObjectStore();
    store.put("k", "id,name\n1,a\n");
    await expect(readExportHeader(store.readRange, "k", "bzip2")).rejects.toThrow(HeaderReadError);
    await expect(readExportHeader(store.readRange, "k", "bzip2")).rejects.toThrow(/k: not a valid bzip2 stream/);
  });

  it("fails with HeaderReadError when a bzip2 file is cut short", async () => {
    const store = new MemoryObjectStore();
    store.put("k", fixture("comments_20240305020304.csv.bz2").subarray(0, 100));
    await expect(readExportHeader(store.readRange, "k", "bzip2")).rejects.toThrow(HeaderReadError);
  });

  it("gives up on a first line longer than the limit, without reading the whole object", async () => {
    const store = new MemoryObjectStore();
    store.put("k", "x".repeat(1_000_000));
    await expect(
      readExportHeader(store.readRange, "k", "none", { initialRangeBytes: 1024, maxHeaderBytes: 4096 }),
    ).rejects.toThrow(/no complete header row in the first 7168 bytes/);
    expect(store.rangeReads.length).toBe(3);
  });

  it("fails with InvalidHeaderError when the header is not valid CSV", async () => {
    const store = new MemoryObjectStore();
    store.put("k", 'id,"name\n');
    await expect(readExportHeader(store.readRange, "k", "none")).rejects.toThrow(InvalidHeaderError);
  });
});

describe("the S3 ports against a real S3-compatible server", () => {
  let s3: LocalS3;
  const bucket = "exports";

  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: [bucket] });
  });

  afterAll(async () => {
    await s3.close();
  });

  const put = (key: string, body: Buffer | string) =>
    s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

  it("reads a header with ranged GETs", async () => {
    const key = "exports/full/comments/20240305/comments_20240305020304.csv.bz2";
    await put(key, fixture("comments_20240305020304.csv.bz2"));
    await put("quoted.csv", fixture("header_quoted_newline.csv"));
    const readRange = s3RangeReader(s3.client, bucket);
    expect(await readExportHeader(readRange, key, "bzip2", { initialRangeBytes: 32 })).toHaveLength(7);
    expect(await readExportHeader(readRange, "quoted.csv", "none", { initialRangeBytes: 5 })).toEqual(
      QUOTED_NEWLINE_HEADER,
    );
    const { bytes, totalSize } = await readRange("quoted.csv", 0, 9);
    expect(Buffer.from(bytes).toString()).toBe('id,"first\n');
    expect(totalSize).toBe(fixture("header_quoted_newline.csv").length);
  });

  it("treats S3's 416 InvalidRange (its answer to any range of an empty object) as size 0", async () => {
    // s3rver aborts such a request instead of answering 416, so this one case fakes S3's documented error.
    const invalidRange = Object.assign(new Error("The requested range is not satisfiable"), {
      name: "InvalidRange",
      $metadata: { httpStatusCode: 416 },
    });
    const client = { send: async () => Promise.reject(invalidRange) } as unknown as S3Client;
    const readRange = s3RangeReader(client, bucket);
    expect(await readRange("empty.csv", 0, 65535)).toEqual({ bytes: new Uint8Array(0), totalSize: 0 });
    await expect(readExportHeader(readRange, "empty.csv", "none")).rejects.toThrow(EmptyExportError);
  });

  it("pins a header read to one version: the first range's ETag is recorded, every later range asks If-Match it", async () => {
    const header = `${"a".repeat(70_000)},id\n1,2\n`;
    const sent: Array<{ Range?: string; IfMatch?: string }> = [];
    const client = {
      send: async (command: { input: { Range: string; IfMatch?: string } }) => {
        sent.push({ Range: command.input.Range, IfMatch: command.input.IfMatch });
        const [start, end] = /bytes=(\d+)-(\d+)/.exec(command.input.Range)!.slice(1).map(Number);
        const bytes = Buffer.from(header).subarray(start, end + 1);
        return {
          ETag: '"v1"',
          ContentRange: `bytes ${start}-${start + bytes.length - 1}/${header.length}`,
          Body: { transformToByteArray: async () => new Uint8Array(bytes) },
        };
      },
    } as unknown as S3Client;
    const versions = new Map<string, string>();
    const readRange = s3RangeReader(client, bucket, versions);
    await expect(readExportHeader(readRange, "k", "none", { initialRangeBytes: 65536 })).resolves.toHaveLength(2);
    expect(versions.get("k")).toBe('"v1"');
    expect(sent).toEqual([
      { Range: "bytes=0-65535", IfMatch: undefined },
      { Range: "bytes=65536-196607", IfMatch: '"v1"' },
    ]);
  });

  it("opens a whole object as a stream", async () => {
    const body = fixture("comments_20240301020304.csv");
    await put("whole.csv", body);
    const stream = await s3ObjectOpener(s3.client, bucket)("whole.csv");
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(body);
  });
});
