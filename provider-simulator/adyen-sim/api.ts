/**
 * `adyen-sim`: an Adyen-style Checkout API.
 *
 *   POST /adyen-sim/v71/payments          JSON: merchantAccount, reference, amount {value, currency},
 *                                         returnUrl, paymentMethod, shopper fields, metadata
 *   POST /adyen-sim/v71/payments/details  continue: {pspReference | paymentData, details: {shopper fields}}
 *
 * Auth `X-API-Key`; `Idempotency-Key` as Adyen. Answers `resultCode` RedirectShopper (with a redirect
 * action), Authorised, Pending, Refused; errors as `{status, errorCode, message, errorType}`.
 * Simulator extensions: `notificationUrl` names where notifications go (real Adyen configures webhooks per
 * account); resultCode `ShopperDataRequired` with action `{type: "shopperData", fields: […]}` asks for
 * customer fields, answered through /payments/details.
 */
import { randomInt } from 'node:crypto';
import type { Context } from 'koa';
import type { FrontEndDeps, ProviderFrontEnd } from '../front-end.js';
import {
  flattenStrings,
  httpUrl,
  idempotencyKeyHeader,
  isObject,
  nonNegativeInt,
  readBody,
  sendJson,
  str,
} from '../http.js';
import { fieldsToAskFor } from '../fields.js';
import { logRejectedRequest } from '../idempotent-call.js';
import type { PaymentInput, SimPayment } from '../model.js';
import { continuePayment, createPayment, type ProviderWording } from '../payment-calls.js';
import type { Logger } from '../../core/logger.js';
import { adyenNotifications } from './notifications.js';
import { adyenRefusal } from './refusals.js';

const PROVIDER = 'adyen-sim' as const;
const MAX_IDEMPOTENCY_KEY = 64;
const SHOPPER_FIELDS = [
  'shopperEmail',
  'telephoneNumber',
  'dateOfBirth',
  'countryCode',
  'shopperLocale',
] as const;

function adyenError(status: number, errorCode: string, message: string, errorType: string): string {
  return JSON.stringify({ status, errorCode, message, errorType });
}

function fail(
  ctx: Context,
  status: number,
  errorCode: string,
  message: string,
  errorType = 'validation',
): void {
  sendJson(ctx, status, adyenError(status, errorCode, message, errorType));
}

function apiKey(ctx: Context): boolean {
  const key = ctx.get('x-api-key');
  return key.length >= 8 && key.length <= 512;
}

function shopperData(body: Record<string, unknown>): Record<string, string> {
  const data: Record<string, string> = {};
  for (const field of SHOPPER_FIELDS) {
    const value = str(body[field]);
    if (value !== undefined) data[field] = value.slice(0, 512);
  }
  return {
    ...data,
    ...flattenStrings({ shopperName: body.shopperName, billingAddress: body.billingAddress }),
  };
}

type Parsed = { ok: true; input: PaymentInput } | { ok: false; errorCode: string; message: string };

function required(field: string): Parsed {
  return { ok: false, errorCode: '130', message: `Required field '${field}' is not provided.` };
}

function parsePayment(body: Record<string, unknown>, key: string | null): Parsed {
  const merchantAccount = str(body.merchantAccount);
  if (!merchantAccount || merchantAccount.length > 100) return required('merchantAccount');
  const reference = str(body.reference);
  if (!reference || reference.length > 256) return required('reference');
  const amount = isObject(body.amount) ? body.amount : undefined;
  if (!amount) return required('amount');
  const value = nonNegativeInt(amount.value);
  if (value === undefined || typeof amount.value !== 'number')
    return { ok: false, errorCode: '100', message: "Field 'amount.value' must be a non-negative integer." };
  const currency = str(amount.currency);
  if (!currency || !/^[A-Z]{3}$/.test(currency))
    return { ok: false, errorCode: '100', message: "Field 'amount.currency' must be an ISO 4217 code." };
  const returnUrl = httpUrl(body.returnUrl);
  if (!returnUrl) return required('returnUrl');
  const callbackUrl = body.notificationUrl === undefined ? null : httpUrl(body.notificationUrl);
  if (callbackUrl === undefined)
    return { ok: false, errorCode: '100', message: "Field 'notificationUrl' must be a URL." };
  const metadata = flattenStrings(body.metadata);
  const paymentMethod = isObject(body.paymentMethod) ? str(body.paymentMethod.type) : undefined;
  return {
    ok: true,
    input: {
      provider: PROVIDER,
      account: merchantAccount,
      idempotencyKey: key,
      reference,
      transactionId: metadata.transactionId ?? null,
      amountMinor: value,
      currency,
      paymentMethod: paymentMethod ?? null,
      customer: shopperData(body),
      returnUrl,
      callbackUrl,
      metadata,
    },
  };
}

function resultCode(payment: Pick<SimPayment, 'status'>): string {
  switch (payment.status) {
    case 'requires_customer_data':
      return 'ShopperDataRequired';
    case 'requires_action':
      return 'RedirectShopper';
    case 'pending':
      return 'Pending';
    case 'approved':
      return 'Authorised';
    case 'declined':
      return 'Refused';
    case 'canceled':
      return 'Cancelled';
  }
}

function paymentResponse(deps: FrontEndDeps, payment: SimPayment): Record<string, unknown> {
  const base = {
    pspReference: payment.id,
    resultCode: resultCode(payment),
    merchantReference: payment.input.reference,
  };
  const paymentMethodType = payment.input.paymentMethod ?? 'scheme';
  switch (payment.status) {
    case 'requires_customer_data':
      return {
        ...base,
        action: {
          type: 'shopperData',
          paymentMethodType,
          paymentData: payment.id,
          fields: fieldsToAskFor(payment.missingFields),
        },
      };
    case 'requires_action':
      return {
        ...base,
        action: { type: 'redirect', method: 'GET', url: deps.checkoutUrl(payment), paymentMethodType },
      };
    case 'approved':
      return { ...base, amount: { value: payment.input.amountMinor, currency: payment.input.currency } };
    case 'declined':
    case 'canceled': {
      const refusal = adyenRefusal(payment.declineCode);
      return { ...base, refusalReason: refusal.reason, refusalReasonCode: refusal.code };
    }
    case 'pending':
      return base;
  }
}

/** How Adyen words each answer: payment responses with a `resultCode`, errors as adyenError. */
function adyenWording(deps: FrontEndDeps): ProviderWording {
  return {
    payment: (payment) => ({
      status: 200,
      body: JSON.stringify(paymentResponse(deps, payment)),
      result: resultCode(payment),
    }),
    refusal(result) {
      switch (result.kind) {
        case 'server_error':
          return {
            status: result.status,
            body: adyenError(result.status, '000', 'An unknown error occurred', 'internal'),
          };
        case 'velocity':
          return {
            status: 429,
            body: adyenError(429, '429', 'Too many requests for this merchant account', 'security'),
          };
        case 'inactive_account':
          return { status: 403, body: adyenError(403, '901', 'Invalid Merchant Account', 'security') };
      }
    },
    unexpectedState: () => ({
      status: 422,
      body: adyenError(422, '101', 'This payment does not take shopper data now.', 'validation'),
    }),
    mismatch: {
      status: 422,
      body: adyenError(422, '704', 'request already processed or in progress', 'validation'),
    },
  };
}

/** Adyen pspReferences: 16 characters, here digits. */
function newPspReference(): string {
  let id = String(randomInt(1, 10));
  while (id.length < 16) id += String(randomInt(0, 10));
  return id;
}

export function adyenSimFrontEnd(options: { hmacKeys: readonly string[]; logger: Logger }): ProviderFrontEnd {
  return {
    id: PROVIDER,
    notifications: adyenNotifications(options),
    returnParams: (payment) => ({
      redirectResult: Buffer.from(
        JSON.stringify({ pspReference: payment.id, resultCode: resultCode(payment) }),
      ).toString('base64url'),
    }),
    mount(router, deps) {
      const wording = adyenWording(deps);
      const logRejected = (ctx: Context, operation: 'create' | 'continue', status: number, result: string) =>
        logRejectedRequest(deps.state, ctx, { provider: PROVIDER, operation, status, result });

      /** Credentials, Idempotency-Key and JSON body of a call; undefined once a refusal is answered. */
      const readCall = async (ctx: Context, operation: 'create' | 'continue') => {
        if (!apiKey(ctx)) {
          logRejected(ctx, operation, 401, 'unauthorized');
          return fail(ctx, 401, '000', 'HTTP Status Response - Unauthorized', 'security');
        }
        const key = idempotencyKeyHeader(ctx, MAX_IDEMPOTENCY_KEY);
        if (!key.ok)
          return fail(ctx, 422, '100', `Idempotency-Key is limited to ${MAX_IDEMPOTENCY_KEY} characters.`);
        const body = await readBody(ctx, { allowForm: false });
        if (!body.ok) return fail(ctx, 400, '702', body.message);
        return { idempotencyKey: key.key, body: body.value };
      };

      router.post('/adyen-sim/v71/payments', async (ctx) => {
        const call = await readCall(ctx, 'create');
        if (!call) return;
        const parsed = parsePayment(call.body, call.idempotencyKey);
        if (!parsed.ok) {
          logRejected(ctx, 'create', 422, 'invalid_request');
          return fail(ctx, 422, parsed.errorCode, parsed.message);
        }
        await createPayment(ctx, deps, wording, {
          ...call,
          endpoint: 'payments',
          input: parsed.input,
          newId: newPspReference,
        });
      });

      router.post('/adyen-sim/v71/payments/details', async (ctx) => {
        const call = await readCall(ctx, 'continue');
        if (!call) return;
        const reference = str(call.body.pspReference) ?? str(call.body.paymentData);
        const payment = reference === undefined ? undefined : deps.state.payment(PROVIDER, reference);
        if (!payment) return fail(ctx, 422, '101', 'Invalid paymentData: no such payment.');
        await continuePayment(ctx, deps, wording, {
          ...call,
          endpoint: `details:${payment.id}`,
          payment,
          customer: flattenStrings(call.body.details),
        });
      });
    },
  };
}
