import { expect } from 'chai';
import { createEmbeddedTransport } from '../../adapters/broker/embedded/index.js';
import { createKafkaTransport } from '../../adapters/broker/kafka/index.js';
import { createPubSubTransport } from '../../adapters/broker/pubsub/index.js';
import { openDatabase } from '../../adapters/db/index.js';
import { EventBus, type Transport } from '../../core/broker/index.js';
import { BrokerUnavailableError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';

/** A broker that is down must make publish fail clearly and in bounded time, never hang. */
describe('publish to a broker that is down', function () {
  this.timeout(30_000);
  const PUBLISH_TIMEOUT_MS = 2_000;

  async function expectBoundedRejection(transport: Transport): Promise<void> {
    const bus = new EventBus({ transport, logger: silentLogger, publishTimeoutMs: PUBLISH_TIMEOUT_MS });
    const started = Date.now();
    let error: unknown;
    try {
      await bus.publish('payments.unreachable', [{ key: 'tx-1', value: Buffer.from('x') }]);
    } catch (thrown) {
      error = thrown;
    }
    const elapsed = Date.now() - started;
    expect(error).to.be.instanceOf(BrokerUnavailableError);
    expect((error as BrokerUnavailableError).code).to.equal('BROKER_UNAVAILABLE');
    expect(elapsed, 'rejects within the publish timeout (plus scheduling slack)').to.be.below(
      PUBLISH_TIMEOUT_MS + 1_000,
    );
    await bus.stop(100).catch(() => undefined);
  }

  it('Kafka', async () => {
    await expectBoundedRejection(
      createKafkaTransport({
        brokers: ['127.0.0.1:1'],
        clientId: 'down',
        partitions: 1,
        logger: silentLogger,
      }),
    );
  });

  it('Pub/Sub', async () => {
    await expectBoundedRejection(
      createPubSubTransport({ projectId: 'down', emulatorHost: '127.0.0.1:1', logger: silentLogger }),
    );
  });

  it('embedded log (its PostgreSQL is down)', async () => {
    const database = await openDatabase({
      driver: 'postgres',
      url: 'postgres://postgres@127.0.0.1:1/payments',
      poolMax: 1,
    });
    try {
      await expectBoundedRejection(
        createEmbeddedTransport({ database, partitions: 1, logger: silentLogger }),
      );
    } finally {
      await database.close();
    }
  });
});
