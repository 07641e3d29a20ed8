/**
 * The simulator's memory: payments, idempotency records, scenarios and the request and callback logs.
 * In memory on purpose (a simulator restarts empty); bounded logs so a long demo cannot grow it forever.
 */
import { randomBytes } from 'node:crypto';
import { findScenario } from './behaviour.js';
import type { ScenarioInput } from './scenario-input.js';
import type {
  CallbackLogEntry,
  PaymentInput,
  RequestLogEntry,
  Scenario,
  SimPayment,
  SimProviderId,
} from './model.js';

const MAX_LOG_ENTRIES = 10_000;

/** The answer stored for an idempotency key, replayed byte for byte. */
export interface StoredResponse {
  status: number;
  body: string;
}

export interface IdempotencyRecord {
  operation: string;
  /** Fingerprint of the request parameters: the same key with other parameters is refused. */
  fingerprint: string;
  response: StoredResponse;
  paymentId: string | null;
}

export interface LogFilter {
  provider?: string;
  reference?: string;
  transactionId?: string;
  idempotencyKey?: string;
  paymentId?: string;
}

export class SimulatorState {
  private readonly payments = new Map<string, SimPayment>();
  private readonly idempotency = new Map<string, IdempotencyRecord>();
  private scenarios: Scenario[] = [];
  private requests: RequestLogEntry[] = [];
  private callbacks: CallbackLogEntry[] = [];
  private seq = 0;

  addPayment(payment: SimPayment): void {
    this.payments.set(payment.id, payment);
  }

  payment(provider: SimProviderId, id: string): SimPayment | undefined {
    const payment = this.payments.get(id);
    return payment?.input.provider === provider ? payment : undefined;
  }

  findPayments(filter: LogFilter): SimPayment[] {
    return [...this.payments.values()].filter(
      (p) =>
        (filter.provider === undefined || p.input.provider === filter.provider) &&
        (filter.reference === undefined || p.input.reference === filter.reference) &&
        (filter.transactionId === undefined || p.input.transactionId === filter.transactionId) &&
        (filter.idempotencyKey === undefined || p.input.idempotencyKey === filter.idempotencyKey),
    );
  }

  /** Idempotency keys are scoped per provider and account, as PSPs scope them per API account. */
  idempotencyRecord(provider: SimProviderId, account: string, key: string): IdempotencyRecord | undefined {
    return this.idempotency.get(scopeKey(provider, account, key));
  }

  rememberIdempotent(provider: SimProviderId, account: string, key: string, record: IdempotencyRecord): void {
    this.idempotency.set(scopeKey(provider, account, key), record);
  }

  addScenario(input: ScenarioInput, now: Date): Scenario {
    const scenario: Scenario = {
      id: `scn_${randomBytes(8).toString('hex')}`,
      match: input.match,
      behaviour: input.behaviour,
      remaining: input.times,
      createdAt: now.toISOString(),
    };
    this.scenarios.push(scenario);
    return scenario;
  }

  listScenarios(): Scenario[] {
    return [...this.scenarios];
  }

  removeScenario(id: string): boolean {
    const before = this.scenarios.length;
    this.scenarios = this.scenarios.filter((scenario) => scenario.id !== id);
    return this.scenarios.length < before;
  }

  /** The newest matching scenario with uses left; consumes one use. */
  takeScenario(input: PaymentInput): Scenario | undefined {
    const scenario = findScenario(this.scenarios, input);
    if (scenario && scenario.remaining !== null) scenario.remaining -= 1;
    return scenario;
  }

  logRequest(entry: Omit<RequestLogEntry, 'seq'>): void {
    this.requests.push({ seq: ++this.seq, ...entry });
    if (this.requests.length > MAX_LOG_ENTRIES) this.requests.shift();
  }

  listRequests(filter: LogFilter): RequestLogEntry[] {
    return this.requests.filter(
      (r) =>
        (filter.provider === undefined || r.provider === filter.provider) &&
        (filter.reference === undefined || r.reference === filter.reference) &&
        (filter.transactionId === undefined || r.transactionId === filter.transactionId) &&
        (filter.idempotencyKey === undefined || r.idempotencyKey === filter.idempotencyKey) &&
        (filter.paymentId === undefined || r.paymentId === filter.paymentId),
    );
  }

  logCallback(entry: Omit<CallbackLogEntry, 'seq'>): void {
    this.callbacks.push({ seq: ++this.seq, ...entry });
    if (this.callbacks.length > MAX_LOG_ENTRIES) this.callbacks.shift();
  }

  listCallbacks(filter: LogFilter): CallbackLogEntry[] {
    const payments = filter.paymentId === undefined ? undefined : new Set([filter.paymentId]);
    const scoped =
      filter.reference !== undefined || filter.transactionId !== undefined
        ? new Set(this.findPayments(filter).map((p) => p.id))
        : undefined;
    return this.callbacks.filter(
      (c) =>
        (filter.provider === undefined || c.provider === filter.provider) &&
        (payments === undefined || payments.has(c.paymentId)) &&
        (scoped === undefined || scoped.has(c.paymentId)),
    );
  }

  reset(): void {
    this.payments.clear();
    this.idempotency.clear();
    this.scenarios = [];
    this.requests = [];
    this.callbacks = [];
  }
}

function scopeKey(provider: string, account: string, key: string): string {
  return JSON.stringify([provider, account, key]);
}
