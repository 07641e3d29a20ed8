/**
 * Velocity check, pure: would one more payment of `amountMinor` keep a SUB MID within every limit?
 * Usage comes from the caller (its storage, its clock); a limit is exceeded when count + 1 or
 * amount + amountMinor goes above the maximum, so a limit of N allows exactly N payments per window.
 */
import type { RoutingRules, VelocityLimit, VelocityLookup } from './types.js';

/** The first limit this payment would exceed, or null when it fits all of them. */
export function exceededLimit(
  subMidId: string,
  limits: readonly VelocityLimit[],
  amountMinor: number,
  velocity: VelocityLookup,
): VelocityLimit | null {
  for (const limit of limits) {
    const usage = velocity(subMidId, limit.windowSeconds);
    if (limit.maxCount !== undefined && usage.count + 1 > limit.maxCount) return limit;
    if (limit.maxAmountMinor !== undefined && usage.amountMinor + amountMinor > limit.maxAmountMinor)
      return limit;
  }
  return null;
}

/** Every (SUB MID, window) pair routing may ask usage for: the active SUB MIDs' limits, for preloading. */
export function velocityWindows(rules: RoutingRules): Array<{ subMidId: string; windowSeconds: number }> {
  return [...rules.subMids.values()]
    .filter((subMid) => subMid.active)
    .flatMap((subMid) =>
      subMid.velocity.map((limit) => ({ subMidId: subMid.id, windowSeconds: limit.windowSeconds })),
    );
}
