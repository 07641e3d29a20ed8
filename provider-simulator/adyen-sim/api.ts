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
  fingerprint,
  httpUrl,
  idempotencyKeyHeader,
  isObject,
  nonNegativeInt,
  readBody,
  sendJson,
  str,
} from '../http.js';
import { answerIdempotently, logRejectedRequest, type CallAnswer } from '../idempotent-call.js';
import type { PaymentInput, PaymentResult, SimPayment } from '../model.js';
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
          fields: payment.missingFields.map((field) => ({
            name: field.name,
            type: field.type,
            label: field.label,
            required: true,
            pattern: field.pattern ?? null,
          })),
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

function render(
  deps: FrontEndDeps,
  result: PaymentResult,
): Pick<CallAnswer, 'response' | 'result' | 'paymentId' | 'remember'> {
  switch (result.kind) {
    case 'payment': {
      const body = JSON.stringify(paymentResponse(deps, result.payment));
      return {
        response: { status: 200, body },
        result: resultCode(result.payment),
        paymentId: result.payment.id,
        remember: true,
      };
    }
    case 'server_error':
      return {
        response: {
          status: result.status,
          body: adyenError(result.status, '000', 'An unknown error occurred', 'internal'),
        },
        result: 'server_error',
        paymentId: null,
        remember: false,
      };
    case 'velocity':
      return {
        response: {
          status: 429,
          body: adyenError(429, '429', 'Too many requests for this merchant account', 'security'),
        },
        result: 'velocity',
        paymentId: null,
        remember: false,
      };
    case 'inactive_account':
      return {
        response: { status: 403, body: adyenError(403, '901', 'Invalid Merchant Account', 'security') },
        result: 'inactive_account',
        paymentId: null,
        remember: false,
      };
  }
}

const MISMATCH = {
  status: 422,
  body: adyenError(422, '704', 'request already processed or in progress', 'validation'),
};

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
      const logRejected = (ctx: Context, operation: 'create' | 'continue', status: number, result: string) =>
        logRejectedRequest(deps.state, ctx, { provider: PROVIDER, operation, status, result });

      router.post('/adyen-sim/v71/payments', async (ctx) => {
        if (!apiKey(ctx)) {
          logRejected(ctx, 'create', 401, 'unauthorized');
          return fail(ctx, 401, '000', 'HTTP Status Response - Unauthorized', 'security');
        }
        const key = idempotencyKeyHeader(ctx, MAX_IDEMPOTENCY_KEY);
        if (!key.ok)
          return fail(ctx, 422, '100', `Idempotency-Key is limited to ${MAX_IDEMPOTENCY_KEY} characters.`);
        const body = await readBody(ctx, { allowForm: false });
        if (!body.ok) return fail(ctx, 400, '702', body.message);
        const parsed = parsePayment(body.value, key.key);
        if (!parsed.ok) {
          logRejected(ctx, 'create', 422, 'invalid_request');
          return fail(ctx, 422, parsed.errorCode, parsed.message);
        }
        const { input } = parsed;
        await answerIdempotently(
          ctx,
          deps,
          {
            provider: PROVIDER,
            operation: 'create',
            endpoint: 'payments',
            account: input.account,
            idempotencyKey: key.key,
            fingerprint: fingerprint(body.value),
            log: {
              reference: input.reference,
              transactionId: input.transactionId,
              amountMinor: input.amountMinor,
              currency: input.currency,
              customerFields: Object.keys(input.customer).sort(),
            },
          },
          () => {
            const outcome = deps.flow.create(input, newPspReference);
            return {
              ...render(deps, outcome.result),
              hangMs: outcome.hangMs,
              scenarioId: outcome.scenarioId,
            };
          },
          MISMATCH,
        );
      });

      router.post('/adyen-sim/v71/payments/details', async (ctx) => {
        if (!apiKey(ctx)) {
          logRejected(ctx, 'continue', 401, 'unauthorized');
          return fail(ctx, 401, '000', 'HTTP Status Response - Unauthorized', 'security');
        }
        const key = idempotencyKeyHeader(ctx, MAX_IDEMPOTENCY_KEY);
        if (!key.ok)
          return fail(ctx, 422, '100', `Idempotency-Key is limited to ${MAX_IDEMPOTENCY_KEY} characters.`);
        const body = await readBody(ctx, { allowForm: false });
        if (!body.ok) return fail(ctx, 400, '702', body.message);
        const reference = str(body.value.pspReference) ?? str(body.value.paymentData);
        const payment = reference === undefined ? undefined : deps.state.payment(PROVIDER, reference);
        if (!payment) return fail(ctx, 422, '101', 'Invalid paymentData: no such payment.');
        const customer = flattenStrings(body.value.details);
        await answerIdempotently(
          ctx,
          deps,
          {
            provider: PROVIDER,
            operation: 'continue',
            endpoint: `details:${payment.id}`,
            account: payment.input.account,
            idempotencyKey: key.key,
            fingerprint: fingerprint(body.value),
            log: {
              reference: payment.input.reference,
              transactionId: payment.input.transactionId,
              amountMinor: payment.input.amountMinor,
              currency: payment.input.currency,
              customerFields: Object.keys(customer).sort(),
            },
          },
          () => {
            if (payment.status !== 'requires_customer_data') {
              return {
                response: {
                  status: 422,
                  body: adyenError(422, '101', 'This payment does not take shopper data now.', 'validation'),
                },
                result: 'unexpected_state',
                paymentId: payment.id,
                scenarioId: null,
                hangMs: 0,
                remember: false,
              };
            }
            const outcome = deps.flow.continueWith(payment, customer);
            return { ...render(deps, outcome.result), hangMs: outcome.hangMs, scenarioId: null };
          },
          MISMATCH,
        );
      });
    },
  };
}
