/**
 * Creating topics must survive a broker that does not know a topic it has just created. Found by the
 * crash suite: with several services starting at once (and so creating the same namespace's topics
 * at once), the Kafka broker answered "This server does not host this topic-partition" to the
 * metadata request that follows CreateTopics; kafkajs' own leader wait gives up on that answer, so
 * ensureTopics failed and the process exited at start. Here a proxy gives that answer on purpose.
 */
import { expect } from 'chai';
import { createKafkaTransport } from '../../adapters/broker/kafka/index.js';
import { silentLogger } from '../../core/logger.js';
import { backendEnv, requireBackend, uniqueName } from '../support/backends.js';
import { startKafkaProxy } from '../support/kafka-proxy.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

const UNKNOWN_TOPIC_OR_PARTITION = 3;

describe('Kafka topic creation while the broker is still propagating new topics', function () {
  this.timeout(60_000);
  let proxy: TcpProxy | undefined;

  before(function () {
    requireBackend(this, 'Kafka (TEST_KAFKA_BROKERS)', !!backendEnv.kafkaBrokers);
  });
  after(async () => proxy?.close());

  it('keeps waiting for the leaders instead of failing on "unknown topic"', async () => {
    const topic = uniqueName('topic-creation');
    let unknownAnswers = 0;
    const [host, port] = backendEnv.kafkaBrokers![0]!.split(':');
    proxy = await startKafkaProxy(
      { host: host!, port: Number(port) },
      {
        // The first three metadata answers about the new topic say the broker does not know it.
        topicError: (name) => (name === topic && unknownAnswers++ < 3 ? UNKNOWN_TOPIC_OR_PARTITION : null),
      },
    );
    const transport = createKafkaTransport({
      brokers: [`127.0.0.1:${proxy.port}`],
      clientId: 'topic-creation-test',
      partitions: 2,
      logger: silentLogger,
    });
    try {
      await transport.connect();
      await transport.ensureTopics([topic]);
      expect(unknownAnswers, 'the broker did answer "unknown topic" first').to.be.greaterThan(3);
      await transport.publish(topic, [{ key: 'k', value: Buffer.from('x') }]);
    } finally {
      await transport.close();
    }
  });
});
