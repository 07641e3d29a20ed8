import { createKafkaTransport } from '../../adapters/broker/kafka/index.js';
import { silentLogger } from '../../core/logger.js';
import { backendEnv, requireBackend } from '../support/backends.js';
import { brokerConformance } from './conformance.js';

describe('broker conformance: Kafka', function () {
  this.timeout(180_000);
  before(function () {
    requireBackend(this, 'Kafka (TEST_KAFKA_BROKERS)', !!backendEnv.kafkaBrokers);
  });
  brokerConformance(() => ({
    newTransport: async () =>
      createKafkaTransport({
        brokers: backendEnv.kafkaBrokers!,
        clientId: 'conformance',
        partitions: 8,
        logger: silentLogger,
      }),
  }));
});
