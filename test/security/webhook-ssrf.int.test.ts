/**
 * SSRF through merchant webhook URLs, on the whole running platform with every development allowance
 * off (DEMO=off, no http://, no loopback or private address classes): a deposit whose webhook URL names
 * a loopback, private, link-local, metadata or reserved address — in any spelling the URL parser
 * accepts (decimal, octal, hex, IPv4-mapped and -compatible IPv6, NAT64, 6to4) or through a name that
 * resolves to loopback here (localhost, this machine's own name) — is refused at deposit time (http) or
 * at delivery: the attempt is recorded as `forbidden_url` and no connection is ever opened. A trap
 * listener on loopback counts connections, and the network tripwire refuses (and records) any connect
 * outside loopback, so a regression can neither reach a real host nor go unnoticed.
 *
 * A receiver the policy allows cannot bounce a webhook elsewhere either: redirects are never followed.
 */
import { lookup } from 'node:dns/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { isLoopbackAddress } from './support/network-tripwire.js';
import { startSecurityPlatform, type SecurityPlatform } from './support/security-platform.js';

/** Counts TCP connections on the same port of 127.0.0.1 and ::1. */
async function startTrap(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const servers: Server[] = [];
  const listen = (host: string, port: number) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer((socket) => {
        connections++;
        socket.destroy();
      });
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  for (let tries = 0; ; tries++) {
    const v4 = await listen('127.0.0.1', 0);
    const { port } = v4.address() as { port: number };
    try {
      servers.push(v4, await listen('::1', port));
      return {
        port,
        connections: () => connections,
        close: async () => {
          await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
        },
      };
    } catch (error) {
      await new Promise((resolve) => v4.close(resolve));
      if (tries > 5) throw error;
    }
  }
}

const ALLOWANCES_OFF = {
  DEMO: 'off',
  MERCHANT_API_ALLOW_HTTP_LOOPBACK: 'false',
  WEBHOOK_ALLOW_HTTP: 'false',
  WEBHOOK_ALLOWED_ADDRESS_CLASSES: '',
  WEBHOOK_RETRY_SCHEDULE_MS: '600000',
};

describe('webhook URLs cannot reach internal addresses (allowances off)', function () {
  this.timeout(120_000);
  let t: SecurityPlatform;
  let trap: Awaited<ReturnType<typeof startTrap>>;
  let order = 0;

  before(async function () {
    trap = await startTrap();
    t = await startSecurityPlatform(this, 'pglite', ALLOWANCES_OFF);
  });
  after(async () => {
    await t?.stop();
    await trap?.close();
  });

  const deposit = async (webhookUrl: string) => {
    const response = await fetch(`${t.url}/api/v2/deposit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.merchant.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        merchantTransactionId: `ssrf-${Date.now()}-${order++}`,
        amount: { value: 4101, currency: 'EUR' }, // declined at once: the webhook follows right away
        paymentMethod: 'card',
        webhookUrl,
        returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  it('refuses http:// webhook URLs at deposit time, loopback included', async () => {
    for (const url of [
      `http://127.0.0.1:${trap.port}/hook`,
      `http://localhost:${trap.port}/hook`,
      `http://[::1]:${trap.port}/hook`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/hook',
    ]) {
      const { status, body } = await deposit(url);
      expect(status, url).to.equal(400);
      expect(
        body.errors.map((e: { pointer: string }) => e.pointer),
        url,
      ).to.include('#/webhookUrl');
    }
  });

  it('records every internal address, however spelt, as a refused attempt and opens no connection', async () => {
    const p = trap.port;
    const targets = [
      // loopback, in the spellings the URL parser normalises to 127.0.0.1 or ::1
      `https://127.0.0.1:${p}/`,
      `https://127.1:${p}/`,
      `https://2130706433:${p}/`,
      `https://0x7f000001:${p}/`,
      `https://0177.0.0.1:${p}/`,
      `https://0x7f.0.0.1:${p}/`,
      `https://127.255.255.254:${p}/`,
      `https://[::1]:${p}/`,
      `https://[0:0:0:0:0:0:0:1]:${p}/`,
      `https://[::ffff:127.0.0.1]:${p}/`,
      `https://[::ffff:7f00:1]:${p}/`,
      `https://[0:0:0:0:0:ffff:127.0.0.1]:${p}/`,
      `https://[::127.0.0.1]:${p}/`,
      `https://[::ffff:0:127.0.0.1]:${p}/`,
      `https://[64:ff9b::127.0.0.1]:${p}/`,
      `https://[2002:7f00:1::]:${p}/`,
      // names that resolve to loopback on this machine (no external DNS is asked)
      `https://localhost:${p}/`,
      `https://LOCALHOST:${p}/`,
      // private, link-local, metadata and reserved ranges (the tripwire keeps these off the network)
      'https://10.0.0.1/',
      'https://172.16.0.1/',
      'https://192.168.1.1/',
      'https://100.64.0.1/',
      'https://169.254.1.1/',
      'https://169.254.169.254/latest/meta-data/',
      'https://2852039166/latest/meta-data/', // 169.254.169.254 as one decimal number
      'https://0xa9.0xfe.0xa9.0xfe/',
      'https://[::ffff:169.254.169.254]/',
      'https://[::ffff:a9fe:a9fe]/',
      'https://[fd00:ec2::254]/',
      'https://[fd00::1]/',
      'https://[fec0::1]/',
      'https://[fe80::1]/',
      'https://0.0.0.0/',
      'https://[::]/',
      'https://224.0.0.1/',
      'https://255.255.255.255/',
      'https://[ff02::1]/',
    ];
    const own = hostname();
    const ownAddresses = await lookup(own, { all: true }).catch(() => []);
    if (ownAddresses.length > 0 && ownAddresses.every(({ address }) => isLoopbackAddress(address)))
      targets.push(`https://${own}:${p}/`);

    const accepted = await Promise.all(
      targets.map(async (url) => {
        const { status, body } = await deposit(url);
        expect(status, `${url}: ${JSON.stringify(body)}`).to.equal(201);
        return { url, transactionId: body.transactionId as string };
      }),
    );
    const knex = t.platform.database.knex;
    const firstAttempt = (transactionId: string) =>
      knex('webhook_attempts as a')
        .join('webhook_deliveries as d', 'd.id', 'a.delivery_id')
        .where({ 'd.transaction_id': transactionId, 'a.attempt_number': 1 })
        .first('a.error_class', 'a.response_status', 'a.error_message', 'a.url');
    await eventually(
      async () => (await Promise.all(accepted.map((a) => firstAttempt(a.transactionId)))).every(Boolean),
      60_000,
      'a first webhook attempt recorded for every deposit',
    );
    for (const { url, transactionId } of accepted) {
      const attempt = await firstAttempt(transactionId);
      expect(attempt.error_class, `${url}: ${attempt.error_message}`).to.equal('forbidden_url');
      expect(attempt.response_status, url).to.equal(null);
    }
    expect(trap.connections(), 'connections reached the loopback trap').to.equal(0);
    expect(t.tripwire.violations, 'connections attempted outside loopback').to.deep.equal([]);
    expect(t.receiver.received).to.deep.equal([]);
  });
});

describe('a webhook receiver cannot redirect a webhook elsewhere', function () {
  this.timeout(120_000);
  let t: SecurityPlatform;
  let trap: Awaited<ReturnType<typeof startTrap>>;
  let bouncer: { url: string; hits: number; close: () => Promise<void> };

  before(async function () {
    trap = await startTrap();
    // Loopback allowed for this suite only: the receiver stands in for a public merchant endpoint.
    t = await startSecurityPlatform(this, 'pglite', {
      DEMO: 'off',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_ADDRESS_CLASSES: 'loopback',
      WEBHOOK_RETRY_SCHEDULE_MS: '600000',
    });
    let hits = 0;
    const targets = [
      `http://127.0.0.1:${trap.port}/internal`,
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${trap.port}/`,
    ];
    const server = createHttpServer((req, res) => {
      hits++;
      const status = [301, 302, 303, 307, 308][hits % 5]!;
      res.writeHead(status, { location: targets[hits % targets.length]! }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    bouncer = {
      url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
      get hits() {
        return hits;
      },
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  });
  after(async () => {
    await t?.stop();
    await bouncer?.close();
    await trap?.close();
  });

  it('records a redirect answer as a failed attempt and never follows it', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { status, body } = await t.deposit({
        merchantTransactionId: `bounce-${Date.now()}-${i}`,
        amount: { value: 4101, currency: 'EUR' },
        paymentMethod: 'card',
        webhookUrl: bouncer.url,
        returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
      });
      expect(status).to.equal(201);
      ids.push(body.transactionId);
    }
    const knex = t.platform.database.knex;
    const attempts = () =>
      knex('webhook_attempts as a')
        .join('webhook_deliveries as d', 'd.id', 'a.delivery_id')
        .whereIn('d.transaction_id', ids)
        .select('a.error_class', 'a.response_status');
    await eventually(async () => (await attempts()).length >= ids.length, 60_000, 'an attempt per webhook');
    for (const attempt of await attempts()) {
      expect(attempt.error_class).to.equal('redirect');
      expect(attempt.response_status).to.be.within(300, 399);
    }
    expect(bouncer.hits).to.equal(ids.length);
    expect(trap.connections(), 'a redirect was followed').to.equal(0);
    expect(t.tripwire.violations).to.deep.equal([]);
  });
});
