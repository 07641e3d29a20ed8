/**
 * The provider simulator's vocabulary, shared by its provider front ends (`stripe-sim`, `adyen-sim`).
 *
 * - payment: what the simulated PSP created for one accepted request (a Stripe PaymentIntent, an Adyen
 *   payment with a pspReference). Created at most once per idempotency key.
 * - behaviour: what the simulator does with a request: answer with a redirect, ask for customer fields,
 *   decline, hang (timeout), fail (5xx), refuse (velocity, inactive account), plus the callbacks it sends.
 * - scenario: a scripted behaviour for requests matching some fields, set via `POST /_sim/scenarios`.
 *   Without a matching scenario the behaviour comes from the amount (see README "magic amounts").
 * - callback step: one notification the simulator sends to the request's callback URL, in logical
 *   order, each delivered `deliverAfterMs` after its trigger (so deliveries can be late, out of order,
 *   duplicated or contradict each other).
 */

export const SIM_PROVIDERS = ['stripe-sim', 'adyen-sim'] as const;
export type SimProviderId = (typeof SIM_PROVIDERS)[number];

export type CallbackOutcome = 'approved' | 'declined' | 'pending';

export interface CallbackStep {
  outcome: CallbackOutcome;
  /** Delay after the trigger (customer finished the checkout page, or the synchronous answer). */
  deliverAfterMs: number;
  /** How many times the same notification is delivered (2 = a duplicate). */
  copies: number;
  /** Decline code carried by a declined notification. */
  code?: string;
}

/** A customer field the provider wants, in the provider's own field naming (e.g. `shopperEmail`). */
export interface FieldRequirement {
  name: string;
  type: 'email' | 'tel' | 'text' | 'date' | 'country';
  label: string;
  pattern?: string;
}

/** How the final result reaches the merchant once the payment is under way. */
export interface CallbackScript {
  steps: CallbackStep[];
  /** Adyen only: deliver all steps as one notification batch (several items in one body). */
  batch: boolean;
}

export type Behaviour =
  | {
      kind: 'redirect';
      callbacks: CallbackScript;
      /** Complete the checkout by itself after this long, as if the customer paid. */
      autoCompleteAfterMs?: number;
    }
  | { kind: 'approved'; callbacks: CallbackScript }
  | { kind: 'pending'; callbacks: CallbackScript }
  | { kind: 'decline'; code: string; callbacks: CallbackScript }
  | { kind: 'requires_fields'; fields: FieldRequirement[]; then: Behaviour }
  /** The payment is created (as `then` says) but the answer is held for `hangMs`. */
  | { kind: 'timeout'; hangMs: number; then: Behaviour }
  | { kind: 'server_error'; status: number }
  | { kind: 'velocity' }
  | { kind: 'inactive_account' };

export type BehaviourKind = Behaviour['kind'];

/** What a scenario matches on; every given field must be equal. */
export interface ScenarioMatch {
  provider?: SimProviderId;
  reference?: string;
  transactionId?: string;
  amountMinor?: number;
  account?: string;
  idempotencyKey?: string;
}

export interface Scenario {
  id: string;
  match: ScenarioMatch;
  behaviour: Behaviour;
  /** Requests it still applies to; null = unlimited. */
  remaining: number | null;
  createdAt: string;
}

/** A payment request as both providers carry it, after the provider front end parsed it. */
export interface PaymentInput {
  provider: SimProviderId;
  /** Stripe: the `Stripe-Account` header or a key fingerprint; Adyen: the merchantAccount. */
  account: string;
  idempotencyKey: string | null;
  /** The merchant's reference (Stripe `metadata[reference]`, Adyen `reference`). */
  reference: string | null;
  transactionId: string | null;
  amountMinor: number;
  currency: string;
  paymentMethod: string | null;
  /** Customer data in the provider's field naming (flattened paths). Never logged or exposed. */
  customer: Record<string, string>;
  returnUrl: string | null;
  callbackUrl: string | null;
  /** Echoed back in callbacks (Stripe metadata). */
  metadata: Record<string, string>;
}

export type PaymentStatus =
  'requires_customer_data' | 'requires_action' | 'pending' | 'approved' | 'declined' | 'canceled';

export interface SimPayment {
  id: string;
  input: PaymentInput;
  status: PaymentStatus;
  declineCode: string | null;
  /** What happens next: after fields arrive, after the checkout, … */
  behaviour: Behaviour;
  /** Fields still missing while `requires_customer_data`. */
  missingFields: FieldRequirement[];
  createdAt: Date;
}

/** Provider-neutral result of a request; each front end renders it in its wire format. */
export type PaymentResult =
  | { kind: 'payment'; payment: SimPayment }
  | { kind: 'server_error'; status: number }
  | { kind: 'velocity' }
  | { kind: 'inactive_account' };

/** What `GET /_sim/requests` shows: no credentials, no customer values (field names only). */
export interface RequestLogEntry {
  seq: number;
  at: string;
  provider: SimProviderId;
  operation: 'create' | 'continue';
  idempotencyKey: string | null;
  replayed: boolean;
  account: string | null;
  reference: string | null;
  transactionId: string | null;
  amountMinor: number | null;
  currency: string | null;
  customerFields: string[];
  httpStatus: number;
  result: string;
  paymentId: string | null;
  scenarioId: string | null;
}

/** What `GET /_sim/callbacks` shows: one row per delivery attempt. */
export interface CallbackLogEntry {
  seq: number;
  at: string;
  provider: SimProviderId;
  paymentId: string;
  notificationId: string;
  outcomes: CallbackOutcome[];
  copy: number;
  attempt: number;
  url: string;
  httpStatus: number | null;
  error: string | null;
  delivered: boolean;
}

/** The payment as the control API shows it (no customer values). */
export function publicPayment(payment: SimPayment): Record<string, unknown> {
  const { input } = payment;
  return {
    id: payment.id,
    provider: input.provider,
    account: input.account,
    idempotencyKey: input.idempotencyKey,
    reference: input.reference,
    transactionId: input.transactionId,
    amountMinor: input.amountMinor,
    currency: input.currency,
    status: payment.status,
    declineCode: payment.declineCode,
    customerFields: Object.keys(input.customer).sort(),
    missingFields: payment.missingFields.map((field) => field.name),
    createdAt: payment.createdAt.toISOString(),
  };
}
