/**
 * Coalesced publishes on the embedded log (PGlite and PostgreSQL): concurrent publishes to a topic are
 * appended together, one transaction at a time. What callers rely on: every publish that resolved is
 * in the log, one key's messages keep publish-call order, a failed append rejects every caller in it
 * and leaves no trace, and one message the database refuses fails only its own caller.
 */
import { expect } from 'chai';
import { createEmbeddedTransport } from '../../adapters/broker/embedded/index.js';
import type { Database } from '../../adapters/db/index.js';
import type { DeliveredMessage, OutgoingMessage, Transport } from '../../core/broker/index.js';
import { silentLogger } from '../../core/logger.js';
import { uniqueName } from '../support/backends.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { eventually } from '../support/eventually.js';

const message = (key: string, value: string): OutgoingMessage => ({ key, value: Buffer.from(value) });

const settle = (promise: Promise<void>) =>
  promise.then(
    () => 'resolved' as const,
    () => 'rejected' as const,
  );

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`embedded transport, coalesced publishes on ${driver}`, function () {
    this.timeout(60_000);
    let test: TestDatabase;
    let database: Database;
    let transport: Transport;

    before(async function () {
      test = await createTestDatabase(driver, this);
      database = test.database;
    });
    beforeEach(() => {
      transport = createEmbeddedTransport({
        database,
        partitions: 4,
        logger: silentLogger,
        pollIntervalMs: 250,
      });
    });
    afterEach(async () => {
      await transport.close();
    });
    after(async () => {
      await test?.release();
    });

    const rows = (topic: string) =>
      database
        .knex('broker_messages')
        .where({ topic })
        .orderBy(['partition', 'offset'])
        .select('partition', 'offset', 'key', 'value', 'published_at');

    it('appends 400 concurrent publishes in a few transactions, every one durable and consumed, each key in call order', async () => {
      const topic = uniqueName('coalesce');
      await transport.ensureTopics([topic]);
      const keys = 20;
      const perKey = 20;
      // Issued key-interleaved: k0#0, k1#0, ... k19#0, k0#1, ...; every fifth call carries two messages.
      const calls: OutgoingMessage[][] = [];
      for (let seq = 0; seq < perKey; seq++) {
        for (let k = 0; k < keys; k++) {
          calls.push(
            seq % 5 === 4
              ? [message(`k${k}`, `${seq}a`), message(`k${k}`, `${seq}b`)]
              : [message(`k${k}`, String(seq))],
          );
        }
      }
      const outcomes = await Promise.all(calls.map((call) => settle(transport.publish(topic, call))));
      expect(outcomes.every((o) => o === 'resolved')).to.equal(true);

      const stored = await rows(topic);
      const expected = Array.from({ length: perKey }, (_, seq) =>
        seq % 5 === 4 ? [`${seq}a`, `${seq}b`] : [String(seq)],
      ).flat();
      expect(stored).to.have.length(keys * (perKey + perKey / 5));
      for (let k = 0; k < keys; k++) {
        const ofKey = stored.filter((r) => r.key === `k${k}`).map((r) => Buffer.from(r.value).toString());
        expect(ofKey, `k${k} in call order`).to.deep.equal(expected);
      }
      // One transaction stamps all of its rows with one published_at: the 400 calls shared a few.
      const transactions = new Set(stored.map((r) => new Date(r.published_at).getTime()));
      expect(transactions.size).to.be.below(calls.length / 10);

      const consumed: DeliveredMessage[] = [];
      const consumer = await transport.consume({ topic, group: 'g', concurrency: 8 }, async (m) => {
        consumed.push(m);
      });
      try {
        await eventually(() => consumed.length === stored.length, 20_000, 'every message');
        for (let k = 0; k < keys; k++) {
          const ofKey = consumed.filter((m) => m.key === `k${k}`).map((m) => m.value.toString());
          expect(ofKey, `k${k} delivered in call order`).to.deep.equal(expected);
        }
      } finally {
        await consumer.stop(1_000);
      }
    });

    it('rejects every caller of an append the database fails, and leaves neither rows nor offset gaps', async () => {
      const topic = uniqueName('coalesce-fail');
      await transport.ensureTopics([topic]);
      await transport.publish(topic, [message('k', 'before')]);
      const trigger = `fail_${topic.replace(/[^a-z0-9]/g, '_')}`;
      await database.knex.raw(`
        create function ${trigger}() returns trigger language plpgsql as $$
        begin raise exception 'log unavailable' using errcode = '57P01'; end $$`);
      await database.knex.raw(
        `create trigger ${trigger} before insert on broker_messages for each row
         when (new.topic = '${topic}') execute function ${trigger}()`,
      );
      let outcomes: string[];
      try {
        outcomes = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            settle(transport.publish(topic, [message(`k${i % 3}`, `lost-${i}`)])),
          ),
        );
      } finally {
        await database.knex.raw(`drop trigger ${trigger} on broker_messages`);
        await database.knex.raw(`drop function ${trigger}()`);
      }
      expect(outcomes).to.deep.equal(Array(12).fill('rejected'));
      await transport.publish(topic, [message('k', 'after')]);
      const stored = await rows(topic);
      expect(stored.map((r) => Buffer.from(r.value).toString()).sort()).to.deep.equal(['after', 'before']);
      const offsets = stored.filter((r) => r.key === 'k').map((r) => Number(r.offset));
      expect(offsets, 'the failed append reserved no offsets').to.deep.equal([0, 1]);
    });

    it('fails only the caller whose message the database refuses (a NUL byte in the key)', async () => {
      const topic = uniqueName('coalesce-poison');
      await transport.ensureTopics([topic]);
      const calls = ['a', 'b', 'bad', 'c', 'd'].map((v) =>
        v === 'bad' ? [message('tx\u0000nul', v)] : [message('tx-1', v)],
      );
      const outcomes = await Promise.all(calls.map((call) => settle(transport.publish(topic, call))));
      expect(outcomes).to.deep.equal(['resolved', 'resolved', 'rejected', 'resolved', 'resolved']);
      const stored = await rows(topic);
      expect(stored.map((r) => Buffer.from(r.value).toString())).to.deep.equal(['a', 'b', 'c', 'd']);
    });
  });
}
