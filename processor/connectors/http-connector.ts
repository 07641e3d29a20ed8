/**
 * The shape every HTTP provider connector has, so a connector only states its wire format: the request
 * of each call (`PostRequest`), how to read answers and how to parse callbacks. Shared here: a call
 * without the credentials it needs fails as `inactive_config` without reaching the provider, and
 * customer data for a payment the provider has not created yet (it refused the incomplete request)
 * creates it with the completed data, under the submission's own idempotency key.
 */
import { silentLogger, type Logger } from '../../core/logger.js';
import { failed } from './failures.js';
import { callProvider, submissionKey, type ProviderCall } from './provider-call.js';
import type { CallbackFacts, PaymentOutcome, PaymentRequest, ProviderConnector } from './types.js';

/** One POST to the provider; headers include credentials (never logged). */
export type PostRequest = Pick<ProviderCall, 'path' | 'headers' | 'body'>;

export interface HttpConnectorSpec {
  providerId: string;
  /** The create request, or undefined when the account lacks a credential it needs. */
  createRequest(request: PaymentRequest, idempotencyKey: string): PostRequest | undefined;
  /** The request sending customer data for `providerReference`, or undefined without credentials. */
  submitRequest(
    request: PaymentRequest,
    providerReference: string,
    idempotencyKey: string,
  ): PostRequest | undefined;
  toOutcome: ProviderCall['toOutcome'];
  parseCallback(body: Buffer): CallbackFacts[];
}

export function createHttpConnector(
  spec: HttpConnectorSpec,
  options: { logger?: Logger },
): ProviderConnector {
  const logger = options.logger ?? silentLogger;

  const send = (
    operation: ProviderCall['operation'],
    request: PaymentRequest,
    post: PostRequest | undefined,
    timeoutMs: number,
  ): Promise<PaymentOutcome> => {
    if (!post) return Promise.resolve(failed('inactive_config', 'missing_credentials', false));
    return callProvider(
      { providerId: spec.providerId, operation, request, ...post, timeoutMs, toOutcome: spec.toOutcome },
      logger,
    );
  };

  return {
    providerId: spec.providerId,
    createPayment: (request, { timeoutMs }) =>
      send('create_payment', request, spec.createRequest(request, request.idempotencyKey), timeoutMs),
    submitCustomerData(request, providerReference, { timeoutMs }) {
      const key = submissionKey(request.idempotencyKey, request.customer);
      if (providerReference === null)
        return send('create_payment', request, spec.createRequest(request, key), timeoutMs);
      return send(
        'submit_customer_data',
        request,
        spec.submitRequest(request, providerReference, key),
        timeoutMs,
      );
    },
    parseCallback: (body) => spec.parseCallback(body),
  };
}
