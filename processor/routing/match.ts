/**
 * Rule matching, pure. Every field a rule's `match` sets must accept the request; absent fields accept
 * anything. A rule that lists countries never matches a request whose country is unknown. Codes are
 * compared in their canonical case (currency and country upper, payment method lower).
 */
import type { RoutingRequest, RoutingRule, RuleMatch } from './types.js';

export function matches(match: RuleMatch, request: RoutingRequest): boolean {
  if (match.merchantIds && !match.merchantIds.includes(request.merchantId)) return false;
  if (match.currencies && !match.currencies.includes(request.currency.toUpperCase())) return false;
  if (match.paymentMethods && !match.paymentMethods.includes(request.paymentMethod.toLowerCase()))
    return false;
  if (
    match.countries &&
    (request.country === null || !match.countries.includes(request.country.toUpperCase()))
  )
    return false;
  const range = match.amountMinor;
  if (range?.min !== undefined && request.amountMinor < range.min) return false;
  if (range?.max !== undefined && request.amountMinor > range.max) return false;
  return true;
}

/** The first rule, in configuration order, whose match accepts the request. */
export function firstMatchingRule(
  rules: readonly RoutingRule[],
  request: RoutingRequest,
): RoutingRule | null {
  return rules.find((rule) => matches(rule.match, request)) ?? null;
}
