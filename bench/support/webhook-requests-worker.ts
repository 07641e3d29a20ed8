/** The worker side of webhook-requests.ts: status changes at the benchmark's command, and the relay. */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { Knex } from 'knex';
import { createEmbeddedTransport } from '../../adapters/broker/embedded/index.js';
import { openDatabase } from '../../adapters/db/index.js';
import { EventBus } from '../../core/broker/index.js';
import { silentLogger } from '../../core/logger.js';
import { outboxBacklog, OutboxRelay } from '../../core/outbox/index.js';
import { appendFacts } from '../../core/transactions/index.js';
import { statusChangeFacts } from '../../processor/decisions/status-change.js';
import type { Endpoint, RequestsCommand, RequestsMessage } from './webhook-requests.js';

const { databaseUrl, partitions } = workerData as { databaseUrl: string; partitions: number };
const port = parentPort!;
const post = (message: RequestsMessage) => port.postMessage(message);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const database = await openDatabase({ driver: 'postgres', url: databaseUrl, poolMax: 10 });
const knex = database.knex;
const bus = new EventBus({
  transport: createEmbeddedTransport({ database, partitions, logger: silentLogger }),
  logger: silentLogger,
});
await bus.start();
const relay = new OutboxRelay({
  knex,
  listen: (channel, onNotify) => database.listen(channel, onNotify),
  broker: bus,
  logger: silentLogger,
});
await relay.start();

let requested = 0;

/**
 * Creates `count` transactions spread over the endpoints and records each one's status change to
 * APPROVED with its MerchantWebhookRequested, as the processor does (status + facts in one database
 * transaction), `perTransaction` of them per database transaction.
 */
async function requestWebhooks(endpoints: Endpoint[], count: number, perTransaction: number): Promise<void> {
  for (let done = 0; done < count; done += perTransaction) {
    const batch = Array.from({ length: Math.min(perTransaction, count - done) }, () => {
      const endpoint = endpoints[requested++ % endpoints.length]!;
      return { id: `tx_${randomUUID()}`, endpoint };
    });
    await knex.transaction(async (trx: Knex.Transaction) => {
      await trx('transactions').insert(
        batch.map(({ id, endpoint }) => ({
          id,
          merchant_id: endpoint.merchantId,
          merchant_transaction_id: `bench-${id}`,
          request_hash: 'bench',
          amount_minor: 2_500,
          currency: 'EUR',
          payment_method: 'card',
          webhook_url: endpoint.url,
          status: 'APPROVED',
        })),
      );
      for (const { id, endpoint } of batch) {
        const facts = statusChangeFacts({
          from: 'AWAITING_PROVIDER',
          to: 'APPROVED',
          reason: null,
          amountMinor: 2_500,
          currency: 'EUR',
        });
        await appendFacts(trx, { transactionId: id, merchantId: endpoint.merchantId }, facts);
      }
    });
  }
}

/** An open loop: webhooks are requested on schedule whether or not earlier ones have committed. */
async function atRate(command: Extract<RequestsCommand, { type: 'rate' }>): Promise<number> {
  const { healthy, hanging, share, rate, seconds } = command;
  const total = Math.floor(rate * seconds);
  const every = hanging.length > 0 ? Math.round(1 / share) : 0;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  let healthySent = 0;
  for (let sent = 0; sent < total;) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; sent < due; sent++) {
      const toHanging = every > 0 && sent % every === 0;
      const pool = toHanging ? hanging : healthy;
      if (!toHanging) healthySent++;
      pending.push(requestWebhooks([pool[sent % pool.length]!], 1, 1));
    }
    await sleep(5);
  }
  await Promise.all(pending);
  return healthySent;
}

port.on('message', (command: RequestsCommand) => {
  const run = async (): Promise<RequestsMessage> => {
    switch (command.type) {
      case 'request':
        await requestWebhooks(command.endpoints, command.count, command.perTransaction);
        return { type: 'requested' };
      case 'drain':
        while ((await outboxBacklog(knex)).pending > 0) await sleep(50);
        return { type: 'drained' };
      case 'rate':
        return { type: 'rated', healthySent: await atRate(command) };
      case 'close':
        await relay.stop();
        await bus.stop(1_000);
        await database.close();
        return { type: 'closed' };
    }
  };
  run().then(post, (error: unknown) => {
    throw error;
  });
});

post({ type: 'ready' });
