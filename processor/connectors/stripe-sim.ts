/**
 * Connector for `stripe-sim` (Stripe-style PaymentIntents). Credentials (names as in the routing rules'
 * SUB MID accounts): `apiKey` (the secret key, sk_test_…) and, optionally, `stripeAccount` (sent as
 * `Stripe-Account`). One POST per call, no retries.
 */
import { silentLogger, type Logger } from '../../core/logger.js';
import { failed } from './failures.js';
import { encodeForm } from './form-encoding.js';
import { callProvider, credential, submissionKey } from './provider-call.js';
import {
  stripeCallbackFacts,
  stripeConfirmParams,
  stripeCreateParams,
  stripeOutcome,
} from './stripe-sim-wire.js';
import type { PaymentOutcome, PaymentRequest, ProviderConnector } from './types.js';

export const STRIPE_SIM_PROVIDER_ID = 'stripe-sim';

function headers(request: PaymentRequest, secretKey: string, idempotencyKey: string): Record<string, string> {
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
  const logger = options.logger ?? silentLogger;

  const create = (
    request: PaymentRequest,
    idempotencyKey: string,
    timeoutMs: number,
  ): Promise<PaymentOutcome> => {
    const secretKey = credential(request, 'apiKey');
    if (!secretKey) return Promise.resolve(failed('inactive_config', 'missing_credentials', false));
    return callProvider(
      {
        providerId: STRIPE_SIM_PROVIDER_ID,
        operation: 'create_payment',
        request,
        path: '/v1/payment_intents',
        headers: headers(request, secretKey, idempotencyKey),
        body: encodeForm(stripeCreateParams(request)),
        timeoutMs,
        toOutcome: stripeOutcome,
      },
      logger,
    );
  };

  return {
    providerId: STRIPE_SIM_PROVIDER_ID,
    createPayment: (request, { timeoutMs }) => create(request, request.idempotencyKey, timeoutMs),
    submitCustomerData(request, providerReference, { timeoutMs }) {
      const key = submissionKey(request.idempotencyKey, request.customer);
      // No intent exists yet: create one with the completed data (its own idempotency key).
      if (providerReference === null) return create(request, key, timeoutMs);
      const secretKey = credential(request, 'apiKey');
      if (!secretKey) return Promise.resolve(failed('inactive_config', 'missing_credentials', false));
      return callProvider(
        {
          providerId: STRIPE_SIM_PROVIDER_ID,
          operation: 'submit_customer_data',
          request,
          path: `/v1/payment_intents/${encodeURIComponent(providerReference)}/confirm`,
          headers: headers(request, secretKey, key),
          body: encodeForm(stripeConfirmParams(request)),
          timeoutMs,
          toOutcome: stripeOutcome,
        },
        logger,
      );
    },
    parseCallback: (body) => stripeCallbackFacts(body),
  };
}
