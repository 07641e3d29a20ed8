/**
 * Provider connectors by provider id. The orchestrator picks one per routing candidate
 * (`connectorFor(registry, candidate.providerId)`); each speaks one provider's wire format.
 */
import { NonRetryableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { createAdyenSimConnector } from './adyen-sim.js';
import { createStripeSimConnector } from './stripe-sim.js';
import type { ProviderConnector } from './types.js';

export type ConnectorRegistry = ReadonlyMap<string, ProviderConnector>;

export function createConnectorRegistry(options: { logger?: Logger } = {}): ConnectorRegistry {
  const connectors = [createStripeSimConnector(options), createAdyenSimConnector(options)];
  return new Map(connectors.map((connector) => [connector.providerId, connector]));
}

/** The connector of a provider; an unknown provider is a configuration error retrying cannot fix. */
export function connectorFor(registry: ConnectorRegistry, providerId: string): ProviderConnector {
  const connector = registry.get(providerId);
  if (!connector) {
    throw new NonRetryableError(`no connector for provider "${providerId}"`, { code: 'UNKNOWN_PROVIDER' });
  }
  return connector;
}

export { createStripeSimConnector, STRIPE_SIM_PROVIDER_ID } from './stripe-sim.js';
export { createAdyenSimConnector, ADYEN_SIM_PROVIDER_ID } from './adyen-sim.js';
export { CUSTOMER_FIELDS } from './customer-fields.js';
export type {
  CallbackFacts,
  PaymentOutcome,
  PaymentRequest,
  ProviderConnector,
  SubMidAccount,
} from './types.js';
