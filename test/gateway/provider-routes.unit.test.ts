/**
 * The Provider Gateway's HTTP behaviour over real HTTP (a real Koa server on an ephemeral port), with an
 * in-memory broker so every status can be provoked: success formats, 401/404/413/415/400/408/503, and
 * that nothing is published unless the signature holds. Real brokers: provider-gateway.int.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { hmacValidator as HmacValidator } from '@adyen/api-library';
import { expect } from 'chai';
import Koa from 'koa';
import { Registry } from 'prom-client';
import Stripe from 'stripe';
import type { OutgoingMessage } from '../../core/broker/types.js';
import { BrokerUnavailableError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import {
  decodeProviderCallback,
  PROVIDER_CALLBACKS_TOPIC,
  providerCallbackMetrics,
  providerGatewayRoutes,
  type ProviderGatewayOptions,
} from '../../gateway/provider/index.js';
import { listen } from '../../platform/http-server.js';

type AdyenItem = Parameters<HmacValidator['validateHMAC']>[0];

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * POSTs with node:http so the test controls framing (Content-Length or chunked) and still reads an
 * answer the server sends before it has read the whole body.
 */
function post(
  url: string,
  body: Buffer | string | Buffer[],
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const chunks = Array.isArray(body) ? body : [Buffer.from(body)];
    const req = request(url, { method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(parts).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    // The server may answer (413) and close while we are still sending: that is expected.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

class MemoryBroker {
  readonly published: Array<{ topic: string; message: OutgoingMessage }> = [];
  failWith: Error | undefined;
  delayMs = 0;
  async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.failWith) throw this.failWith;
    for (const message of messages) this.published.push({ topic, message });
  }
}

const STRIPE_SECRET = 'whsec_routes_test_secret';
const ADYEN_KEY = randomBytes(32).toString('hex');
const adyenLib = new HmacValidator();

function stripeEvent(paymentIntent: string): string {
  return JSON.stringify({
    id: `evt_${randomBytes(4).toString('hex')}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    data: { object: { id: paymentIntent, object: 'payment_intent', amount: 1130, currency: 'eur' } },
  });
}

function stripeHeaders(payload: string, secret = STRIPE_SECRET): Record<string, string> {
  return {
    'content-type': 'application/json; charset=utf-8',
    'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret }),
  };
}

function adyenNotification(pspReference: string, key: string): string {
  const item = {
    pspReference,
    originalReference: '',
    merchantAccountCode: 'DemoMerchantECOM',
    merchantReference: 'tx_1',
    amount: { value: 1130, currency: 'EUR' },
    eventCode: 'AUTHORISATION',
    success: 'true',
  };
  const hmacSignature = adyenLib.calculateHmac(item as unknown as AdyenItem, key);
  return JSON.stringify({
    live: 'false',
    notificationItems: [{ NotificationRequestItem: { ...item, additionalData: { hmacSignature } } }],
  });
}

describe('provider gateway routes (in-memory broker)', function () {
  this.timeout(20_000);
  let broker: MemoryBroker;
  let url: string;
  let close: () => Promise<void>;
  let registry: Registry;

  async function start(overrides: Partial<ProviderGatewayOptions> = {}): Promise<void> {
    await close?.();
    broker = new MemoryBroker();
    registry = new Registry();
    const app = new Koa();
    const router = providerGatewayRoutes({
      broker,
      logger: silentLogger,
      secrets: { 'stripe-sim': [STRIPE_SECRET], 'adyen-sim': [ADYEN_KEY] },
      observer: providerCallbackMetrics(registry),
      ...overrides,
    });
    app.use(router.routes()).use(router.allowedMethods());
    ({ url, close } = await listen(app, '127.0.0.1', 0));
  }

  beforeEach(() => start());
  after(() => close?.());

  it('stripe-sim: 200 {"received":true} after publishing the raw callback keyed by the PaymentIntent', async () => {
    const payload = stripeEvent('pi_route_1');
    const headers = stripeHeaders(payload);
    const answer = await post(`${url}/callbacks/stripe-sim`, payload, headers);
    expect(answer.status).to.equal(200);
    expect(answer.headers['content-type']).to.match(/^application\/json/);
    expect(JSON.parse(answer.body)).to.deep.equal({ received: true });
    expect(broker.published).to.have.length(1);
    const { topic, message } = broker.published[0]!;
    expect(topic).to.equal(PROVIDER_CALLBACKS_TOPIC);
    expect(message.key).to.equal('pi_route_1');
    const envelope = decodeProviderCallback(message.value);
    expect(envelope.provider).to.equal('stripe-sim');
    expect(envelope.reference).to.equal('pi_route_1');
    expect(envelope.body.toString('utf8')).to.equal(payload);
    expect(envelope.headers).to.deep.equal(headers);
    expect(message.headers).to.deep.include({ provider: 'stripe-sim', 'callback-id': envelope.callbackId });
    expect(Date.parse(envelope.receivedAt)).to.be.closeTo(Date.now(), 10_000);
  });

  it('adyen-sim: 200 text/plain [accepted], keyed by pspReference, no signature header kept', async () => {
    const payload = adyenNotification('8835', ADYEN_KEY);
    const answer = await post(`${url}/callbacks/adyen-sim`, payload, { 'content-type': 'application/json' });
    expect(answer.status).to.equal(200);
    expect(answer.headers['content-type']).to.match(/^text\/plain/);
    expect(answer.body).to.equal('[accepted]');
    expect(broker.published).to.have.length(1);
    expect(broker.published[0]!.message.key).to.equal('8835');
    const envelope = decodeProviderCallback(broker.published[0]!.message.value);
    expect(envelope.headers).to.deep.equal({ 'content-type': 'application/json' });
    expect(envelope.body.toString()).to.equal(payload);
  });

  it('keys a signed callback without a reference by its callback id', async () => {
    const payload = JSON.stringify({ id: 'evt_ping', type: 'ping' });
    const answer = await post(`${url}/callbacks/stripe-sim`, payload, stripeHeaders(payload));
    expect(answer.status).to.equal(200);
    const envelope = decodeProviderCallback(broker.published[0]!.message.value);
    expect(envelope.reference).to.equal(null);
    expect(broker.published[0]!.message.key).to.equal(envelope.callbackId);
  });

  it('does not use an oversized reference as the ordering key', async () => {
    const longId = `pi_${'x'.repeat(300)}`;
    const payload = stripeEvent(longId);
    expect((await post(`${url}/callbacks/stripe-sim`, payload, stripeHeaders(payload))).status).to.equal(200);
    const envelope = decodeProviderCallback(broker.published[0]!.message.value);
    expect(envelope.reference).to.equal(longId);
    expect(broker.published[0]!.message.key).to.equal(envelope.callbackId);
  });

  it('401 problem JSON for forged, missing or expired signatures, and publishes nothing', async () => {
    const payload = stripeEvent('pi_forged');
    const expired = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: STRIPE_SECRET,
      timestamp: Math.floor(Date.now() / 1000) - 301,
    });
    for (const headers of [
      stripeHeaders(payload, 'whsec_attacker'),
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json', 'stripe-signature': 'nonsense' },
      { 'content-type': 'application/json', 'stripe-signature': expired },
    ]) {
      const answer = await post(`${url}/callbacks/stripe-sim`, payload, headers);
      expect(answer.status, JSON.stringify(headers)).to.equal(401);
      expect(answer.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(JSON.parse(answer.body)).to.include({ status: 401, code: 'SIGNATURE_INVALID' });
    }
    const adyen = await post(
      `${url}/callbacks/adyen-sim`,
      adyenNotification('1', randomBytes(32).toString('hex')),
      {
        'content-type': 'application/json',
      },
    );
    expect(adyen.status).to.equal(401);
    expect(broker.published).to.have.length(0);
  });

  it('a body tampered after signing is 401', async () => {
    const payload = stripeEvent('pi_t');
    const answer = await post(
      `${url}/callbacks/stripe-sim`,
      payload.replace('1130', '1'),
      stripeHeaders(payload),
    );
    expect(answer.status).to.equal(401);
    expect(broker.published).to.have.length(0);
  });

  it('404 for an unknown provider, 405 for other methods', async () => {
    const answer = await post(`${url}/callbacks/paypal-sim`, '{}', { 'content-type': 'application/json' });
    expect(answer.status).to.equal(404);
    expect(JSON.parse(answer.body)).to.include({ code: 'UNKNOWN_PROVIDER' });
    const get = await fetch(`${url}/callbacks/stripe-sim`);
    expect(get.status).to.equal(405);
    expect(broker.published).to.have.length(0);
  });

  it('415 for a non-JSON content type or a content encoding', async () => {
    const payload = stripeEvent('pi_ct');
    const headers = stripeHeaders(payload);
    const extras: Array<Record<string, string>> = [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-encoding': 'gzip' },
    ];
    for (const extra of extras) {
      const answer = await post(`${url}/callbacks/stripe-sim`, payload, { ...headers, ...extra });
      expect(answer.status, JSON.stringify(extra)).to.equal(415);
    }
    const none = await post(`${url}/callbacks/stripe-sim`, payload, {
      'stripe-signature': headers['stripe-signature']!,
    });
    expect(none.status).to.equal(415);
    expect(broker.published).to.have.length(0);
  });

  it('413 for bodies over the limit, declared (Content-Length) or streamed (chunked)', async () => {
    const huge = Buffer.alloc(2 * 1024 * 1024, 0x20);
    const declared = await post(`${url}/callbacks/stripe-sim`, huge, {
      'content-type': 'application/json',
      'content-length': String(huge.length),
    });
    expect(declared.status).to.equal(413);
    expect(JSON.parse(declared.body)).to.include({ code: 'PAYLOAD_TOO_LARGE' });
    const chunks = Array.from({ length: 40 }, () => Buffer.alloc(16 * 1024, 0x20));
    const streamed = await post(`${url}/callbacks/adyen-sim`, chunks, {
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
    });
    expect(streamed.status).to.equal(413);
    // Exactly at the limit is fine as far as size goes (then the signature decides).
    const atLimit = Buffer.alloc(256 * 1024, 0x20);
    const ok = await post(`${url}/callbacks/stripe-sim`, atLimit, { 'content-type': 'application/json' });
    expect(ok.status).to.equal(401);
    expect(broker.published).to.have.length(0);
  });

  it('400 for a body that is not a notification, never 500', async () => {
    for (const body of ['not json', '[]', '{"notificationItems":"x"}', '']) {
      const answer = await post(`${url}/callbacks/adyen-sim`, body, { 'content-type': 'application/json' });
      expect(answer.status, body).to.equal(400);
      expect(JSON.parse(answer.body)).to.include({ code: 'BAD_CALLBACK_BODY' });
    }
    expect(broker.published).to.have.length(0);
  });

  it('503 (never 2xx) when the broker does not acknowledge the publish', async () => {
    broker.failWith = new BrokerUnavailableError('publish not acknowledged within 1000 ms');
    const payload = stripeEvent('pi_down');
    const answer = await post(`${url}/callbacks/stripe-sim`, payload, stripeHeaders(payload));
    expect(answer.status).to.equal(503);
    expect(answer.headers['retry-after']).to.equal('5');
    expect(JSON.parse(answer.body)).to.include({ status: 503, code: 'BROKER_UNAVAILABLE' });
    // Any publish failure, not only BrokerUnavailableError.
    broker.failWith = new TypeError('unexpected');
    const adyen = await post(`${url}/callbacks/adyen-sim`, adyenNotification('2', ADYEN_KEY), {
      'content-type': 'application/json',
    });
    expect(adyen.status).to.equal(503);
  });

  it('answers only after the publish resolved', async () => {
    broker.delayMs = 300;
    const payload = stripeEvent('pi_slow');
    const started = Date.now();
    const answer = await post(`${url}/callbacks/stripe-sim`, payload, stripeHeaders(payload));
    expect(answer.status).to.equal(200);
    expect(Date.now() - started).to.be.at.least(290);
  });

  it('503 when the provider has no secret configured (fail closed, the provider retries)', async () => {
    await start({ secrets: { 'stripe-sim': [] } });
    const payload = stripeEvent('pi_nocfg');
    const answer = await post(`${url}/callbacks/stripe-sim`, payload, stripeHeaders(payload));
    expect(answer.status).to.equal(503);
    expect(JSON.parse(answer.body)).to.include({ code: 'PROVIDER_NOT_CONFIGURED' });
    expect(broker.published).to.have.length(0);
  });

  it('408 for a body that never finishes', async () => {
    await start({ bodyTimeoutMs: 300 });
    const answer = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${url}/callbacks/stripe-sim`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('{"partial":');
    });
    expect(answer).to.equal(408);
  });

  it('sheds load beyond maxInFlight with 503', async () => {
    await start({ maxInFlight: 1 });
    broker.delayMs = 500;
    const payload = stripeEvent('pi_busy');
    const first = post(`${url}/callbacks/stripe-sim`, payload, stripeHeaders(payload));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await post(`${url}/callbacks/stripe-sim`, payload, stripeHeaders(payload));
    expect(second.status).to.equal(503);
    expect((await first).status).to.equal(200);
  });

  it('publishes to the configured topic and counts outcomes', async () => {
    await start({ topic: 'custom.callbacks' });
    const payload = stripeEvent('pi_topic');
    await post(`${url}/callbacks/stripe-sim`, payload, stripeHeaders(payload));
    await post(`${url}/callbacks/stripe-sim`, payload, stripeHeaders(payload, 'whsec_wrong'));
    expect(broker.published.map((p) => p.topic)).to.deep.equal(['custom.callbacks']);
    const metrics = await registry.metrics();
    expect(metrics).to.include('provider_callbacks_total{provider="stripe-sim",outcome="accepted"} 1');
    expect(metrics).to.include(
      'provider_callbacks_total{provider="stripe-sim",outcome="rejected-signature"} 1',
    );
  });
});

describe('provider gateway architecture', () => {
  it('imports nothing that reaches the database (it must work while the database is down)', () => {
    const dir = path.resolve(import.meta.dirname, '../../gateway/provider');
    const forbidden =
      /from\s+['"](?:knex|pg|@electric-sql\/pglite|knex-pglite|[./]*(?:adapters\/db|core\/db|core\/outbox|core\/inbox|core\/failed-events)[^'"]*)['"]/;
    const files = readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.ts'));
    expect(files.length).to.be.greaterThan(3);
    for (const file of files) {
      const source = readFileSync(path.join(dir, file), 'utf8');
      expect(forbidden.test(source), `${file} imports a database module`).to.equal(false);
      for (const match of source.matchAll(/from\s+['"](\.[^'"]+)['"]/g)) {
        const target = path.resolve(dir, path.dirname(file), match[1]!);
        const allowed = [
          dir,
          path.resolve(dir, '../../core/broker'),
          path.resolve(dir, '../../core/errors.js'),
          path.resolve(dir, '../../core/logger.js'),
          path.resolve(dir, '../../core/log-context.js'),
          path.resolve(dir, '../../core/http/problem.js'),
        ];
        expect(
          allowed.some((prefix) => target.startsWith(prefix)),
          `${file} imports ${match[1]}`,
        ).to.equal(true);
      }
    }
  });
});
