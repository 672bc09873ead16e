/**
 * The PostgreSQL adapter's driver for PGlite (PostgreSQL compiled to WebAssembly, in-process): the local and test
 * path. Two things to know:
 * - Always on an on-disk data directory: in memory (`memory://`) PGlite's COPY is about 14 times slower.
 * - PGlite's COPY FROM reads the special file `'/dev/blob'` from a Blob passed with the query, not a stream: the
 *   export is materialised in memory (decompressed) before the COPY. Fine for tests and local runs; use a server
 *   (pg-server-driver.ts) for exports larger than memory.
 */
import { PGlite } from "@electric-sql/pglite";
import type { Readable } from "node:stream";
import type { PostgresDriver, PostgresSession } from "./postgres-adapter";

/**
 * Opens (creating if needed) a PGlite database in `dataDir`, a directory on disk.
 * @param pglite the PGlite class to use; tests under jest pass one loaded by Node's own `require` (jest's module
 *   sandbox cannot run PGlite's dynamic `import()` calls without `--experimental-vm-modules`).
 * @default pglite the `@electric-sql/pglite` this module imports
 */
export async function openPglite(dataDir: string, pglite: Pick<typeof PGlite, "create"> = PGlite): Promise<PGlite> {
  if (dataDir === "" || /^[a-z]+:\/\//.test(dataDir)) {
    throw new Error(
      `PGlite data directory ${JSON.stringify(dataDir)} must be a path on disk: in memory, COPY is about 14 times slower`,
    );
  }
  return pglite.create(dataDir);
}

async function toBlob(data: Readable): Promise<Blob> {
  const chunks: Buffer[] = [];
  for await (const chunk of data) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return new Blob(chunks);
}

/**
 * A driver over one PGlite database (one connection): sessions take turns. The caller owns `db` and closes it;
 * `close()` here only waits for the running session.
 */
export function pgliteDriver(db: PGlite): PostgresDriver {
  let queue: Promise<unknown> = Promise.resolve();
  const session: PostgresSession = {
    async query(sql, values) {
      const result = await db.query<Record<string, unknown>>(sql, values as unknown[] | undefined);
      return result.rows;
    },
    async copyFrom(target, copyOptions, data) {
      const blob = await toBlob(data);
      const result = await db.query(`COPY ${target} FROM '/dev/blob' WITH ${copyOptions}`, [], { blob });
      return result.affectedRows ?? 0;
    },
  };
  return {
    withSession<T>(work: (s: PostgresSession) => Promise<T>): Promise<T> {
      const run = queue.then(() => work(session));
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      await queue;
    },
  };
}
