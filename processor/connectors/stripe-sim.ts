/**
 * Connector for `stripe-sim` (Stripe-style PaymentIntents). Credentials (names as in the routing rules'
 * SUB MID accounts): `apiKey` (the secret key, sk_test_…) and, optionally, `stripeAccount` (sent as
 * `Stripe-Account`). One POST per call, no retries.
 */
import type { Logger } from '../../core/logger.js';
import { encodeForm } from './form-encoding.js';
import { createHttpConnector } from './http-connector.js';
import { credential } from './provider-call.js';
import {
  stripeCallbackFacts,
  stripeConfirmParams,
  stripeCreateParams,
  stripeOutcome,
} from './stripe-sim-wire.js';
import type { PaymentRequest, ProviderConnector } from './types.js';

export const STRIPE_SIM_PROVIDER_ID = 'stripe-sim';

/** The headers of a call, or undefined without the secret key. */
function headers(request: PaymentRequest, idempotencyKey: string): Record<string, string> | undefined {
  const secretKey = credential(request, 'apiKey');
  if (!secretKey) return undefined;
  const accountId = credential(request, 'stripeAccount');
  return {
    authorization: `Bearer ${secretKey}`,
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    'idempotency-key': idempotencyKey,
    ...(accountId ? { 'stripe-account': accountId } : {}),
  };
}

export function createStripeSimConnector(options: { logger?: Logger } = {}): ProviderConnector {
  return createHttpConnector(
    {
      providerId: STRIPE_SIM_PROVIDER_ID,
      createRequest(request, idempotencyKey) {
        const sent = headers(request, idempotencyKey);
        if (!sent) return undefined;
        return { path: '/v1/payment_intents', headers: sent, body: encodeForm(stripeCreateParams(request)) };
      },
      submitRequest(request, providerReference, idempotencyKey) {
        const sent = headers(request, idempotencyKey);
        if (!sent) return undefined;
        return {
          path: `/v1/payment_intents/${encodeURIComponent(providerReference)}/confirm`,
          headers: sent,
          body: encodeForm(stripeConfirmParams(request)),
        };
      },
      toOutcome: stripeOutcome,
      parseCallback: stripeCallbackFacts,
    },
    options,
  );
}
