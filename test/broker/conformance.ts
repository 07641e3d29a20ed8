/**
 * One broker conformance suite, run unchanged against every Transport (Kafka, Pub/Sub emulator,
 * embedded log on PGlite and on PostgreSQL) through the one EventBus. Each `*.int.test.ts` next to this
 * file only says how to make a transport.
 */
import { expect } from 'chai';
import {
  EventBus,
  deadLetterTopicFor,
  readDeadLetter,
  type DeadLetterRecord,
  type DeliveredMessage,
  type RetryPolicy,
  type Transport,
} from '../../core/broker/index.js';
import { NonRetryableError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { uniqueName } from '../support/backends.js';

export interface ConformanceTarget {
  /** Creates a new client, as a new process would. */
  newTransport(): Promise<Transport>;
}

const FAST_RETRY: RetryPolicy = {
  maxAttempts: 3,
  backoff: { initialMs: 20, multiplier: 2, maxMs: 100, jitter: 'none' },
};

import { eventually } from '../support/eventually.js';

export { eventually };

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function body(key: string, seq: number): Buffer {
  return Buffer.from(JSON.stringify({ key, seq }));
}
function parse(message: DeliveredMessage): { key: string; seq: number } {
  return JSON.parse(message.value.toString('utf8')) as { key: string; seq: number };
}

/** Registers the whole suite for one target; call inside a `describe`. */
export function brokerConformance(
  getTarget: () => ConformanceTarget,
  options: { scale?: number } = {},
): void {
  const buses: EventBus[] = [];
  const scale = options.scale ?? 1;

  async function newBus(
    overrides: Partial<ConstructorParameters<typeof EventBus>[0]> = {},
  ): Promise<EventBus> {
    const transport = await getTarget().newTransport();
    const bus = new EventBus({
      transport,
      logger: silentLogger,
      delayTiersMs: [250, 1_000],
      defaultRetry: FAST_RETRY,
      publishTimeoutMs: 15_000,
      stopTimeoutMs: 5_000,
      ...overrides,
    });
    await bus.start();
    buses.push(bus);
    return bus;
  }

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.stop(2_000).catch(() => undefined)));
  });

  it('durable publish survives a client restart', async () => {
    const topic = uniqueName('conf-durable');
    const group = 'g1';
    const publisher = await newBus();
    await publisher.ensureSubscription(topic, group);
    await publisher.publish(
      topic,
      Array.from({ length: 20 }, (_, i) => ({
        key: `k${i % 4}`,
        value: body(`k${i % 4}`, i),
        headers: { n: String(i) },
      })),
    );
    await publisher.stop();

    const consumer = await newBus();
    const seen = new Map<string, string>();
    await consumer.subscribe({ topic, group }, async (m) => {
      seen.set(m.headers.n!, m.key);
    });
    await eventually(() => seen.size === 20, 30_000, 'all 20 messages after restart');
    expect(seen.get('5')).to.equal('k1');
  });

  it('keeps order per key: 100 keys x 100 messages under concurrency', async function () {
    const keys = Math.max(10, Math.round(100 * scale));
    const perKey = Math.max(10, Math.round(100 * scale));
    const topic = uniqueName('conf-order');
    const group = 'g1';
    const bus = await newBus();
    await bus.ensureSubscription(topic, group);
    const received = new Map<string, number[]>();
    let concurrent = 0;
    let maxConcurrent = 0;
    await bus.subscribe({ topic, group, concurrency: 16 }, async (m) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      const { key, seq } = parse(m);
      const list = received.get(key) ?? [];
      list.push(seq);
      received.set(key, list);
      if (seq % 10 === 0) await delay(1);
      concurrent--;
    });
    // Publish each key's messages in order, keys in parallel, in small batches.
    await Promise.all(
      Array.from({ length: keys }, async (_, k) => {
        const key = `key-${k}`;
        for (let start = 0; start < perKey; start += 25) {
          const batch = [];
          for (let seq = start; seq < Math.min(perKey, start + 25); seq++)
            batch.push({ key, value: body(key, seq) });
          await bus.publish(topic, batch);
        }
      }),
    );
    const total = () => [...received.values()].reduce((sum, list) => sum + list.length, 0);
    await eventually(() => total() >= keys * perKey, 120_000, `${keys * perKey} messages`);
    for (const [key, list] of received) {
      expect(list, `order of ${key}`).to.deep.equal(Array.from({ length: perKey }, (_, i) => i));
    }
    expect(received.size).to.equal(keys);
    expect(maxConcurrent, 'different keys are handled concurrently').to.be.greaterThan(1);
  });

  it('shares the load between two consumers of one group, and each group gets everything', async () => {
    const topic = uniqueName('conf-group');
    const a = await newBus();
    const b = await newBus();
    await a.ensureSubscription(topic, 'shared');
    await a.ensureSubscription(topic, 'other');
    const byA: string[] = [];
    const byB: string[] = [];
    const byOther: string[] = [];
    await a.subscribe({ topic, group: 'shared' }, async (m) => {
      byA.push(m.headers.n!);
      await delay(5);
    });
    await b.subscribe({ topic, group: 'shared' }, async (m) => {
      byB.push(m.headers.n!);
      await delay(5);
    });
    await a.subscribe({ topic, group: 'other' }, async (m) => {
      byOther.push(m.headers.n!);
    });
    // Give both members time to join before the load arrives (Kafka rebalances, Pub/Sub streams open).
    await delay(3_000);
    const count = 400;
    await a.publish(
      topic,
      Array.from({ length: count }, (_, i) => ({
        key: `key-${i % 64}`,
        value: body(`key-${i % 64}`, i),
        headers: { n: String(i) },
      })),
    );
    await eventually(() => new Set([...byA, ...byB]).size === count, 60_000, 'all messages across the group');
    await eventually(() => new Set(byOther).size === count, 60_000, 'all messages in the second group');
    expect(byA.length, 'member A got a share').to.be.greaterThan(0);
    expect(byB.length, 'member B got a share').to.be.greaterThan(0);
  });

  it('redelivers after a handler error, before later messages of the same key', async () => {
    const topic = uniqueName('conf-retry');
    const bus = await newBus();
    await bus.ensureSubscription(topic, 'g1');
    const log: string[] = [];
    let failures = 0;
    await bus.subscribe({ topic, group: 'g1' }, async (m, ctx) => {
      const { seq } = parse(m);
      if (seq === 0 && failures < 2) {
        failures++;
        log.push(`fail-${seq}-attempt${ctx.attempt}`);
        throw new Error('transient');
      }
      log.push(`ok-${seq}-attempt${ctx.attempt}`);
    });
    await bus.publish(
      topic,
      [0, 1, 2].map((seq) => ({ key: 'same', value: body('same', seq) })),
    );
    await eventually(() => log.length === 5, 30_000, 'three messages handled after two failures');
    expect(log).to.deep.equal([
      'fail-0-attempt1',
      'fail-0-attempt2',
      'ok-0-attempt3',
      'ok-1-attempt1',
      'ok-2-attempt1',
    ]);
  });

  it('redelivers a message whose consumer crashed before acknowledging it', async () => {
    const topic = uniqueName('conf-crash');
    const first = await newBus({ stopTimeoutMs: 300 });
    await first.ensureSubscription(topic, 'g1');
    let started = false;
    await first.subscribe({ topic, group: 'g1' }, async () => {
      started = true;
      await new Promise(() => undefined); // hangs: the process "dies" before the ack
    });
    await first.publish(topic, [{ key: 'k', value: body('k', 0), headers: { n: 'crash' } }]);
    await eventually(() => started, 30_000, 'first consumer got the message');
    await first.stop(300);

    const second = await newBus();
    const seen: string[] = [];
    await second.subscribe({ topic, group: 'g1' }, async (m) => {
      seen.push(m.headers.n!);
    });
    await eventually(() => seen.includes('crash'), 60_000, 'message redelivered to the next consumer');
  });

  it('loses nothing across restarts and graceful stops mid-stream', async () => {
    const topic = uniqueName('conf-restart');
    const count = 300;
    const publisher = await newBus();
    await publisher.ensureSubscription(topic, 'g1');
    await publisher.publish(
      topic,
      Array.from({ length: count }, (_, i) => ({
        key: `key-${i % 10}`,
        value: body(`key-${i % 10}`, i),
        headers: { n: String(i) },
      })),
    );
    const seen = new Set<string>();
    const first = await newBus();
    await first.subscribe({ topic, group: 'g1', concurrency: 4 }, async (m) => {
      await delay(2);
      seen.add(m.headers.n!);
    });
    await eventually(() => seen.size >= 30, 30_000, 'first consumer made progress');
    await first.stop(10_000); // graceful: drains what it started
    const afterFirst = seen.size;
    expect(afterFirst).to.be.lessThan(count);

    const second = await newBus();
    await second.subscribe({ topic, group: 'g1', concurrency: 4 }, async (m) => {
      seen.add(m.headers.n!);
    });
    await eventually(() => seen.size === count, 60_000, 'every message handled by one consumer or the other');
  });

  it('dead-letters after the configured attempts, with full metadata', async () => {
    const topic = uniqueName('conf-dlq');
    const group = 'payments-handler';
    const bus = await newBus();
    const dlq = deadLetterTopicFor(topic, group);
    await bus.ensureSubscription(topic, group);
    await bus.ensureSubscription(dlq, 'inspector');
    const records: DeadLetterRecord[] = [];
    let attempts = 0;
    await bus.subscribe(
      { topic, group, retry: FAST_RETRY, onDeadLetter: async (r) => void records.push(r) },
      async () => {
        attempts++;
        throw new TypeError('cannot handle this');
      },
    );
    const dead: DeliveredMessage[] = [];
    await bus.subscribe(
      { topic: dlq, group: 'inspector', runDelayScheduler: false },
      async (m) => void dead.push(m),
    );
    await bus.publish(topic, [
      { key: 'tx-1', value: Buffer.from('poison'), headers: { 'event-type': 'Test' } },
    ]);
    await eventually(
      () => dead.length === 1 && records.length === 1,
      30_000,
      'message on the dead-letter topic',
    );
    expect(attempts).to.equal(3);
    const message = dead[0]!;
    expect(message.key).to.equal('tx-1');
    expect(message.value.toString()).to.equal('poison');
    const meta = readDeadLetter(message);
    expect(meta).to.include({
      errorClass: 'TypeError',
      errorMessage: 'cannot handle this',
      attempts: 3,
      consumerGroup: group,
      originalTopic: topic,
    });
    expect(meta.originalHeaders).to.deep.equal({ 'event-type': 'Test' });
    expect(meta.originalMessageId).to.be.a('string').and.not.equal('');
    expect(meta.firstFailureAt.getTime()).to.be.at.most(meta.lastFailureAt.getTime());
    expect(meta.errorStack).to.contain('TypeError');
    expect(records[0]!.attempts).to.equal(3);
    await delay(300);
    expect(attempts, 'a dead-lettered message is not handled again').to.equal(3);
  });

  it('sends a NonRetryableError to the dead-letter topic at once', async () => {
    const topic = uniqueName('conf-nonretry');
    const bus = await newBus();
    const records: DeadLetterRecord[] = [];
    let attempts = 0;
    await bus.ensureSubscription(topic, 'g1');
    await bus.subscribe({ topic, group: 'g1', onDeadLetter: async (r) => void records.push(r) }, async () => {
      attempts++;
      throw new NonRetryableError('schema mismatch');
    });
    await bus.publish(topic, [{ key: 'k', value: Buffer.from('x') }]);
    await eventually(() => records.length === 1, 30_000, 'dead-lettered');
    expect(attempts).to.equal(1);
    expect(records[0]).to.include({
      attempts: 1,
      errorClass: 'NonRetryableError',
      errorCode: 'NON_RETRYABLE',
    });
  });

  it('never delivers a delayed message early', async () => {
    const topic = uniqueName('conf-delay');
    const bus = await newBus();
    await bus.ensureSubscription(topic, 'g1');
    const arrivals = new Map<string, number>();
    await bus.subscribe({ topic, group: 'g1' }, async (m) => void arrivals.set(m.headers.n!, Date.now()));
    const sentAt = Date.now();
    await Promise.all([
      bus.publish(topic, [{ key: 'a', value: Buffer.from('1'), headers: { n: 'short', keep: 'yes' } }], {
        delayMs: 400,
      }),
      bus.publish(topic, [{ key: 'b', value: Buffer.from('2'), headers: { n: 'long' } }], { delayMs: 1_800 }),
      bus.publish(topic, [{ key: 'c', value: Buffer.from('3'), headers: { n: 'now' } }]),
    ]);
    await eventually(() => arrivals.size === 3, 30_000, 'all three messages');
    expect(arrivals.get('short')! - sentAt).to.be.at.least(400);
    expect(arrivals.get('long')! - sentAt).to.be.at.least(1_800);
    expect(arrivals.get('now')!).to.be.lessThan(arrivals.get('short')!);
  });

  it('does not let a poison message on one key block other keys', async () => {
    const topic = uniqueName('conf-poison');
    const bus = await newBus();
    await bus.ensureSubscription(topic, 'g1');
    const retry: RetryPolicy = {
      maxAttempts: 4,
      backoff: { initialMs: 400, multiplier: 1, maxMs: 400, jitter: 'none' },
    };
    let deadLetteredAt = 0;
    const handledAt = new Map<string, number>();
    await bus.subscribe(
      {
        topic,
        group: 'g1',
        retry,
        concurrency: 8,
        onDeadLetter: async () => void (deadLetteredAt = Date.now()),
      },
      async (m) => {
        if (m.key === 'poison') throw new Error('always fails');
        handledAt.set(m.headers.n!, Date.now());
      },
    );
    await bus.publish(topic, [{ key: 'poison', value: Buffer.from('p') }]);
    await bus.publish(
      topic,
      Array.from({ length: 40 }, (_, i) => ({
        key: `healthy-${i}`,
        value: Buffer.from('h'),
        headers: { n: String(i) },
      })),
    );
    await eventually(() => handledAt.size === 40, 30_000, 'healthy keys handled');
    await eventually(() => deadLetteredAt > 0, 30_000, 'poison dead-lettered');
    const lastHealthy = Math.max(...handledAt.values());
    expect(lastHealthy, 'healthy keys finished while the poison key was still retrying').to.be.lessThan(
      deadLetteredAt,
    );
  });
}
