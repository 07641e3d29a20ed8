/**
 * The two payment calls every simulated provider API has — create a payment, continue one with the
 * customer fields it asked for — as one provider-neutral sequence: the idempotent call with its request
 * log entry (idempotent-call.ts) around the payment engine (payment-flow.ts). A provider API parses and
 * authenticates its own requests and supplies only its wording of each answer (`ProviderWording`).
 */
import type { Context } from 'koa';
import type { FrontEndDeps } from './front-end.js';
import { fingerprint } from './http.js';
import { answerIdempotently, type CallAnswer, type CallSpec } from './idempotent-call.js';
import type { PaymentInput, PaymentResult, SimPayment } from './model.js';
import type { StoredResponse } from './state.js';

export interface ProviderWording {
  /** The answer about a payment that exists, with the word the request log shows for it. */
  payment(payment: SimPayment): StoredResponse & { result: string };
  /** The answer to a request that created nothing; the request log shows the result's kind. */
  refusal(result: Exclude<PaymentResult, { kind: 'payment' }>): StoredResponse;
  /** The answer to customer fields for a payment that does not take them now. */
  unexpectedState(payment: SimPayment): StoredResponse;
  /** The answer when an idempotency key is reused with other parameters or on another endpoint. */
  mismatch: StoredResponse;
}

interface Call {
  /** Endpoint and target, e.g. `create` or `confirm:pi_123`: an idempotency key is bound to one. */
  endpoint: string;
  idempotencyKey: string | null;
  /** The parsed request body: its fingerprint tells a replay from a reused key. */
  body: Record<string, unknown>;
}

export function createPayment(
  ctx: Context,
  deps: FrontEndDeps,
  wording: ProviderWording,
  call: Call & { input: PaymentInput; newId: () => string },
): Promise<void> {
  const { input } = call;
  return answerIdempotently(
    ctx,
    deps,
    spec('create', call, input, input.customer),
    () => {
      const outcome = deps.flow.create(input, call.newId);
      return { ...render(wording, outcome.result), hangMs: outcome.hangMs, scenarioId: outcome.scenarioId };
    },
    wording.mismatch,
  );
}

export function continuePayment(
  ctx: Context,
  deps: FrontEndDeps,
  wording: ProviderWording,
  call: Call & { payment: SimPayment; customer: Record<string, string> },
): Promise<void> {
  const { payment, customer } = call;
  return answerIdempotently(
    ctx,
    deps,
    spec('continue', call, payment.input, customer),
    () => {
      if (payment.status !== 'requires_customer_data') {
        return {
          response: wording.unexpectedState(payment),
          result: 'unexpected_state',
          paymentId: payment.id,
          scenarioId: null,
          hangMs: 0,
          remember: false,
        };
      }
      const outcome = deps.flow.continueWith(payment, customer);
      return { ...render(wording, outcome.result), hangMs: outcome.hangMs, scenarioId: null };
    },
    wording.mismatch,
  );
}

/** The request log shows the customer's field names only, never their values. */
function spec(
  operation: CallSpec['operation'],
  call: Call,
  input: PaymentInput,
  customer: Record<string, string>,
): CallSpec {
  return {
    provider: input.provider,
    operation,
    endpoint: call.endpoint,
    account: input.account,
    idempotencyKey: call.idempotencyKey,
    fingerprint: fingerprint(call.body),
    log: {
      reference: input.reference,
      transactionId: input.transactionId,
      amountMinor: input.amountMinor,
      currency: input.currency,
      customerFields: Object.keys(customer).sort(),
    },
  };
}

/** Answers about a payment are remembered for replays; refusals created nothing and are not. */
function render(
  wording: ProviderWording,
  result: PaymentResult,
): Pick<CallAnswer, 'response' | 'result' | 'paymentId' | 'remember'> {
  if (result.kind !== 'payment')
    return { response: wording.refusal(result), result: result.kind, paymentId: null, remember: false };
  const { result: word, status, body } = wording.payment(result.payment);
  return { response: { status, body }, result: word, paymentId: result.payment.id, remember: true };
}
