/** The worker side of webhook-receivers.ts. */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import type { Receipt, ReceiverCommand, ReceiverMessage } from './webhook-receivers.js';

const { count } = workerData as { count: number };
const port = parentPort!;
const post = (message: ReceiverMessage) => port.postMessage(message);
const epochNow = () => performance.timeOrigin + performance.now();

let hanging = new Set<number>();
let receipts: Receipt[] = [];
const held = new Set<ServerResponse>();
const servers: Server[] = [];

for (let endpoint = 0; endpoint < count; endpoint++) {
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      const hangs = hanging.has(endpoint);
      receipts.push({
        webhookId: String(req.headers['webhook-id'] ?? ''),
        endpoint,
        atMs: epochNow(),
        hanging: hangs,
      });
      if (hangs) {
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      }
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
}

port.on('message', (command: ReceiverCommand) => {
  if (command.type === 'hang') {
    hanging = new Set(command.endpoints);
  } else if (command.type === 'collect') {
    post({ type: 'receipts', receipts });
    receipts = [];
  } else {
    for (const res of held) res.writeHead(503).end();
    held.clear();
    void Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    ).then(() => post({ type: 'closed' }));
  }
});

post({ type: 'ready', ports: servers.map((s) => (s.address() as AddressInfo).port) });
