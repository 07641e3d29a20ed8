/**
 * `stripe-sim` wire format, pure: PaymentIntent request parameters, PaymentIntent/error answers ->
 * PaymentOutcome, webhook events -> CallbackFacts.
 *
 *   requires_action + redirect_to_url -> redirect        requires_action + collect_customer_data -> fields
 *   processing -> pending     succeeded / requires_capture -> approved
 *   requires_payment_method (402 card_error, or after a failed attempt) / canceled -> declined
 *   idempotency_error / 409 -> provider_error, outcomeUnknown (a request with this key may have run)
 */
import { NonRetryableError } from '../../core/errors.js';
import {
  fromProviderSpecs,
  providerFieldSpecs,
  toProviderFields,
  unflatten,
  type FieldMapping,
} from './customer-fields.js';
import { failed, httpFailure, unreadableAnswer } from './failures.js';
import type { FormInput } from './form-encoding.js';
import type { CallbackFacts, PaymentOutcome, PaymentRequest } from './types.js';
import { isObject, parseObject, text, type Json } from './wire-json.js';

/** Our customer fields -> Stripe `billing_details` paths. */
export const STRIPE_FIELDS: FieldMapping = [
  ['email', 'email'],
  ['phone', 'phone'],
  ['fullName', 'name'],
  ['addressLine1', 'address.line1'],
  ['city', 'address.city'],
  ['postalCode', 'address.postal_code'],
  ['country', 'address.country'],
];

function billingDetails(customer: Readonly<Record<string, string>>): Record<string, unknown> {
  const fields = toProviderFields(STRIPE_FIELDS, customer);
  // Stripe has one name field: compose it when the merchant gave first and last names.
  if (fields.name === undefined) {
    const name = [customer.firstName, customer.lastName]
      .filter((part) => part && part.trim() !== '')
      .join(' ');
    if (name) fields.name = name;
  }
  return unflatten(fields);
}

export function stripeCreateParams(request: PaymentRequest): Record<string, FormInput> {
  return {
    amount: request.amountMinor,
    currency: request.currency.toLowerCase(),
    confirm: true,
    payment_method_types: [request.paymentMethod],
    payment_method_data: {
      type: request.paymentMethod,
      billing_details: billingDetails(request.customer) as FormInput,
    },
    return_url: request.returnUrl,
    webhook_url: request.callbackUrl,
    metadata: { reference: request.attemptId, transaction_id: request.transactionId },
  };
}

export function stripeConfirmParams(request: PaymentRequest): Record<string, FormInput> {
  return {
    payment_method_data: {
      type: request.paymentMethod,
      billing_details: billingDetails(request.customer) as FormInput,
    },
    return_url: request.returnUrl,
  };
}

/** A PaymentIntent object -> outcome. */
function intentOutcome(intent: Json): PaymentOutcome {
  const id = text(intent.id);
  if (id === null) return unreadableAnswer(200);
  const next = isObject(intent.next_action) ? intent.next_action : {};
  switch (intent.status) {
    case 'requires_action': {
      if (next.type === 'redirect_to_url' && isObject(next.redirect_to_url) && text(next.redirect_to_url.url))
        return { kind: 'redirect', providerReference: id, redirectUrl: text(next.redirect_to_url.url)! };
      if (next.type === 'collect_customer_data' && isObject(next.collect_customer_data)) {
        const specs = providerFieldSpecs(next.collect_customer_data.fields);
        const fields = fromProviderSpecs(STRIPE_FIELDS, specs);
        return { kind: 'customer_data_required', providerReference: id, fields };
      }
      return failed('provider_error', `unsupported_next_action_${String(next.type)}`, true);
    }
    case 'processing':
      return { kind: 'pending', providerReference: id };
    case 'succeeded':
    case 'requires_capture':
      return { kind: 'approved', providerReference: id };
    case 'requires_payment_method': {
      const error = isObject(intent.last_payment_error) ? intent.last_payment_error : {};
      return { kind: 'declined', providerReference: id, code: text(error.decline_code) ?? text(error.code) };
    }
    case 'canceled':
      return {
        kind: 'declined',
        providerReference: id,
        code: text(intent.cancellation_reason) ?? 'canceled',
      };
    default:
      return failed('provider_error', `unexpected_status_${String(intent.status)}`, true);
  }
}

/** An answer of POST /v1/payment_intents (or …/confirm) -> outcome. */
export function stripeOutcome(status: number, body: Buffer): PaymentOutcome {
  const json = parseObject(body);
  if (status >= 200 && status < 300) return json ? intentOutcome(json) : unreadableAnswer(status);
  const error = json && isObject(json.error) ? json.error : {};
  const intent = isObject(error.payment_intent) ? error.payment_intent : undefined;
  if (error.type === 'card_error') {
    return {
      kind: 'declined',
      providerReference: text(intent?.id),
      code: text(error.decline_code) ?? text(error.code),
    };
  }
  if (error.type === 'idempotency_error' || status === 409)
    return failed('provider_error', 'idempotency_error', true);
  // A confirm on an intent that moved on: the intent tells where it is now.
  if (error.code === 'payment_intent_unexpected_state' && intent) return intentOutcome(intent);
  return httpFailure(status, text(error.code) ?? text(error.type));
}

const EVENT_OUTCOMES: Record<string, CallbackFacts['outcome']> = {
  'payment_intent.succeeded': 'approved',
  'payment_intent.amount_capturable_updated': 'approved',
  'payment_intent.processing': 'pending',
  'payment_intent.requires_action': 'pending',
  'payment_intent.payment_failed': 'declined',
  'payment_intent.canceled': 'declined',
};

/** A verified webhook event -> facts; events about anything but a payment outcome give none. */
export function stripeCallbackFacts(body: Buffer): CallbackFacts[] {
  const event = parseObject(body);
  const id = text(event?.id);
  const type = text(event?.type);
  if (!event || id === null || type === null) {
    throw new NonRetryableError('stripe-sim callback is not an event with an id and a type', {
      code: 'BAD_CALLBACK_BODY',
    });
  }
  const outcome = EVENT_OUTCOMES[type];
  if (outcome === undefined) return [];
  const object = isObject(event.data) && isObject(event.data.object) ? event.data.object : undefined;
  const reference = text(object?.id);
  if (!object || reference === null) {
    throw new NonRetryableError(`stripe-sim ${type} event has no data.object.id`, {
      code: 'BAD_CALLBACK_BODY',
    });
  }
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const amount = object.amount;
  const currency = text(object.currency);
  return [
    {
      providerReference: reference,
      attemptId: text(metadata.reference),
      notificationId: id,
      outcome,
      providerStatus: type,
      amountMinor: typeof amount === 'number' && Number.isSafeInteger(amount) ? amount : null,
      currency: currency === null ? null : currency.toUpperCase(),
    },
  ];
}
