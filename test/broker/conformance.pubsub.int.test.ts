import { createPubSubTransport } from '../../adapters/broker/pubsub/index.js';
import { silentLogger } from '../../core/logger.js';
import { backendEnv, requireBackend } from '../support/backends.js';
import { brokerConformance } from './conformance.js';

describe('broker conformance: Google Pub/Sub (emulator)', function () {
  this.timeout(180_000);
  before(function () {
    requireBackend(this, 'Pub/Sub emulator (TEST_PUBSUB_EMULATOR_HOST)', !!backendEnv.pubsubEmulatorHost);
  });
  brokerConformance(() => ({
    newTransport: async () =>
      createPubSubTransport({
        projectId: 'conformance',
        emulatorHost: backendEnv.pubsubEmulatorHost!,
        logger: silentLogger,
      }),
  }));
});
