/**
 * Crash suite: the four services as separate processes, each SIGKILLed several times at random
 * moments under a mixed load and started again, on Kafka (the long run), Pub/Sub and the embedded
 * broker on PostgreSQL (shorter runs). Afterwards every invariant of test/chaos/support/invariants.ts
 * must hold: nothing accepted is lost, nothing is applied twice, everything drains. See
 * docs/reliability.md. CHAOS_SEED replays the random choices of a run.
 */
import { requireTestBackend, type TestBackend } from '../support/platform-backends.js';
import { runChaos, type KillRecord } from './support/chaos-monkey.js';
import { startCluster, type Cluster, type ClusterOptions } from './support/cluster.js';
import { plantPoisonMessages } from './support/dead-letters.js';
import { LoadDriver, SCRIPTED_SCENARIO, seededRandom, sleep } from './support/load.js';
import { verdict } from './support/verdict.js';

interface Variant {
  name: string;
  backend: Exclude<TestBackend, 'embedded-pglite'>;
  orders: number;
  killsPerService: number;
  replicas?: ClusterOptions['replicas'];
}

/** Mean pause between two orders. */
const PACE_MS = 300;

const VARIANTS: Variant[] = [
  {
    name: 'Kafka + PostgreSQL, two of each worker',
    backend: 'kafka',
    orders: 88,
    killsPerService: 2,
    replicas: { processor: 2, 'webhook-dispatcher': 2, relay: 2 },
  },
  { name: 'Pub/Sub emulator + PostgreSQL', backend: 'pubsub', orders: 44, killsPerService: 2 },
  { name: 'embedded broker on PostgreSQL', backend: 'embedded-postgres', orders: 44, killsPerService: 2 },
];

describe('crash suite: every service SIGKILLed at random moments under load', function () {
  for (const variant of VARIANTS) {
    describe(variant.name, function () {
      this.timeout(360_000);
      let cluster: Cluster | undefined;
      let failed = false;

      before(function () {
        requireTestBackend(this, variant.backend);
      });
      afterEach(function () {
        failed ||= this.currentTest?.state === 'failed';
      });
      after(async () => cluster?.close(failed));

      it('loses nothing, duplicates nothing and drains', async () => {
        const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
        const random = seededRandom(seed);
        cluster = await startCluster({ backend: variant.backend, replicas: variant.replicas ?? {} });
        await fetch(`${cluster.simulator.url}/_sim/scenarios`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(SCRIPTED_SCENARIO),
        });
        const poison = await plantPoisonMessages(cluster.config, cluster.database);
        const load = new LoadDriver({
          gatewayUrl: cluster.gatewayUrl,
          apiKey: cluster.apiKey,
          webhookUrl: cluster.merchant.url(),
          orders: variant.orders,
          paceMs: PACE_MS,
          random,
          runId: `chaos-${seed}`,
        });
        // Orders keep coming until the last kill (a restart can take a consumer-group rebalance), so
        // every kill lands while deposits, callbacks and webhooks are in flight.
        let chaos!: Promise<KillRecord[]>;
        const loading = load.run({
          until: sleep(2_000).then(() => {
            chaos = runChaos(cluster!.services, {
              killsPerService: variant.killsPerService,
              windowMs: variant.orders * PACE_MS,
              maxDownMs: 1_500,
              random,
            });
            return chaos;
          }),
          maxOrders: variant.orders * 3,
        });
        await loading;
        const kills = await chaos;
        await verdict({ name: `crash, ${variant.name}`, seed, cluster, load, kills, poison });
      });
    });
  }
});
