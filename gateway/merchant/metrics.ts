import { Counter, Histogram, type Registry } from 'prom-client';
import type { AuthenticationResult } from '../../core/merchants/index.js';

/**
 * Merchant API counters on the process registry:
 * `merchant_deposits_total{outcome}` — accepted (new transaction), duplicate (idempotent replay),
 * conflict (merchantTransactionId reused with another request), invalid (400), unavailable (503);
 * `merchant_api_auth_failures_total{reason}` — refused API keys by reason (a spike = a leaked or
 * guessed key, or a merchant with a revoked key still calling);
 * `merchant_deposit_write_batch_size` — deposits per group-commit statement (deposit-writer.ts): 1 while
 * the gateway is idle, growing under load; batches at the maximum mean the lane is the bottleneck.
 */
export type DepositMetricOutcome = 'accepted' | 'duplicate' | 'conflict' | 'invalid' | 'unavailable';
export type AuthFailureReason = Extract<AuthenticationResult, { ok: false }>['reason'] | 'missing';

export interface MerchantApiObserver {
  deposit(outcome: DepositMetricOutcome): void;
  authFailure(reason: AuthFailureReason): void;
  /** A group-commit statement of `size` deposits was sent. */
  depositBatch(size: number): void;
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
  const batchSizes = new Histogram({
    name: 'merchant_deposit_write_batch_size',
    help: 'Deposits written per group-commit statement',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [registry],
  });
  return {
    deposit: (outcome) => deposits.inc({ outcome }),
    authFailure: (reason) => authFailures.inc({ reason }),
    depositBatch: (size) => batchSizes.observe(size),
  };
}

export const noopObserver: MerchantApiObserver = {
  deposit: () => undefined,
  authFailure: () => undefined,
  depositBatch: () => undefined,
};
