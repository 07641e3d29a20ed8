/**
 * A real merchant webhook endpoint on loopback: verifies every request with the stock `standardwebhooks`
 * library (as a merchant would) and answers as each test scripts it — a status, a redirect, or hanging
 * until the test releases it.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Verified with the receiver's secret by the standardwebhooks library. */
  verified: boolean;
}

export class MerchantReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Most requests this endpoint had open at once. */
  maxOpen = 0;
  private readonly script: Reply[] = [];
  private defaultReply: Reply = { status: 200 };
  private readonly hanging = new Set<ServerResponse>();
  private open = 0;
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly secret: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.open++;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      res.on('close', () => this.open--);
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
        );
        let verified = true;
        try {
          new Webhook(this.secret).verify(body, headers);
        } catch {
          verified = false;
        }
        this.received.push({ path: req.url ?? '', headers, body, verified });
        const reply = this.script.shift() ?? this.defaultReply;
        if (reply === 'hang') {
          this.hanging.add(res);
          return;
        }
        res.writeHead(reply.status, reply.headers ?? {}).end(reply.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The next requests get these replies, in order; then the default reply. */
  reply(...replies: Reply[]): this {
    this.script.push(...replies);
    return this;
  }

  replyByDefault(reply: Reply): this {
    this.defaultReply = reply;
    return this;
  }

  /** Requests being held open right now. */
  get hangingCount(): number {
    return this.hanging.size;
  }

  /** Answers the longest-held request, if any. */
  releaseOne(status = 200): void {
    const [res] = this.hanging;
    if (!res) return;
    this.hanging.delete(res);
    res.writeHead(status).end();
  }

  /** Answers every held request. */
  release(status = 200): void {
    for (const res of this.hanging) res.writeHead(status).end();
    this.hanging.clear();
  }

  forId(webhookId: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.headers['webhook-id'] === webhookId);
  }

  async close(): Promise<void> {
    this.release(503);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
