import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import { deliverOnce, type DeliveryRequest } from '../../webhook-dispatcher/http-delivery.js';
import { MerchantConnections } from '../../webhook-dispatcher/merchant-connections.js';
import { newWebhookSecret, signWebhook } from '../../webhook-dispatcher/signature.js';

/** A real merchant endpoint on loopback whose behaviour each test scripts. */
describe('webhook HTTP delivery against a real receiver', function () {
  this.timeout(20_000);
  let server: Server;
  let port: number;
  let behave: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  const hits: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => behave(req, res, body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => (hits.length = 0));

  const request = (path: string, overrides: Partial<DeliveryRequest> = {}): DeliveryRequest => ({
    url: new URL(`http://127.0.0.1:${port}${path}`),
    address: '127.0.0.1',
    family: 4,
    headers: {},
    body: '{"type":"transaction.status_changed"}',
    timeoutMs: 2_000,
    maxResponseBytes: 1_024,
    ...overrides,
  });

  it('delivers a signed webhook the merchant verifies with the stock library', async () => {
    const secret = newWebhookSecret(randomBytes);
    let verified: unknown;
    behave = (req, res, body) => {
      verified = new Webhook(secret).verify(body, req.headers as Record<string, string>);
      res.writeHead(204).end();
    };
    const body = JSON.stringify({
      type: 'transaction.status_changed',
      data: { transactionId: 'tx_1', status: 'SUCCEEDED', sequence: 7 },
    });
    const headers = { ...signWebhook({ id: 'msg_1', timestamp: new Date(), body, secrets: [secret] }) };
    const result = await deliverOnce(request('/hook', { headers, body }));
    expect(result).to.include({ delivered: true, status: 204, errorClass: null });
    expect(verified).to.deep.equal(JSON.parse(body));
  });

  it('counts a 500 as a failed attempt and keeps a capped body excerpt', async () => {
    behave = (_req, res) => res.writeHead(500, { 'retry-after': '30' }).end('x'.repeat(10_000));
    const result = await deliverOnce(request('/hook'));
    expect(result).to.include({ delivered: false, status: 500, errorClass: 'http_status' });
    expect(result.responseHeaders['retry-after']).to.equal('30');
    expect(result.bodyExcerpt.length).to.be.at.most(1_024);
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    behave = (req, res) =>
      req.url === '/hook' ? res.writeHead(302, { location: '/elsewhere' }).end() : res.writeHead(200).end();
    const result = await deliverOnce(request('/hook'));
    expect(result).to.include({ delivered: false, status: 302, errorClass: 'redirect' });
    expect(hits).to.deep.equal(['/hook']);
  });

  it('gives up on an endpoint that never answers after the timeout', async () => {
    behave = () => undefined; // hangs
    const started = Date.now();
    const result = await deliverOnce(request('/hook', { timeoutMs: 300 }));
    expect(result).to.include({ delivered: false, status: null, errorClass: 'timeout' });
    expect(Date.now() - started).to.be.below(2_000);
  });

  it('reports a refused connection as a connection error', async () => {
    const result = await deliverOnce({ ...request('/hook'), url: new URL('http://127.0.0.1:1/hook') });
    expect(result).to.include({ delivered: false, errorClass: 'connection' });
  });

  it('connects to the checked address, not to whatever the host name resolves to later', async () => {
    behave = (_req, res) => res.writeHead(200).end();
    const result = await deliverOnce({
      ...request('/hook'),
      url: new URL(`http://merchant.invalid:${port}/hook`),
    });
    expect(result.delivered).to.equal(true);
  });

  describe('with a keep-alive pool', () => {
    let pool: MerchantConnections;
    const connections: Socket[] = [];
    const onConnection = (socket: Socket) => connections.push(socket);
    beforeEach(() => {
      pool = new MerchantConnections();
      connections.length = 0;
      server.on('connection', onConnection);
    });
    afterEach(() => {
      pool.close();
      server.off('connection', onConnection);
    });

    it('sends consecutive webhooks to one host over one connection', async () => {
      behave = (_req, res) => res.writeHead(204).end();
      for (let i = 0; i < 3; i++) {
        const result = await deliverOnce(request('/hook', { connections: pool }));
        expect(result.delivered).to.equal(true);
      }
      expect(connections).to.have.length(1);
      expect(hits).to.deep.equal(['/hook', '/hook', '/hook']);
    });

    it('only reuses a connection to the address the SSRF check allowed for this request', async () => {
      behave = (_req, res) => res.writeHead(204).end();
      // The same endpoint on a second loopback address and the same port.
      const twin = createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(204).end());
      });
      twin.on('connection', onConnection);
      await new Promise<void>((resolve) => twin.listen(port, '127.0.0.2', resolve));
      try {
        const url = new URL(`http://merchant.invalid:${port}/hook`);
        await deliverOnce({ ...request('/hook', { connections: pool }), url });
        // Same host and port, but this time the check pinned the other address.
        const other = await deliverOnce({
          ...request('/hook', { connections: pool }),
          url,
          address: '127.0.0.2',
        });
        expect(other.delivered).to.equal(true);
        expect(connections.map((socket) => socket.localAddress)).to.deep.equal(['127.0.0.1', '127.0.0.2']);
      } finally {
        pool.close();
        twin.closeAllConnections();
        await new Promise((resolve) => twin.close(resolve));
      }
    });

    it('opens a new connection when the merchant dropped the kept one just as it was reused', async () => {
      behave = (req, res) => {
        res.writeHead(204).end();
        // The next request on this connection finds it reset, as if the merchant's idle timer fired.
        req.socket.once('data', () => req.socket.resetAndDestroy());
      };
      const first = await deliverOnce(request('/hook', { connections: pool }));
      const second = await deliverOnce(request('/hook', { connections: pool }));
      expect(first.delivered).to.equal(true);
      expect(second).to.include({ delivered: true, status: 204 });
      expect(connections).to.have.length(2);
    });
  });
});
