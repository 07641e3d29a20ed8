/**
 * Connector for `adyen-sim` (Adyen-style Checkout API). Credentials: `apiKey` (X-API-Key) and
 * `merchantAccount`. One POST per call, no retries.
 */
import { silentLogger, type Logger } from '../../core/logger.js';
import { adyenCallbackFacts, adyenDetailsBody, adyenOutcome, adyenPaymentBody } from './adyen-sim-wire.js';
import { failed } from './failures.js';
import { callProvider, credential, submissionKey } from './provider-call.js';
import type { PaymentOutcome, PaymentRequest, ProviderConnector } from './types.js';

export const ADYEN_SIM_PROVIDER_ID = 'adyen-sim';

function headers(apiKey: string, idempotencyKey: string): Record<string, string> {
  return {
    'x-api-key': apiKey,
    'content-type': 'application/json',
    accept: 'application/json',
    'idempotency-key': idempotencyKey,
  };
}

export function createAdyenSimConnector(options: { logger?: Logger } = {}): ProviderConnector {
  const logger = options.logger ?? silentLogger;

  const create = (
    request: PaymentRequest,
    idempotencyKey: string,
    timeoutMs: number,
  ): Promise<PaymentOutcome> => {
    const apiKey = credential(request, 'apiKey');
    const merchantAccount = credential(request, 'merchantAccount');
    if (!apiKey || !merchantAccount)
      return Promise.resolve(failed('inactive_config', 'missing_credentials', false));
    return callProvider(
      {
        providerId: ADYEN_SIM_PROVIDER_ID,
        operation: 'create_payment',
        request,
        path: '/v71/payments',
        headers: headers(apiKey, idempotencyKey),
        body: JSON.stringify(adyenPaymentBody(request, merchantAccount)),
        timeoutMs,
        toOutcome: adyenOutcome,
      },
      logger,
    );
  };

  return {
    providerId: ADYEN_SIM_PROVIDER_ID,
    createPayment: (request, { timeoutMs }) => create(request, request.idempotencyKey, timeoutMs),
    submitCustomerData(request, providerReference, { timeoutMs }) {
      const key = submissionKey(request.idempotencyKey, request.customer);
      // Nothing was created yet (the provider refused the incomplete request): create with the full data.
      if (providerReference === null) return create(request, key, timeoutMs);
      const apiKey = credential(request, 'apiKey');
      if (!apiKey) return Promise.resolve(failed('inactive_config', 'missing_credentials', false));
      return callProvider(
        {
          providerId: ADYEN_SIM_PROVIDER_ID,
          operation: 'submit_customer_data',
          request,
          path: '/v71/payments/details',
          headers: headers(apiKey, key),
          body: JSON.stringify(adyenDetailsBody(request, providerReference)),
          timeoutMs,
          toOutcome: adyenOutcome,
        },
        logger,
      );
    },
    parseCallback: (body) => adyenCallbackFacts(body),
  };
}
