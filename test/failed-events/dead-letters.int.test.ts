import { expect } from 'chai';
import { createEmbeddedTransport } from '../../adapters/broker/embedded/index.js';
import { createKafkaTransport } from '../../adapters/broker/kafka/index.js';
import { createPubSubTransport } from '../../adapters/broker/pubsub/index.js';
import type { Database } from '../../adapters/db/index.js';
import {
  EventBus,
  deadLetterTopicFor,
  type DeliveredMessage,
  type Transport,
} from '../../core/broker/index.js';
import { FailedEventStore, deadLetterRecorder } from '../../core/failed-events/index.js';
import { processOnce } from '../../core/inbox.js';
import { silentLogger } from '../../core/logger.js';
import { createMetrics, registerFailedEventMetrics } from '../../core/observability/metrics.js';
import { encodeEvent } from '../../schemas/index.js';
import { eventually } from '../broker/conformance.js';
import { backendEnv, requireBackend, uniqueName } from '../support/backends.js';
import { databaseUrlForSchema, runOpsCli } from '../support/cli.js';
import { createTestDatabase } from '../support/database.js';
import { sampleEvent } from '../support/events.js';

const targets = [
  {
    name: 'embedded log on PostgreSQL',
    available: () => true,
    transport: (database: Database): Transport =>
      createEmbeddedTransport({ database, partitions: 4, logger: silentLogger }),
    env: (): Record<string, string> => ({ BROKER: 'embedded' }),
  },
  {
    name: 'Kafka',
    available: () => !!backendEnv.kafkaBrokers,
    transport: (): Transport =>
      createKafkaTransport({
        brokers: backendEnv.kafkaBrokers!,
        clientId: 'dlq-test',
        partitions: 4,
        logger: silentLogger,
      }),
    env: (): Record<string, string> => ({
      BROKER: 'kafka',
      KAFKA_BROKERS: backendEnv.kafkaBrokers!.join(','),
    }),
  },
  {
    name: 'Pub/Sub emulator',
    available: () => !!backendEnv.pubsubEmulatorHost,
    transport: (): Transport =>
      createPubSubTransport({
        projectId: 'dlq-test',
        emulatorHost: backendEnv.pubsubEmulatorHost!,
        logger: silentLogger,
      }),
    env: (): Record<string, string> => ({
      BROKER: 'pubsub',
      PUBSUB_PROJECT_ID: 'dlq-test',
      PUBSUB_EMULATOR_HOST: backendEnv.pubsubEmulatorHost!,
    }),
  },
];

for (const target of targets) {
  describe(`failed events and the DLQ CLI: ${target.name}`, function () {
    this.timeout(120_000);
    let database: Database;
    let release: () => Promise<void>;
    let bus: EventBus;
    let store: FailedEventStore;
    let metrics: ReturnType<typeof createMetrics>;
    let failedCounter: ReturnType<typeof registerFailedEventMetrics>['failed'];

    before(async function () {
      requireBackend(this, target.name, target.available());
      ({ database, release } = await createTestDatabase('postgres', this));
      store = new FailedEventStore(database.knex);
      metrics = createMetrics({ service: 'test', defaultMetrics: false });
      failedCounter = registerFailedEventMetrics(metrics.registry, () => store.openCounts()).failed;
      bus = new EventBus({
        transport: target.transport(database),
        logger: silentLogger,
        defaultRetry: {
          maxAttempts: 3,
          backoff: { initialMs: 10, multiplier: 2, maxMs: 50, jitter: 'none' },
        },
        onDeadLetter: deadLetterRecorder({
          store,
          logger: silentLogger,
          onRecorded: (r, type) =>
            failedCounter.inc({
              consumer_group: r.consumerGroup,
              topic: r.originalTopic,
              event_type: type ?? 'unknown',
            }),
        }),
      });
      await bus.start();
    });
    after(async () => {
      await bus?.stop(1_000);
      await release?.();
    });

    it('dead-letters a failing event with a record, a timeline entry and a metric; replay applies it once; purge closes it', async () => {
      const knex = database.knex;
      const topic = uniqueName('dlq-events');
      const group = 'processor-test';
      const effects = uniqueName('effects').replace(/-/g, '_');
      await knex.schema.createTable(effects, (t) => t.text('event_id').primary());
      const dlqTopic = deadLetterTopicFor(topic, group);
      await bus.ensureSubscription(topic, group);
      await bus.ensureSubscription(topic, 'healthy-group');
      await bus.ensureSubscription(dlqTopic, 'inspector');

      let broken = true;
      let handled = 0;
      await bus.subscribe({ topic, group }, async (message) => {
        if (broken) throw new Error('column "risk_score" does not exist');
        await processOnce(knex, group, message.headers['event-id']!, (trx) =>
          trx(effects).insert({ event_id: message.headers['event-id'] }),
        );
        handled++;
      });
      let healthyHandled = 0;
      await bus.subscribe({ topic, group: 'healthy-group' }, async () => void healthyHandled++);
      const dead: DeliveredMessage[] = [];
      await bus.subscribe(
        { topic: dlqTopic, group: 'inspector', runDelayScheduler: false },
        async (m) => void dead.push(m),
      );

      const event = sampleEvent('TransactionStatusChanged', 'tx_dlq', 4);
      await bus.publish(topic, [
        {
          key: 'tx_dlq',
          value: encodeEvent(event),
          headers: { 'event-id': event.envelope.eventId, 'event-type': 'TransactionStatusChanged' },
        },
      ]);

      await eventually(() => dead.length === 1, 30_000, 'the message on the dead-letter topic');
      await eventually(() => healthyHandled === 1, 30_000, 'the healthy group handled the original');
      // The message reaches the dead-letter topic first; the failed_events record is written right after.
      let records: Awaited<ReturnType<typeof store.list>> = [];
      await eventually(
        async () => (records = await store.list({ consumerGroup: group })).length === 1,
        30_000,
        'the failed_events record',
      );
      const [record] = records;
      expect(record).to.deep.include({
        consumerGroup: group,
        topic,
        deadLetterTopic: dlqTopic,
        eventId: event.envelope.eventId,
        eventType: 'TransactionStatusChanged',
        transactionId: 'tx_dlq',
        errorClass: 'Error',
        errorMessage: 'column "risk_score" does not exist',
        attempts: 3,
        status: 'open',
      });
      const timeline = await knex('transaction_timeline').where({ transaction_id: 'tx_dlq' });
      expect(timeline).to.have.length(1);
      expect(timeline[0]).to.include({ entry_type: 'EventProcessingFailed', merchant_view: null });
      expect(timeline[0].internal).to.include({
        consumerGroup: group,
        failedEventRecordId: record!.id,
        attempts: 3,
      });
      const metricText = await metrics.registry.metrics();
      expect(metricText).to.match(
        new RegExp(
          `failed_events_total\\{consumer_group="${group}",topic="${topic}",event_type="TransactionStatusChanged",service="test"\\} 1`,
        ),
      );
      expect(metricText).to.match(
        new RegExp(`dlq_open_failed_events\\{consumer_group="${group}",topic="${topic}",service="test"\\} 1`),
      );

      const env = {
        ...target.env(),
        DATABASE_URL: databaseUrlForSchema(backendEnv.postgresUrl!, knex.client.config.searchPath[0]),
      };
      const listed = await runOpsCli(['dlq', 'list', '--consumer', group, '--json'], env);
      expect(listed.code, listed.stderr).to.equal(0);
      expect(JSON.parse(listed.stdout.trim())).to.include({
        id: record!.id,
        transactionId: 'tx_dlq',
        attempts: 3,
      });
      const shown = await runOpsCli(['dlq', 'show', record!.id], env);
      expect(JSON.parse(shown.stdout)).to.nested.include({
        'payload.envelope.type': 'TransactionStatusChanged',
        errorClass: 'Error',
      });

      const dry = await runOpsCli(['dlq', 'replay', record!.id, '--dry-run'], env);
      expect(dry.stdout).to.contain('"would-replay":1');
      expect(handled).to.equal(0);

      broken = false; // the fix is deployed
      const replayed = await runOpsCli(['dlq', 'replay', record!.id, '--actor', 'alice'], env);
      expect(replayed.code, replayed.stderr).to.equal(0);
      expect(replayed.stdout).to.contain('"replayed":1');
      await eventually(() => handled === 1, 30_000, 'the replayed event handled');
      const again = await runOpsCli(['dlq', 'replay', record!.id], env);
      expect(again.stdout).to.contain('"skipped-not-open":1');
      const forced = await runOpsCli(['dlq', 'replay', record!.id, '--force', '--actor', 'bob'], env);
      expect(forced.stdout).to.contain('"replayed":1');
      await eventually(() => handled === 2, 30_000, 'the forced replay delivered');
      expect(await knex(effects).select(), 'replaying twice does not double the effects').to.have.length(1);
      expect(healthyHandled, 'other groups skip replays meant for the failed group').to.equal(1);
      expect((await store.get(record!.id))!).to.include({ status: 'replayed', replayCount: 2 });
      expect((await store.actions(record!.id)).map((a) => [a.action, a.actor])).to.deep.equal([
        ['replay', 'alice'],
        ['replay', 'bob'],
      ]);

      const unconfirmed = await runOpsCli(['dlq', 'purge', record!.id, '--status', 'all'], env);
      expect(unconfirmed.code).to.equal(1);
      expect(unconfirmed.stderr).to.contain('pass --yes');
      const purged = await runOpsCli(
        ['dlq', 'purge', record!.id, '--status', 'all', '--yes', '--actor', 'carol'],
        env,
      );
      expect(purged.stdout).to.contain('"purged":1');
      expect((await store.get(record!.id))!.status).to.equal('purged');
      expect(await store.list({ consumerGroup: group })).to.have.length(0);
    });
  });
}
