import { Counter, type Registry } from 'prom-client';
import type { CallbackOutcome, ProviderGatewayObserver } from './routes.js';

/** `provider_callbacks_total{provider, outcome}`: what the Provider Gateway answered, by provider. */
export function providerCallbackMetrics(registry: Registry): ProviderGatewayObserver {
  const callbacks = new Counter({
    name: 'provider_callbacks_total',
    help: 'Provider callbacks by provider and outcome (accepted, rejected-signature, broker-unavailable, ...)',
    labelNames: ['provider', 'outcome'] as const,
    registers: [registry],
  });
  return (info: { provider: string; outcome: CallbackOutcome }) =>
    callbacks.inc({ provider: info.provider, outcome: info.outcome });
}
