/**
 * Connector for `adyen-sim` (Adyen-style Checkout API). Credentials: `apiKey` (X-API-Key) and
 * `merchantAccount`. One POST per call, no retries.
 */
import type { Logger } from '../../core/logger.js';
import { adyenCallbackFacts, adyenDetailsBody, adyenOutcome, adyenPaymentBody } from './adyen-sim-wire.js';
import { createHttpConnector } from './http-connector.js';
import { credential } from './provider-call.js';
import type { ProviderConnector } from './types.js';

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
  return createHttpConnector(
    {
      providerId: ADYEN_SIM_PROVIDER_ID,
      createRequest(request, idempotencyKey) {
        const apiKey = credential(request, 'apiKey');
        const merchantAccount = credential(request, 'merchantAccount');
        if (!apiKey || !merchantAccount) return undefined;
        return {
          path: '/v71/payments',
          headers: headers(apiKey, idempotencyKey),
          body: JSON.stringify(adyenPaymentBody(request, merchantAccount)),
        };
      },
      submitRequest(request, pspReference, idempotencyKey) {
        const apiKey = credential(request, 'apiKey');
        if (!apiKey) return undefined;
        return {
          path: '/v71/payments/details',
          headers: headers(apiKey, idempotencyKey),
          body: JSON.stringify(adyenDetailsBody(request, pspReference)),
        };
      },
      toOutcome: adyenOutcome,
      parseCallback: adyenCallbackFacts,
    },
    options,
  );
}
