import { expect } from 'chai';
import {
  createEmbeddedTransport,
  partitionFor,
  type EmbeddedTransportOptions,
} from '../../adapters/broker/embedded/index.js';
import type { Database } from '../../adapters/db/index.js';
import type {
  DeliveredMessage,
  DeliveryHandler,
  Transport,
  TransportConsumer,
} from '../../core/broker/index.js';
import { silentLogger } from '../../core/logger.js';
import { uniqueName } from '../support/backends.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(10);
  }
}

const text = (m: DeliveredMessage) => m.value.toString('utf8');

/** FNV-1a 32-bit over UTF-8, written out with BigInt (exact), as the stability reference. */
function fnv1a(key: string): number {
  let hash = 0x811c9dc5n;
  for (const byte of new TextEncoder().encode(key)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x01000193n) % 2n ** 32n;
  }
  return Number(hash);
}

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`embedded transport on ${driver}`, function () {
    this.timeout(60_000);
    let test: TestDatabase;
    let database: Database;
    let transports: Transport[] = [];
    let consumers: TransportConsumer[] = [];

    before(async function () {
      test = await createTestDatabase(driver, this);
      database = test.database;
    });
    after(async () => {
      await test?.release();
    });
    afterEach(async () => {
      await Promise.all(consumers.map((c) => c.stop(0).catch(() => undefined)));
      await Promise.all(transports.map((t) => t.close().catch(() => undefined)));
      consumers = [];
      transports = [];
    });

    function transport(options: Partial<EmbeddedTransportOptions> = {}): Transport {
      const t = createEmbeddedTransport({
        database,
        partitions: 4,
        logger: silentLogger,
        leaseMs: 3_000,
        pollIntervalMs: 250,
        ...options,
      });
      transports.push(t);
      return t;
    }

    async function consume(
      t: Transport,
      topic: string,
      group: string,
      handler: DeliveryHandler,
      concurrency = 4,
    ): Promise<TransportConsumer> {
      const consumer = await t.consume({ topic, group, concurrency }, handler);
      consumers.push(consumer);
      return consumer;
    }

    const leases = (topic: string, group: string) =>
      database
        .knex('partition_leases')
        .where({ group_name: group, scope: topic })
        .andWhere('expires_at', '>', database.knex.raw('now()'))
        .orderBy('partition')
        .select('partition', 'owner');

    const committed = async (topic: string, group: string, partition: number) => {
      const row = await database
        .knex('broker_group_offsets')
        .where({ group_name: group, topic, partition })
        .first('committed');
      return row ? BigInt(row.committed) : 0n;
    };

    it('round-trips key, bytes and headers, with partition = FNV-1a(key) mod partitions and offsets from 0', async () => {
      const t = transport();
      const topic = uniqueName('rt');
      await t.connect();
      await t.ensureTopics([topic]);
      await t.ensureSubscription(topic, 'g');
      const binary = Buffer.from([0, 255, 1, 128, 0x0a, 0xc3]);
      const publishedAt = Date.now();
      await t.publish(topic, [
        { key: 'tx-1', value: binary, headers: { 'content-type': 'avro/binary', 'x-note': 'héllo ✓' } },
        { key: 'tx-1', value: Buffer.from('second') },
        { key: 'tx-2', value: Buffer.from('other') },
      ]);
      const got: DeliveredMessage[] = [];
      await consume(t, topic, 'g', async (m) => {
        got.push(m);
      });
      await eventually(() => got.length === 3, 10_000, 'three messages');
      const byValue = new Map(got.map((m) => [text(m), m]));
      const first = got.find((m) => m.value.equals(binary))!;
      expect(first, 'binary value intact').not.to.equal(undefined);
      expect(first.topic).to.equal(topic);
      expect(first.key).to.equal('tx-1');
      expect(first.headers).to.deep.equal({ 'content-type': 'avro/binary', 'x-note': 'héllo ✓' });
      expect(first.partition).to.equal(fnv1a('tx-1') % 4);
      expect(first.partition).to.equal(partitionFor('tx-1', 4));
      expect(first.offset).to.equal('0');
      expect(first.messageId).to.equal(`${first.partition}:0`);
      expect(first.publishedAt.getTime()).to.be.closeTo(publishedAt, 30_000);
      const second = byValue.get('second')!;
      expect(second.headers, 'no headers -> empty object').to.deep.equal({});
      expect([second.partition, second.offset]).to.deep.equal([first.partition, '1']);
      expect(byValue.get('other')!.partition).to.equal(partitionFor('tx-2', 4));
    });

    it('keeps the FNV-1a key hash stable (reference values)', () => {
      expect(fnv1a('')).to.equal(0x811c9dc5);
      expect(fnv1a('a')).to.equal(0xe40c292c);
      expect(fnv1a('foobar')).to.equal(0xbf9cf968);
      for (const key of ['', 'a', 'foobar', 'tx_01HZX', 'ключ', '🙂']) {
        for (const n of [1, 4, 16, 7])
          expect(partitionFor(key, n), `${key} mod ${n}`).to.equal(fnv1a(key) % n);
      }
    });

    it('assigns gap-free offsets in publish order per partition under concurrent publishers', async () => {
      const t = transport({ partitions: 2 });
      const topic = uniqueName('offsets');
      await t.ensureTopics([topic]);
      // 12 publishers in parallel, each publishing 8 batches of 3 in sequence on its own key.
      await Promise.all(
        Array.from({ length: 12 }, async (_, p) => {
          for (let b = 0; b < 8; b++) {
            await t.publish(
              topic,
              [0, 1, 2].map((i) => ({ key: `pub-${p}`, value: Buffer.from(String(b * 3 + i)) })),
            );
          }
        }),
      );
      const rows = await database
        .knex('broker_messages')
        .where({ topic })
        .orderBy(['partition', 'offset'])
        .select('partition', 'offset', 'key', 'value');
      expect(rows).to.have.length(12 * 8 * 3);
      for (const partition of [0, 1]) {
        const offsets = rows.filter((r) => Number(r.partition) === partition).map((r) => Number(r.offset));
        expect(offsets, `partition ${partition} offsets 0..n-1`).to.deep.equal(offsets.map((_, i) => i));
        const counter = await database
          .knex('broker_partitions')
          .where({ topic, partition })
          .first('next_offset');
        expect(Number(counter.next_offset)).to.equal(offsets.length);
      }
      for (let p = 0; p < 12; p++) {
        const seqs = rows
          .filter((r) => r.key === `pub-${p}`)
          .map((r) => Number(Buffer.from(r.value).toString()));
        expect(seqs, `pub-${p} in publish order`).to.deep.equal(seqs.map((_, i) => i));
      }
    });

    it('appends multi-partition batches from several processes at once without deadlock or offset gaps', async () => {
      // Separate transports append independently (like separate processes); each batch spans every
      // partition, so concurrent appends contend for the same counters.
      const publishers = Array.from({ length: 6 }, () => transport({ partitions: 4 }));
      const topic = uniqueName('multi-writer');
      await publishers[0]!.ensureTopics([topic]);
      await Promise.all(
        publishers.map(async (t, p) => {
          for (let b = 0; b < 10; b++) {
            await t.publish(
              topic,
              Array.from({ length: 8 }, (_, k) => ({ key: `w${p}-k${k}`, value: Buffer.from(String(b)) })),
            );
          }
        }),
      );
      const rows = await database
        .knex('broker_messages')
        .where({ topic })
        .orderBy(['partition', 'offset'])
        .select('partition', 'offset', 'key', 'value');
      expect(rows).to.have.length(6 * 10 * 8);
      for (const partition of [0, 1, 2, 3]) {
        const offsets = rows.filter((r) => Number(r.partition) === partition).map((r) => Number(r.offset));
        expect(offsets, `partition ${partition} offsets 0..n-1`).to.deep.equal(offsets.map((_, i) => i));
      }
      for (const key of new Set(rows.map((r) => r.key as string))) {
        const values = rows.filter((r) => r.key === key).map((r) => Number(Buffer.from(r.value).toString()));
        expect(values, `${key} in publish order`).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      }
    });

    it('keeps an existing topic at its partition count', async () => {
      const topic = uniqueName('fixed');
      await transport({ partitions: 3 }).ensureTopics([topic]);
      const other = transport({ partitions: 8 });
      await other.ensureTopics([topic]);
      await other.publish(topic, [{ key: 'k', value: Buffer.from('x') }]);
      const [row] = await database.knex('broker_messages').where({ topic }).select('partition');
      expect(Number(row.partition)).to.equal(partitionFor('k', 3));
      const counters = await database
        .knex('broker_partitions')
        .where({ topic })
        .count<{ n: string }[]>('* as n');
      expect(Number(counters[0]!.n)).to.equal(3);
    });

    it('handles one key at a time in order, and different keys concurrently up to the concurrency', async () => {
      const t = transport({ partitions: 2 });
      const topic = uniqueName('order');
      const keys = Array.from({ length: 8 }, (_, i) => `key-${i}`);
      await t.publish(
        topic,
        Array.from({ length: 30 }, (_, seq) =>
          keys.map((key) => ({ key, value: Buffer.from(String(seq)) })),
        ).flat(),
      );
      const seen = new Map<string, number[]>();
      const activeKeys = new Set<string>();
      let active = 0;
      let maxActive = 0;
      let overlapSameKey = false;
      await consume(
        t,
        topic,
        'g',
        async (m) => {
          if (activeKeys.has(m.key)) overlapSameKey = true;
          activeKeys.add(m.key);
          maxActive = Math.max(maxActive, ++active);
          await sleep(2);
          active--;
          activeKeys.delete(m.key);
          seen.set(m.key, [...(seen.get(m.key) ?? []), Number(text(m))]);
        },
        4,
      );
      await eventually(() => [...seen.values()].reduce((n, s) => n + s.length, 0) === 240, 20_000, 'all 240');
      for (const key of keys)
        expect(seen.get(key), key).to.deep.equal(Array.from({ length: 30 }, (_, i) => i));
      expect(overlapSameKey, 'same key never concurrent').to.equal(false);
      expect(maxActive, 'different keys concurrent').to.be.greaterThan(1);
      expect(maxActive, 'bounded by concurrency').to.be.at.most(4);
    });

    it('splits partitions between two members of a group and hands them over when one stops', async () => {
      const topic = uniqueName('split');
      // Long leases: the hand-overs below are driven by NOTIFY on the group channel, not by expiry.
      const a = transport({ partitions: 8, memberId: 'member-a', leaseMs: 30_000 });
      const b = transport({ partitions: 8, memberId: 'member-b', leaseMs: 30_000 });
      const handledBy = new Map<string, Set<string>>(); // message -> members
      const partitionsOf = { 'member-a': new Set<number>(), 'member-b': new Set<number>() };
      const handler =
        (member: 'member-a' | 'member-b'): DeliveryHandler =>
        async (m) => {
          partitionsOf[member].add(m.partition!);
          const set = handledBy.get(text(m)) ?? new Set();
          set.add(member);
          handledBy.set(text(m), set);
        };
      const consumerA = await consume(a, topic, 'g', handler('member-a'));
      await eventually(async () => (await leases(topic, 'g')).length === 8, 5_000, 'a owns all 8');
      const joined = Date.now();
      await consume(b, topic, 'g', handler('member-b'));
      await eventually(
        async () => {
          const rows = await leases(topic, 'g');
          const owners = rows.map((r) => r.owner);
          return (
            rows.length === 8 &&
            owners.filter((o) => o === 'member-a').length === 4 &&
            owners.filter((o) => o === 'member-b').length === 4
          );
        },
        5_000,
        '4 + 4 partitions',
      );
      const splitMs = Date.now() - joined;

      const keys = Array.from({ length: 64 }, (_, i) => `k${i}`);
      await a.publish(
        topic,
        keys.map((key) => ({ key, value: Buffer.from(`1-${key}`) })),
      );
      await eventually(() => handledBy.size === 64, 10_000, 'first 64 handled');
      expect(partitionsOf['member-a'].size, 'a handled some partitions').to.be.greaterThan(0);
      expect(partitionsOf['member-b'].size, 'b handled some partitions').to.be.greaterThan(0);
      const both = [...partitionsOf['member-a']].filter((p) => partitionsOf['member-b'].has(p));
      expect(both, 'no partition worked on by both').to.deep.equal([]);
      for (const [message, members] of handledBy) expect(members.size, message).to.equal(1);

      const stopped = Date.now();
      await consumerA.stop(5_000);
      await eventually(
        async () => {
          const rows = await leases(topic, 'g');
          return rows.length === 8 && rows.every((r) => r.owner === 'member-b');
        },
        5_000,
        'b took over all 8',
      );
      const takeoverMs = Date.now() - stopped;
      expect(takeoverMs, 'hand-over on NOTIFY, not after the 30 s lease or 10 s heartbeat').to.be.below(
        3_000,
      );
      expect(splitMs, 'split on NOTIFY, not at the next heartbeat').to.be.below(3_000);

      await b.publish(
        topic,
        keys.map((key) => ({ key, value: Buffer.from(`2-${key}`) })),
      );
      await eventually(() => handledBy.size === 128, 10_000, 'second 64 handled');
      for (const key of keys) expect([...handledBy.get(`2-${key}`)!]).to.deep.equal(['member-b']);
    });

    it("takes over a dead member's partitions once its lease expires", async () => {
      const topic = uniqueName('dead');
      const t = transport({ partitions: 2, leaseMs: 1_000, pollIntervalMs: 100 });
      await t.ensureTopics([topic]);
      // A member that crashed: it holds both partitions for 1.5 s more and never renews.
      await database.knex('lease_members').insert({
        group_name: 'g',
        scope: topic,
        member_id: 'ghost',
        expires_at: database.knex.raw(`now() + interval '1500 milliseconds'`),
      });
      await database.knex('partition_leases').insert(
        [0, 1].map((partition) => ({
          group_name: 'g',
          scope: topic,
          partition,
          owner: 'ghost',
          expires_at: database.knex.raw(`now() + interval '1500 milliseconds'`),
        })),
      );
      await t.publish(topic, [{ key: 'a', value: Buffer.from('x') }]);
      let handledAt = 0;
      const started = Date.now();
      await consume(t, topic, 'g', async () => {
        handledAt ||= Date.now();
      });
      await sleep(800);
      expect(handledAt, 'nothing while the dead member still holds a valid lease').to.equal(0);
      await eventually(() => handledAt > 0, 5_000, 'taken over after expiry');
      expect(handledAt - started).to.be.at.least(1_000);
      const owners = new Set((await leases(topic, 'g')).map((r) => r.owner));
      expect(owners.size, 'one live owner').to.equal(1);
      expect(owners.has('ghost')).to.equal(false);
    });

    it('redelivers a rejected message before any later message of its key is handled, and never commits past it', async () => {
      const t = transport({ partitions: 1 });
      const topic = uniqueName('reject');
      await t.publish(topic, [
        { key: 'k', value: Buffer.from('k0') },
        { key: 'other', value: Buffer.from('o0') },
        { key: 'k', value: Buffer.from('k1') }, // offset 2: fails 3 times
        { key: 'other', value: Buffer.from('o1') },
        { key: 'k', value: Buffer.from('k2') },
        { key: 'k', value: Buffer.from('k3') },
      ]);
      const log: string[] = [];
      let failures = 0;
      let maxCommittedWhileFailing = 0n;
      await consume(
        t,
        topic,
        'g',
        async (m) => {
          log.push(text(m));
          if (text(m) === 'k1' && failures < 3) {
            failures++;
            maxCommittedWhileFailing = [maxCommittedWhileFailing, await committed(topic, 'g', 0)].reduce(
              (x, y) => (y > x ? y : x),
            );
            await sleep(20);
            throw new Error('transient');
          }
        },
        4,
      );
      await eventually(() => log.filter((v) => v === 'k3').length >= 1, 10_000, 'k3 handled');
      expect(
        log.filter((v) => v.startsWith('k')),
        'k1 redelivered until it succeeded; k2 and k3 only after it, once',
      ).to.deep.equal(['k0', 'k1', 'k1', 'k1', 'k1', 'k2', 'k3']);
      expect(
        maxCommittedWhileFailing <= 2n,
        `committed ${maxCommittedWhileFailing} never passed offset 2`,
      ).to.equal(true);
      await eventually(async () => (await committed(topic, 'g', 0)) === 6n, 5_000, 'everything committed');
    });

    it('stop() gives up on a hanging handler after the timeout; the next member gets that message', async () => {
      const topic = uniqueName('hang');
      const first = transport({ partitions: 1, memberId: 'first' });
      await first.publish(topic, [
        { key: 'a', value: Buffer.from('done') },
        { key: 'b', value: Buffer.from('hangs') },
        { key: 'b', value: Buffer.from('after-hang') },
      ]);
      const firstSeen: string[] = [];
      let release!: () => void;
      const forever = new Promise<void>((resolve) => (release = resolve));
      const consumer = await consume(first, topic, 'g', async (m) => {
        firstSeen.push(text(m));
        if (text(m) === 'hangs') await forever;
      });
      await eventually(() => firstSeen.includes('hangs'), 5_000, 'hanging handler started');
      await sleep(250); // the commit timer has committed 'done'
      const started = Date.now();
      await consumer.stop(300);
      const elapsed = Date.now() - started;
      expect(elapsed, 'stop honours its timeout').to.be.within(250, 2_000);
      expect(firstSeen, 'later message of the hanging key not handled').not.to.include('after-hang');

      const secondSeen: string[] = [];
      await consume(transport({ partitions: 1, memberId: 'second' }), topic, 'g', async (m) => {
        secondSeen.push(text(m));
      });
      await eventually(() => secondSeen.includes('after-hang'), 5_000, 'second member caught up');
      expect(secondSeen, 'the abandoned message first, nothing committed before it again').to.deep.equal([
        'hangs',
        'after-hang',
      ]);
      release();
    });

    it('wakes a consumer on NOTIFY at commit, well under the poll interval', async () => {
      const topic = uniqueName('wake');
      const consumerSide = transport({ pollIntervalMs: 10_000 });
      const publisher = transport({ pollIntervalMs: 10_000 });
      await publisher.ensureTopics([topic]);
      const handledAt = new Map<string, number>();
      await consume(consumerSide, topic, 'g', async (m) => {
        handledAt.set(text(m), Date.now());
      });
      await sleep(300); // past the consumer's first fetch: from now on only NOTIFY or the 10 s poll
      const latencies: number[] = [];
      for (let i = 0; i < 3; i++) {
        const sent = Date.now();
        await publisher.publish(topic, [{ key: `k${i}`, value: Buffer.from(`m${i}`) }]);
        await eventually(() => handledAt.has(`m${i}`), 2_000, `m${i} within 2 s`);
        latencies.push(handledAt.get(`m${i}`)! - sent);
        await sleep(100);
      }
      expect(Math.max(...latencies), `latencies ${latencies.join(', ')} ms`).to.be.below(2_000);
    });

    it('close() stops its consumers and leaves the database open', async () => {
      const t = transport();
      const topic = uniqueName('close');
      let handled = 0;
      await t.consume({ topic, group: 'g', concurrency: 1 }, async () => {
        handled++;
      });
      await t.close();
      await transport().publish(topic, [{ key: 'k', value: Buffer.from('x') }]);
      await sleep(400);
      expect(handled).to.equal(0);
      expect((await leases(topic, 'g')).length, 'leases released').to.equal(0);
      await database.knex.raw('select 1');
    });
  });
}
