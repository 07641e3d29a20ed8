/**
 * When to try a failed webhook again. Pure: the schedule is configuration, randomness is injected.
 *
 * Default: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h, 24 h after successive failures — 11
 * attempts over about 47 hours, so a merchant outage of a day or more still gets its webhooks.
 */
export const DEFAULT_WEBHOOK_SCHEDULE_MS: readonly number[] = [
  5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

export interface RetryDecision {
  retry: boolean;
  /** Delay before the next attempt (only when retry). */
  delayMs: number;
}

/**
 * After `failedAttempt` (1 = the first delivery) failed: retry with the scheduled delay ±20 % jitter,
 * or later if the merchant asked (Retry-After, honoured up to `maxRetryAfterMs`), or stop when the
 * schedule is exhausted.
 */
export function nextRetry(
  schedule: readonly number[],
  failedAttempt: number,
  options: { retryAfterMs?: number | undefined; maxRetryAfterMs?: number; random?: () => number } = {},
): RetryDecision {
  const base = schedule[failedAttempt - 1];
  if (base === undefined) return { retry: false, delayMs: 0 };
  const random = options.random ?? Math.random;
  const jittered = Math.round(base * (0.8 + 0.4 * random()));
  const requested = Math.min(options.retryAfterMs ?? 0, options.maxRetryAfterMs ?? 3_600_000);
  return { retry: true, delayMs: Math.max(jittered, requested) };
}

/** Parses a Retry-After header (seconds or HTTP date) into milliseconds from `now`; undefined if absent or invalid. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
