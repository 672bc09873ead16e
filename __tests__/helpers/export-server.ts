/**
 * A real HTTP server on 127.0.0.1 that plays ControlShift's export bucket: serves files at presigned-looking URLs,
 * and misbehaves on demand (403 like an expired URL, 5xx, redirects, a connection reset mid-body, a stall).
 *
 *   const server = await startExportServer({ "/org/full/petitions/20240301/petitions_20240301020304.csv": { type: "body", body } });
 *   const url = server.url("/org/full/petitions/20240301/petitions_20240301020304.csv"); // with an X-Amz-* query
 *   ...
 *   await server.close();
 *
 * Routes match on the path alone (the query is ignored, as S3 ignores it once the signature checks out). Every
 * request is recorded, query included, so a test can assert what was (not) asked for.
 */
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { generatedCsvChunks } from "./generated-csv";

/** A generated file (see generated-csv.ts): `size` bytes, never held in memory. */
export interface GeneratedBody {
  readonly size: number;
  readonly seed?: number;
}

export type BodySource = Buffer | string | GeneratedBody;

export type ExportRoute =
  /** 200 with the body and its Content-Length. */
  | { readonly type: "body"; readonly body: BodySource; readonly contentType?: string; readonly headers?: Record<string, string> }
  /** Any status, with an optional body (see s3ErrorBody). */
  | { readonly type: "status"; readonly status: number; readonly body?: string; readonly headers?: Record<string, string> }
  /** A 3xx with a Location. */
  | { readonly type: "redirect"; readonly location: string; readonly status?: 301 | 302 | 303 | 307 | 308 }
  /** 200 announcing the whole body's Content-Length, then `afterBytes` of it, then the socket is destroyed. */
  | { readonly type: "reset"; readonly body: BodySource; readonly afterBytes: number }
  /** 200 announcing the body's Content-Length, then `afterBytes` of it, then silence until the client gives up. */
  | { readonly type: "stall"; readonly body: BodySource; readonly afterBytes: number };

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
}

export interface ExportServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** A URL of this server for the path, with a presigned-looking query (see PRESIGNED_QUERY) unless one is given. */
  url(path: string, query?: string): string;
  /** Adds or replaces a route. */
  route(path: string, route: ExportRoute): void;
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

/** The signature in PRESIGNED_QUERY: a test asserts it never shows up in logs or dead letters. */
export const FAKE_SIGNATURE = "5d41402abc4b2a76b9719d911017c592aa2fe1e8e0bd6d7e43e9d0c2d4a3f2b1";
export const FAKE_CREDENTIAL = "AKIAIOSFODNN7EXAMPLE%2F20240301%2Fus-east-1%2Fs3%2Faws4_request";

/** The query of a presigned S3 GET URL, as ControlShift sends them. */
export const PRESIGNED_QUERY =
  `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${FAKE_CREDENTIAL}&X-Amz-Date=20240301T020304Z` +
  `&X-Amz-Expires=21600&X-Amz-SignedHeaders=host&X-Amz-Signature=${FAKE_SIGNATURE}`;

/** An S3-style XML error body. */
export function s3ErrorBody(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`;
}

function bodyLength(body: BodySource): number {
  if (typeof body === "string") return Buffer.byteLength(body);
  if (Buffer.isBuffer(body)) return body.length;
  return body.size;
}

function* bodyChunks(body: BodySource): Generator<Buffer> {
  if (typeof body === "string") yield Buffer.from(body);
  else if (Buffer.isBuffer(body)) yield body;
  else yield* generatedCsvChunks(body.size, body.seed);
}

/** Waits for 'drain'; false if the response closed first. Removes both listeners either way. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = () => settle(true);
    const onClose = () => settle(false);
    const settle = (ok: boolean) => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      resolve(ok);
    };
    res.on("drain", onDrain);
    res.on("close", onClose);
  });
}

/** Writes up to `limit` bytes of the body, honouring back-pressure. Resolves false if the client went away. */
async function writeBody(res: ServerResponse, body: BodySource, limit = Infinity): Promise<boolean> {
  let written = 0;
  for (const chunk of bodyChunks(body)) {
    if (written >= limit) break;
    const part = chunk.length > limit - written ? chunk.subarray(0, limit - written) : chunk;
    written += part.length;
    if (res.destroyed) return false;
    if (!res.write(part) && !(await drained(res))) return false;
  }
  return !res.destroyed;
}

export async function startExportServer(initialRoutes: Record<string, ExportRoute> = {}): Promise<ExportServer> {
  const routes = new Map(Object.entries(initialRoutes));
  const requests: RecordedRequest[] = [];

  const server = createServer((req, res) => {
    const [path, query = ""] = (req.url ?? "/").split("?", 2);
    requests.push({ method: req.method ?? "", path, query, headers: req.headers });
    const route = routes.get(path);
    void serve(route, res).catch(() => res.destroy());
  });

  async function serve(route: ExportRoute | undefined, res: ServerResponse): Promise<void> {
    if (!route) {
      res.writeHead(404, { "content-type": "application/xml" });
      res.end(s3ErrorBody("NoSuchKey", "The specified key does not exist."));
      return;
    }
    switch (route.type) {
      case "body": {
        res.writeHead(200, {
          "content-type": route.contentType ?? "application/octet-stream",
          "content-length": String(bodyLength(route.body)),
          ...route.headers,
        });
        if (await writeBody(res, route.body)) res.end();
        return;
      }
      case "status": {
        const body = route.body ?? "";
        res.writeHead(route.status, {
          "content-type": "application/xml",
          "content-length": String(Buffer.byteLength(body)),
          ...route.headers,
        });
        res.end(body);
        return;
      }
      case "redirect": {
        res.writeHead(route.status ?? 302, { location: route.location, "content-length": "0" });
        res.end();
        return;
      }
      case "reset":
      case "stall": {
        res.writeHead(200, {
          "content-type": "application/octet-stream",
          "content-length": String(bodyLength(route.body)),
        });
        if (!(await writeBody(res, route.body, route.afterBytes))) return;
        if (route.type === "reset") {
          // Let the written bytes reach the client, then cut the connection without finishing the response.
          await new Promise<void>((resolve) => res.write("", () => resolve()));
          await new Promise((resolve) => setTimeout(resolve, 20));
          res.socket?.destroy();
        }
        return;
      }
    }
  }

  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    url: (path, query = PRESIGNED_QUERY) => `${origin}${path}${query ? `?${query}` : ""}`,
    route: (path, route) => void routes.set(path, route),
    requests,
    close: async () => {
      // Stalled responses and keep-alive sockets would hold close() open.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
