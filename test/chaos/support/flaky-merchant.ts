/**
 * A merchant's webhook endpoint that misbehaves like real ones: a share of requests answer 503 or
 * lose the connection without an answer, and it can be taken down entirely. Every request is verified
 * with the stock `standardwebhooks` library and remembered with what it was answered, so the checks
 * can prove each webhook kept its `webhook-id` and body across retries and was delivered.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface FlakyMerchantOptions {
  /** Share of requests answered 503 (default 0.15). */
  failRate?: number;
  /** Share of requests whose connection is dropped without an answer (default 0.05). */
  dropRate?: number;
  random?: () => number;
}

export interface SeenWebhook {
  webhookId: string;
  body: string;
  verified: boolean;
  /** The status we answered; null when the connection was dropped. */
  answered: number | null;
  at: number;
}

export class FlakyMerchant {
  readonly seen: SeenWebhook[] = [];
  private server: Server | undefined;
  private port = 0;
  private mode: 'flaky' | 'down' | 'healthy' = 'flaky';
  private readonly failRate: number;
  private readonly dropRate: number;
  private readonly random: () => number;

  constructor(
    private readonly secret: string,
    options: FlakyMerchantOptions = {},
  ) {
    this.failRate = options.failRate ?? 0.15;
    this.dropRate = options.dropRate ?? 0.05;
    this.random = options.random ?? Math.random;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
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
        const roll = this.random();
        const answer: number | null =
          this.mode === 'down'
            ? 503
            : this.mode === 'healthy'
              ? 200
              : roll < this.dropRate
                ? null
                : roll < this.dropRate + this.failRate
                  ? 503
                  : 200;
        this.seen.push({
          webhookId: headers['webhook-id'] ?? '',
          body,
          verified,
          answered: answer,
          at: Date.now(),
        });
        if (answer === null) req.socket.destroy();
        else res.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/webhooks'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** flaky (default): fails a share of requests; down: every request answers 503; healthy: every one 200. */
  setMode(mode: 'flaky' | 'down' | 'healthy'): void {
    this.mode = mode;
  }

  forId(webhookId: string): SeenWebhook[] {
    return this.seen.filter((w) => w.webhookId === webhookId);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
