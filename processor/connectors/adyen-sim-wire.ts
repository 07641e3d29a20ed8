/**
 * `adyen-sim` wire format, pure: /payments and /payments/details bodies, answers -> PaymentOutcome,
 * standard notifications -> CallbackFacts (one per NotificationRequestItem; Adyen batches).
 *
 *   RedirectShopper -> redirect     ShopperDataRequired -> fields     Authorised -> approved
 *   Pending, Received -> pending    Refused, Cancelled -> declined    Error -> provider_error
 *   errorCode 704 (key in use / used with another request) -> provider_error, outcomeUnknown
 * Notifications: AUTHORISATION success=true -> approved, success=false -> declined, PENDING -> pending,
 * OFFER_CLOSED -> declined; other event codes (CAPTURE, REFUND, …) are not payment outcomes: no facts.
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
import type { CallbackFacts, PaymentOutcome, PaymentRequest } from './types.js';
import { isObject, parseObject, text, type Json } from './wire-json.js';

/** Our customer fields -> Adyen request fields. */
export const ADYEN_FIELDS: FieldMapping = [
  ['email', 'shopperEmail'],
  ['phone', 'telephoneNumber'],
  ['dateOfBirth', 'dateOfBirth'],
  ['firstName', 'shopperName.firstName'],
  ['lastName', 'shopperName.lastName'],
  ['country', 'countryCode'],
  ['country', 'billingAddress.country'],
  ['addressLine1', 'billingAddress.street'],
  ['city', 'billingAddress.city'],
  ['postalCode', 'billingAddress.postalCode'],
];

function shopperFields(request: PaymentRequest): Record<string, unknown> {
  return unflatten(toProviderFields(ADYEN_FIELDS, request.customer));
}

export function adyenPaymentBody(request: PaymentRequest, merchantAccount: string): Record<string, unknown> {
  return {
    ...shopperFields(request),
    merchantAccount,
    reference: request.attemptId,
    amount: { value: request.amountMinor, currency: request.currency.toUpperCase() },
    paymentMethod: { type: request.paymentMethod },
    returnUrl: request.returnUrl,
    notificationUrl: request.callbackUrl,
    channel: 'Web',
    metadata: { transactionId: request.transactionId },
  };
}

export function adyenDetailsBody(request: PaymentRequest, pspReference: string): Record<string, unknown> {
  return { paymentData: pspReference, details: shopperFields(request) };
}

function resultOutcome(answer: Json): PaymentOutcome {
  const psp = text(answer.pspReference);
  const action = isObject(answer.action) ? answer.action : {};
  switch (answer.resultCode) {
    case 'RedirectShopper': {
      const url = text(action.url);
      if (psp === null || url === null || (action.method !== undefined && action.method !== 'GET'))
        return failed('provider_error', 'unsupported_redirect', true);
      return { kind: 'redirect', providerReference: psp, redirectUrl: url };
    }
    case 'ShopperDataRequired': {
      return {
        kind: 'customer_data_required',
        providerReference: psp,
        fields: fromProviderSpecs(ADYEN_FIELDS, providerFieldSpecs(action.fields)),
      };
    }
    case 'Authorised':
      return psp === null ? unreadableAnswer(200) : { kind: 'approved', providerReference: psp };
    case 'Pending':
    case 'Received':
      return psp === null ? unreadableAnswer(200) : { kind: 'pending', providerReference: psp };
    case 'Refused':
    case 'Cancelled':
      return {
        kind: 'declined',
        providerReference: psp,
        code: text(answer.refusalReason) ?? String(answer.resultCode),
      };
    case 'Error':
      return failed('provider_error', text(answer.refusalReason) ?? 'Error', false);
    default:
      return failed('provider_error', `unexpected_result_${String(answer.resultCode)}`, true);
  }
}

/** An answer of /payments or /payments/details -> outcome. */
export function adyenOutcome(status: number, body: Buffer): PaymentOutcome {
  const json = parseObject(body);
  if (status >= 200 && status < 300) return json ? resultOutcome(json) : unreadableAnswer(status);
  const errorCode = text(json?.errorCode);
  if (errorCode === '704') return failed('provider_error', 'idempotency_conflict', true);
  return httpFailure(status, errorCode === null ? null : `adyen_${errorCode}`);
}

function itemOutcome(eventCode: string, success: boolean): CallbackFacts['outcome'] | undefined {
  if (eventCode === 'AUTHORISATION') return success ? 'approved' : 'declined';
  if (eventCode === 'PENDING') return 'pending';
  if (eventCode === 'OFFER_CLOSED') return success ? 'declined' : undefined;
  return undefined;
}

/** A verified notification body -> one fact per payment-outcome item, in body order. */
export function adyenCallbackFacts(body: Buffer): CallbackFacts[] {
  const json = parseObject(body);
  const list = json?.notificationItems;
  if (!Array.isArray(list) || list.length === 0) {
    throw new NonRetryableError('adyen-sim callback has no notificationItems', { code: 'BAD_CALLBACK_BODY' });
  }
  const facts: CallbackFacts[] = [];
  list.forEach((wrapper: unknown, index) => {
    const item =
      isObject(wrapper) && isObject(wrapper.NotificationRequestItem)
        ? wrapper.NotificationRequestItem
        : undefined;
    const psp = text(item?.pspReference);
    const eventCode = text(item?.eventCode);
    const success = item?.success;
    if (!item || psp === null || eventCode === null || (success !== 'true' && success !== 'false')) {
      throw new NonRetryableError(
        `adyen-sim notificationItems[${index}] lacks pspReference, eventCode or success`,
        {
          code: 'BAD_CALLBACK_BODY',
        },
      );
    }
    const outcome = itemOutcome(eventCode, success === 'true');
    if (outcome === undefined) return;
    const amount = isObject(item.amount) ? item.amount : {};
    const currency = text(amount.currency);
    facts.push({
      providerReference: text(item.originalReference) ?? psp,
      attemptId: text(item.merchantReference),
      // Adyen has no notification id: a retry repeats payment, event code and success flag.
      notificationId: `${psp}:${eventCode}:${success}`,
      outcome,
      providerStatus: `${eventCode}:${success}`,
      amountMinor:
        typeof amount.value === 'number' && Number.isSafeInteger(amount.value) ? amount.value : null,
      currency: currency === null ? null : currency.toUpperCase(),
    });
  });
  return facts;
}
