/**
 * A merchant's webhook endpoint is input too: the platform reads its status line, headers and body and
 * keeps them with the attempt for support. A hostile or broken endpoint — NUL bytes and invalid UTF-8
 * in the body, Latin-1 header values, odd status codes, absurd Retry-After values, a 5 MB answer, a
 * malformed response — must still end as one recorded attempt per try (delivered or failed with a
 * class), never as a crashed handler, a dead-lettered message or a stalled dispatcher.
 */
import { createServer, type Server } from 'node:net';
import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { startSecurityPlatform, type SecurityPlatform } from './support/security-platform.js';

const head = (status: string, headers: string[] = []) =>
  `HTTP/1.1 ${status}\r\n${[...headers, 'Connection: close'].join('\r\n')}\r\n\r\n`;
const withBody = (status: string, body: Buffer, headers: string[] = []) =>
  Buffer.concat([Buffer.from(head(status, [...headers, `Content-Length: ${body.length}`]), 'latin1'), body]);

/** Raw answers by path: bytes no well-behaved HTTP server would send. */
const ANSWERS: Record<string, { bytes: Buffer; delivered: boolean }> = {
  'nul-body': {
    bytes: withBody('500 Internal Server Error', Buffer.from('error\u0000\u0000detail')),
    delivered: false,
  },
  'nul-body-2xx': { bytes: withBody('200 OK', Buffer.from([0x00, 0x6f, 0x6b, 0x00])), delivered: true },
  'invalid-utf8': {
    bytes: withBody('400 Bad Request', Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x41])),
    delivered: false,
  },
  'latin1-header': {
    bytes: withBody('200 OK', Buffer.from('ok'), ['X-Note: caf\u00e9 \u00ff']),
    delivered: true,
  },
  'control-in-body': {
    bytes: withBody('503 Service Unavailable', Buffer.from('\u001b[31mred\u001b[0m\r\n\u2028'), [
      'Retry-After: 99999999999',
    ]),
    delivered: false,
  },
  'negative-retry-after': {
    bytes: withBody('429 Too Many Requests', Buffer.from('slow down'), ['Retry-After: -1']),
    delivered: false,
  },
  'odd-status': { bytes: withBody('299 Whatever', Buffer.from('fine?')), delivered: true },
  'huge-status': { bytes: withBody('999 Nine Nine Nine', Buffer.from('?')), delivered: false },
  'huge-body': { bytes: withBody('200 OK', Buffer.alloc(5 * 1024 * 1024, 0x61)), delivered: true },
  'many-headers': {
    bytes: withBody(
      '200 OK',
      Buffer.from('ok'),
      Array.from({ length: 500 }, (_, i) => `X-H${i}: ${'v'.repeat(20)}`),
    ),
    delivered: true,
  },
  'malformed-response': {
    bytes: Buffer.from('HTTP/1.1 200\u0000 OK\r\nContent-Length: x\r\n\r\nzz', 'latin1'),
    delivered: false,
  },
  'no-status-line': { bytes: Buffer.from('hello there\r\n\r\n'), delivered: false },
};

async function startHostileReceiver(): Promise<{
  url: (path: string) => string;
  hits: Map<string, number>;
  close: () => Promise<void>;
}> {
  const hits = new Map<string, number>();
  const server: Server = createServer((socket) => {
    let request = '';
    socket.on('data', (chunk: Buffer) => {
      request += chunk.toString('latin1');
      const headerEnd = request.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(request)?.[1] ?? 0);
      if (request.length < headerEnd + 4 + length) return;
      const path = /^POST \/hook\/([\w-]+)/.exec(request)?.[1] ?? '';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      socket.end(ANSWERS[path]?.bytes ?? head('404 Not Found'));
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: (path) => `http://127.0.0.1:${port}/hook/${path}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('a hostile merchant webhook endpoint', function () {
  this.timeout(120_000);
  let t: SecurityPlatform;
  let receiver: Awaited<ReturnType<typeof startHostileReceiver>>;

  before(async function () {
    receiver = await startHostileReceiver();
    t = await startSecurityPlatform(this, 'pglite', {
      WEBHOOK_RETRY_SCHEDULE_MS: '600000',
      WEBHOOK_TIMEOUT_MS: '5000',
    });
  });
  after(async () => {
    await t?.stop();
    await receiver?.close();
  });

  it('ends every exchange as one recorded attempt, delivered or failed with a class, and nothing dead-lettered', async () => {
    const knex = t.platform.database.knex;
    const deposits = await Promise.all(
      Object.keys(ANSWERS).map(async (name, i) => {
        const { status, body } = await t.deposit({
          merchantTransactionId: `hostile-receiver-${Date.now()}-${i}`,
          amount: { value: 4101, currency: 'EUR' },
          paymentMethod: 'card',
          webhookUrl: receiver.url(name),
          returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
        });
        expect(status).to.equal(201);
        return { name, transactionId: body.transactionId as string };
      }),
    );
    const attemptOf = (transactionId: string) =>
      knex('webhook_attempts as a')
        .join('webhook_deliveries as d', 'd.id', 'a.delivery_id')
        .where({ 'd.transaction_id': transactionId, 'a.attempt_number': 1 })
        .first('a.error_class', 'a.response_status', 'a.response_body_excerpt', 'd.state');
    await eventually(
      async () => (await Promise.all(deposits.map((d) => attemptOf(d.transactionId)))).every(Boolean),
      30_000,
      'a recorded first attempt for every hostile answer',
    );
    for (const { name, transactionId } of deposits) {
      const attempt = await attemptOf(transactionId);
      const expected = ANSWERS[name]!;
      expect(attempt.state, name).to.equal(expected.delivered ? 'delivered' : 'pending');
      if (!expected.delivered)
        expect(attempt.error_class, name).to.be.oneOf(['http_status', 'connection', 'redirect']);
      expect(String(attempt.response_body_excerpt ?? '').length, `${name}: excerpt is capped`).to.be.at.most(
        4096,
      );
    }
    expect(await knex('failed_events').select('consumer_group', 'error_message')).to.deep.equal([]);
    // One request per webhook: an answer that could not be recorded used to be retried and re-sent.
    expect(Object.fromEntries(receiver.hits)).to.deep.equal(
      Object.fromEntries(Object.keys(ANSWERS).map((name) => [name, 1])),
    );
  });
});
