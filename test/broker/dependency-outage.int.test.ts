/**
 * A database outage must delay event processing, never dead-letter it. Found by the outage chaos
 * suite: handlers failing because PostgreSQL was unreachable used up their 5 attempts in ~3 s and went
 * to the DLQ, while recording the failed_events row failed too (same outage), so after the outage the
 * redelivered messages were processed normally and the DLQ held copies no failed_events row described.
 * Here a handler really queries PostgreSQL through a proxy that is cut for longer than the retry policy.
 */
import { expect } from 'chai';
import { createEmbeddedTransport } from '../../adapters/broker/embedded/index.js';
import { openDatabase, type Database } from '../../adapters/db/index.js';
import { EventBus, type DeadLetterRecord, type RetryPolicy } from '../../core/broker/index.js';
import { isDependencyUnavailable, migrate } from '../../core/db/index.js';
import { BrokerUnavailableError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { backendEnv, requireBackend } from '../support/backends.js';
import { eventually } from '../support/eventually.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const FAST_RETRY: RetryPolicy = {
  maxAttempts: 3,
  backoff: { initialMs: 20, multiplier: 2, maxMs: 100, jitter: 'none' },
};

describe('event handlers during a dependency outage', function () {
  this.timeout(60_000);
  let brokerDb: Database;
  let proxy: TcpProxy;
  let viaProxy: Database;
  let bus: EventBus;
  const deadLetters: DeadLetterRecord[] = [];

  before(async function () {
    requireBackend(this, 'PostgreSQL (TEST_DATABASE_URL)', !!backendEnv.postgresUrl);
    brokerDb = await openDatabase({ driver: 'pglite', dataDir: 'memory://' });
    await migrate(brokerDb.knex);
    const url = new URL(backendEnv.postgresUrl!);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${proxy.port}`;
    viaProxy = await openDatabase({ driver: 'postgres', url: url.toString(), poolMax: 2 });
    bus = new EventBus({
      transport: createEmbeddedTransport({ database: brokerDb, partitions: 2, logger: silentLogger }),
      logger: silentLogger,
      defaultRetry: FAST_RETRY,
      onDeadLetter: async (record) => void deadLetters.push(record),
      isTransient: isDependencyUnavailable,
    });
    await bus.start();
  });
  after(async () => {
    await bus?.stop(1_000);
    await viaProxy?.close();
    await proxy?.close();
    await brokerDb?.close();
  });

  it('retries while PostgreSQL is unreachable and handles the message once it is back', async () => {
    const handled: string[] = [];
    let failures = 0;
    await bus.subscribe({ topic: 'outage', group: 'g' }, async (message) => {
      try {
        await viaProxy.knex.raw('select 1');
      } catch (error) {
        failures++;
        throw error;
      }
      handled.push(message.key);
    });
    await proxy.refuse();
    await bus.publish('outage', [{ key: 'tx-1', value: Buffer.from('x') }]);
    await eventually(() => failures > FAST_RETRY.maxAttempts * 2, 20_000, 'several failed attempts');
    expect(deadLetters, 'not dead-lettered while the database is down').to.deep.equal([]);
    await proxy.restore();
    await eventually(() => handled.length === 1, 20_000, 'handled after the database is back');
    expect(deadLetters).to.deep.equal([]);
  });

  it('still dead-letters a message that fails for its own reasons', async () => {
    let attempts = 0;
    await bus.subscribe({ topic: 'poison', group: 'g' }, async () => {
      attempts++;
      throw new Error('cannot parse this message');
    });
    await bus.publish('poison', [{ key: 'tx-2', value: Buffer.from('x') }]);
    await eventually(() => deadLetters.length === 1, 20_000, 'the dead letter');
    expect(attempts).to.equal(FAST_RETRY.maxAttempts);
  });

  it('counts an unreachable broker and database as dependency failures, nothing else', () => {
    expect(isDependencyUnavailable(new BrokerUnavailableError('publish not acknowledged'))).to.equal(true);
    expect(
      isDependencyUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).to.equal(true);
    expect(isDependencyUnavailable(new Error('Connection terminated unexpectedly'))).to.equal(true);
    expect(isDependencyUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).to.equal(
      false,
    );
    expect(isDependencyUnavailable(new Error('transaction tx_1 not found'))).to.equal(false);
  });
});
