/**
 * Coalesced publishes on a real Kafka broker (TEST_KAFKA_BROKERS): concurrent `publish` calls share
 * produce requests. What callers rely on: every publish that resolved is on the topic, one key's
 * messages keep publish-call order (across topics and batch boundaries too), and a request that fails
 * rejects every caller in it — also under load through a broker outage, where a resolved publish must
 * still mean "stored".
 */
import { expect } from 'chai';
import net from 'node:net';
import { createKafkaTransport, type KafkaTransportOptions } from '../../adapters/broker/kafka/index.js';
import type {
  DeliveredMessage,
  OutgoingMessage,
  Transport,
  TransportConsumer,
} from '../../core/broker/index.js';
import { BrokerUnavailableError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { backendEnv, requireBackend, uniqueName } from '../support/backends.js';
import { eventually } from '../support/eventually.js';
import { startKafkaProxy } from '../support/kafka-proxy.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const message = (key: string, value: string): OutgoingMessage => ({ key, value: Buffer.from(value) });

/** Kafka request framing: int32 size, int16 api key (0 = Produce). kafkajs writes one request per write. */
const PRODUCE = 0;

describe('Kafka transport, coalesced publishes (real broker)', function () {
  this.timeout(60_000);
  let brokers: string[];
  const transports: Transport[] = [];
  const consumers: TransportConsumer[] = [];
  const proxies: TcpProxy[] = [];

  before(function () {
    requireBackend(this, 'Kafka (TEST_KAFKA_BROKERS)', !!backendEnv.kafkaBrokers);
    brokers = backendEnv.kafkaBrokers!;
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop(500).catch(() => undefined)));
    await Promise.all(transports.splice(0).map((t) => t.close().catch(() => undefined)));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });

  function newTransport(overrides: Partial<KafkaTransportOptions> = {}): Transport {
    const transport = createKafkaTransport({
      brokers,
      clientId: 'kafka-coalescing-test',
      partitions: 4,
      logger: silentLogger,
      sessionTimeoutMs: 6_000,
      rebalanceTimeoutMs: 6_000,
      heartbeatIntervalMs: 300,
      maxWaitTimeMs: 100,
      commitIntervalMs: 50,
      ...overrides,
    });
    transports.push(transport);
    return transport;
  }

  /** Every message of `topic`, by a fresh consumer group, until `count` arrived (then a little longer). */
  async function readAll(topic: string, count: number): Promise<DeliveredMessage[]> {
    const seen: DeliveredMessage[] = [];
    const consumer = await newTransport().consume(
      { topic, group: uniqueName('coalescing-reader'), concurrency: 16 },
      async (m) => void seen.push(m),
    );
    consumers.push(consumer);
    await eventually(() => seen.length >= count, 30_000, `${count} messages on ${topic}`);
    await delay(300);
    return seen;
  }

  const byKey = (messages: readonly DeliveredMessage[], key: string) =>
    messages.filter((m) => m.key === key).map((m) => m.value.toString());

  it('carries 300 concurrent publishes in a few produce requests; each resolves once stored and is consumed once', async () => {
    let produceRequests = 0;
    const transport = newTransport({
      socketFactory: ({ host, port, onConnect }) => {
        const socket = net.connect({ host, port }, onConnect);
        const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
        socket.write = ((chunk: unknown, ...rest: unknown[]) => {
          if (Buffer.isBuffer(chunk) && chunk.length >= 6 && chunk.readInt16BE(4) === PRODUCE)
            produceRequests++;
          return write(chunk, ...rest);
        }) as typeof socket.write;
        return socket;
      },
    });
    const topic = uniqueName('kc-many');
    await transport.ensureTopics([topic]);
    const values = Array.from({ length: 300 }, (_, i) => `m-${i}`);
    const results = await Promise.allSettled(
      values.map((v, i) => transport.publish(topic, [message(`tx-${i % 30}`, v)])),
    );
    expect(results.filter((r) => r.status === 'rejected')).to.have.length(0);
    expect(produceRequests, 'concurrent publishes share produce requests').to.be.within(1, 30);
    const seen = await readAll(topic, values.length);
    expect(seen.map((m) => m.value.toString()).sort()).to.deep.equal([...values].sort());
  });

  it('keeps publish-call order per key across batch boundaries and topics', async () => {
    // Small batches, so the calls below span many produce requests.
    const transport = newTransport({ publishBatchMaxMessages: 16 });
    const [first, second] = [uniqueName('kc-order-a'), uniqueName('kc-order-b')];
    await transport.ensureTopics([first, second]);
    const keys = 12;
    const perKey = 25;
    const calls: Array<Promise<void>> = [];
    // Three waves: one in the same tick, then two more while earlier batches are in flight.
    for (const [from, to] of [
      [0, 10],
      [10, 18],
      [18, perKey],
    ] as const) {
      for (let seq = from; seq < to; seq++) {
        for (let k = 0; k < keys; k++) {
          const topic = k % 2 === 0 ? first : second;
          calls.push(
            transport.publish(
              topic,
              seq % 7 === 6
                ? [message(`k${k}`, `${seq}a`), message(`k${k}`, `${seq}b`)]
                : [message(`k${k}`, String(seq))],
            ),
          );
        }
      }
      await delay(5);
    }
    await Promise.all(calls);
    const expected = Array.from({ length: perKey }, (_, seq) =>
      seq % 7 === 6 ? [`${seq}a`, `${seq}b`] : [String(seq)],
    ).flat();
    const half = (keys / 2) * expected.length;
    const [onFirst, onSecond] = await Promise.all([readAll(first, half), readAll(second, half)]);
    for (let k = 0; k < keys; k++) {
      expect(byKey(k % 2 === 0 ? onFirst : onSecond, `k${k}`), `k${k}`).to.deep.equal(expected);
    }
  });

  it('rejects every caller of a produce request that fails, and publishes again once the broker is back', async () => {
    const [host, port] = brokers[0]!.split(':');
    const proxy = await startKafkaProxy({ host: host!, port: Number(port) });
    proxies.push(proxy);
    const transport = newTransport({
      brokers: [`127.0.0.1:${proxy.port}`],
      connectionTimeoutMs: 500,
      requestTimeoutMs: 2_000,
      publishTimeoutMs: 8_000,
    });
    const topic = uniqueName('kc-fail');
    await transport.ensureTopics([topic]);
    await transport.publish(topic, [message('k', 'before')]);

    await proxy.refuse();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => transport.publish(topic, [message(`k${i % 4}`, `lost-${i}`)])),
    );
    expect(results.map((r) => r.status)).to.deep.equal(Array(20).fill('rejected'));
    for (const result of results) {
      expect((result as PromiseRejectedResult).reason).to.be.instanceOf(BrokerUnavailableError);
    }

    await proxy.restore();
    await transport.publish(topic, [message('k', 'after')]);
    const seen = await readAll(topic, 2);
    expect(seen.map((m) => m.value.toString())).to.deep.equal(['before', 'after']);
  });

  it('under load through a broker outage, every publish that resolved is on the topic', async () => {
    const [host, port] = brokers[0]!.split(':');
    const proxy = await startKafkaProxy({ host: host!, port: Number(port) });
    proxies.push(proxy);
    const transport = newTransport({
      brokers: [`127.0.0.1:${proxy.port}`],
      connectionTimeoutMs: 500,
      requestTimeoutMs: 2_000,
      publishTimeoutMs: 3_000,
    });
    const topic = uniqueName('kc-outage');
    await transport.ensureTopics([topic]);
    const resolved: string[] = [];
    let rejected = 0;
    let next = 0;
    let stop = false;
    const publisher = async (id: number) => {
      while (!stop) {
        const value = `p${id}-${next++}`;
        try {
          await transport.publish(topic, [message(`tx-${id}`, value)]);
          resolved.push(value);
        } catch (error) {
          expect(error).to.be.instanceOf(BrokerUnavailableError);
          rejected++;
          await delay(50);
        }
      }
    };
    const publishers = Array.from({ length: 24 }, (_, id) => publisher(id));
    try {
      await eventually(() => resolved.length >= 200, 20_000, '200 publishes before the outage');
      await proxy.refuse();
      await eventually(() => rejected >= 24, 20_000, 'publishes rejected during the outage');
      await proxy.restore();
      const atRestore = resolved.length;
      await eventually(() => resolved.length >= atRestore + 200, 30_000, '200 publishes after the outage');
    } finally {
      stop = true;
      await Promise.all(publishers);
    }
    const seen = new Set((await readAll(topic, resolved.length)).map((m) => m.value.toString()));
    expect(
      resolved.filter((v) => !seen.has(v)),
      'resolved but not stored',
    ).to.deep.equal([]);
  });
});
