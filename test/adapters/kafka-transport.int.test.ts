/**
 * The Kafka transport against a real broker (TEST_KAFKA_BROKERS, Kafka 4.3.1 KRaft in CI): durable
 * publish, per-key order, group membership, redelivery, stop semantics and bounded failure when the
 * broker is unreachable. Every test uses its own topics and groups.
 */
import { expect } from 'chai';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import net from 'node:net';
import { createKafkaTransport, type KafkaTransportOptions } from '../../adapters/broker/kafka/index.js';
import { kafkaLogCreator } from '../../adapters/broker/kafka/log-adapter.js';
import type {
  DeliveredMessage,
  DeliveryHandler,
  Transport,
  TransportConsumer,
} from '../../core/broker/index.js';
import { BrokerUnavailableError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { backendEnv, requireBackend, uniqueName } from '../support/backends.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await delay(20);
  }
}

/** A logger that keeps every line, to check what reaches the logs. */
function capturingLogger(): Logger & { lines: Array<{ level: string; message: string; meta: unknown }> } {
  const lines: Array<{ level: string; message: string; meta: unknown }> = [];
  const logger = {
    lines,
    debug: (message: string, meta?: unknown) => void lines.push({ level: 'debug', message, meta }),
    info: (message: string, meta?: unknown) => void lines.push({ level: 'info', message, meta }),
    warn: (message: string, meta?: unknown) => void lines.push({ level: 'warn', message, meta }),
    error: (message: string, meta?: unknown) => void lines.push({ level: 'error', message, meta }),
    child: () => logger,
  };
  return logger;
}

describe('Kafka transport (real broker)', function () {
  this.timeout(30_000);
  let brokers: string[];
  let admin: Admin;
  const transports: Transport[] = [];
  const consumers: TransportConsumer[] = [];

  /** Test timings: the broker's minimum session timeout, quick heartbeats and commits. */
  function newTransport(overrides: Partial<KafkaTransportOptions> = {}): Transport {
    const transport = createKafkaTransport({
      brokers,
      clientId: 'kafka-transport-test',
      partitions: 4,
      logger: silentLogger,
      sessionTimeoutMs: 6_000,
      rebalanceTimeoutMs: 6_000,
      heartbeatIntervalMs: 300,
      maxWaitTimeMs: 100,
      metadataMaxAgeMs: 5_000,
      commitIntervalMs: 50,
      ...overrides,
    });
    transports.push(transport);
    return transport;
  }

  async function consume(
    transport: Transport,
    spec: { topic: string; group: string; concurrency?: number },
    handler: DeliveryHandler,
  ): Promise<TransportConsumer> {
    const consumer = await transport.consume({ concurrency: 8, ...spec }, handler);
    consumers.push(consumer);
    return consumer;
  }

  async function committed(topic: string, group: string): Promise<Map<number, bigint>> {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  }

  before(async function () {
    requireBackend(this, 'Kafka (TEST_KAFKA_BROKERS)', !!backendEnv.kafkaBrokers);
    brokers = backendEnv.kafkaBrokers!;
    admin = new Kafka({
      clientId: 'kafka-transport-test-admin',
      brokers,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop(500).catch(() => undefined)));
    await Promise.all(transports.splice(0).map((transport) => transport.close().catch(() => undefined)));
  });

  after(async () => {
    await admin?.disconnect();
  });

  it('publishes and delivers key, value and headers', async () => {
    const topic = uniqueName('kt-roundtrip');
    const transport = newTransport();
    await transport.connect();
    await transport.ensureTopics([topic]);
    await transport.ensureTopics([topic]); // idempotent
    const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i)); // every byte value
    const before = Date.now();
    await transport.publish(topic, [
      { key: 'tx-1', value, headers: { 'event-type': 'DepositRequested', 'x-unicode': 'naïve ✓' } },
      { key: 'tx-2', value: Buffer.from('second') },
    ]);
    const received: DeliveredMessage[] = [];
    await consume(transport, { topic, group: uniqueName('kt-group') }, async (m) => void received.push(m));
    await eventually(() => received.length === 2, 15_000, 'both messages');
    const first = received.find((m) => m.key === 'tx-1')!;
    expect(first.topic).to.equal(topic);
    expect(first.value.equals(value)).to.equal(true);
    expect(first.headers).to.deep.equal({ 'event-type': 'DepositRequested', 'x-unicode': 'naïve ✓' });
    expect(first.partition).to.be.a('number');
    expect(first.offset).to.match(/^\d+$/);
    expect(first.messageId).to.equal(`${first.partition}:${first.offset}`);
    expect(first.publishedAt.getTime()).to.be.within(before - 5_000, Date.now() + 5_000);
    expect(received.find((m) => m.key === 'tx-2')!.headers).to.deep.equal({});
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    expect(metadata!.partitions).to.have.length(4);
  });

  it('creates a topic once when two clients ensure it at the same time', async () => {
    const topic = uniqueName('kt-ensure');
    const a = newTransport({ partitions: 3 });
    const b = newTransport({ partitions: 3 });
    await Promise.all([a.ensureTopics([topic]), b.ensureTopics([topic]), a.ensureTopics([topic])]);
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    expect(metadata!.partitions).to.have.length(3);
    expect(metadata!.partitions.every((p) => p.leader >= 0)).to.equal(true);
    await a.publish(topic, [{ key: 'k', value: Buffer.from('right after creation') }]);
  });

  it('keeps order per key while handling different keys concurrently', async () => {
    const topic = uniqueName('kt-order');
    const transport = newTransport();
    await transport.ensureTopics([topic]);
    const keys = 20;
    const perKey = 30;
    await Promise.all(
      Array.from({ length: keys }, async (_, k) => {
        for (let start = 0; start < perKey; start += 10) {
          await transport.publish(
            topic,
            Array.from({ length: 10 }, (_, i) => ({
              key: `key-${k}`,
              value: Buffer.from(String(start + i)),
            })),
          );
        }
      }),
    );
    const seen = new Map<string, number[]>();
    const active = new Set<string>();
    let concurrent = 0;
    let maxConcurrent = 0;
    let sameKeyOverlap = false;
    let total = 0;
    await consume(transport, { topic, group: uniqueName('kt-group'), concurrency: 8 }, async (m) => {
      if (active.has(m.key)) sameKeyOverlap = true;
      active.add(m.key);
      maxConcurrent = Math.max(maxConcurrent, ++concurrent);
      await delay(Math.random() < 0.2 ? 3 : 0);
      const list = seen.get(m.key) ?? [];
      list.push(Number(m.value.toString()));
      seen.set(m.key, list);
      concurrent--;
      active.delete(m.key);
      total++;
    });
    await eventually(() => total >= keys * perKey, 20_000, `${keys * perKey} messages`);
    for (const [key, list] of seen) {
      expect(list, key).to.deep.equal(Array.from({ length: perKey }, (_, i) => i));
    }
    expect(seen.size).to.equal(keys);
    expect(sameKeyOverlap, 'a key was handled twice at once').to.equal(false);
    expect(maxConcurrent, 'different keys run concurrently').to.be.greaterThan(1);
    expect(maxConcurrent).to.be.at.most(8);
  });

  it('keeps call order for concurrent publishes of one key', async () => {
    // Plain kafkajs does not: 50 concurrent send() calls to one key land with the last two swapped.
    const topic = uniqueName('kt-call-order');
    const transport = newTransport();
    await transport.ensureTopics([topic]);
    const values = Array.from({ length: 50 }, (_, i) => String(i));
    await Promise.all(values.map((v) => transport.publish(topic, [{ key: 'tx-1', value: Buffer.from(v) }])));
    const seen: string[] = [];
    await consume(
      transport,
      { topic, group: uniqueName('kt-group') },
      async (m) => void seen.push(m.value.toString()),
    );
    await eventually(() => seen.length === 50, 15_000, 'all 50');
    expect(seen).to.deep.equal(values);
  });

  it('splits partitions between two members of a group and moves them when one leaves', async () => {
    const topic = uniqueName('kt-group');
    const group = uniqueName('kt-shared');
    const a = newTransport();
    const b = newTransport();
    await a.ensureTopics([topic]);
    const byA: DeliveredMessage[] = [];
    const byB: DeliveredMessage[] = [];
    await consume(a, { topic, group }, async (m) => void byA.push(m));
    const memberB = await consume(b, { topic, group }, async (m) => void byB.push(m));
    // Both consume() calls resolved: B joined, and the group rebalanced with A in it.
    const body = (phase: string, i: number) => ({
      key: `key-${i % 40}`,
      value: Buffer.from(`${phase}-${i}`),
    });
    await a.publish(
      topic,
      Array.from({ length: 200 }, (_, i) => body('one', i)),
    );
    const ids = (list: DeliveredMessage[], phase: string) =>
      new Set(list.map((m) => m.value.toString()).filter((v) => v.startsWith(phase)));
    await eventually(
      () => new Set([...ids(byA, 'one'), ...ids(byB, 'one')]).size === 200,
      20_000,
      'every message by one member or the other',
    );
    const partitionsA = new Set(byA.map((m) => m.partition));
    const partitionsB = new Set(byB.map((m) => m.partition));
    expect(partitionsA.size, 'A got partitions').to.be.greaterThan(0);
    expect(partitionsB.size, 'B got partitions').to.be.greaterThan(0);
    expect(
      [...partitionsA].filter((p) => partitionsB.has(p)),
      'no partition on both members',
    ).to.have.length(0);
    expect(byA.length + byB.length, 'no duplicates in a stable group').to.equal(200);

    await memberB.stop(2_000);
    await a.publish(
      topic,
      Array.from({ length: 100 }, (_, i) => body('two', i)),
    );
    await eventually(() => ids(byA, 'two').size === 100, 20_000, 'A takes over every partition');
    expect(ids(byB, 'two').size).to.equal(0);
  });

  it('loses nothing when a member joins mid-stream, and the first member hands nothing over twice', async () => {
    const topic = uniqueName('kt-rebalance');
    const group = uniqueName('kt-group');
    const a = newTransport();
    await a.ensureTopics([topic]);
    await a.publish(
      topic,
      Array.from({ length: 80 }, (_, i) => ({ key: `key-${i % 16}`, value: Buffer.from(String(i)) })),
    );
    const byA: string[] = [];
    const byB: string[] = [];
    await consume(a, { topic, group, concurrency: 4 }, async (m) => {
      await delay(60);
      byA.push(m.messageId);
    });
    await eventually(() => byA.length >= 8, 15_000, 'A is under way');
    // B joins while A has handlers running and uncommitted work in every partition.
    await consume(newTransport(), { topic, group }, async (m) => void byB.push(m.messageId));
    await eventually(() => new Set([...byA, ...byB]).size === 80, 20_000, 'all 80 handled by A or B');
    // Let A finish whatever it still has queued (a duplicate would show up here).
    for (let previous = -1; byA.length !== previous;) {
      previous = byA.length;
      await delay(400);
    }
    expect(byA.length, 'A handled no message twice (re-fetch after the rejoin is skipped)').to.equal(
      new Set(byA).size,
    );
    expect(byB.length, 'B got a share').to.be.greaterThan(0);
  });

  it('redelivers a rejected message before later messages of its key, committing nothing past it', async () => {
    const topic = uniqueName('kt-reject');
    const group = uniqueName('kt-group');
    const transport = newTransport({ partitions: 1 });
    await transport.ensureTopics([topic]);
    // One partition: offsets 0..4 are A0 A1 A2 B0 B1.
    await transport.publish(topic, [
      { key: 'A', value: Buffer.from('A0') },
      { key: 'A', value: Buffer.from('A1') },
      { key: 'A', value: Buffer.from('A2') },
      { key: 'B', value: Buffer.from('B0') },
      { key: 'B', value: Buffer.from('B1') },
    ]);
    const log: string[] = [];
    let recover = false;
    await consume(transport, { topic, group }, async (m) => {
      const v = m.value.toString();
      if (v === 'A0' && !recover) {
        log.push('A0-failed');
        throw new Error('transient');
      }
      log.push(v);
    });
    await eventually(
      () => log.includes('B1') && log.filter((e) => e === 'A0-failed').length >= 2,
      15_000,
      'B handled and A0 failed twice',
    );
    expect(
      log.filter((e) => e.startsWith('A1') || e.startsWith('A2')),
      'later A messages wait',
    ).to.have.length(0);
    await delay(200); // several commit intervals
    const whileFailing = (await committed(topic, group)).get(0) ?? -1n;
    expect(whileFailing <= 0n, `committed ${whileFailing} while offset 0 is unfinished`).to.equal(true);

    recover = true;
    await eventually(() => log.includes('A2'), 15_000, 'A recovered');
    expect(log.filter((e) => e.startsWith('A'))).to.deep.equal(
      [...log.filter((e) => e === 'A0-failed'), 'A0', 'A1', 'A2'],
      'A0 failed, then A0, A1, A2 in order',
    );
    let after = -1n;
    for (let i = 0; i < 50 && after !== 5n; i++) {
      await delay(50);
      after = (await committed(topic, group)).get(0) ?? -1n;
    }
    expect(after).to.equal(5n);
  });

  it('stays in the group while a handler runs longer than the session timeout', async function () {
    this.timeout(30_000);
    const topic = uniqueName('kt-long');
    const group = uniqueName('kt-group');
    const transport = newTransport({ partitions: 1 });
    await transport.ensureTopics([topic]);
    await transport.publish(topic, [{ key: 'slow', value: Buffer.from('slow') }]);
    const handled: string[] = [];
    await consume(transport, { topic, group }, async (m) => {
      if (m.key === 'slow') await delay(7_500); // session timeout is 6 s
      handled.push(m.value.toString());
    });
    await delay(500);
    await transport.publish(
      topic,
      Array.from({ length: 5 }, (_, i) => ({ key: `other-${i}`, value: Buffer.from(`other-${i}`) })),
    );
    await eventually(() => handled.length === 5, 5_000, 'other keys go on meanwhile');
    await eventually(() => handled.includes('slow'), 15_000, 'the slow handler finished');
    let position = -1n;
    for (let i = 0; i < 40 && position !== 6n; i++) {
      await delay(50);
      position = (await committed(topic, group)).get(0) ?? -1n;
    }
    expect(position, 'everything committed once the slow one finished').to.equal(6n);
    await delay(500);
    expect(handled, 'no rebalance: nothing delivered twice').to.have.length(6);
  });

  it('stop with a hanging handler returns in time and leaves the message to the next member', async () => {
    const topic = uniqueName('kt-hang');
    const group = uniqueName('kt-group');
    const first = newTransport();
    await first.ensureTopics([topic]);
    await first.publish(topic, [{ key: 'k', value: Buffer.from('hang') }]);
    let started = false;
    const hanging = await consume(first, { topic, group }, async () => {
      started = true;
      await new Promise(() => undefined);
    });
    await eventually(() => started, 15_000, 'first member got the message');
    const stopStarted = Date.now();
    await hanging.stop(300);
    expect(Date.now() - stopStarted, 'stop is bounded by its timeout plus leaving the group').to.be.below(
      3_000,
    );

    const second = newTransport();
    const seen: string[] = [];
    await consume(second, { topic, group }, async (m) => void seen.push(m.value.toString()));
    await eventually(() => seen.includes('hang'), 15_000, 'message delivered to the next member');
  });

  it('stop waits for running handlers and commits them', async () => {
    const topic = uniqueName('kt-drain');
    const group = uniqueName('kt-group');
    const transport = newTransport();
    await transport.ensureTopics([topic]);
    await transport.publish(
      topic,
      Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(String(i)) })),
    );
    let started = 0;
    let finished = 0;
    const consumer = await consume(transport, { topic, group, concurrency: 6 }, async () => {
      started++;
      await delay(400);
      finished++;
    });
    await eventually(() => started === 6, 15_000, 'all six handlers running');
    await consumer.stop(5_000);
    expect(finished).to.equal(6);
    expect(await transport.backlog!(topic, group)).to.equal(0);

    const again: string[] = [];
    await consume(newTransport(), { topic, group }, async (m) => void again.push(m.value.toString()));
    await delay(1_000);
    expect(again, 'nothing is delivered twice after a graceful stop').to.have.length(0);
  });

  describe('when the broker is unreachable', () => {
    it('publish to a refused address rejects within the configured timeouts, logging no message values', async () => {
      const logger = capturingLogger();
      const transport = newTransport({ brokers: ['127.0.0.1:1'], connectionTimeoutMs: 1_000, logger });
      const started = Date.now();
      let error: unknown;
      try {
        await transport.publish('kt-refused', [{ key: 'tx-secret', value: Buffer.from('VALUE-MARKER-42') }]);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).to.be.instanceOf(BrokerUnavailableError);
      expect(Date.now() - started).to.be.below(3_000);
      expect(JSON.stringify(logger.lines)).not.to.contain('VALUE-MARKER-42');
      expect(
        logger.lines.filter((l) => l.level === 'error' || l.level === 'warn'),
      ).to.have.length.greaterThan(0);
    });

    it('publish to a broker that never answers rejects at publishTimeoutMs and stops reconnecting', async () => {
      const sockets = new Set<net.Socket>();
      let connections = 0;
      const server = net.createServer((socket) => {
        connections++;
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
        socket.resume(); // read and ignore requests, never answer
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as net.AddressInfo).port;
      try {
        const transport = newTransport({
          brokers: [`127.0.0.1:${port}`],
          connectionTimeoutMs: 500,
          // kafkajs waits max(requestTimeout, connectionTimeout) for the ApiVersions handshake.
          requestTimeoutMs: 1_500,
          publishTimeoutMs: 1_000,
        });
        const started = Date.now();
        let error: unknown;
        try {
          await transport.publish('kt-silent', [{ key: 'k', value: Buffer.from('x') }]);
        } catch (thrown) {
          error = thrown;
        }
        const elapsed = Date.now() - started;
        expect(error).to.be.instanceOf(BrokerUnavailableError);
        expect(elapsed).to.be.within(900, 2_000);
        await transport.close();
        // The abandoned producer must stop dialling: kafkajs' own bounded retry may open one more
        // connection, then every connection is closed and none follow.
        let lastCount = connections;
        let quietSince = Date.now();
        await eventually(
          () => {
            if (connections !== lastCount) [lastCount, quietSince] = [connections, Date.now()];
            return sockets.size === 0 && Date.now() - quietSince > 2_000;
          },
          15_000,
          'no open connection and no new one for 2 s',
        );
        const settled = connections;
        expect(settled).to.be.at.most(3);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('producer and consumer recover once the broker is reachable again', async function () {
      this.timeout(45_000);
      // Every connection of these clients goes through a proxy that can "crash the broker": it cuts
      // open connections (the client sees them reset) and refuses new ones until it comes back.
      const proxy = await faultyProxy(brokers[0]!);
      try {
        const viaProxy = (overrides: Partial<KafkaTransportOptions> = {}) =>
          newTransport({
            connectionTimeoutMs: 500,
            requestTimeoutMs: 2_000,
            publishTimeoutMs: 3_000,
            socketFactory: ({ onConnect }) => net.connect({ host: '127.0.0.1', port: proxy.port }, onConnect),
            ...overrides,
          });
        const transport = viaProxy();
        const topic = uniqueName('kt-recover');
        await transport.ensureTopics([topic]);
        const seen: string[] = [];
        await consume(
          viaProxy(),
          { topic, group: uniqueName('kt-group') },
          async (m) => void seen.push(m.value.toString()),
        );
        await transport.publish(topic, [{ key: 'k', value: Buffer.from('before') }]);
        await eventually(() => seen.includes('before'), 15_000, 'delivered before the outage');

        await proxy.down();
        const failedAt = Date.now();
        let error: unknown;
        try {
          await transport.publish(topic, [{ key: 'k', value: Buffer.from('during') }]);
        } catch (thrown) {
          error = thrown;
        }
        expect(error, 'publish while down').to.be.instanceOf(BrokerUnavailableError);
        expect(Date.now() - failedAt, 'rejected within publishTimeoutMs').to.be.below(3_500);
        await delay(1_000);

        await proxy.up();
        const recoveredAt = Date.now();
        await transport.publish(topic, [{ key: 'k', value: Buffer.from('after') }]);
        expect(Date.now() - recoveredAt, 'first publish after the outage').to.be.below(3_000);
        await eventually(() => seen.includes('after'), 30_000, 'the consumer picks up again');
        expect(seen).not.to.include('during');
        expect(seen.filter((v) => v === 'after')).to.have.length(1);
      } finally {
        await proxy.close();
      }
    });

    it('keeps call order per key when a produce answer is lost and concurrent publishes wait', async () => {
      // kafkajs rolls an idempotent producer's sequence numbers back after a failed request; a send
      // slipping in before the retry would reuse them (out of order, or even acknowledged unwritten).
      const proxy = await faultyProxy(brokers[0]!);
      try {
        const transport = newTransport({
          partitions: 1,
          socketFactory: ({ onConnect }) => net.connect({ host: '127.0.0.1', port: proxy.port }, onConnect),
        });
        const topic = uniqueName('kt-lost-answer');
        await transport.ensureTopics([topic]);
        await transport.publish(topic, [{ key: 'k', value: Buffer.from('warm-up') }]);
        proxy.loseNextProduceAnswer();
        const values = ['A', 'B', 'C', 'D', 'E'];
        const results = await Promise.allSettled(
          values.map((v) => transport.publish(topic, [{ key: 'k', value: Buffer.from(v) }])),
        );
        expect(results.map((r) => r.status)).to.deep.equal(values.map(() => 'fulfilled'));
        const seen: string[] = [];
        await consume(
          newTransport(),
          { topic, group: uniqueName('kt-group') },
          async (m) => void seen.push(m.value.toString()),
        );
        await eventually(() => seen.length >= 6, 15_000, 'all six messages');
        await delay(200);
        expect(seen, 'each once, in call order').to.deep.equal(['warm-up', ...values]);
      } finally {
        await proxy.close();
      }
    });
  });
});

/**
 * A TCP proxy to a broker that can go down (reset connections, refuse new ones) and up again, or lose
 * the answer to the next produce request: the broker appends the batch, the client never hears back.
 */
async function faultyProxy(target: string) {
  const [host, port] = [
    target.slice(0, target.lastIndexOf(':')),
    Number(target.slice(target.lastIndexOf(':') + 1)),
  ];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host, port });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    let lost = false;
    client.on('data', (chunk: Buffer) => {
      if (lost) return;
      upstream.write(chunk);
      // Request framing: int32 size, int16 api key (0 = Produce).
      if (loseNextProduceAnswer && chunk.length >= 6 && chunk.readInt16BE(4) === 0) {
        loseNextProduceAnswer = false;
        lost = true;
        setTimeout(() => client.resetAndDestroy(), 100);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!lost) client.write(chunk);
    });
  });
  let loseNextProduceAnswer = false;
  const listen = (at: number) => new Promise<void>((resolve) => server.listen(at, '127.0.0.1', resolve));
  await listen(0);
  const proxyPort = (server.address() as net.AddressInfo).port;
  const cut = () => {
    for (const socket of sockets) socket.resetAndDestroy();
  };
  return {
    port: proxyPort,
    async down() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        cut();
      });
    },
    up: () => listen(proxyPort),
    loseNextProduceAnswer() {
      loseNextProduceAnswer = true;
    },
    async close() {
      cut();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('Kafka log adapter', () => {
  const entry = (level: logLevel, message: string, extra: Record<string, unknown> = {}) => ({
    namespace: 'Connection',
    level,
    label: 'ERROR',
    log: { timestamp: new Date().toISOString(), message, ...extra },
  });

  it('keeps only whitelisted fields, downgrades routine noise and collapses repeats', () => {
    const logger = capturingLogger();
    let now = 0;
    const log = kafkaLogCreator(logger, () => now)(logLevel.WARN);
    log(
      entry(logLevel.ERROR, 'Connection error: connect ECONNREFUSED', {
        broker: '127.0.0.1:1',
        payload: { value: 'SECRET-VALUE' },
        data: 'SECRET-DATA',
      }),
    );
    log(entry(logLevel.ERROR, 'Connection error: connect ECONNREFUSED', { broker: '127.0.0.1:1' }));
    now = 11_000;
    log(entry(logLevel.ERROR, 'Connection error: connect ECONNREFUSED', { broker: '127.0.0.1:1' }));
    log(entry(logLevel.WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees'));
    log(
      entry(logLevel.ERROR, 'Response Heartbeat(key: 12, version: 3)', {
        error: 'The group is rebalancing, so a rejoin is needed',
      }),
    );
    log(entry(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', { error: 'x'.repeat(1_000) }));
    log({ ...entry(logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded: boom'), namespace: 'Consumer' });

    const text = JSON.stringify(logger.lines);
    expect(text).not.to.contain('SECRET');
    const connectionErrors = logger.lines.filter((l) => l.message.includes('ECONNREFUSED'));
    expect(connectionErrors.map((l) => l.level)).to.deep.equal(['warn', 'warn']);
    expect(connectionErrors[1]!.meta).to.include({ repeatedTimes: 1, broker: '127.0.0.1:1' });
    expect(logger.lines.filter((l) => l.level === 'debug').map((l) => l.message)).to.have.length(2);
    const produce = logger.lines.find((l) => l.message.includes('Produce'))!;
    expect(produce.level).to.equal('warn');
    expect((produce.meta as { error: string }).error.length).to.be.below(400);
    expect(logger.lines.find((l) => l.message.includes('Crash'))!.level).to.equal('error');
  });
});
