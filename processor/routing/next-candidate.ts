/**
 * Picks the SUB MID for the next attempt, pure. Called before every attempt (the first included), with
 * the plan and the attempts that failed so far:
 * - a decline ends routing (it is the payment's answer, not a routing failure);
 * - candidates are walked in plan order; failed ones are never tried again, and ones whose velocity
 *   limits this payment would now exceed are passed over (velocity is re-checked at every attempt);
 * - when a group has nothing left, a group with fallback "stop" ends routing if one of its attempts failed
 *   in processing (provider_error, timeout, network). Availability refusals (velocity_limited,
 *   inactive_config: the provider did not take the payment) count like a SUB MID skipped when planning,
 *   so they move on to the next group even past "stop". (The last group's fallback changes nothing.)
 */
import { exceededLimit } from './velocity.js';
import type {
  AttemptFailureKind,
  FailedAttempt,
  NextCandidate,
  PlannedCandidate,
  RoutePlan,
  VelocityLookup,
} from './types.js';

/** Failure kinds meaning the provider refused to take the payment at all. */
export const AVAILABILITY_FAILURES: readonly AttemptFailureKind[] = ['velocity_limited', 'inactive_config'];

export function nextCandidate(
  plan: RoutePlan,
  failedAttempts: readonly FailedAttempt[],
  velocity: VelocityLookup,
): NextCandidate {
  const declined = failedAttempts.find((attempt) => attempt.failureKind === 'declined');
  if (declined) {
    return {
      ok: false,
      reason: 'declined',
      detail: `SUB MID ${declined.subMidId} declined the payment; a decline is final and is not routed elsewhere`,
    };
  }
  const failed = new Set(failedAttempts.map((attempt) => attempt.subMidId));
  const overLimit: string[] = [];
  const groups = [...byGroup(plan.candidates)];
  for (const [position, [group, members]] of groups.entries()) {
    for (const candidate of members) {
      if (failed.has(candidate.subMidId)) continue;
      if (exceededLimit(candidate.subMidId, candidate.velocity, plan.amountMinor, velocity)) {
        overLimit.push(candidate.subMidId);
        continue;
      }
      return { ok: true, candidate };
    }
    const processingFailure = failedAttempts.find(
      (attempt) =>
        !AVAILABILITY_FAILURES.includes(attempt.failureKind) &&
        members.some((member) => member.subMidId === attempt.subMidId),
    );
    const laterGroups = position < groups.length - 1;
    if (processingFailure && members[0]!.groupFallback === 'stop' && laterGroups) {
      return {
        ok: false,
        reason: 'group_stopped',
        detail: `group ${group} failed (${processingFailure.subMidId}: ${processingFailure.failureKind}) and its fallback is "stop"`,
      };
    }
  }
  const tail = overLimit.length > 0 ? `; over their velocity limits now: ${overLimit.join(', ')}` : '';
  return {
    ok: false,
    reason: 'candidates_exhausted',
    detail: `${plan.candidates.filter((c) => failed.has(c.subMidId)).length} of ${plan.candidates.length} candidates failed${tail}`,
  };
}

/** Candidates by group index, in plan order. */
function byGroup(candidates: readonly PlannedCandidate[]): Map<number, PlannedCandidate[]> {
  const groups = new Map<number, PlannedCandidate[]>();
  for (const candidate of candidates) {
    const members = groups.get(candidate.group) ?? [];
    members.push(candidate);
    groups.set(candidate.group, members);
  }
  return groups;
}
