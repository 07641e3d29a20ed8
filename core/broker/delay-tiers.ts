/**
 * Delayed delivery over ordinary topics, identical on every broker. A topic T has tiers T.delay.<d> for
 * a fixed ascending list of delays. A message due at `dueAt` goes to the largest tier d <= remaining
 * delay (the smallest tier when the remaining delay is shorter than every tier). The scheduler waits
 * until min(enteredTierAt + d, dueAt), then forwards the message to T if it is due, or to the tier that
 * fits what remains. A message is therefore never delivered before `dueAt`, and at most one smallest
 * tier late. Waiting happens per key, so one long wait never holds back other keys.
 */

export const HEADER_DUE_AT = 'x-delay-due-at';
export const HEADER_TARGET = 'x-delay-target';
export const HEADER_ENTERED_TIER_AT = 'x-delay-entered-at';

/** Default tiers: 1 s, 5 s, 30 s, 2 min, 10 min, 1 h. Longer delays hop through the 1 h tier. */
export const DEFAULT_DELAY_TIERS_MS: readonly number[] = [1_000, 5_000, 30_000, 120_000, 600_000, 3_600_000];

/** The tier (ms) a message with `remainingMs` left should wait in. */
export function chooseTier(tiers: readonly number[], remainingMs: number): number {
  if (tiers.length === 0) throw new Error('at least one delay tier is required');
  let chosen = tiers[0]!;
  for (const tier of tiers) if (tier <= remainingMs) chosen = tier;
  return chosen;
}

export interface TierStep {
  /** Wait until this time (epoch ms) before acting. */
  waitUntil: number;
}

/**
 * When a message that entered tier `tierMs` at `enteredAt` and is due at `dueAt` may move on:
 * never before its due time, and in a tier no longer than the tier's own delay.
 */
export function tierWaitUntil(tierMs: number, enteredAt: number, dueAt: number): number {
  return Math.min(enteredAt + tierMs, dueAt);
}
