import { expect } from 'chai';
import { createEmbeddedTransport } from '../../adapters/broker/embedded/index.js';
import { createKafkaTransport } from '../../adapters/broker/kafka/index.js';
import type { Database } from '../../adapters/db/index.js';
import { EventBus, type Transport } from '../../core/broker/index.js';
import { silentLogger } from '../../core/logger.js';
import { enqueueEvents, OutboxRelay, outboxBacklog } from '../../core/outbox/index.js';
import { backendEnv, requireBackend, uniqueName } from '../support/backends.js';
import { createTestDatabase } from '../support/database.js';
import { sampleEvent } from '../support/events.js';
import { databaseUrlForSchema, runOpsCli as runCli } from '../support/cli.js';

const targets = [
  {
    name: 'Kafka',
    available: () => !!backendEnv.kafkaBrokers,
    transport: (): Transport =>
      createKafkaTransport({
        brokers: backendEnv.kafkaBrokers!,
        clientId: 'tail-test',
        partitions: 4,
        logger: silentLogger,
      }),
    env: (): Record<string, string> => ({
      BROKER: 'kafka',
      KAFKA_BROKERS: backendEnv.kafkaBrokers!.join(','),
    }),
  },
  {
    name: 'embedded log on PostgreSQL',
    available: () => true,
    transport: (database: Database): Transport =>
      createEmbeddedTransport({ database, partitions: 4, logger: silentLogger }),
    env: (_database: Database, schema: string): Record<string, string> => ({
      BROKER: 'embedded',
      DATABASE_URL: databaseUrlForSchema(backendEnv.postgresUrl!, schema),
    }),
  },
];

for (const target of targets) {
  describe(`payments-ops events tail: ${target.name}`, function () {
    this.timeout(120_000);
    let database: Database;
    let release: () => Promise<void>;
    let bus: EventBus;

    before(async function () {
      requireBackend(this, target.name, target.available());
      ({ database, release } = await createTestDatabase('postgres', this));
      bus = new EventBus({ transport: target.transport(database), logger: silentLogger });
      await bus.start();
    });
    after(async () => {
      await bus?.stop(1_000);
      await release?.();
    });

    it('prints decoded events of one transaction and type as JSON lines, then exits at --limit', async () => {
      const topic = uniqueName('tail-events');
      await database.knex.transaction((trx) =>
        enqueueEvents(
          trx,
          [
            sampleEvent('DepositRequested', 'tx_a', 1),
            sampleEvent('TransactionStatusChanged', 'tx_b', 1),
            sampleEvent('TransactionStatusChanged', 'tx_a', 2),
            sampleEvent('TransactionStatusChanged', 'tx_a', 3),
          ],
          { topic },
        ),
      );
      const relay = new OutboxRelay({
        knex: database.knex,
        listen: (c, f) => database.listen(c, f),
        broker: bus,
        logger: silentLogger,
      });
      await relay.start();
      for (let i = 0; i < 100 && (await outboxBacklog(database.knex)).pending > 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      await relay.stop();

      const schema = database.knex.client.config.searchPath[0] as string;
      const result = await runCli(
        [
          'events',
          'tail',
          '--topic',
          topic,
          '--from-beginning',
          '--transaction',
          'tx_a',
          '--type',
          'TransactionStatusChanged',
          '--limit',
          '2',
        ],
        target.env(database, schema),
      );
      expect(result.code, result.stderr).to.equal(0);
      const lines = result.stdout
        .trim()
        .split('\n')
        .map(
          (line) =>
            JSON.parse(line) as { envelope: { type: string; transactionId: string; sequence: number } },
        );
      expect(
        lines.map((l) => [l.envelope.type, l.envelope.transactionId, l.envelope.sequence]),
      ).to.deep.equal([
        ['TransactionStatusChanged', 'tx_a', 2],
        ['TransactionStatusChanged', 'tx_a', 3],
      ]);
    });

    it('refuses bad arguments with a clear message', async () => {
      const result = await runCli(['events', 'tail', '--limit', 'zero'], target.env(database, 'public'));
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain("option '--limit <n>' argument 'zero' is invalid");
    });
  });
}
