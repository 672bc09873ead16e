/**
 * The local mirror's database for the PostgreSQL adapter: PGlite on disk by default (`.local/pglite`), or a
 * PostgreSQL server by connection URL. Also runs an operator's ad-hoc SQL, with every value as PostgreSQL's text.
 */
import { mkdirSync } from "node:fs";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { openPglite, pgliteDriver } from "../../handlers/load/pglite-driver";
import type { PostgresDriver } from "../../handlers/load/postgres-adapter";
import { pgServerDriver } from "../../handlers/load/pg-server-driver";

/** One statement's result, values as PostgreSQL's text output (NULL as null). */
export interface SqlResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | null)[])[];
  /** Rows a statement without a result set changed, when known. */
  readonly affectedRows?: number;
}

export interface LocalMirror {
  readonly driver: PostgresDriver;
  /** What an operator reads: `PGlite at .local/pglite`, or the URL without its password. */
  readonly description: string;
  /** A URL to hand to psql, for a server; undefined for PGlite (in-process: there is nothing to connect to). */
  readonly connectionString: string | undefined;
  /** Runs one or more statements, after any load in progress (PGlite has one connection). */
  query(sql: string): Promise<SqlResult[]>;
  close(): Promise<void>;
}

export type PgliteClass = Pick<typeof PGlite, "create">;

export interface LocalMirrorOptions {
  /** A PostgreSQL server; when unset, PGlite in `pgliteDir`. */
  readonly databaseUrl?: string;
  readonly pgliteDir: string;
  /** @default the `@electric-sql/pglite` that pglite-driver.ts imports (tests under jest pass their own). */
  readonly pglite?: PgliteClass;
}

/**
 * Type OIDs PGlite would turn into JavaScript values (booleans, numbers that may lose precision, Dates that lose
 * microseconds, parsed JSON): kept as PostgreSQL's text instead, as psql shows them.
 */
const TEXT_TYPES = [16, 20, 21, 23, 26, 114, 700, 701, 1082, 1083, 1114, 1184, 1186, 1266, 1700, 3802];

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString("hex")}`;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** `postgres://user:***@host/db`: what may be printed. */
export function redactConnectionString(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<an unparseable database URL>";
  }
}

export async function openLocalMirror(options: LocalMirrorOptions): Promise<LocalMirror> {
  if (options.databaseUrl !== undefined) return openServer(options.databaseUrl);
  mkdirSync(options.pgliteDir, { recursive: true });
  const db = await openPglite(options.pgliteDir, options.pglite);
  const driver = pgliteDriver(db);
  const parsers = Object.fromEntries(TEXT_TYPES.map((oid) => [oid, (value: string) => value]));
  return {
    driver,
    description: `PGlite at ${options.pgliteDir}`,
    connectionString: undefined,
    // Through the driver's turn-taking: on PGlite's one connection, a query between a load's BEGIN and COMMIT would
    // run inside that load's transaction.
    query: (sql) =>
      driver.withSession(async () => {
        const results = await db.exec(sql, { rowMode: "array", parsers });
        return results.map((r) => ({
          columns: r.fields.map((f) => f.name),
          rows: (r.rows as unknown as unknown[][]).map((row) => row.map(text)),
          ...(r.fields.length === 0 && r.affectedRows !== undefined ? { affectedRows: r.affectedRows } : {}),
        }));
      }),
    async close() {
      await driver.close();
      await db.close();
    },
  };
}

async function openServer(connectionString: string): Promise<LocalMirror> {
  const driver = pgServerDriver({ connectionString });
  // Fail now, with the server's own message, rather than at the first load.
  await driver.withSession((session) => session.query("SELECT 1"));
  return {
    driver,
    description: redactConnectionString(connectionString),
    connectionString,
    async query(sql) {
      const client = new pg.Client({ connectionString, types: { getTypeParser: () => (value: string) => value } });
      await client.connect();
      try {
        const result = (await client.query({ text: sql, rowMode: "array" })) as pg.QueryArrayResult | pg.QueryArrayResult[];
        return (Array.isArray(result) ? result : [result]).map((r) => ({
          columns: (r.fields ?? []).map((f) => f.name),
          rows: (r.rows ?? []).map((row) => row.map(text)),
          ...((r.fields ?? []).length === 0 && r.rowCount !== null ? { affectedRows: r.rowCount } : {}),
        }));
      } finally {
        await client.end();
      }
    },
    close: () => driver.close(),
  };
}
