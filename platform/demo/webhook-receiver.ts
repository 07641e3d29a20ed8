/**
 * The demo merchant's webhook endpoint for `npm start`: a real HTTP server that verifies every webhook
 * with the stock `standardwebhooks` library (as a merchant would), prints it, and lists what it got at
 * `GET /webhooks` (for `npm run demo`). Development only: loaded dynamically so production images
 * without dev dependencies never import it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../core/logger.js';

export interface ReceivedWebhook {
  webhookId: string;
  verified: boolean;
  receivedAt: string;
  payload: unknown;
}

export interface DemoWebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  close(): Promise<void>;
}

export async function startDemoWebhookReceiver(options: {
  host: string;
  port: number;
  secrets: () => Promise<string[]>;
  logger: Logger;
  print: (line: string) => void;
}): Promise<DemoWebhookReceiver> {
  const { Webhook } = await import('standardwebhooks');
  const received: ReceivedWebhook[] = [];
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/webhooks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
      return;
    }
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 256 * 1024) chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
      );
      void options
        .secrets()
        .then((secrets) =>
          secrets.some((secret) => verifies(() => new Webhook(secret).verify(body, headers))),
        )
        .then((verified) => {
          let payload: unknown = body;
          try {
            payload = JSON.parse(body);
          } catch {
            // keep the raw body
          }
          const webhookId = headers['webhook-id'] ?? '';
          received.push({ webhookId, verified, receivedAt: new Date().toISOString(), payload });
          if (received.length > 200) received.shift();
          const p = payload as { type?: string; transactionId?: string; status?: string; sequence?: number };
          options.print(
            `[demo merchant] webhook ${webhookId} ${verified ? 'signature OK' : 'BAD SIGNATURE'}: ` +
              `${p.type ?? '?'} ${p.transactionId ?? ''} -> ${p.status ?? '?'} (sequence ${p.sequence ?? '?'})`,
          );
          res.writeHead(verified ? 204 : 400).end();
        })
        .catch((error: unknown) => {
          options.logger.warn('demo webhook receiver failed', { error });
          res.writeHead(500).end();
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${address.port}/webhooks`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function verifies(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}
