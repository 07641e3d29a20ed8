/**
 * The mixed load a chaos run drives, as a merchant and its customers would: deposits (retried with the
 * same body after a network error or a 5xx, some sent twice on purpose, some twice at once), customers
 * filling the hosted form when the provider wants more fields, and customers paying on the provider's
 * checkout page. Each order's amount picks a simulator behaviour (magic amounts, one scripted
 * scenario), which fixes the status the platform must end in. Everything sent and answered is counted.
 */
import { sampleFieldValue } from '../../../platform/demo/sample-values.js';

type MerchantStatus = 'approved' | 'declined' | 'rejected';

export interface OrderKind {
  name: string;
  /** Last two digits of the amount (the simulator's magic amounts), or a whole scripted amount. */
  amount: (random: () => number) => number;
  /** What the customer does: nothing, pay at the provider, or fill the form first and then pay. */
  journey: 'none' | 'checkout' | 'form-then-checkout';
  expected: MerchantStatus;
}

const magic = (suffix: number) => (random: () => number) => 1_000 + 100 * Math.floor(random() * 80) + suffix;

/** Amount of the scripted scenario: out of order, and the final callback three times. */
export const SCRIPTED_AMOUNT = 4_242;
export const SCRIPTED_SCENARIO = {
  match: { amountMinor: SCRIPTED_AMOUNT },
  behaviour: {
    kind: 'redirect',
    callbacks: [
      { outcome: 'pending', deliverAfterMs: 400 },
      { outcome: 'approved', copies: 3 },
    ],
  },
};

export const ORDER_KINDS: readonly OrderKind[] = [
  { name: 'paid at checkout', amount: magic(50), journey: 'checkout', expected: 'approved' },
  { name: 'declined at once', amount: magic(1), journey: 'none', expected: 'declined' },
  { name: 'every provider down', amount: magic(2), journey: 'none', expected: 'rejected' },
  {
    name: 'customer fields, then paid',
    amount: magic(4),
    journey: 'form-then-checkout',
    expected: 'approved',
  },
  { name: 'approved at once', amount: magic(7), journey: 'none', expected: 'approved' },
  { name: 'pending, then approved', amount: magic(8), journey: 'none', expected: 'approved' },
  { name: 'declined after checkout', amount: magic(9), journey: 'checkout', expected: 'declined' },
  { name: 'duplicate callback', amount: magic(10), journey: 'checkout', expected: 'approved' },
  { name: 'callbacks out of order', amount: magic(11), journey: 'checkout', expected: 'approved' },
  { name: 'conflicting callbacks', amount: magic(12), journey: 'checkout', expected: 'approved' },
  {
    name: 'scripted: reordered, 3 copies',
    amount: () => SCRIPTED_AMOUNT,
    journey: 'checkout',
    expected: 'approved',
  },
];

export interface DepositAnswer {
  status: number | null;
  /** How long the answer took. */
  ms: number;
  transactionId?: string;
  error?: string;
}

export interface Order {
  merchantTransactionId: string;
  kind: OrderKind;
  amount: number;
  body: Record<string, unknown>;
  /** Every answer to a deposit request for this order (retries and duplicates included). */
  answers: DepositAnswer[];
  transactionId: string | null;
  hostedPaymentUrl: string | null;
  /** Where the customer journey ended: done, or what it was waiting for when it gave up. */
  journey: string;
}

export interface LoadCounters {
  depositRequests: number;
  duplicateDeposits: number;
  hostedPolls: number;
  formSubmissions: number;
  checkouts: number;
  networkErrors: number;
  serverErrors: number;
}

export interface LoadOptions {
  gatewayUrl: string;
  apiKey: string;
  webhookUrl: string;
  orders: number;
  /** Pause between starting two orders. */
  paceMs: number;
  random: () => number;
  /** Share of orders re-sent after they were accepted (default 0.2), and sent twice at once (0.1). */
  duplicateRate?: number;
  concurrentDuplicateRate?: number;
  /** Per order: how long the merchant keeps retrying and the customer keeps waiting. */
  patienceMs?: number;
  runId: string;
}

export class LoadDriver {
  readonly orders: Order[] = [];
  readonly counters: LoadCounters = {
    depositRequests: 0,
    duplicateDeposits: 0,
    hostedPolls: 0,
    formSubmissions: 0,
    checkouts: 0,
    networkErrors: 0,
    serverErrors: 0,
  };

  constructor(private readonly options: LoadOptions) {}

  get requestsSent(): number {
    const c = this.counters;
    return c.depositRequests + c.hostedPolls + c.formSubmissions + c.checkouts;
  }

  /**
   * Places `orders` orders (every kind in turn) at the configured pace, and more while `until` is
   * pending (up to `maxOrders`); resolves when every journey is over.
   */
  async run(options: { until?: Promise<unknown>; maxOrders?: number } = {}): Promise<void> {
    let busy = options.until !== undefined;
    void options.until?.finally(() => (busy = false));
    const journeys: Array<Promise<void>> = [];
    for (let i = 0; i < this.options.orders || (busy && i < (options.maxOrders ?? Infinity)); i++) {
      journeys.push(this.place(ORDER_KINDS[i % ORDER_KINDS.length]!).done);
      await sleep(this.options.paceMs * (0.5 + this.options.random()));
    }
    await Promise.all(journeys);
  }

  /**
   * One order and its whole journey. `payWhen`: the customer presses Pay only once it resolves (to
   * make providers call back during an outage).
   */
  place(kind: OrderKind, options: { payWhen?: Promise<void> } = {}): { order: Order; done: Promise<void> } {
    const amount = kind.amount(this.options.random);
    const merchantTransactionId = `${this.options.runId}-${this.orders.length}`;
    const order: Order = {
      merchantTransactionId,
      kind,
      amount,
      body: {
        merchantTransactionId,
        amount: { value: amount, currency: 'EUR' },
        paymentMethod: 'card',
        customer: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', country: 'DE' },
        returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
        webhookUrl: this.options.webhookUrl,
      },
      answers: [],
      transactionId: null,
      hostedPaymentUrl: null,
      journey: 'not started',
    };
    this.orders.push(order);
    return { order, done: this.journey(order, options.payWhen) };
  }

  private async journey(order: Order, payWhen?: Promise<void>): Promise<void> {
    const { random } = this.options;
    const deadline = Date.now() + (this.options.patienceMs ?? 120_000);
    const first =
      random() < (this.options.concurrentDuplicateRate ?? 0.1)
        ? (await Promise.all([this.deposit(order, deadline), this.deposit(order, deadline, true)]))[0]
        : await this.deposit(order, deadline);
    if (!first) {
      order.journey = 'deposit never accepted';
      return;
    }
    if (random() < (this.options.duplicateRate ?? 0.2)) await this.deposit(order, deadline, true);
    if (order.kind.journey === 'none') {
      order.journey = 'done';
      return;
    }
    if (order.kind.journey === 'form-then-checkout') {
      const form = await this.waitForHostedState(order, ['form'], deadline);
      if (!form) return;
      if (!(await this.submitForm(order, form, deadline))) return;
    }
    const redirect = await this.waitForHostedState(order, ['redirect'], deadline);
    if (!redirect) return;
    order.journey = 'at checkout';
    await payWhen;
    if (!(await this.pay(order, String(redirect.redirectUrl), deadline))) return;
    order.journey = 'done';
  }

  /** One merchant deposit call, retried with the same body until a definitive answer. */
  private async deposit(order: Order, deadline: number, duplicate = false): Promise<boolean> {
    if (duplicate) this.counters.duplicateDeposits++;
    while (Date.now() < deadline) {
      this.counters.depositRequests++;
      const sent = Date.now();
      try {
        const response = await fetch(`${this.options.gatewayUrl}/api/v2/deposit`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.options.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(order.body),
          signal: AbortSignal.timeout(15_000),
        });
        const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
        const answer: DepositAnswer = { status: response.status, ms: Date.now() - sent };
        if (typeof body.transactionId === 'string') answer.transactionId = body.transactionId;
        order.answers.push(answer);
        if (response.ok) {
          order.transactionId ??= String(body.transactionId);
          order.hostedPaymentUrl ??= String(body.hostedPaymentUrl);
          return true;
        }
        if (response.status < 500) return false; // a 4xx is definitive (and an invariant violation)
        this.counters.serverErrors++;
      } catch (error) {
        this.counters.networkErrors++;
        order.answers.push({ status: null, ms: Date.now() - sent, error: (error as Error).message });
      }
      await sleep(200 + 300 * this.options.random());
    }
    return false;
  }

  private async waitForHostedState(
    order: Order,
    states: string[],
    deadline: number,
  ): Promise<Record<string, unknown> | null> {
    let last = 'nothing';
    while (Date.now() < deadline) {
      this.counters.hostedPolls++;
      try {
        const response = await fetch(`${order.hostedPaymentUrl}/state`, {
          signal: AbortSignal.timeout(10_000),
        });
        if (response.ok) {
          const state = (await response.json()) as Record<string, unknown>;
          last = String(state.state);
          if (states.includes(last)) return state;
          if (last === 'completed' || last === 'failed' || last === 'expired') break;
        } else {
          await response.arrayBuffer();
          if (response.status >= 500) this.counters.serverErrors++;
        }
      } catch {
        this.counters.networkErrors++;
      }
      await sleep(700);
    }
    order.journey = `waited for hosted state ${states.join('/')}, last saw ${last}`;
    return null;
  }

  private async submitForm(order: Order, form: Record<string, unknown>, deadline: number): Promise<boolean> {
    const fields = (form.fields ?? []) as Array<{ name: string; kind: string }>;
    const values = Object.fromEntries(fields.map((f) => [f.name, sampleFieldValue(f.name, f.kind)]));
    while (Date.now() < deadline) {
      this.counters.formSubmissions++;
      try {
        const response = await fetch(`${order.hostedPaymentUrl}/customer-data`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: new URL(this.options.gatewayUrl).origin },
          body: JSON.stringify({ values }),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        if (response.ok) return true;
        if (response.status < 500) {
          order.journey = `form refused: ${response.status} ${text.slice(0, 200)}`;
          return false;
        }
        this.counters.serverErrors++;
      } catch {
        this.counters.networkErrors++;
      }
      await sleep(300);
    }
    order.journey = 'form never accepted';
    return false;
  }

  /** The customer presses Pay on the provider's checkout page (the simulator, always up). */
  private async pay(order: Order, redirectUrl: string, deadline: number): Promise<boolean> {
    while (Date.now() < deadline) {
      this.counters.checkouts++;
      try {
        const response = await fetch(redirectUrl, {
          method: 'POST',
          body: new URLSearchParams({ action: 'pay' }),
          redirect: 'manual',
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
        if (response.status === 303) return true;
        order.journey = `checkout answered ${response.status}`;
        return false;
      } catch {
        this.counters.networkErrors++;
      }
      await sleep(300);
    }
    order.journey = 'checkout never answered';
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A small seeded PRNG (mulberry32): a failing run can be replayed with CHAOS_SEED. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
