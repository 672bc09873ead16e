/**
 * The local runner's HTTP server on 127.0.0.1, in API Gateway's place:
 * - `POST /webhook`: the raw body bytes (base64, as API Gateway passes a binary body) and the headers go to the
 *   receiver's core; its answer goes back as it is. A bug (the core throws) is answered 500, as API Gateway does when
 *   the Lambda fails.
 * - `GET /health`: 200 with the queues' state.
 * - `GET /load?key=<object key>`: how the last load of that object in this run ended (the CLI's `load` waits on it).
 * - `POST /sql`: for `npm run local -- sql` while the runner holds the PGlite database (one process at a time may
 *   open it). Needs `Authorization: Bearer <token>`, the token in the runner's state file (readable by its owner only):
 *   other local users and web pages cannot run SQL through it.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { WebhookRequest, WebhookResponse } from "../../handlers/receiver/receive";
import type { SqlResult } from "./mirror";
import { messageOf } from "./queue";

export interface LocalHttpServerOptions {
  /** 0: any free port. */
  readonly port: number;
  /** The receiver's size guard (REQUEST_SIZE_GUARD_BYTES): the body is read up to one byte past it (enough for the core to answer 413). */
  readonly maxBodyBytes: number;
  readonly webhook: (request: WebhookRequest) => Promise<WebhookResponse>;
  readonly health: () => Record<string, unknown>;
  readonly sql?: { readonly token: string; readonly run: (sql: string) => Promise<SqlResult[]> };
  readonly lastLoad: (key: string) => unknown;
  /** A request the core could not answer (a bug). */
  readonly onError: (err: unknown) => void;
}

export interface LocalHttpServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  close(): Promise<void>;
}

const MAX_SQL_BYTES = 1024 * 1024;

/** The body's first `limit` bytes; the rest is read and dropped, so the client can finish sending. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of req) {
    const bytes = chunk as Buffer;
    if (kept >= limit) continue;
    const part = bytes.length > limit - kept ? bytes.subarray(0, limit - kept) : bytes;
    chunks.push(part);
    kept += part.length;
  }
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? "");
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startLocalHttpServer(options: LocalHttpServerOptions): Promise<LocalHttpServer> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      options.onError(err);
      if (!res.headersSent) sendJson(res, 500, { message: "Internal Server Error" });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    const method = req.method ?? "GET";
    if (path === "/webhook") {
      if (method !== "POST") return sendJson(res, 405, { message: "Method Not Allowed: POST /webhook" });
      const body = await readBody(req, options.maxBodyBytes + 1);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
      }
      const response = await options.webhook({ headers, body: body.toString("base64"), isBase64Encoded: true });
      res.writeHead(response.statusCode, {
        ...response.headers,
        "content-length": Buffer.byteLength(response.body),
      });
      res.end(response.body);
      return;
    }
    if (path === "/health") {
      if (method !== "GET") return sendJson(res, 405, { message: "Method Not Allowed: GET /health" });
      return sendJson(res, 200, options.health());
    }
    if (path === "/load") {
      if (method !== "GET") return sendJson(res, 405, { message: "Method Not Allowed: GET /load?key=..." });
      const key = url.searchParams.get("key") ?? "";
      return sendJson(res, 200, { key, load: options.lastLoad(key) ?? null });
    }
    if (path === "/sql" && options.sql !== undefined) {
      if (method !== "POST") return sendJson(res, 405, { message: "Method Not Allowed: POST /sql" });
      if (!bearerMatches(req.headers.authorization, options.sql.token)) {
        await readBody(req, 0);
        return sendJson(res, 401, { error: "the Authorization header does not carry the runner's token" });
      }
      const sql = (await readBody(req, MAX_SQL_BYTES)).toString("utf8");
      try {
        return sendJson(res, 200, { results: await options.sql.run(sql) });
      } catch (err) {
        return sendJson(res, 400, { error: messageOf(err) });
      }
    }
    return sendJson(res, 404, { message: "Not Found: POST /webhook, GET /health" });
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new Error(`the webhook server cannot listen on 127.0.0.1:${options.port}: ${err.message}`, { cause: err }));
    server.once("error", onError);
    server.listen(options.port, "127.0.0.1", () => {
      server.off("error", onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
