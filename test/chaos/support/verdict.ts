/**
 * The end of every chaos run: wait until the platform has settled (or give up waiting), run every
 * invariant, print the figures, and fail with the violations and the services' log tails if any
 * invariant does not hold. Waiting is only a courtesy: what is not settled by then shows up as
 * violations, it is never skipped.
 */
import { expect } from 'chai';
import { TERMINAL_STATUSES } from '../../../core/transactions/status.js';
import type { KillRecord } from './chaos-monkey.js';
import type { Cluster } from './cluster.js';
import { readDeadLetters } from './dead-letters.js';
import {
  accepted,
  Checker,
  checkCallbacks,
  checkDeadLetters,
  checkDeposits,
  checkDrained,
  checkFinalStatuses,
  checkStatusChanges,
  checkWebhooks,
  consumerBacklogs,
  type CallbackLogEntry,
} from './invariants.js';
import { sleep, type LoadDriver } from './load.js';

export interface RunFacts {
  name: string;
  seed: number;
  cluster: Cluster;
  load: LoadDriver;
  kills: KillRecord[];
  /** Poison messages planted (each must be dead-lettered and recorded once). */
  poison: number;
  notes?: string[];
}

/** Backlog of every subscription of every running service; null on Pub/Sub (not reported by the broker). */
async function backlogs(cluster: Cluster): Promise<Map<string, number> | null> {
  if (cluster.config.broker.kind === 'pubsub') return null;
  const all = new Map<string, number>();
  for (const service of cluster.services) {
    const text = await service.metrics();
    if (text === null) all.set(`${service.name}:unreachable`, -1);
    else consumerBacklogs(text, all, service.name);
  }
  return all;
}

/** What the platform is still busy with (null: settled): open transactions, outbox, webhooks, callbacks, lag. */
async function settled(cluster: Cluster, facts: Pick<RunFacts, 'load' | 'poison'>): Promise<string | null> {
  const knex = cluster.database.knex;
  const ids = facts.load.orders.filter(accepted).map((o) => o.transactionId!);
  const open = await knex('transactions')
    .whereIn('id', ids)
    .whereNotIn('status', [...TERMINAL_STATUSES])
    .count({ n: '*' })
    .first();
  if (Number(open?.n) > 0) return `${open?.n} transactions not final`;
  const outbox = await knex('outbox').whereNull('published_at').count({ n: '*' }).first();
  if (Number(outbox?.n) > 0) return `${outbox?.n} outbox events unpublished`;
  const pending = await knex('webhook_deliveries').where({ state: 'pending' }).count({ n: '*' }).first();
  if (Number(pending?.n) > 0) return `${pending?.n} webhooks pending`;
  const requested = await knex('transaction_timeline')
    .where({ entry_type: 'MerchantWebhookRequested' })
    .count({ n: '*' })
    .first();
  const deliveries = await knex('webhook_deliveries').count({ n: '*' }).first();
  if (Number(deliveries?.n) < Number(requested?.n))
    return `${requested?.n} webhooks requested, ${deliveries?.n} deliveries`;
  const parked = await knex('provider_callbacks').where({ state: 'parked' }).count({ n: '*' }).first();
  if (Number(parked?.n) > 0) return `${parked?.n} callbacks parked`;
  const failed = await knex('failed_events').count({ n: '*' }).first();
  if (Number(failed?.n) < facts.poison) return `${failed?.n} of ${facts.poison} poison messages recorded`;
  const idle = await Promise.race([
    cluster.simulator.callbacksIdle().then(() => true),
    sleep(50).then(() => false),
  ]);
  if (!idle) return 'provider callbacks still in flight';
  const lag = await backlogs(cluster);
  const behind = lag && [...lag].filter(([, n]) => n !== 0);
  if (behind && behind.length > 0) return `consumer backlog ${behind.map(([k, n]) => `${k}=${n}`).join(' ')}`;
  return null;
}

/** Waits until the platform has settled; returns what it was still busy with after `timeoutMs`, or null. */
export async function waitUntilSettled(
  cluster: Cluster,
  facts: Pick<RunFacts, 'load' | 'poison'>,
  timeoutMs: number,
): Promise<string | null> {
  const started = Date.now();
  let waitingFor: string | null = 'not checked yet';
  while (Date.now() - started < timeoutMs && (waitingFor = await settled(cluster, facts)) !== null)
    await sleep(500);
  return waitingFor;
}

/** Waits for the platform to settle, checks every invariant and prints the figures; throws on any violation. */
export async function verdict(facts: RunFacts, settleTimeoutMs = 120_000): Promise<void> {
  const { cluster, load } = facts;
  const started = Date.now();
  const waitingFor = await waitUntilSettled(cluster, facts, settleTimeoutMs);
  const settleMs = Date.now() - started;

  const c = new Checker();
  const knex = cluster.database.knex;
  const orders = load.orders;
  const ids = orders.filter(accepted).map((o) => o.transactionId!);
  c.check(waitingFor === null, () => `did not settle within ${settleTimeoutMs} ms: ${waitingFor}`);
  c.check(
    cluster.unexpectedExits().length === 0,
    () => `services exited on their own: ${cluster.unexpectedExits().join('; ')}`,
  );
  await checkDeposits(c, knex, cluster.merchantId, orders);
  await checkFinalStatuses(c, knex, orders, cluster);
  await checkStatusChanges(c, knex, ids);
  const webhooks = await checkWebhooks(c, knex, orders, cluster.merchant);
  const simLog = (await (await fetch(`${cluster.simulator.url}/_sim/callbacks`)).json()) as {
    callbacks: CallbackLogEntry[];
  };
  const callbacks = await checkCallbacks(c, knex, simLog.callbacks);
  await checkDrained(c, knex, await backlogs(cluster));
  const deadLetters = await checkDeadLetters(
    c,
    knex,
    await readDeadLetters(cluster.config, cluster.database),
    facts.poison,
  );

  const { violations, checks, tally } = c;
  const counters = load.counters;
  const killsBy = cluster.services.map((s) => `${s.name} ${s.kills}`).join(', ');
  const lines = [
    `chaos ${facts.name} (seed ${facts.seed})`,
    `  load        ${orders.length} orders (${ids.length} accepted), ${load.requestsSent} HTTP requests: ${counters.depositRequests} deposits incl. ${counters.duplicateDeposits} duplicates, ${counters.hostedPolls} hosted-page polls, ${counters.formSubmissions} form submissions, ${counters.checkouts} checkouts; ${counters.networkErrors} network errors, ${counters.serverErrors} 5xx seen`,
    `  kills       ${facts.kills.length} SIGKILLs (${killsBy})`,
    ...(facts.kills.length > 0
      ? [
          `              at ${facts.kills.map((k) => `${k.service} +${(k.at / 1000).toFixed(1)}s`).join(', ')} (down ≥ ${Math.min(...facts.kills.map((k) => k.downMs))}-${Math.max(...facts.kills.map((k) => k.downMs))} ms + restart)`,
        ]
      : []),
    `  callbacks   ${callbacks.accepted} accepted; not accepted and retried by the provider: ${
      Object.entries(callbacks.refused)
        .map(([why, n]) => `${n} ${why}`)
        .join(', ') || 'none'
    }`,
    `  webhooks    ${webhooks.requested} requested, ${webhooks.delivered} delivered, ${webhooks.exhausted} exhausted; merchant got ${cluster.merchant.seen.length} requests (${cluster.merchant.seen.filter((w) => w.answered !== 200).length} answered badly on purpose)`,
    `  dead letters ${deadLetters} (planted ${facts.poison})`,
    ...(facts.notes ?? []).map((n) => `  ${n}`),
    `  settled in  ${(settleMs / 1000).toFixed(1)} s`,
    `  invariants  ${checks} checks: ${tally.lost} lost, ${tally.duplicated} duplicated, ${tally.wrong} other violations`,
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
  if (violations.length > 0) {
    process.stdout.write(
      `\nVIOLATIONS (${violations.length}):\n${violations.slice(0, 60).join('\n')}\n\nlogs kept in ${cluster.logDir}\n${cluster.tails(40)}\n`,
    );
  }
  expect(violations, `${violations.length} invariant violations (logs: ${cluster.logDir})`).to.deep.equal([]);
}
