/**
 * `stripe-sim`: a Stripe-style PaymentIntents API.
 *
 *   POST /stripe-sim/v1/payment_intents              create + confirm (form or JSON)
 *   POST /stripe-sim/v1/payment_intents/:id/confirm  continue with customer fields
 *   GET  /stripe-sim/v1/payment_intents/:id          retrieve (reconciliation after a timeout)
 *
 * Auth `Authorization: Bearer sk_test_…` (or Basic with the key as user name); optional `Stripe-Account`
 * (the account scenarios match on; else a fingerprint of the key). `Idempotency-Key` as Stripe.
 * Simulator extension: `webhook_url` names where callbacks go (real Stripe configures endpoints per
 * account). The merchant reference is `metadata[reference]`, the transaction `metadata[transaction_id]`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { ProviderFrontEnd, FrontEndDeps } from '../front-end.js';
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
import { logRejectedRequest } from '../idempotent-call.js';
import type { PaymentInput, SimPayment } from '../model.js';
import { continuePayment, createPayment, type ProviderWording } from '../payment-calls.js';
import { stripeNotifications } from './events.js';
import { declineError, paymentIntent, stripeError, stripeStatus } from './payment-intent.js';

const PROVIDER = 'stripe-sim' as const;
const KEY_PATTERN = /^sk_test_[A-Za-z0-9_]{6,200}$/;
const ACCOUNT_PATTERN = /^acct_[A-Za-z0-9_]{1,100}$/;
const MAX_IDEMPOTENCY_KEY = 255;

type Auth = { ok: true; account: string } | { ok: false; message: string };

function authenticate(ctx: Context): Auth {
  const header = ctx.get('authorization');
  let key: string | undefined;
  if (/^bearer /i.test(header)) key = header.slice(7).trim();
  else if (/^basic /i.test(header)) {
    key = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8').split(':')[0];
  }
  if (!key) {
    return {
      ok: false,
      message: 'You did not provide an API key. Provide it as "Authorization: Bearer sk_test_…".',
    };
  }
  if (!KEY_PATTERN.test(key))
    return { ok: false, message: 'Invalid API Key provided (the simulator takes sk_test_ keys).' };
  const connected = ctx.get('stripe-account');
  if (connected && !ACCOUNT_PATTERN.test(connected))
    return { ok: false, message: 'Invalid Stripe-Account header.' };
  return {
    ok: true,
    account: connected || `key_${createHash('sha256').update(key).digest('hex').slice(0, 16)}`,
  };
}

function invalid(ctx: Context, message: string, extra: Record<string, unknown> = {}, status = 400): void {
  sendJson(ctx, status, stripeError('invalid_request_error', message, extra));
}

type Parsed = { ok: true; input: PaymentInput } | { ok: false; param: string; message: string; code: string };

function parseCreate(body: Record<string, unknown>, account: string, key: string | null): Parsed {
  const amount = nonNegativeInt(body.amount);
  if (amount === undefined || amount < 1) {
    return body.amount === undefined
      ? { ok: false, param: 'amount', code: 'parameter_missing', message: 'Missing required param: amount.' }
      : {
          ok: false,
          param: 'amount',
          code: 'parameter_invalid_integer',
          message: 'Invalid positive integer',
        };
  }
  const currency = str(body.currency);
  if (!currency || !/^[a-zA-Z]{3}$/.test(currency))
    return {
      ok: false,
      param: 'currency',
      code: 'parameter_missing',
      message: 'Missing or invalid param: currency.',
    };
  const returnUrl = httpUrl(body.return_url);
  if (!returnUrl)
    return {
      ok: false,
      param: 'return_url',
      code: 'parameter_missing',
      message: 'A valid return_url is required.',
    };
  const callbackUrl = body.webhook_url === undefined ? null : httpUrl(body.webhook_url);
  if (callbackUrl === undefined)
    return { ok: false, param: 'webhook_url', code: 'url_invalid', message: 'Invalid URL: webhook_url.' };
  const metadata = flattenStrings(body.metadata);
  const types = Array.isArray(body.payment_method_types) ? body.payment_method_types : [];
  const paymentMethodData = isObject(body.payment_method_data) ? body.payment_method_data : {};
  return {
    ok: true,
    input: {
      provider: PROVIDER,
      account,
      idempotencyKey: key,
      reference: metadata.reference ?? null,
      transactionId: metadata.transaction_id ?? null,
      amountMinor: amount,
      currency: currency.toUpperCase(),
      paymentMethod: str(types[0]) ?? str(paymentMethodData.type) ?? null,
      customer: flattenStrings(paymentMethodData.billing_details),
      returnUrl,
      callbackUrl,
      metadata,
    },
  };
}

/** How Stripe words each answer: PaymentIntents, and `{error: {type, message, …}}` with a decline as 402. */
function stripeWording(deps: FrontEndDeps): ProviderWording {
  return {
    payment(payment) {
      const intent = paymentIntent(payment, deps.checkoutUrl(payment));
      if (payment.status === 'declined') {
        const body = JSON.stringify({
          error: { ...declineError(payment.declineCode ?? 'generic_decline'), payment_intent: intent },
        });
        return { status: 402, body, result: 'declined' };
      }
      const word =
        payment.status === 'requires_customer_data' ? 'requires_customer_data' : stripeStatus(payment);
      return { status: 200, body: JSON.stringify(intent), result: word };
    },
    refusal(result) {
      switch (result.kind) {
        case 'server_error':
          return {
            status: result.status,
            body: stripeError('api_error', `The simulated provider failed (HTTP ${result.status}).`),
          };
        case 'velocity':
          return {
            status: 429,
            body: stripeError('invalid_request_error', 'Too many payments for this account right now.', {
              code: 'rate_limit',
            }),
          };
        case 'inactive_account':
          return {
            status: 403,
            body: stripeError(
              'invalid_request_error',
              'This account is inactive and cannot accept payments.',
              {
                code: 'account_invalid',
              },
            ),
          };
      }
    },
    unexpectedState: (payment) => ({
      status: 400,
      body: stripeError(
        'invalid_request_error',
        `This PaymentIntent's status is ${stripeStatus(payment)}; it does not take customer data now.`,
        {
          code: 'payment_intent_unexpected_state',
          payment_intent: paymentIntent(payment, deps.checkoutUrl(payment)),
        },
      ),
    }),
    mismatch: {
      status: 400,
      body: stripeError(
        'idempotency_error',
        'Keys for idempotent requests can only be used with the same parameters and endpoint they were first used with.',
      ),
    },
  };
}

function newPaymentIntentId(): string {
  return `pi_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
}

function logRejected(
  deps: FrontEndDeps,
  ctx: Context,
  operation: 'create' | 'continue',
  status: number,
  result: string,
) {
  logRejectedRequest(deps.state, ctx, { provider: PROVIDER, operation, status, result });
}

export function stripeSimFrontEnd(options: {
  secrets: readonly string[];
  checkoutUrl: (payment: SimPayment) => string;
}): ProviderFrontEnd {
  return {
    id: PROVIDER,
    notifications: stripeNotifications(options),
    returnParams: (payment) => ({
      payment_intent: payment.id,
      payment_intent_client_secret: `${payment.id}_secret_sim`,
      redirect_status:
        payment.status === 'approved' ? 'succeeded' : payment.status === 'pending' ? 'processing' : 'failed',
    }),
    mount(router, deps) {
      const wording = stripeWording(deps);

      /** Credentials and Idempotency-Key of a POST; undefined once a refusal is answered. */
      const authorizePost = (ctx: Context, operation: 'create' | 'continue') => {
        const auth = authenticate(ctx);
        if (!auth.ok) {
          logRejected(deps, ctx, operation, 401, 'unauthorized');
          return invalid(ctx, auth.message, {}, 401);
        }
        const key = idempotencyKeyHeader(ctx, MAX_IDEMPOTENCY_KEY);
        if (!key.ok) return invalid(ctx, `Idempotency-Key is limited to ${MAX_IDEMPOTENCY_KEY} characters.`);
        return { account: auth.account, idempotencyKey: key.key };
      };

      /** The PaymentIntent `:id` of the caller's account; undefined once the 404 is answered. */
      const ownPaymentIntent = (ctx: Context, account: string): SimPayment | undefined => {
        const id = ctx.params.id ?? '';
        const payment = deps.state.payment(PROVIDER, id);
        if (payment && payment.input.account === account) return payment;
        invalid(
          ctx,
          `No such payment_intent: '${id.slice(0, 64)}'`,
          { code: 'resource_missing', param: 'intent' },
          404,
        );
        return undefined;
      };

      router.post('/stripe-sim/v1/payment_intents', async (ctx) => {
        const call = authorizePost(ctx, 'create');
        if (!call) return;
        const body = await readBody(ctx, { allowForm: true });
        if (!body.ok) return invalid(ctx, body.message);
        const parsed = parseCreate(body.value, call.account, call.idempotencyKey);
        if (!parsed.ok) {
          logRejected(deps, ctx, 'create', 400, 'invalid_request');
          return invalid(ctx, parsed.message, { param: parsed.param, code: parsed.code });
        }
        await createPayment(ctx, deps, wording, {
          endpoint: 'create',
          idempotencyKey: call.idempotencyKey,
          body: body.value,
          input: parsed.input,
          newId: newPaymentIntentId,
        });
      });

      router.post('/stripe-sim/v1/payment_intents/:id/confirm', async (ctx) => {
        const call = authorizePost(ctx, 'continue');
        if (!call) return;
        const payment = ownPaymentIntent(ctx, call.account);
        if (!payment) return;
        const body = await readBody(ctx, { allowForm: true });
        if (!body.ok) return invalid(ctx, body.message);
        const data = isObject(body.value.payment_method_data) ? body.value.payment_method_data : {};
        await continuePayment(ctx, deps, wording, {
          endpoint: `confirm:${payment.id}`,
          idempotencyKey: call.idempotencyKey,
          body: body.value,
          payment,
          customer: flattenStrings(data.billing_details),
        });
      });

      router.get('/stripe-sim/v1/payment_intents/:id', (ctx) => {
        const auth = authenticate(ctx);
        if (!auth.ok) return invalid(ctx, auth.message, {}, 401);
        const payment = ownPaymentIntent(ctx, auth.account);
        if (payment) sendJson(ctx, 200, JSON.stringify(paymentIntent(payment, deps.checkoutUrl(payment))));
      });
    },
  };
}
