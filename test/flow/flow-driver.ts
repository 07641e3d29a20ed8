/**
 * Drives payments through a running test platform the way its users do — the merchant API, the hosted
 * page, the provider simulator's checkout and control API — and reads back what the platform recorded
 * (timeline, attempts, callbacks, metrics), so the flow suites read as scenarios, not plumbing.
 */
import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import type { TestPlatform } from '../support/platform.js';
import { SimControl } from '../support/simulator.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers and database rows */
export type Row = Record<string, any>;

export interface TimelineEntry {
  type: string;
  /** What platform users see (the event payload unless the fact says otherwise). */
  internal: Row;
  /** What the merchant sees; null: internal only. */
  merchantView: Row | null;
}

const WAIT_MS = 30_000;

export class FlowDriver {
  readonly sim: SimControl;
  private order = 0;

  constructor(readonly t: TestPlatform) {
    this.sim = new SimControl(t.simulatorUrl);
  }

  get knex() {
    return this.t.platform.database.knex;
  }

  /** A card deposit with a complete customer; 201 expected. */
  async deposit(
    value: number,
    currency = 'EUR',
  ): Promise<{ transactionId: string; hostedPaymentUrl: string }> {
    const { status, body } = await this.t.deposit({
      merchantTransactionId: `flow-${Date.now()}-${this.order++}`,
      amount: { value, currency },
      paymentMethod: 'card',
      customer: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', country: 'DE' },
      returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
    });
    expect(status, JSON.stringify(body)).to.equal(201);
    return body as { transactionId: string; hostedPaymentUrl: string };
  }

  async hostedState(url: string): Promise<Row> {
    return (await (await fetch(`${url}/state`)).json()) as Row;
  }

  async waitForState(url: string, state: string): Promise<Row> {
    let last: Row = {};
    await eventually(
      async () => (last = await this.hostedState(url)).state === state,
      WAIT_MS,
      `hosted page state ${state}`,
    );
    return last;
  }

  /** Waits for the status the merchant API reports (approved, declined, rejected, expired, pending). */
  async waitForStatus(transactionId: string, status: string): Promise<void> {
    let last = '';
    await eventually(
      async () => (last = (await this.t.transaction(transactionId)).status) === status,
      WAIT_MS,
      `merchant status ${status} of ${transactionId}`,
    ).catch((error: Error) => {
      throw new Error(`${error.message} (last: ${last})`);
    });
  }

  /** The customer pays (or cancels) on the provider's checkout page; it redirects back (303). */
  async checkout(redirectUrl: string, action: 'pay' | 'cancel' = 'pay'): Promise<void> {
    const answer = await fetch(redirectUrl, {
      method: 'POST',
      body: new URLSearchParams({ action }),
      redirect: 'manual',
    });
    expect(answer.status, `checkout ${redirectUrl}`).to.equal(303);
  }

  /** Checkout URL of a payment the simulator holds, e.g. one whose answer never reached the platform. */
  checkoutUrlOf(payment: Row): string {
    return `${this.t.simulatorUrl}/${payment.provider}/checkout/${payment.id}`;
  }

  async simPayments(transactionId: string): Promise<Row[]> {
    return (await this.sim.get<{ payments: Row[] }>('payments', { transactionId })).payments;
  }

  async timeline(transactionId: string): Promise<TimelineEntry[]> {
    const rows = await this.knex('transaction_timeline')
      .where({ transaction_id: transactionId })
      .orderBy('id');
    return rows.map((row) => ({
      type: row.entry_type as string,
      internal: row.internal as Row,
      merchantView: (row.merchant_view ?? null) as Row | null,
    }));
  }

  async timelineTypes(transactionId: string): Promise<string[]> {
    return (await this.timeline(transactionId)).map((entry) => entry.type);
  }

  /** Status changes recorded on the timeline, as `FROM->TO`. */
  async statusChanges(transactionId: string): Promise<string[]> {
    return (await this.timeline(transactionId))
      .filter((entry) => entry.type === 'TransactionStatusChanged')
      .map((entry) => `${entry.internal.fromStatus}->${entry.internal.toStatus}`);
  }

  async attempts(transactionId: string): Promise<Row[]> {
    return this.knex('payment_attempts').where({ transaction_id: transactionId }).orderBy('attempt_number');
  }

  async callbacks(transactionId: string): Promise<Row[]> {
    return this.knex('provider_callbacks').where({ transaction_id: transactionId }).orderBy('created_at');
  }

  /** Signed webhooks the merchant's receiver got for this transaction. */
  webhooksFor(transactionId: string): Array<{ verified: boolean; payload: Row; webhookId: string }> {
    return this.t.receiver.received
      .map((w) => ({
        verified: w.verified,
        payload: JSON.parse(w.body) as Row,
        webhookId: w.headers['webhook-id']!,
      }))
      .filter((w) => w.payload.transactionId === transactionId);
  }

  async waitForWebhooks(transactionId: string, count: number): Promise<void> {
    await eventually(
      () => this.webhooksFor(transactionId).length >= count,
      WAIT_MS,
      `${count} webhook(s) for ${transactionId}`,
    );
  }

  /** A sample of the platform's Prometheus series (0 when the series does not exist yet). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${this.t.url}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const present = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
      );
      if (Object.entries(labels).every(([key, value]) => present[key] === value)) total += Number(match[3]);
    }
    return total;
  }
}

/** `expected` appears in `actual` in this order (other entries may come in between). */
export function expectInOrder(actual: readonly string[], expected: readonly string[]): void {
  let at = 0;
  for (const item of actual) if (item === expected[at]) at++;
  expect(at, `${JSON.stringify(expected)} in order within ${JSON.stringify(actual)}`).to.equal(
    expected.length,
  );
}
