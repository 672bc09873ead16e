/**
 * Benchmark: the PostgreSQL adapter (server driver: COPY FROM STDIN streamed with pg-copy-streams, into a staging
 * table, then the guarded merge) against a plain `psql \copy` of the same file into an equivalent table, on the same
 * PostgreSQL 15 server, started here on a temp data directory and a free port on 127.0.0.1 and removed at the end.
 *
 *   npx tsx bench/load.ts                          # 1,000,000 rows, 3 rounds
 *   BENCH_ROWS=200000 BENCH_ROUNDS=5 npx tsx bench/load.ts
 *   BENCH_FULL_LOADS=staged npx tsx bench/load.ts  # full loads through a staging table, as Redshift runs them
 *
 * Target: adapter / psql <= 1.5. As root, the server runs as the `postgres` user (initdb refuses root).
 */
import { execFile, execFileSync } from "node:child_process";
import { once } from "node:events";
import { chownSync, createReadStream, createWriteStream, mkdtempSync, openSync, readSync, closeSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createTableStatement } from "../schemas/ddl";
import { MissingToolError, POSTGRES_BIN, TOOLS } from "../scripts/tools";
import { readExportHeader, type RangeReader } from "../handlers/load/header";
import { loadExports } from "../handlers/load/load-exports";
import type { ColumnDef } from "../handlers/load/plan";
import { PostgresWarehouse } from "../handlers/load/postgres-adapter";
import { pgServerDriver } from "../handlers/load/pg-server-driver";

const run = promisify(execFile);


export interface TempPostgres {
  readonly connectionString: string;
  readonly port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/**
 * Starts a throw-away PostgreSQL server: initdb in a new temp directory (trust auth, UTF8, C locale), pg_ctl start on
 * a free port on 127.0.0.1 only. `stop()` stops it and removes the directory.
 */
export async function startTempPostgres(): Promise<TempPostgres> {
  // A benchmark or test that asked for a server cannot skip: say how to install it.
  if (!TOOLS.postgres.found()) throw new MissingToolError(`${TOOLS.postgres.label} not found: ${TOOLS.postgres.install}`);
  const dir = mkdtempSync(join(tmpdir(), "cs-mirror-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  // initdb and postgres refuse to run as root: run them as the `postgres` user, who must own the directory.
  if (asRoot) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString().trim()), Number(execFileSync("id", ["-g", "postgres"]).toString().trim()));
  const as = (bin: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", join(POSTGRES_BIN, bin), ...args]) : run(join(POSTGRES_BIN, bin), args);
  const port = await freePort();
  try {
    await as("initdb", ["-D", data, "--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C"]);
    await as("pg_ctl", [
      "-D",
      data,
      "-l",
      join(dir, "server.log"),
      "-w",
      "-o",
      `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir}`,
      "start",
    ]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      try {
        await as("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A signatures-like table: `id` not first, text with commas and quotes, NULLs, booleans, timestamps. */
export const BENCH_COLUMNS: readonly ColumnDef[] = [
  { name: "petition_id", type: "INTEGER" },
  { name: "email", type: "VARCHAR(MAX)" },
  { name: "first_name", type: "VARCHAR(MAX)" },
  { name: "last_name", type: "VARCHAR(MAX)" },
  { name: "postcode", type: "VARCHAR(MAX)" },
  { name: "created_at", type: "TIMESTAMP" },
  { name: "join_organisation", type: "BOOLEAN" },
  { name: "member_id", type: "INTEGER" },
  { name: "additional_fields", type: "VARCHAR(MAX)" },
  { name: "source", type: "VARCHAR(MAX)" },
  { name: "country", type: "VARCHAR(MAX)" },
  { name: "updated_at", type: "TIMESTAMP" },
  { name: "recaptcha_score", type: "NUMERIC(3,2)" },
  { name: "id", type: "BIGINT" },
  { name: "user_agent", type: "VARCHAR(MAX)" },
];

const FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Eve", "Fatima", "Gus", "Hana", "Ivo", "Jun"];
const LAST = ["Smith", "O'Brien", "Nguyen", "García", "Müller", "Okafor", "Kowalski", "Tanaka"];
const SOURCES = ["", "facebook", "twitter", "email, weekly", 'partner "A"'];

/** Writes `rows` deterministic rows (header first) to `path`; returns its size in bytes. */
export async function writeBenchCsv(path: string, rows: number): Promise<number> {
  const out = createWriteStream(path);
  let x = 0x9e3779b9;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const q = (s: string) => (s === "" ? "" : /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const ts = (n: number) => {
    const d = new Date(Date.UTC(2023, 0, 1) + (n % 31_536_000) * 1000);
    return d.toISOString().replace("T", " ").replace(".000Z", "");
  };
  let buf = BENCH_COLUMNS.map((c) => c.name).join(",") + "\n";
  for (let i = 1; i <= rows; i++) {
    const r = next();
    const first = FIRST[r % FIRST.length];
    const last = LAST[(r >>> 4) % LAST.length];
    const fields = [
      String(1 + (r % 5000)),
      `${first.toLowerCase()}.${i}@example.org`,
      first,
      last,
      r % 7 === 0 ? "" : `${1000 + (r % 8999)}`,
      ts(r),
      r % 2 === 0 ? "t" : "f",
      String(i * 3),
      r % 5 === 0 ? `{"utm_source":"newsletter","line":"a\nb"}` : "",
      SOURCES[(r >>> 8) % SOURCES.length],
      r % 3 === 0 ? "AU" : "GB",
      ts(r + 3600),
      r % 11 === 0 ? "" : `0.${String(r % 100).padStart(2, "0")}`,
      String(i),
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
    ];
    buf += fields.map(q).join(",") + "\n";
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, "drain");
      buf = "";
    }
  }
  out.end(buf);
  await once(out, "finish");
  return statSync(path).size;
}

/** A RangeReader over a local file. */
function fileRangeReader(path: string): RangeReader {
  return async (_key, start, end) => {
    const size = statSync(path).size;
    const length = Math.max(0, Math.min(end + 1, size) - start);
    const bytes = Buffer.alloc(length);
    const fd = openSync(path, "r");
    try {
      readSync(fd, bytes, 0, length, start);
    } finally {
      closeSync(fd);
    }
    return { bytes, totalSize: size };
  };
}

async function main(): Promise<void> {
  const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
  const work = mkdtempSync(join(tmpdir(), "cs-mirror-bench-"));
  const csv = join(work, "bench_signatures_20240301020304.csv");
  let pg: TempPostgres | undefined;
  try {
    let t = Date.now();
    const bytes = await writeBenchCsv(csv, rows);
    console.log(`generated ${rows.toLocaleString("en")} rows, ${(bytes / 1e6).toFixed(1)} MB, in ${Date.now() - t} ms`);

    t = Date.now();
    pg = await startTempPostgres();
    console.log(`started PostgreSQL 15 on 127.0.0.1:${pg.port} in ${Date.now() - t} ms`);
    const psql = (sql: string) =>
      run("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", pg!.connectionString, "-c", sql], { maxBuffer: 1 << 24 });

    const header = BENCH_COLUMNS.map((c) => `"${c.name}"`).join(", ");
    await psql("CREATE SCHEMA bench");
    // The same table as the adapter makes (schemas/ddl.ts), with _cs_exported_at filled by a default, as \copy has no
    // column for it.
    const equivalent = (table: string) =>
      createTableStatement("bench", table, BENCH_COLUMNS, "postgres").replace(
        '"_cs_exported_at" TIMESTAMP NOT NULL',
        `"_cs_exported_at" TIMESTAMP NOT NULL DEFAULT TIMESTAMP '2024-03-01 02:03:04'`,
      );
    const psqlCopy = async (table: string) => {
      await psql(equivalent(table));
      await psql("CHECKPOINT");
      const started = Date.now();
      await psql(`\\copy bench.${table} (${header}) FROM '${csv}' WITH (FORMAT csv, HEADER true)`);
      return Date.now() - started;
    };

    // Warm-up (server caches, WAL segments), not counted.
    const warm = await psqlCopy("warm_up");
    await psql("DROP TABLE bench.warm_up");
    console.log(`warm-up psql \\copy: ${warm} ms`);

    // Rounds alternate the two, each into a fresh table after a CHECKPOINT: the machine may be shared, so one pair
    // of numbers is noise; the medians (and the best of each) are the figures.
    const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
    const adapterTimes: number[] = [];
    const psqlTimes: number[] = [];
    const fullLoads = process.env.BENCH_FULL_LOADS === "staged" ? "staged" : "direct";
    console.log(`full loads: ${fullLoads}`);
    const driver = pgServerDriver({ connectionString: pg.connectionString });
    try {
      for (let round = 1; round <= rounds; round++) {
        const table = `bench_signatures_${round}`;
        const objectKey = `exports/full/${table}/20240301/${table}_20240301020304.csv`;
        const timings: string[] = [];
        const warehouse = new PostgresWarehouse({
          driver,
          fullLoads,
          openObject: async () => createReadStream(csv, { highWaterMark: 1 << 20 }),
          onStatement: ({ op, ms }) => {
            if (ms >= 5) timings.push(`${op} ${ms} ms`);
          },
        });
        await warehouse.migrate("bench");
        await psql("CHECKPOINT");
        t = Date.now();
        const result = await loadExports(
          { warehouse, readHeader: (key, compression) => readExportHeader(fileRangeReader(csv), key, compression) },
          { schema: "bench", table, kind: "full", files: [{ objectKey, compression: "none" }], knownColumns: BENCH_COLUMNS },
        );
        const adapterMs = Date.now() - t;
        adapterTimes.push(adapterMs);
        const psqlMs = await psqlCopy(`psql_copy_${round}`);
        psqlTimes.push(psqlMs);
        console.log(
          `round ${round}: adapter ${adapterMs} ms (${result.files[0].rowsLoaded} rows ${result.files[0].outcome}; ` +
            `${timings.join(", ")}), psql \\copy ${psqlMs} ms, ratio ${(adapterMs / psqlMs).toFixed(2)}`,
        );
        const check = await psql(
          `SELECT (SELECT count(*) || ':' || sum(id) || ':' || count(postcode) || ':' || count(additional_fields) || ':' || sum(recaptcha_score) FROM bench.${table}) = ` +
            `(SELECT count(*) || ':' || sum(id) || ':' || count(postcode) || ':' || count(additional_fields) || ':' || sum(recaptcha_score) FROM bench.psql_copy_${round}) AS same`,
        );
        if (!/\bt\b/.test(check.stdout)) throw new Error(`the two tables differ: ${check.stdout}`);
        await psql(`DROP TABLE bench.${table}; DROP TABLE bench.psql_copy_${round}`);
      }
    } finally {
      await driver.close();
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ma = median(adapterTimes);
    const mp = median(psqlTimes);
    console.log(
      `median: adapter ${ma} ms, psql \\copy ${mp} ms, ratio ${(ma / mp).toFixed(2)}; ` +
        `best: adapter ${Math.min(...adapterTimes)} ms, psql \\copy ${Math.min(...psqlTimes)} ms, ratio ` +
        `${(Math.min(...adapterTimes) / Math.min(...psqlTimes)).toFixed(2)} (target <= 1.5); the tables matched every round`,
    );
  } finally {
    await pg?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
