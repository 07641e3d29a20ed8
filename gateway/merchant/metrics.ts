import { Counter, type Registry } from 'prom-client';
import type { AuthenticationResult } from '../../core/merchants/index.js';

/**
 * Merchant API counters on the process registry:
 * `merchant_deposits_total{outcome}` — accepted (new transaction), duplicate (idempotent replay),
 * conflict (merchantTransactionId reused with another request), invalid (400), unavailable (503);
 * `merchant_api_auth_failures_total{reason}` — refused API keys by reason (a spike = a leaked or
 * guessed key, or a merchant with a revoked key still calling).
 */
export type DepositMetricOutcome = 'accepted' | 'duplicate' | 'conflict' | 'invalid' | 'unavailable';
export type AuthFailureReason = Extract<AuthenticationResult, { ok: false }>['reason'] | 'missing';

export interface MerchantApiObserver {
  deposit(outcome: DepositMetricOutcome): void;
  authFailure(reason: AuthFailureReason): void;
}

export function merchantApiMetrics(registry: Registry): MerchantApiObserver {
  const deposits = new Counter({
    name: 'merchant_deposits_total',
    help: 'Deposit requests by outcome (accepted, duplicate, conflict, invalid, unavailable)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'merchant_api_auth_failures_total',
    help: 'Merchant API requests refused for their API key, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return {
    deposit: (outcome) => deposits.inc({ outcome }),
    authFailure: (reason) => authFailures.inc({ reason }),
  };
}

export const noopObserver: MerchantApiObserver = { deposit: () => undefined, authFailure: () => undefined };
