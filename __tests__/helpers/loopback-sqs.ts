/**
 * A small SQS endpoint on loopback for tests: it speaks SQS's JSON protocol (`x-amz-target: AmazonSQS.<Action>`,
 * JSON in and out), records each request, and answers from the replies given per action: one-shot ones (`reply`, in
 * order) first, then a standing one (`answer`). No local SQS exists; this checks the requests the SDK really sends.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  readonly action: string;
  readonly input: Record<string, unknown>;
}

export type Reply = { status?: number; body: unknown; headers?: Record<string, string> };

export class LoopbackSqs {
  readonly requests: Recorded[] = [];
  readonly replies = new Map<string, Array<(input: Record<string, unknown>) => Reply>>();
  readonly standing = new Map<string, (input: Record<string, unknown>) => Reply>();
  private server!: Server;
  endpoint = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Answers the next requests of `action`, one reply each, in order. */
  reply(action: string, ...replies: Array<(input: Record<string, unknown>) => Reply>): void {
    this.replies.set(action, [...(this.replies.get(action) ?? []), ...replies]);
  }

  /** Answers every request of `action` that no one-shot reply is left for. */
  answer(action: string, reply: (input: Record<string, unknown>) => Reply): void {
    this.standing.set(action, reply);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const action = String(req.headers["x-amz-target"]).replace(/^AmazonSQS\./, "");
    const input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
    this.requests.push({ action, input });
    const next = this.replies.get(action)?.shift() ?? this.standing.get(action);
    const reply: Reply = next ? next(input) : { status: 500, body: { __type: "InternalError", message: `no reply for ${action}` } };
    res.writeHead(reply.status ?? 200, { "content-type": "application/x-amz-json-1.0", ...reply.headers });
    res.end(JSON.stringify(reply.body));
  }
}
