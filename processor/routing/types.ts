/**
 * Contract between the orchestrator and the routing module. Routing is pure: given validated rules, a
 * request, the velocity usage of the SUB MIDs and the time, it returns an ordered candidate plan.
 * The orchestrator stores the plan and the attempts; after a failed attempt it asks for the next candidate.
 *
 * Glossary — SUB MID: one provider account (merchant id at the PSP) we can send a payment to; rule: an
 * ordered entry of the routing configuration, a `match` plus candidate groups (the first matching rule
 * wins); group: SUB MIDs that are equivalent alternatives, tried in listed order; candidate: a SUB MID of
 * the matched rule that was usable when planned; plan: the ordered candidates plus what is needed to pick
 * the next one (a snapshot: one transaction follows one rules version); velocity window: usage of a SUB
 * MID over the last `windowSeconds`, bounded by a count and/or an amount.
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

/** One velocity bound of a SUB MID; at least one of the maxima is set. */
export interface VelocityLimit {
  windowSeconds: number;
  maxCount?: number;
  maxAmountMinor?: number;
}

export interface PlannedCandidate {
  providerId: string;
  subMidId: string;
  /** Index of the candidate group in the matched rule (0 = first choice). */
  group: number;
  /** Added: what happens when this candidate's group is used up (see `nextCandidate`). */
  groupFallback: GroupFallback;
  /** Added: the SUB MID's velocity limits when planned, re-checked before each attempt. */
  velocity: VelocityLimit[];
}

/** What happens when every candidate of a group failed: try the next group, or give up. */
export type GroupFallback = 'next_group' | 'stop';

/** A SUB MID of the matched rule left out of the plan, and why (for the timeline). */
export interface SkippedCandidate {
  subMidId: string;
  group: number;
  reason: 'inactive' | 'currency_not_supported' | 'velocity_limit';
}

export type RoutingDecision =
  | {
      ok: true;
      rulesVersion: string;
      ruleId: string;
      candidates: PlannedCandidate[];
      /** Added: the request amount, for velocity re-checks. */
      amountMinor: number;
      /** Added: SUB MIDs of the matched rule that are not candidates. */
      skipped: SkippedCandidate[];
    }
  | {
      ok: false;
      rulesVersion: string;
      reason: 'no_matching_rule' | 'no_active_candidate';
      detail: string;
      /** Added: the matched rule (null when none matched) and the SUB MIDs it left out. */
      ruleId: string | null;
      skipped: SkippedCandidate[];
    };

/**
 * What `nextCandidate` needs: the planned candidates as stored (each carries its group's fallback and its
 * velocity limits, so the plan stays valid whatever the rules become) and the payment amount. A successful
 * `RoutingDecision` is one.
 */
export interface RoutePlan {
  candidates: readonly PlannedCandidate[];
  amountMinor: number;
}

/** Why an attempt on a candidate ended without a final provider outcome (drives fallback). */
export type AttemptFailureKind =
  'provider_error' | 'timeout' | 'velocity_limited' | 'inactive_config' | 'declined' | 'network';

export interface FailedAttempt {
  subMidId: string;
  failureKind: AttemptFailureKind;
}

/** The next SUB MID to try, or why routing is over. */
export type NextCandidate =
  | { ok: true; candidate: PlannedCandidate }
  | { ok: false; reason: 'declined' | 'group_stopped' | 'candidates_exhausted'; detail: string };

// ---- Validated routing configuration (see docs/decisions/0014-routing-rules.md) ----

/** Where a credential comes from: an environment variable (secrets never live in the rules file). */
export interface CredentialRef {
  env: string;
  /** Used when the variable is unset and development credentials are allowed (never in production). */
  devDefault?: string;
}

export interface ProviderSpec {
  id: string;
  /** URL, optionally starting with `{simulatorBaseUrl}` (the provider simulator of this deployment). */
  apiBaseUrl: string;
  credentials: Record<string, CredentialRef>;
}

export interface SubMidSpec {
  id: string;
  providerId: string;
  active: boolean;
  /** ISO 4217 codes this account accepts; null = any. */
  currencies: string[] | null;
  velocity: VelocityLimit[];
  /** Non-secret provider-side identifiers (e.g. the PSP merchant account code). */
  account: Record<string, string>;
  /** Per-account credentials; override the provider's of the same name. */
  credentials: Record<string, CredentialRef>;
}

/** Absent fields match anything; present ones must all match. Amount bounds are inclusive. */
export interface RuleMatch {
  merchantIds?: string[];
  currencies?: string[];
  amountMinor?: { min?: number; max?: number };
  countries?: string[];
  paymentMethods?: string[];
}

export interface CandidateGroup {
  subMids: string[];
  fallback: GroupFallback;
}

export interface RoutingRule {
  id: string;
  match: RuleMatch;
  groups: CandidateGroup[];
}

export interface RoutingRules {
  version: string;
  providers: ReadonlyMap<string, ProviderSpec>;
  subMids: ReadonlyMap<string, SubMidSpec>;
  /** In file order: the first rule whose match accepts the request wins. */
  rules: RoutingRule[];
}
