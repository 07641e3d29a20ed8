/**
 * The Provider Gateway end to end on every real broker: a real Koa server on an ephemeral port, real
 * HTTP, callbacks signed with the providers' own libraries (`stripe`, `@adyen/api-library`), and the
 * raw callback read back from `payments.provider-callbacks.v1`-style topics by a consumer group declared
 * before the first callback. Plus: a broker that is down answers 503 within the publish timeout.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { hmacValidator as HmacValidator } from '@adyen/api-library';
import { expect } from 'chai';
import Koa from 'koa';
import Stripe from 'stripe';
import { createEmbeddedTransport } from '../../adapters/broker/embedded/index.js';
import { createKafkaTransport } from '../../adapters/broker/kafka/index.js';
import { createPubSubTransport } from '../../adapters/broker/pubsub/index.js';
import { EventBus, type DeliveredMessage, type Transport } from '../../core/broker/index.js';
import { requestContext } from '../../core/http/request-context.js';
import { silentLogger } from '../../core/logger.js';
import {
  decodeProviderCallback,
  providerGatewayRoutes,
  type ProviderCallbackEnvelope,
} from '../../gateway/provider/index.js';
import { listen } from '../../platform/http-server.js';
import { backendEnv, requireBackend, uniqueName } from '../support/backends.js';
import { createTestDatabase } from '../support/database.js';
import { RecordingLogger } from '../support/recording-logger.js';

type AdyenItem = Parameters<HmacValidator['validateHMAC']>[0];

const STRIPE_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const ADYEN_KEY = randomBytes(32).toString('hex').toUpperCase();
const SECRETS = { 'stripe-sim': [STRIPE_SECRET], 'adyen-sim': [ADYEN_KEY] };
const adyenLib = new HmacValidator();

interface HttpAnswer {
  status: number;
  contentType: string | undefined;
  requestId: string | string[] | undefined;
  body: string;
}

/** POST with node:http, tolerating a server that answers (413) and closes while we still send. */
function post(url: string, body: Buffer | string, headers: Record<string, string>): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          requestId: res.headers['x-request-id'],
          body: Buffer.concat(parts).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    req.end(body);
  });
}

/** A Stripe event with odd bytes in it, so "raw body intact" means something. */
function stripePayload(paymentIntent: string): string {
  const event = {
    id: `evt_${randomBytes(6).toString('hex')}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    data: {
      object: {
        id: paymentIntent,
        object: 'payment_intent',
        amount: 1130,
        currency: 'eur',
        description: 'Zürich café — 10 € \u2028 😀',
      },
    },
  };
  return `${JSON.stringify(event, null, 2)}\n`;
}

function stripeSigned(payload: string, secret = STRIPE_SECRET): Record<string, string> {
  return {
    'content-type': 'application/json; charset=utf-8',
    'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret }),
  };
}

function adyenPayload(pspReference: string, key = ADYEN_KEY): string {
  const item = {
    pspReference,
    originalReference: '',
    merchantAccountCode: 'DemoMerchantECOM',
    merchantReference: `tx_${pspReference}`,
    amount: { value: 1130, currency: 'EUR' },
    eventCode: 'AUTHORISATION',
    success: 'true',
    eventDate: '2026-11-24T12:00:00+01:00',
  };
  const hmacSignature = adyenLib.calculateHmac(item as unknown as AdyenItem, key);
  return JSON.stringify({
    live: 'false',
    notificationItems: [{ NotificationRequestItem: { ...item, additionalData: { hmacSignature } } }],
  });
}

async function eventually(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface Target {
  /** Skips (or fails, with REQUIRE_REAL_BACKENDS=1) when the backend is not configured. */
  prepare(context: Mocha.Context): Promise<void>;
  newTransport(): Transport;
  release?(): Promise<void>;
}

function gatewayOnBroker(name: string, target: Target): void {
  describe(`provider gateway on ${name}`, function () {
    this.timeout(120_000);
    const topic = uniqueName('provider-callbacks');
    const group = 'processor-test';
    const buses: EventBus[] = [];
    const received: Array<{
      message: DeliveredMessage;
      envelope: ProviderCallbackEnvelope & { body: Buffer };
    }> = [];
    let gatewayBus: EventBus;
    let publishes = 0;
    const logs = new RecordingLogger();
    let url: string;
    let close: (() => Promise<void>) | undefined;

    const newBus = async () => {
      const bus = new EventBus({
        transport: target.newTransport(),
        logger: silentLogger,
        publishTimeoutMs: 15_000,
        stopTimeoutMs: 5_000,
      });
      await bus.start();
      buses.push(bus);
      return bus;
    };

    before(async function () {
      await target.prepare(this);
      gatewayBus = await newBus();
      // The processor's subscription exists before the first callback (Pub/Sub drops messages
      // published to a topic nobody subscribes to).
      await gatewayBus.ensureSubscription(topic, group);
      const consumerBus = await newBus();
      await consumerBus.subscribe({ topic, group, runDelayScheduler: false }, async (message) => {
        received.push({ message, envelope: decodeProviderCallback(message.value) });
      });
      const app = new Koa();
      const router = providerGatewayRoutes({
        broker: {
          publish: (...args) => {
            publishes++;
            return gatewayBus.publish(...args);
          },
        },
        secrets: SECRETS,
        logger: logs,
        topic,
      });
      app.use(requestContext()); // as the platform mounts it
      app.use(router.routes()).use(router.allowedMethods());
      ({ url, close } = await listen(app, '127.0.0.1', 0));
    });

    after(async () => {
      await close?.();
      await Promise.all(buses.splice(0).map((bus) => bus.stop(2_000).catch(() => undefined)));
      await target.release?.();
    });

    it('stripe-sim: a signed callback is answered {"received":true} and is on the topic, raw body intact', async () => {
      const reference = `pi_${randomBytes(6).toString('hex')}`;
      const payload = stripePayload(reference);
      const headers = stripeSigned(payload);
      const answer = await post(`${url}/callbacks/stripe-sim`, payload, headers);
      expect(answer.status).to.equal(200);
      expect(answer.contentType).to.match(/^application\/json/);
      expect(JSON.parse(answer.body)).to.deep.equal({ received: true });

      await eventually(
        () => received.some((r) => r.envelope.reference === reference),
        60_000,
        'stripe callback',
      );
      const { message, envelope } = received.find((r) => r.envelope.reference === reference)!;
      expect(message.key).to.equal(reference);
      expect(message.headers).to.include({ provider: 'stripe-sim', 'callback-id': envelope.callbackId });
      // The request's log lines name the callback: its id is the one on the topic.
      const accepted = logs.find('provider callback accepted').find((line) => line.reference === reference);
      expect(accepted).to.include({ provider: 'stripe-sim', callbackId: envelope.callbackId });
      expect(accepted!.requestId).to.equal(answer.requestId);
      expect(envelope.provider).to.equal('stripe-sim');
      expect(envelope.body.equals(Buffer.from(payload, 'utf8')), 'raw body byte for byte').to.equal(true);
      expect(envelope.headers).to.deep.equal(headers);
      // What is on the topic can be re-verified by the consumer with the provider's own library.
      const event = Stripe.webhooks.constructEvent(
        envelope.body,
        envelope.headers['stripe-signature']!,
        STRIPE_SECRET,
      );
      expect((event.data.object as { id: string }).id).to.equal(reference);
    });

    it('adyen-sim: a signed notification is answered [accepted] and is on the topic, raw body intact', async () => {
      const psp = String(Date.now()) + randomBytes(2).readUInt16BE(0);
      const payload = adyenPayload(psp);
      const answer = await post(`${url}/callbacks/adyen-sim`, payload, {
        'content-type': 'application/json',
      });
      expect(answer.status).to.equal(200);
      expect(answer.contentType).to.match(/^text\/plain/);
      expect(answer.body).to.equal('[accepted]');

      await eventually(() => received.some((r) => r.envelope.reference === psp), 60_000, 'adyen callback');
      const { message, envelope } = received.find((r) => r.envelope.reference === psp)!;
      expect(message.key).to.equal(psp);
      expect(envelope.body.toString('utf8')).to.equal(payload);
      const item = (
        JSON.parse(envelope.body.toString('utf8')) as {
          notificationItems: Array<{ NotificationRequestItem: AdyenItem }>;
        }
      ).notificationItems[0]!.NotificationRequestItem;
      expect(adyenLib.validateHMAC(item, ADYEN_KEY)).to.equal(true);
    });

    it('a forged signature is 401 and nothing is published; a duplicate is accepted twice', async () => {
      const forgedRef = `pi_forged_${randomBytes(4).toString('hex')}`;
      const forgedPayload = stripePayload(forgedRef);
      const before = publishes;
      const forged = await post(
        `${url}/callbacks/stripe-sim`,
        forgedPayload,
        stripeSigned(forgedPayload, 'whsec_attacker'),
      );
      expect(forged.status).to.equal(401);
      expect(JSON.parse(forged.body)).to.include({ code: 'SIGNATURE_INVALID' });
      const forgedAdyen = await post(
        `${url}/callbacks/adyen-sim`,
        adyenPayload('666', randomBytes(32).toString('hex')),
        {
          'content-type': 'application/json',
        },
      );
      expect(forgedAdyen.status).to.equal(401);
      expect(publishes, 'no publish attempted for forged callbacks').to.equal(before);

      // A provider retry of the same callback: both are taken (the processor dedupes), in order per key.
      const sentinelRef = `pi_sentinel_${randomBytes(4).toString('hex')}`;
      const sentinel = stripePayload(sentinelRef);
      const headers = stripeSigned(sentinel);
      expect((await post(`${url}/callbacks/stripe-sim`, sentinel, headers)).status).to.equal(200);
      expect((await post(`${url}/callbacks/stripe-sim`, sentinel, headers)).status).to.equal(200);
      await eventually(
        () => received.filter((r) => r.envelope.reference === sentinelRef).length === 2,
        60_000,
        'both deliveries of the duplicated callback',
      );
      const twins = received.filter((r) => r.envelope.reference === sentinelRef);
      expect(new Set(twins.map((t) => t.envelope.callbackId)).size).to.equal(2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(
        received.some((r) => r.envelope.reference === forgedRef || r.envelope.reference === '666'),
      ).to.equal(false);
    });

    it('413 for a huge body, and nothing is published', async () => {
      const before = publishes;
      const huge = Buffer.alloc(1024 * 1024, 0x20);
      const answer = await post(`${url}/callbacks/stripe-sim`, huge, {
        'content-type': 'application/json',
        'content-length': String(huge.length),
      });
      expect(answer.status).to.equal(413);
      expect(publishes).to.equal(before);
    });
  });
}

const embeddedTarget = (driver: 'pglite' | 'postgres'): Target => {
  let release: (() => Promise<void>) | undefined;
  let database: Awaited<ReturnType<typeof createTestDatabase>>['database'];
  return {
    async prepare(context) {
      ({ database, release } = await createTestDatabase(driver, context));
    },
    newTransport: () =>
      createEmbeddedTransport({
        database,
        partitions: 4,
        logger: silentLogger,
        pollIntervalMs: 200,
        leaseMs: 3_000,
      }),
    release: () => release?.() ?? Promise.resolve(),
  };
};

gatewayOnBroker('the embedded log on PGlite', embeddedTarget('pglite'));
gatewayOnBroker('the embedded log on PostgreSQL', embeddedTarget('postgres'));
gatewayOnBroker('Kafka', {
  async prepare(context) {
    requireBackend(context, 'Kafka (TEST_KAFKA_BROKERS)', !!backendEnv.kafkaBrokers);
  },
  newTransport: () =>
    createKafkaTransport({
      brokers: backendEnv.kafkaBrokers!,
      clientId: 'provider-gateway-test',
      partitions: 4,
      logger: silentLogger,
    }),
});
gatewayOnBroker('Google Pub/Sub (emulator)', {
  async prepare(context) {
    requireBackend(context, 'Pub/Sub emulator (TEST_PUBSUB_EMULATOR_HOST)', !!backendEnv.pubsubEmulatorHost);
  },
  newTransport: () =>
    createPubSubTransport({
      projectId: 'provider-gateway-test',
      emulatorHost: backendEnv.pubsubEmulatorHost!,
      logger: silentLogger,
    }),
});

describe('provider gateway with the broker down', function () {
  this.timeout(30_000);
  const PUBLISH_TIMEOUT_MS = 1_500;

  async function expect503Quickly(bus: EventBus): Promise<void> {
    const app = new Koa();
    const router = providerGatewayRoutes({ broker: bus, secrets: SECRETS, logger: silentLogger });
    app.use(router.routes()).use(router.allowedMethods());
    const server = await listen(app, '127.0.0.1', 0);
    try {
      const payload = stripePayload('pi_down');
      const started = Date.now();
      const stripe = await post(`${server.url}/callbacks/stripe-sim`, payload, stripeSigned(payload));
      const elapsed = Date.now() - started;
      expect(stripe.status).to.equal(503);
      expect(stripe.contentType).to.match(/^application\/problem\+json/);
      expect(JSON.parse(stripe.body)).to.include({ status: 503, code: 'BROKER_UNAVAILABLE' });
      expect(elapsed, 'bounded by the publish timeout').to.be.below(PUBLISH_TIMEOUT_MS + 1_500);
      const adyen = await post(`${server.url}/callbacks/adyen-sim`, adyenPayload('1'), {
        'content-type': 'application/json',
      });
      expect(adyen.status).to.equal(503);
      expect(adyen.body).to.not.include('[accepted]');
    } finally {
      await server.close();
      await bus.stop(100).catch(() => undefined);
    }
  }

  it('Kafka unreachable (127.0.0.1:1): 503 within the publish timeout', async () => {
    await expect503Quickly(
      new EventBus({
        transport: createKafkaTransport({
          brokers: ['127.0.0.1:1'],
          clientId: 'provider-gateway-down',
          partitions: 1,
          logger: silentLogger,
        }),
        logger: silentLogger,
        publishTimeoutMs: PUBLISH_TIMEOUT_MS,
      }),
    );
  });

  it('Pub/Sub unreachable (127.0.0.1:1): 503 within the publish timeout', async () => {
    await expect503Quickly(
      new EventBus({
        transport: createPubSubTransport({
          projectId: 'provider-gateway-down',
          emulatorHost: '127.0.0.1:1',
          logger: silentLogger,
        }),
        logger: silentLogger,
        publishTimeoutMs: PUBLISH_TIMEOUT_MS,
      }),
    );
  });

  it('embedded broker stopped (e.g. draining): 503', async function () {
    const { database, release } = await createTestDatabase('pglite', this);
    try {
      const bus = new EventBus({
        transport: createEmbeddedTransport({ database, partitions: 1, logger: silentLogger }),
        logger: silentLogger,
        publishTimeoutMs: PUBLISH_TIMEOUT_MS,
      });
      await bus.start();
      await bus.stop(100);
      await expect503Quickly(bus);
    } finally {
      await release();
    }
  });
});
