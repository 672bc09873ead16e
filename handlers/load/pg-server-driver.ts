/**
 * The PostgreSQL adapter's driver for a server reached by connection URL: `pg` for statements, `pg-copy-streams` for
 * COPY FROM STDIN, fed by a stream: a file of any size loads with bounded memory.
 */
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { PostgresDriver, PostgresSession } from "./postgres-adapter";

export interface PgServerDriverOptions {
  /** `postgres://user:password@host:5432/database` */
  readonly connectionString: string;
  /** @default 4: sessions open at once (each load holds one for its whole transaction). */
  readonly maxSessions?: number;
}

export function pgServerDriver(options: PgServerDriverOptions): PostgresDriver {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.maxSessions ?? 4 });
  // An idle client's error (the server restarted) must not crash the process; the pool drops that client.
  pool.on("error", () => undefined);
  return {
    async withSession(work) {
      const client = await pool.connect();
      let broken: Error | undefined;
      const session: PostgresSession = {
        async query(sql, values) {
          const result = await client.query(sql, values as unknown[] | undefined);
          return result.rows as Record<string, unknown>[];
        },
        async copyFrom(target, copyOptions, data: Readable) {
          const copy = client.query(copyFrom(`COPY ${target} FROM STDIN WITH ${copyOptions}`));
          await pipeline(data, copy);
          return copy.rowCount;
        },
      };
      try {
        return await work(session);
      } catch (err) {
        broken = err as Error;
        throw err;
      } finally {
        // After a failure the connection may be mid-protocol (a COPY cut short): do not give it to the next load.
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
