import type { BackoffPolicy, RetryPolicy } from './types.js';

/**
 * Delay before attempt `nextAttempt` (2 = first retry). Pure: randomness is injected.
 * full jitter: uniform in [0, cap]; equal jitter: cap/2 + uniform in [0, cap/2]; none: cap.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  nextAttempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, nextAttempt - 2);
  const cap = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.multiplier, exponent));
  switch (policy.jitter) {
    case 'none':
      return Math.round(cap);
    case 'equal':
      return Math.round(cap / 2 + random() * (cap / 2));
    case 'full':
      return Math.round(random() * cap);
  }
}

/** Default for event handlers: a few quick retries so a transient database hiccup does not dead-letter. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  backoff: { initialMs: 200, multiplier: 2, maxMs: 5_000, jitter: 'equal' },
};
