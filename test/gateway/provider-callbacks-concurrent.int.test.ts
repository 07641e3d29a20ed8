/**
 * The Provider Gateway under concurrent callbacks, with its publishes coalesced by the broker adapter
 * (docs/decisions/0024-coalesced-broker-publishes.md): what a provider relies on is that a 2xx answer
 * means its callback is stored, however many arrive at once and whatever the broker does meanwhile.
 * Real HTTP, real stripe-sim signatures, real brokers (Kafka, and the embedded log on PGlite).
 */
import { expect } from 'chai';
import Koa from 'koa';
import { randomBytes } from 'node:crypto';
import { createEmbeddedTransport } from '../../adapters/broker/embedded/index.js';
import { createKafkaTransport, type KafkaTransportOptions } from '../../adapters/broker/kafka/index.js';
import { EventBus, type Transport } from '../../core/broker/index.js';
import { silentLogger } from '../../core/logger.js';
import {
  decodeProviderCallback,
  providerGatewayRoutes,
  signStripeSim,
} from '../../gateway/provider/index.js';
import { listen } from '../../platform/http-server.js';
import { backendEnv, requireBackend, uniqueName } from '../support/backends.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { eventually } from '../support/eventually.js';
import { startKafkaProxy } from '../support/kafka-proxy.js';

const SECRET = `whsec_${randomBytes(18).toString('base64')}`;

/** A signed `payment_intent.succeeded` for `paymentIntent`; resolves with the HTTP status. */
async function sendCallback(baseUrl: string, paymentIntent: string): Promise<number> {
  const body = JSON.stringify({
    id: `evt_${paymentIntent}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    data: { object: { id: paymentIntent, object: 'payment_intent', amount: 1000, currency: 'eur' } },
  });
  const response = await fetch(`${baseUrl}/callbacks/stripe-sim`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': signStripeSim(body, [SECRET], new Date()),
    },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

interface Harness {
  url: string;
  /** References of every callback on the topic, read by a fresh consumer group. */
  stored(atLeast: number): Promise<Set<string>>;
  close(): Promise<void>;
}

async function startGateway(newTransport: () => Transport, publishTimeoutMs = 10_000): Promise<Harness> {
  const topic = uniqueName('callbacks-concurrent');
  const bus = new EventBus({ transport: newTransport(), logger: silentLogger, publishTimeoutMs });
  await bus.start();
  await bus.ensureTopics([topic]);
  const app = new Koa();
  const routes = providerGatewayRoutes({
    broker: bus,
    secrets: { 'stripe-sim': [SECRET] },
    logger: silentLogger,
    topic,
  });
  app.use(routes.routes()).use(routes.allowedMethods());
  const server = await listen(app, '127.0.0.1', 0);
  const readers: EventBus[] = [];
  return {
    url: server.url,
    async stored(atLeast) {
      const references = new Set<string>();
      const reader = new EventBus({ transport: newTransport(), logger: silentLogger });
      readers.push(reader);
      await reader.subscribe(
        { topic, group: uniqueName('reader'), runDelayScheduler: false, concurrency: 16 },
        async (message) => void references.add(decodeProviderCallback(message.value).reference ?? ''),
      );
      await eventually(() => references.size >= atLeast, 30_000, `${atLeast} callbacks on the topic`);
      return references;
    },
    async close() {
      await server.close();
      await Promise.all([bus, ...readers].map((b) => b.stop(1_000).catch(() => undefined)));
    },
  };
}

describe('provider gateway, concurrent callbacks', function () {
  this.timeout(90_000);

  describe('on Kafka', () => {
    let brokers: string[];
    const kafka =
      (overrides: Partial<KafkaTransportOptions> = {}) =>
      () =>
        createKafkaTransport({
          brokers,
          clientId: 'gateway-concurrent-test',
          partitions: 4,
          logger: silentLogger,
          sessionTimeoutMs: 6_000,
          rebalanceTimeoutMs: 6_000,
          heartbeatIntervalMs: 300,
          maxWaitTimeMs: 100,
          ...overrides,
        });

    before(function () {
      requireBackend(this, 'Kafka (TEST_KAFKA_BROKERS)', !!backendEnv.kafkaBrokers);
      brokers = backendEnv.kafkaBrokers!;
    });

    it('answers 100 concurrent callbacks 200, each stored on the topic', async () => {
      const gateway = await startGateway(kafka());
      try {
        const references = Array.from({ length: 100 }, (_, i) => `pi_kc_${i}`);
        const statuses = await Promise.all(references.map((r) => sendCallback(gateway.url, r)));
        expect(statuses).to.deep.equal(references.map(() => 200));
        const stored = await gateway.stored(references.length);
        expect(references.filter((r) => !stored.has(r))).to.deep.equal([]);
      } finally {
        await gateway.close();
      }
    });

    it('through a broker outage, answers 503 or 200, and every callback answered 200 is stored', async () => {
      const [host, port] = brokers[0]!.split(':');
      const proxy = await startKafkaProxy({ host: host!, port: Number(port) });
      const viaProxy = kafka({
        brokers: [`127.0.0.1:${proxy.port}`],
        connectionTimeoutMs: 500,
        requestTimeoutMs: 2_000,
        publishTimeoutMs: 3_000,
      });
      const gateway = await startGateway(viaProxy, 3_000);
      const accepted: string[] = [];
      const statuses = new Map<number, number>();
      let next = 0;
      let stop = false;
      const provider = async () => {
        while (!stop) {
          const reference = `pi_outage_${next++}`;
          const status = await sendCallback(gateway.url, reference);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 200) accepted.push(reference);
          else await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      const providers = Array.from({ length: 16 }, provider);
      try {
        await eventually(() => accepted.length >= 100, 20_000, '100 callbacks accepted before the outage');
        await proxy.refuse();
        await eventually(() => (statuses.get(503) ?? 0) >= 16, 20_000, '503s during the outage');
        await proxy.restore();
        const atRestore = accepted.length;
        await eventually(() => accepted.length >= atRestore + 100, 30_000, '100 accepted after the outage');
        stop = true;
        await Promise.all(providers);
        expect([...statuses.keys()].sort()).to.deep.equal([200, 503]);
        const stored = await gateway.stored(accepted.length);
        expect(
          accepted.filter((r) => !stored.has(r)),
          'answered 200 but not stored',
        ).to.deep.equal([]);
      } finally {
        stop = true;
        await Promise.all(providers);
        await gateway.close();
        await proxy.close();
      }
    });
  });

  describe('on the embedded log (PGlite)', () => {
    let test: TestDatabase;

    before(async function () {
      test = await createTestDatabase('pglite', this);
    });
    after(async () => {
      await test?.release();
    });

    it('answers 100 concurrent callbacks 200, each stored on the topic', async () => {
      const gateway = await startGateway(() =>
        createEmbeddedTransport({
          database: test.database,
          partitions: 4,
          logger: silentLogger,
          pollIntervalMs: 250,
        }),
      );
      try {
        const references = Array.from({ length: 100 }, (_, i) => `pi_ec_${i}`);
        const statuses = await Promise.all(references.map((r) => sendCallback(gateway.url, r)));
        expect(statuses).to.deep.equal(references.map(() => 200));
        const stored = await gateway.stored(references.length);
        expect(references.filter((r) => !stored.has(r))).to.deep.equal([]);
      } finally {
        await gateway.close();
      }
    });
  });
});
