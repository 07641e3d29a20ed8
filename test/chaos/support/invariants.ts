/**
 * What must hold after any number of crashes and outages, checked against the run's database, the
 * merchant API, what the merchant's endpoint received and what the provider simulator delivered.
 * Every check counts; every violation is listed with the ids to look up. Nothing here is loosened to
 * make a run pass: a violation is a bug in the platform (or in this harness) to find.
 */
import type { Knex } from 'knex';
import { merchantStatus, type TransactionStatus } from '../../../core/transactions/status.js';
import type { FlakyMerchant } from './flaky-merchant.js';
import type { Order } from './load.js';

/** What a violation means: something accepted went missing, happened twice, or is simply wrong. */
export type ViolationKind = 'lost' | 'duplicated' | 'wrong';

export class Checker {
  checks = 0;
  readonly violations: string[] = [];
  readonly tally: Record<ViolationKind, number> = { lost: 0, duplicated: 0, wrong: 0 };

  /** One invariant instance: counts it, records `message()` when it does not hold. */
  check(holds: boolean, message: () => string, kind: ViolationKind = 'wrong'): void {
    this.checks++;
    if (holds) return;
    this.tally[kind]++;
    this.violations.push(`[${kind}] ${message()}`);
  }
}

export interface CallbackLogEntry {
  provider: string;
  paymentId: string;
  notificationId: string;
  outcomes: string[];
  copy: number;
  attempt: number;
  httpStatus: number | null;
  delivered: boolean;
  at: string;
}

export const accepted = (order: Order): boolean =>
  order.answers.some((a) => a.status !== null && a.status < 300);

/** Every deposit answered 2xx exists exactly once, under the id every 2xx answer named; nothing else exists. */
export async function checkDeposits(
  c: Checker,
  knex: Knex,
  merchantId: string,
  orders: Order[],
): Promise<void> {
  const rows: Array<{ id: string; merchant_transaction_id: string }> = await knex('transactions')
    .where({ merchant_id: merchantId })
    .select('id', 'merchant_transaction_id');
  const byOrder = new Map<string, string[]>();
  for (const row of rows)
    byOrder.set(row.merchant_transaction_id, [...(byOrder.get(row.merchant_transaction_id) ?? []), row.id]);
  const known = new Set(orders.map((o) => o.merchantTransactionId));
  for (const order of orders) {
    const ids = byOrder.get(order.merchantTransactionId) ?? [];
    const answered = new Set(
      order.answers.flatMap((a) => (a.transactionId && a.status! < 300 ? [a.transactionId] : [])),
    );
    c.check(
      order.answers.every((a) => a.status === null || a.status < 300 || a.status >= 500),
      () => `deposit ${order.merchantTransactionId} got a 4xx: ${JSON.stringify(order.answers)}`,
    );
    if (!accepted(order)) {
      c.check(
        ids.length <= 1,
        () => `deposit ${order.merchantTransactionId} (never 2xx) exists ${ids.length} times`,
        'duplicated',
      );
      continue;
    }
    c.check(
      ids.length >= 1,
      () => `deposit ${order.merchantTransactionId} was answered 2xx but does not exist`,
      'lost',
    );
    c.check(
      ids.length <= 1,
      () => `deposit ${order.merchantTransactionId} exists ${ids.length} times: ${ids.join(', ')}`,
      'duplicated',
    );
    c.check(
      answered.size === 1 && answered.has(ids[0] ?? ''),
      () =>
        `deposit ${order.merchantTransactionId}: 2xx answers named ${[...answered].join(', ')}, stored ${ids.join(', ')}`,
    );
  }
  for (const row of rows)
    c.check(known.has(row.merchant_transaction_id), () => `transaction ${row.id} belongs to no order`);
}

/** Each accepted order ends in the status its provider behaviour dictates, in the database and the merchant API. */
export async function checkFinalStatuses(
  c: Checker,
  knex: Knex,
  orders: Order[],
  api: { gatewayUrl: string; apiKey: string },
): Promise<void> {
  for (const order of orders.filter(accepted)) {
    const row = await knex('transactions').where({ id: order.transactionId }).first('status');
    const stored = row ? merchantStatus(row.status as TransactionStatus) : 'missing';
    c.check(
      stored === order.kind.expected,
      () =>
        `${order.transactionId} (${order.kind.name}, ${order.amount}): status ${row?.status}, expected ${order.kind.expected}; customer journey: ${order.journey}`,
    );
    const response = await fetch(`${api.gatewayUrl}/api/v2/transactions/${order.transactionId}`, {
      headers: { authorization: `Bearer ${api.apiKey}` },
    });
    const body = (await response.json()) as { status?: string };
    c.check(
      response.status === 200 && body.status === order.kind.expected,
      () =>
        `merchant API shows ${order.transactionId} as ${response.status} ${body.status}, expected ${order.kind.expected}`,
    );
  }
}

/**
 * Status changes happen once: per transaction the TransactionStatusChanged entries form one chain from
 * CREATED (each from = the previous to), no status is entered twice, the chain ends in the stored
 * status, and every timeline sequence number is used once.
 */
export async function checkStatusChanges(c: Checker, knex: Knex, transactionIds: string[]): Promise<void> {
  for (const id of transactionIds) {
    const entries: Array<{ entry_type: string; internal: Record<string, unknown> }> = await knex(
      'transaction_timeline',
    )
      .where({ transaction_id: id })
      .orderBy('id')
      .select('entry_type', 'internal');
    const changes = entries
      .filter((e) => e.entry_type === 'TransactionStatusChanged')
      .map((e) => e.internal as { fromStatus: string | null; toStatus: string; sequence?: number });
    const to = changes.map((ch) => ch.toStatus);
    c.check(
      new Set(to).size === to.length,
      () => `${id}: a status was entered twice: ${to.join(' -> ')}`,
      'duplicated',
    );
    let previous = 'CREATED';
    for (const change of changes) {
      c.check(
        change.fromStatus === previous,
        () =>
          `${id}: status chain broken: ${changes.map((ch) => `${ch.fromStatus}->${ch.toStatus}`).join(', ')}`,
      );
      previous = change.toStatus;
    }
    const row = await knex('transactions').where({ id }).first('status');
    c.check(
      row?.status === previous,
      () => `${id}: stored status ${row?.status}, last status change to ${previous}`,
    );
    const sequences = entries.flatMap((e) =>
      typeof e.internal.sequence === 'number' ? [e.internal.sequence] : [],
    );
    c.check(
      new Set(sequences).size === sequences.length,
      () => `${id}: timeline sequence numbers repeat: ${sequences.join(',')}`,
      'duplicated',
    );
  }
}

/**
 * Every merchant-visible status change has one webhook, delivered or exhausted; the merchant saw it
 * signed, always under the same webhook-id with the same body, and "delivered" only after a 2xx.
 * The merchant never saw a webhook id the platform did not request.
 */
export async function checkWebhooks(
  c: Checker,
  knex: Knex,
  orders: Order[],
  merchant: FlakyMerchant,
): Promise<{ requested: number; delivered: number; exhausted: number }> {
  const figures = { requested: 0, delivered: 0, exhausted: 0 };
  const requestedIds = new Set<string>();
  for (const order of orders.filter(accepted)) {
    const id = order.transactionId!;
    const entries: Array<{ entry_type: string; internal: Record<string, unknown>; merchant_view: unknown }> =
      await knex('transaction_timeline')
        .where({ transaction_id: id })
        .whereIn('entry_type', ['TransactionStatusChanged', 'MerchantWebhookRequested'])
        .select('entry_type', 'internal', 'merchant_view');
    const visibleChanges = entries.filter(
      (e) => e.entry_type === 'TransactionStatusChanged' && e.merchant_view !== null,
    );
    const requests = entries.filter((e) => e.entry_type === 'MerchantWebhookRequested');
    const counts = () =>
      `${id}: ${visibleChanges.length} merchant-visible status changes, ${requests.length} webhooks requested (expected 1 each)`;
    c.check(visibleChanges.length === 1 && requests.length >= 1, counts, 'lost');
    c.check(visibleChanges.length <= 1 && requests.length <= 1, counts, 'duplicated');
    for (const request of requests) {
      const webhookId = String(request.internal.webhookId);
      requestedIds.add(webhookId);
      figures.requested++;
      const delivery = await knex('webhook_deliveries').where({ id: webhookId }).first('state', 'payload');
      c.check(
        delivery?.state === 'delivered' || delivery?.state === 'exhausted',
        () => `${id}: webhook ${webhookId} is ${delivery?.state ?? 'missing'}, not delivered or exhausted`,
        'lost',
      );
      if (delivery?.state === 'delivered') figures.delivered++;
      if (delivery?.state === 'exhausted') figures.exhausted++;
      const seen = merchant.forId(webhookId);
      c.check(seen.length > 0, () => `${id}: the merchant never saw webhook ${webhookId}`, 'lost');
      c.check(
        seen.every((w) => w.verified),
        () => `${id}: webhook ${webhookId} failed signature verification`,
      );
      c.check(
        new Set(seen.map((w) => w.body)).size <= 1,
        () => `${id}: webhook ${webhookId} changed its body between attempts`,
      );
      const body = seen[0] ? (JSON.parse(seen[0].body) as { transactionId?: string; status?: string }) : {};
      c.check(
        seen.length === 0 || (body.transactionId === id && body.status === order.kind.expected),
        () =>
          `${id}: webhook ${webhookId} says ${body.transactionId} ${body.status}, expected ${order.kind.expected}`,
      );
      if (delivery?.state === 'delivered')
        c.check(
          seen.some((w) => w.answered !== null && w.answered < 300),
          () => `${id}: webhook ${webhookId} recorded as delivered, but the merchant never answered it 2xx`,
        );
    }
  }
  const unknown = new Set(merchant.seen.map((w) => w.webhookId).filter((w) => !requestedIds.has(w)));
  c.check(
    unknown.size === 0,
    () => `the merchant received webhook ids nobody requested: ${[...unknown].join(', ')}`,
  );
  return figures;
}

/**
 * No callback a provider saw answered 2xx is lost: each such notification is stored at least as many
 * times as it was accepted; every notification the simulator sent was accepted in the end (it retries
 * for longer than any outage here); no callback stays parked or expires.
 */
export async function checkCallbacks(
  c: Checker,
  knex: Knex,
  log: CallbackLogEntry[],
): Promise<{ accepted: number; refused: Record<string, number> }> {
  const acceptedCount = new Map<string, number>();
  const sends = new Map<string, boolean>();
  const refused: Record<string, number> = {};
  for (const entry of log) {
    const send = `${entry.paymentId}|${entry.notificationId}|${entry.copy}`;
    sends.set(send, (sends.get(send) ?? false) || entry.delivered);
    if (!entry.delivered) {
      const why = entry.httpStatus === null ? 'without an HTTP answer' : `answered ${entry.httpStatus}`;
      refused[why] = (refused[why] ?? 0) + 1;
      continue;
    }
    for (const id of entry.notificationId.split(','))
      acceptedCount.set(`${entry.provider}|${id}`, (acceptedCount.get(`${entry.provider}|${id}`) ?? 0) + 1);
  }
  for (const [send, delivered] of sends)
    c.check(delivered, () => `callback ${send} was never accepted (the simulator gave up)`, 'lost');
  const rows: Array<{ provider_id: string; notification_id: string; count: string | number }> = await knex(
    'provider_callbacks',
  )
    .groupBy('provider_id', 'notification_id')
    .select('provider_id', 'notification_id', knex.raw('count(*) as count'));
  const stored = new Map(rows.map((r) => [`${r.provider_id}|${r.notification_id}`, Number(r.count)]));
  for (const [key, count] of acceptedCount)
    c.check(
      (stored.get(key) ?? 0) >= count,
      () => `callback ${key}: accepted ${count} times, stored ${stored.get(key) ?? 0} times`,
      'lost',
    );
  const open: Array<{ id: string; state: string; ignored_reason: string | null }> = await knex(
    'provider_callbacks',
  )
    .where({ state: 'parked' })
    .orWhere({ ignored_reason: 'expired' })
    .select('id', 'state', 'ignored_reason');
  c.check(
    open.length === 0,
    () => `callbacks left parked or expired: ${open.map((r) => r.id).join(', ')}`,
    'lost',
  );
  return { accepted: log.filter((e) => e.delivered).length, refused };
}

/** The outbox is empty (every committed event reached the broker) and no consumer has a backlog. */
export async function checkDrained(
  c: Checker,
  knex: Knex,
  backlogs: Map<string, number> | null,
): Promise<void> {
  const pending = Number((await knex('outbox').whereNull('published_at').count({ n: '*' }).first())?.n ?? 0);
  c.check(pending === 0, () => `${pending} outbox events never published`, 'lost');
  if (backlogs === null) return; // Pub/Sub: no backlog from the broker API (Cloud Monitoring's job)
  for (const [subscription, backlog] of backlogs)
    c.check(backlog === 0, () => `consumer backlog ${subscription} = ${backlog}`, 'lost');
}

/** failed_events and the dead-letter topics hold the same messages (dead-lettered = recorded, and back). */
export async function checkDeadLetters(
  c: Checker,
  knex: Knex,
  deadLetters: Array<{ consumerGroup: string; originalTopic: string; originalMessageId: string }>,
  expected: number,
): Promise<number> {
  const rows: Array<{ consumer_group: string; topic: string; message_id: string }> = await knex(
    'failed_events',
  ).select('consumer_group', 'topic', 'message_id');
  const recorded = new Set(rows.map((r) => `${r.consumer_group}|${r.topic}|${r.message_id}`));
  const onTopics = new Set(
    deadLetters.map((d) => `${d.consumerGroup}|${d.originalTopic}|${d.originalMessageId}`),
  );
  c.check(recorded.size === rows.length, () => `failed_events records a message twice`, 'duplicated');
  for (const key of onTopics)
    c.check(recorded.has(key), () => `dead letter ${key} has no failed_events row`, 'lost');
  for (const key of recorded)
    c.check(onTopics.has(key), () => `failed_events ${key} is not on its dead-letter topic`, 'lost');
  c.check(
    recorded.size === expected,
    () => `${recorded.size} dead-lettered messages, expected the ${expected} poison messages`,
  );
  return recorded.size;
}

/** Parses `broker_consumer_backlog_messages{topic,group} N` out of Prometheus text. */
export function consumerBacklogs(metricsText: string, into: Map<string, number>, service: string): void {
  const pattern = /^broker_consumer_backlog_messages\{([^}]*)\} (\S+)$/gm;
  for (const match of metricsText.matchAll(pattern)) {
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    into.set(`${service}:${labels.topic}/${labels.group}`, Number(match[2]));
  }
}
