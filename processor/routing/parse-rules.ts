/**
 * Validates a parsed routing configuration into `RoutingRules`, pure. Unknown keys, bad values and
 * dangling references are all reported at once with the path of the field (`rules[2].groups[0].subMids[1]:
 * unknown SUB MID "x"`); a rule that would shadow the rules after it is refused as well.
 */
import { isCountryCode } from '../../core/reference-data/index.js';
import {
  Issues,
  array,
  field,
  integer,
  item,
  object,
  oneOf,
  pattern,
  string,
  stringSet,
  type Format,
} from './config-reader.js';
import { CURRENCY, ID, descriptionOf, parseProviders, parseSubMids } from './parse-accounts.js';
import { RoutingRulesError } from './rules-error.js';
import type {
  CandidateGroup,
  GroupFallback,
  RoutingRule,
  RoutingRules,
  RuleMatch,
  SubMidSpec,
} from './types.js';

const COUNTRY: Format = {
  test: isCountryCode,
  hint: 'an upper-case ISO 3166-1 alpha-2 country code such as DE',
};
const PAYMENT_METHOD = pattern(/^[a-z][a-z0-9_]*$/, 'a lower-case payment method such as card');
const MERCHANT_ID = pattern(/^\S{1,128}$/, 'a merchant id');
const VERSION = pattern(/^\S.{0,99}$/, 'a version of at most 100 characters');
const FALLBACKS: readonly GroupFallback[] = ['next_group', 'stop'];

/** Validates `raw` (parsed JSON); throws RoutingRulesError listing every problem, prefixed by `source`. */
export function parseRoutingRules(raw: unknown, source = 'routing rules'): RoutingRules {
  const issues = new Issues();
  const root = object(issues, raw === undefined ? null : raw, '', {
    required: ['version', 'providers', 'subMids', 'rules'],
    optional: ['description'],
  });
  if (!root) throw new RoutingRulesError(source, issues.list);
  descriptionOf(issues, root, '');
  const version = string(issues, root.version, 'version', VERSION);
  const providers = parseProviders(issues, root.providers, 'providers');
  const providerIds = new Set(isPlainObject(root.providers) ? Object.keys(root.providers) : []);
  const subMids = parseSubMids(issues, root.subMids, 'subMids', providerIds);
  const rules = parseRules(issues, root.rules, subMids, declaredIds(root.subMids));
  if (issues.list.length > 0 || version === undefined || rules === undefined)
    throw new RoutingRulesError(source, issues.list);
  return { version, providers, subMids, rules };
}

/** Ids written in `subMids`, even of invalid entries, so a typo there is not also reported at every use. */
function declaredIds(value: unknown): ReadonlySet<string> {
  if (!Array.isArray(value)) return new Set();
  return new Set(value.flatMap((s) => (isPlainObject(s) && typeof s.id === 'string' ? [s.id] : [])));
}

function parseRules(
  issues: Issues,
  value: unknown,
  subMids: ReadonlyMap<string, SubMidSpec>,
  declared: ReadonlySet<string>,
): RoutingRule[] | undefined {
  const firstSeen = new Map<string, number>();
  const rules = array(issues, value, 'rules', (raw, path, index) => {
    const obj = object(issues, raw, path, { required: ['id', 'match', 'groups'], optional: ['description'] });
    if (!obj) return undefined;
    descriptionOf(issues, obj, path);
    const id = string(issues, obj.id, field(path, 'id'), ID);
    if (id !== undefined && firstSeen.has(id))
      issues.add(field(path, 'id'), `duplicate rule id "${id}" (also ${item('rules', firstSeen.get(id)!)})`);
    else if (id !== undefined) firstSeen.set(id, index);
    const match = parseMatch(issues, obj.match, field(path, 'match'));
    const groups = parseGroups(issues, obj.groups, field(path, 'groups'), declared);
    if (id === undefined || match === undefined || groups === undefined) return undefined;
    checkCurrencies(issues, path, match, groups, subMids);
    return { id, match, groups };
  });
  if (rules) refuseShadowingCatchAll(issues, rules);
  return rules;
}

function parseMatch(issues: Issues, value: unknown, path: string): RuleMatch | undefined {
  const obj = object(issues, value, path, {
    required: [],
    optional: ['merchantIds', 'currencies', 'amountMinor', 'countries', 'paymentMethods'],
  });
  if (!obj) return undefined;
  const match: RuleMatch = {};
  const before = issues.list.length;
  if (obj.merchantIds !== undefined)
    match.merchantIds = stringSet(issues, obj.merchantIds, field(path, 'merchantIds'), MERCHANT_ID);
  if (obj.currencies !== undefined)
    match.currencies = stringSet(issues, obj.currencies, field(path, 'currencies'), CURRENCY);
  if (obj.countries !== undefined)
    match.countries = stringSet(issues, obj.countries, field(path, 'countries'), COUNTRY);
  if (obj.paymentMethods !== undefined)
    match.paymentMethods = stringSet(
      issues,
      obj.paymentMethods,
      field(path, 'paymentMethods'),
      PAYMENT_METHOD,
    );
  if (obj.amountMinor !== undefined)
    match.amountMinor = parseAmountRange(issues, obj.amountMinor, field(path, 'amountMinor'));
  return issues.list.length === before ? match : undefined;
}

function parseAmountRange(issues: Issues, value: unknown, path: string): RuleMatch['amountMinor'] {
  const obj = object(issues, value, path, { required: [], optional: ['min', 'max'] });
  if (!obj) return undefined;
  if (obj.min === undefined && obj.max === undefined) {
    issues.add(path, 'set min, max or both (inclusive), or leave amountMinor out');
    return undefined;
  }
  const range: { min?: number; max?: number } = {};
  if (obj.min !== undefined) range.min = integer(issues, obj.min, field(path, 'min'), 0);
  if (obj.max !== undefined) range.max = integer(issues, obj.max, field(path, 'max'), 0);
  if (range.min !== undefined && range.max !== undefined && range.min > range.max) {
    issues.add(path, `min ${range.min} is greater than max ${range.max}`);
    return undefined;
  }
  return range;
}

function parseGroups(
  issues: Issues,
  value: unknown,
  path: string,
  declared: ReadonlySet<string>,
): CandidateGroup[] | undefined {
  const groupOf = new Map<string, number>();
  return array(issues, value, path, (raw, groupPath, groupIndex) => {
    const obj = object(issues, raw, groupPath, {
      required: ['subMids', 'fallback'],
      optional: ['description'],
    });
    if (!obj) return undefined;
    descriptionOf(issues, obj, groupPath);
    const fallback = oneOf(issues, obj.fallback, field(groupPath, 'fallback'), FALLBACKS);
    const listPath = field(groupPath, 'subMids');
    const subMids = stringSet(issues, obj.subMids, listPath, ID);
    if (subMids === undefined || fallback === undefined) return undefined;
    let valid = true;
    subMids.forEach((subMidId, i) => {
      const where = groupOf.get(subMidId);
      if (!declared.has(subMidId)) {
        issues.add(item(listPath, i), `unknown SUB MID "${subMidId}"`);
        valid = false;
      } else if (where !== undefined) {
        issues.add(item(listPath, i), `SUB MID "${subMidId}" is already in ${item(path, where)}`);
        valid = false;
      } else groupOf.set(subMidId, groupIndex);
    });
    return valid ? { subMids, fallback } : undefined;
  });
}

/** A SUB MID that accepts none of the currencies its rule matches could never be chosen: a mistake. */
function checkCurrencies(
  issues: Issues,
  rulePath: string,
  match: RuleMatch,
  groups: CandidateGroup[],
  subMids: ReadonlyMap<string, SubMidSpec>,
): void {
  if (!match.currencies) return;
  groups.forEach((group, g) =>
    group.subMids.forEach((subMidId, i) => {
      const accepted = subMids.get(subMidId)?.currencies;
      if (accepted && !match.currencies!.some((c) => accepted.includes(c))) {
        issues.add(
          item(field(item(field(rulePath, 'groups'), g), 'subMids'), i),
          `SUB MID "${subMidId}" accepts none of the rule's currencies (${match.currencies!.join(', ')})`,
        );
      }
    }),
  );
}

/** A rule that matches everything must be last: rules after it could never match. */
function refuseShadowingCatchAll(issues: Issues, rules: RoutingRule[]): void {
  const index = rules.findIndex((rule) => Object.keys(rule.match).length === 0);
  if (index >= 0 && index < rules.length - 1) {
    const shadowed = rules.slice(index + 1).map((rule) => `"${rule.id}"`);
    issues.add(
      field(item('rules', index), 'match'),
      `matches every request, so the rules after it (${shadowed.join(', ')}) can never match; move it last`,
    );
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
