/**
 * Builds the candidate plan for one request, pure: the first matching rule's groups in order, each
 * group's SUB MIDs in listed order, leaving out (and recording why) SUB MIDs that are inactive, do not
 * accept the currency, or whose velocity limits this payment would exceed. Same input, same plan.
 */
import { firstMatchingRule } from './match.js';
import { exceededLimit } from './velocity.js';
import type {
  PlannedCandidate,
  RoutingDecision,
  RoutingRequest,
  RoutingRules,
  SkippedCandidate,
  SubMidSpec,
  VelocityLookup,
} from './types.js';

export function planRoute(
  rules: RoutingRules,
  request: RoutingRequest,
  velocity: VelocityLookup,
): RoutingDecision {
  const rule = firstMatchingRule(rules.rules, request);
  if (!rule) {
    return {
      ok: false,
      rulesVersion: rules.version,
      reason: 'no_matching_rule',
      detail: `no routing rule matches ${describe(request)}`,
      ruleId: null,
      skipped: [],
    };
  }
  const candidates: PlannedCandidate[] = [];
  const skipped: SkippedCandidate[] = [];
  rule.groups.forEach((group, index) => {
    for (const subMidId of group.subMids) {
      const subMid = rules.subMids.get(subMidId);
      if (!subMid)
        throw new Error(`rule "${rule.id}" names unknown SUB MID "${subMidId}": validate the rules`);
      const reason = unusable(subMid, request, velocity);
      if (reason) skipped.push({ subMidId, group: index, reason });
      else
        candidates.push({
          providerId: subMid.providerId,
          subMidId,
          group: index,
          groupFallback: group.fallback,
          velocity: subMid.velocity.map((limit) => ({ ...limit })),
        });
    }
  });
  if (candidates.length === 0) {
    const why = skipped.map((s) => `${s.subMidId} (${s.reason})`).join(', ');
    return {
      ok: false,
      rulesVersion: rules.version,
      reason: 'no_active_candidate',
      detail: `rule "${rule.id}" matched ${describe(request)} but none of its SUB MIDs is usable: ${why}`,
      ruleId: rule.id,
      skipped,
    };
  }
  return {
    ok: true,
    rulesVersion: rules.version,
    ruleId: rule.id,
    candidates,
    amountMinor: request.amountMinor,
    skipped,
  };
}

function unusable(
  subMid: SubMidSpec,
  request: RoutingRequest,
  velocity: VelocityLookup,
): SkippedCandidate['reason'] | null {
  if (!subMid.active) return 'inactive';
  if (subMid.currencies && !subMid.currencies.includes(request.currency.toUpperCase()))
    return 'currency_not_supported';
  if (exceededLimit(subMid.id, subMid.velocity, request.amountMinor, velocity)) return 'velocity_limit';
  return null;
}

function describe(request: RoutingRequest): string {
  const country = request.country ?? 'unknown country';
  return `${request.amountMinor} ${request.currency} ${request.paymentMethod} from ${country} for merchant ${request.merchantId}`;
}
