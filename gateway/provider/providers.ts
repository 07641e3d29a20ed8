/**
 * The registry of callback providers the Provider Gateway accepts at `POST /callbacks/{provider}`.
 * Pure: verification functions and answer formats only; secrets come from configuration at call time.
 */
import { createAdyenSimProvider } from './adyen-sim.js';
import { createStripeSimProvider } from './stripe-sim.js';
import type { CallbackProvider, ProviderRegistry } from './types.js';

export interface ProviderRegistryOptions {
  stripeSim?: { toleranceSeconds?: number };
}

export function createProviderRegistry(options: ProviderRegistryOptions = {}): ProviderRegistry {
  const providers: CallbackProvider[] = [
    createStripeSimProvider(options.stripeSim),
    createAdyenSimProvider(),
  ];
  return new Map(providers.map((provider) => [provider.id, provider]));
}

/** The built-in providers with default settings. */
export const PROVIDERS: ProviderRegistry = createProviderRegistry();
