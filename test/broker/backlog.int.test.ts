import { expect } from 'chai';
import { createEmbeddedTransport } from '../../adapters/broker/embedded/index.js';
import { createKafkaTransport } from '../../adapters/broker/kafka/index.js';
import type { Database } from '../../adapters/db/index.js';
import { EventBus, type Transport } from '../../core/broker/index.js';
import { silentLogger } from '../../core/logger.js';
import { backendEnv, requireBackend, uniqueName } from '../support/backends.js';
import { createTestDatabase } from '../support/database.js';
import { eventually } from './conformance.js';

/** The consumer-lag metric reads this: it must rise while a group is behind and fall to zero when it catches up. */
const targets = [
  {
    name: 'embedded (PGlite)',
    available: () => true,
    transport: (db: Database): Transport =>
      createEmbeddedTransport({ database: db, partitions: 4, logger: silentLogger }),
  },
  {
    name: 'Kafka',
    available: () => !!backendEnv.kafkaBrokers,
    transport: (): Transport =>
      createKafkaTransport({
        brokers: backendEnv.kafkaBrokers!,
        clientId: 'backlog-test',
        partitions: 4,
        logger: silentLogger,
      }),
  },
];

for (const target of targets) {
  describe(`consumer backlog: ${target.name}`, function () {
    this.timeout(60_000);
    let database: Database;
    let release: () => Promise<void>;
    let bus: EventBus;
    before(async function () {
      requireBackend(this, target.name, target.available());
      ({ database, release } = await createTestDatabase('pglite', this));
      bus = new EventBus({ transport: target.transport(database), logger: silentLogger });
      await bus.start();
    });
    after(async () => {
      await bus?.stop(1_000);
      await release?.();
    });

    it('reports how far a group is behind, down to zero once it caught up', async () => {
      const topic = uniqueName('backlog');
      await bus.ensureSubscription(topic, 'slow');
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      let handled = 0;
      await bus.subscribe({ topic, group: 'slow', concurrency: 1 }, async () => {
        await gate;
        handled++;
      });
      await bus.publish(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ key: 'same-key', value: Buffer.from(String(i)) })),
      );
      const backlogOf = async () =>
        (await bus.consumerBacklog()).find((b) => b.topic === topic && b.group === 'slow')?.backlog;
      let seen = 0;
      for (let i = 0; i < 50 && seen !== 10; i++) {
        seen = (await backlogOf()) ?? -1;
        if (seen !== 10) await new Promise((r) => setTimeout(r, 100));
      }
      expect(seen, 'nothing committed while the handler is blocked').to.equal(10);
      open();
      await eventually(() => handled === 10, 30_000, 'all handled');
      for (let i = 0; i < 50 && seen !== 0; i++) {
        seen = (await backlogOf()) ?? -1;
        if (seen !== 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(seen, 'caught up').to.equal(0);
    });
  });
}
