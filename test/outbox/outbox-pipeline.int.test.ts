import { expect } from 'chai';
import type { Knex } from 'knex';
import { createEmbeddedTransport } from '../../adapters/broker/embedded/index.js';
import type { Database } from '../../adapters/db/index.js';
import { EventBus, type Broker } from '../../core/broker/index.js';
import { processOnce } from '../../core/inbox.js';
import { silentLogger } from '../../core/logger.js';
import { enqueueEvents, outboxBacklog, OutboxRelay } from '../../core/outbox/index.js';
import { decodeEvent } from '../../schemas/index.js';
import { eventually } from '../broker/conformance.js';
import { requireBackend, uniqueName } from '../support/backends.js';
import { createTestDatabase } from '../support/database.js';
import { brokerTargets, type BrokerTarget } from '../support/broker-targets.js';
import { sampleEvent } from '../support/events.js';

const targets: BrokerTarget[] = brokerTargets({ clientId: () => 'outbox-test', partitions: 8 });

/** A broker whose Nth publish "crashes" the relay after the broker acknowledged it, before the rows are marked. */
function crashingAfter(broker: Broker, n: number): Broker & { crashed: boolean } {
  let publishes = 0;
  const wrapper = Object.create(broker) as Broker & { crashed: boolean };
  wrapper.crashed = false;
  wrapper.publish = async (...args) => {
    if (wrapper.crashed) throw new Error('relay process is dead');
    await broker.publish(...args);
    if (++publishes === n) {
      wrapper.crashed = true;
      throw new Error('relay crashed after the broker acknowledged the batch');
    }
  };
  return wrapper;
}

for (const target of targets) {
  describe(`outbox -> broker -> inbox pipeline: ${target.name}`, function () {
    this.timeout(120_000);
    let database: Database;
    let release: () => Promise<void>;
    let bus: EventBus;

    before(async function () {
      requireBackend(this, target.name, target.available());
      ({ database, release } = await createTestDatabase(target.driver, this));
      bus = new EventBus({ transport: target.transport(database), logger: silentLogger });
      await bus.start();
    });
    after(async () => {
      await bus?.stop(2_000);
      await release?.();
    });

    it('delivers every event once per transaction in order, even when a relay dies mid-batch and another relay runs', async () => {
      const knex: Knex = database.knex;
      const topic = uniqueName('outbox-events');
      const consumer = 'pipeline-test';
      const effects = uniqueName('effects').replace(/-/g, '_');
      await knex.schema.createTable(effects, (t) => {
        t.text('event_id').primary();
        t.text('transaction_id').notNullable();
        t.integer('sequence').notNullable();
      });
      await bus.ensureSubscription(topic, consumer);

      const transactions = 40;
      const perTransaction = 5;
      for (let sequence = 1; sequence <= perTransaction; sequence++) {
        for (let t = 0; t < transactions; t++) {
          await knex.transaction(async (trx) => {
            await enqueueEvents(trx, [sampleEvent('TransactionStatusChanged', `tx_${t}`, sequence)], {
              topic,
            });
          });
        }
      }

      const order = new Map<string, number[]>();
      let duplicates = 0;
      await bus.subscribe({ topic, group: consumer, concurrency: 8 }, async (message) => {
        const event = decodeEvent(message.value);
        const outcome = await processOnce(knex, consumer, event.envelope.eventId, async (trx) => {
          await trx(effects).insert({
            event_id: event.envelope.eventId,
            transaction_id: event.envelope.transactionId,
            sequence: event.envelope.sequence,
          });
        });
        if (outcome.duplicate) duplicates++;
        else
          order.set(event.envelope.transactionId, [
            ...(order.get(event.envelope.transactionId) ?? []),
            event.envelope.sequence,
          ]);
      });

      const listen = (channel: string, onNotify: () => void) => database.listen(channel, onNotify);
      const doomed = crashingAfter(bus, 2);
      const relayA = new OutboxRelay({
        knex,
        listen,
        broker: doomed,
        logger: silentLogger,
        batchSize: 10,
        leaseMs: 3_000,
      });
      const relayB = new OutboxRelay({
        knex,
        listen,
        broker: bus,
        logger: silentLogger,
        batchSize: 10,
        leaseMs: 3_000,
      });
      await relayA.start();
      await relayB.start();
      await eventually(() => doomed.crashed, 30_000, 'relay A crashed');
      await relayA.stop(); // its buckets move to relay B

      const total = transactions * perTransaction;
      const applied = () => [...order.values()].reduce((n, seqs) => n + seqs.length, 0);
      try {
        await eventually(() => applied() >= total, 60_000, `${total} events applied`);
      } catch (error) {
        const backlog = await outboxBacklog(knex);
        throw new Error(
          `${(error as Error).message}; applied ${applied()}, duplicates ${duplicates}, pending ${backlog.pending}`,
        );
      }
      await relayB.stop();

      for (const [transactionId, sequences] of order) {
        expect(sequences, `events of ${transactionId} in order`).to.deep.equal([1, 2, 3, 4, 5]);
      }
      expect(order.size).to.equal(transactions);
      const [row] = await knex(effects).count<{ count: string }[]>('* as count');
      expect(Number(row?.count), 'effects applied exactly once').to.equal(total);
      expect(duplicates, 'the crashed batch was published again and absorbed by the inbox').to.be.at.least(1);
      expect((await outboxBacklog(knex)).pending).to.equal(0);
    });
  });
}

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`outbox relay leases (${driver})`, function () {
    this.timeout(30_000);
    let database: Database;
    let release: () => Promise<void>;
    let bus: EventBus;

    before(async function () {
      ({ database, release } = await createTestDatabase(driver, this));
      bus = new EventBus({
        transport: createEmbeddedTransport({ database, partitions: 4, logger: silentLogger }),
        logger: silentLogger,
      });
      await bus.start();
    });
    after(async () => {
      await bus?.stop(2_000);
      await release?.();
    });

    /** A relay on this database and (unless given) the shared bus. */
    const newRelay = (options: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}) =>
      new OutboxRelay({
        knex: database.knex,
        listen: (channel, onNotify) => database.listen(channel, onNotify),
        broker: bus,
        logger: silentLogger,
        ...options,
      });

    it('when marking a batch published fails, publishes nothing newer until that batch went out again', async () => {
      const knex: Knex = database.knex;
      const topic = uniqueName('mark-fails');
      // The database refuses the first mark of this topic's rows (a sequence is not rolled back, so
      // only that statement fails): a real failure of the real statement.
      const seq = uniqueName('mark_failures').replace(/[^a-z0-9_]/gi, '_');
      await knex.raw(`create sequence ${seq}`);
      await knex.raw(`create function ${seq}_fail() returns trigger language plpgsql as $$
        begin
          if new.published_at is not null and old.published_at is null and new.topic = '${topic}'
             and nextval('${seq}') = 1 then
            raise exception 'injected: marking failed';
          end if;
          return new;
        end $$`);
      await knex.raw(
        `create trigger ${seq}_trigger before update on outbox for each row execute function ${seq}_fail()`,
      );
      const published: number[] = [];
      const recording: Broker = {
        kind: bus.kind,
        start: () => bus.start(),
        ensureTopics: (topics) => bus.ensureTopics(topics),
        ensureSubscription: (to, group) => bus.ensureSubscription(to, group),
        subscribe: (options, handler) => bus.subscribe(options, handler),
        stop: (timeoutMs) => bus.stop(timeoutMs),
        publish: async (to, messages, options) => {
          await bus.publish(to, messages, options);
          if (to === topic) for (const m of messages) published.push(decodeEvent(m.value).envelope.sequence);
        },
      };
      const relay = newRelay({ broker: recording, batchSize: 2, pollIntervalMs: 100 });
      try {
        await knex.transaction((trx) =>
          enqueueEvents(
            trx,
            [1, 2, 3, 4, 5, 6].map((n) => sampleEvent('TransactionStatusChanged', 'tx_mark', n)),
            { topic },
          ),
        );
        await relay.start();
        await eventually(async () => (await outboxBacklog(knex)).pending === 0, 10_000, 'relayed');
        // Batch [1, 2] went out, its mark failed; the relay stopped and published [1, 2] again first.
        const firstTimes = published.filter((n, i) => published.indexOf(n) === i);
        expect(firstTimes, 'first deliveries in order').to.deep.equal([1, 2, 3, 4, 5, 6]);
        expect(published.slice(0, 2), 'the failed batch').to.deep.equal([1, 2]);
        expect(published.slice(2, 4), 'published again before anything newer').to.deep.equal([1, 2]);
      } finally {
        await relay.stop();
        await knex.raw(`drop trigger ${seq}_trigger on outbox`);
      }
    });

    it('publishes nothing from buckets whose lease it lost, and everything once it holds them again', async () => {
      const knex: Knex = database.knex;
      const topic = uniqueName('lease-events');
      const relay = newRelay({ leaseMs: 60_000, pollIntervalMs: 60_000 });
      await relay.start();
      try {
        // Another relay took every bucket over (this one paused longer than its lease).
        await knex('partition_leases')
          .where({ group_name: 'outbox-relay' })
          .update({ owner: 'someone-else' });
        await knex.transaction((trx) =>
          enqueueEvents(trx, [sampleEvent('TransactionStatusChanged', 'tx_lease', 1)], { topic }),
        );
        relay.pump();
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect((await outboxBacklog(knex)).pending, 'not published behind the owner').to.equal(1);

        await knex('partition_leases').where({ group_name: 'outbox-relay' }).delete();
        await relay.stop();
        const successor = newRelay();
        await successor.start();
        await eventually(async () => (await outboxBacklog(knex)).pending === 0, 10_000, 'relayed');
        await successor.stop();
      } finally {
        await relay.stop();
      }
    });
  });
}
