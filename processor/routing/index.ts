/** Routing: validated rules from configuration, and the pure decisions the orchestrator calls. */
export { loadRoutingRules, type RoutingSetup } from './loader.js';
export { parseRoutingRules } from './parse-rules.js';
export { resolveSubMidAccounts, type AccountOptions } from './accounts.js';
export { RoutingRulesError } from './rules-error.js';
export { planRoute } from './plan-route.js';
export { nextCandidate, AVAILABILITY_FAILURES } from './next-candidate.js';
export { matches, firstMatchingRule } from './match.js';
export { exceededLimit, velocityWindows } from './velocity.js';
export type * from './types.js';
