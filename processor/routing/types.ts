/**
 * Contract between the orchestrator and the routing module. Routing is pure: given validated rules, a
 * request, the velocity usage of the SUB MIDs and the time, it returns an ordered candidate plan.
 * The orchestrator stores the plan and the attempts; after a failed attempt it asks for the next candidate.
 */

/** What routing matches on (from the accepted deposit). */
export interface RoutingRequest {
  merchantId: string;
  amountMinor: number;
  currency: string;
  /** ISO 3166-1 alpha-2, when known. */
  country: string | null;
  paymentMethod: string;
}

/** Usage of one SUB MID inside a velocity window, computed by the caller from stored attempts. */
export interface VelocityUsage {
  count: number;
  amountMinor: number;
}

/** Looks up usage of a SUB MID over the `windowSeconds` ending at `now` (the caller's storage). */
export type VelocityLookup = (subMidId: string, windowSeconds: number) => VelocityUsage;

export interface PlannedCandidate {
  providerId: string;
  subMidId: string;
  /** Index of the candidate group in the matched rule (0 = first choice). */
  group: number;
}

export type RoutingDecision =
  | { ok: true; rulesVersion: string; ruleId: string; candidates: PlannedCandidate[] }
  | {
      ok: false;
      rulesVersion: string;
      reason: 'no_matching_rule' | 'no_active_candidate';
      detail: string;
    };

/** Why an attempt on a candidate ended without a final provider outcome (drives fallback). */
export type AttemptFailureKind =
  'provider_error' | 'timeout' | 'velocity_limited' | 'inactive_config' | 'declined' | 'network';
