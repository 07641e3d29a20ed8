/**
 * Property tests of routing over generated (valid) configurations, requests, velocity usage and attempt
 * histories. The oracles below restate the documented rules independently of the implementation.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  nextCandidate,
  parseRoutingRules,
  planRoute,
  type AttemptFailureKind,
  type FailedAttempt,
  type RoutingRequest,
  type RuleMatch,
  type VelocityLimit,
  type VelocityLookup,
  type VelocityUsage,
} from '../../processor/routing/index.js';

const CURRENCIES = ['EUR', 'USD', 'GBP'];
const COUNTRIES = ['DE', 'FR', 'GB'];
const METHODS = ['card', 'wallet'];
const MERCHANTS = ['m1', 'm2'];
const WINDOWS = [60, 3600, 86_400];
const MAX_SUB_MIDS = 8;
const KINDS: AttemptFailureKind[] = [
  'provider_error',
  'timeout',
  'velocity_limited',
  'inactive_config',
  'declined',
  'network',
];
const PROCESSING_FAILURES: AttemptFailureKind[] = ['provider_error', 'timeout', 'network'];

const subset = (values: string[]) => fc.subarray(values, { minLength: 1 });
/** Mostly absent, so generated rules match often enough for the properties to say something. */
const rarely = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: arb, weight: 1 });
const withoutUndefined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

const limitArb = fc
  .record(
    {
      windowSeconds: fc.constantFrom(...WINDOWS),
      maxCount: fc.integer({ min: 1, max: 5 }),
      maxAmountMinor: fc.integer({ min: 1, max: 60_000 }),
    },
    { requiredKeys: ['windowSeconds'] },
  )
  .filter((limit) => limit.maxCount !== undefined || limit.maxAmountMinor !== undefined);

const subMidArb = fc.record(
  {
    providerId: fc.constantFrom('p0', 'p1'),
    active: fc.oneof(
      { arbitrary: fc.constant(true), weight: 4 },
      { arbitrary: fc.constant(false), weight: 1 },
    ),
    currencies: subset(CURRENCIES),
    velocity: fc.uniqueArray(limitArb, { selector: (limit) => limit.windowSeconds, maxLength: 3 }),
  },
  { requiredKeys: ['providerId', 'active', 'velocity'] },
);

const matchArb: fc.Arbitrary<RuleMatch> = fc
  .record({
    merchantIds: rarely(subset(MERCHANTS)),
    currencies: rarely(subset(CURRENCIES)),
    countries: rarely(subset(COUNTRIES)),
    paymentMethods: rarely(subset(METHODS)),
    amountMinor: rarely(
      fc
        .tuple(fc.option(fc.nat(20_000), { nil: undefined }), fc.option(fc.nat(20_000), { nil: undefined }))
        .filter(([min, max]) => min !== undefined || max !== undefined)
        .map(([a, b]) => {
          const range: { min?: number; max?: number } = {};
          if (a !== undefined) range.min = b === undefined ? a : Math.min(a, b);
          if (b !== undefined) range.max = a === undefined ? b : Math.max(a, b);
          return range;
        }),
    ),
  })
  .map(withoutUndefined);

/** SUB MID ids of one rule split into ordered groups. */
const groupsArb = (count: number) =>
  fc
    .tuple(
      fc.shuffledSubarray(
        Array.from({ length: count }, (_, i) => `s${i}`),
        { minLength: 2 },
      ),
      fc.array(fc.constantFrom('next_group', 'stop'), { minLength: MAX_SUB_MIDS, maxLength: MAX_SUB_MIDS }),
      fc.array(fc.boolean(), { minLength: MAX_SUB_MIDS, maxLength: MAX_SUB_MIDS }),
    )
    .map(([ids, fallbacks, cuts]) => {
      const groups: Array<{ subMids: string[]; fallback: string }> = [];
      ids.forEach((id, i) => {
        if (i === 0 || cuts[i]) groups.push({ subMids: [], fallback: fallbacks[groups.length]! });
        groups[groups.length - 1]!.subMids.push(id);
      });
      return groups;
    });

const configArb = fc.integer({ min: 2, max: MAX_SUB_MIDS }).chain((count) =>
  fc
    .record({
      subMids: fc.array(subMidArb, { minLength: count, maxLength: count }),
      rules: fc.array(fc.tuple(matchArb, groupsArb(count)), { minLength: 1, maxLength: 4 }),
    })
    .map(({ subMids, rules }) => repair(subMids, rules)),
);

/** Makes a generated configuration valid: no dead SUB MIDs for a rule's currencies, catch-all only last. */
function repair(
  subMids: Array<{ currencies?: string[] }>,
  rules: Array<[RuleMatch, Array<{ subMids: string[]; fallback: string }>]>,
) {
  const accepts = (id: string, currencies: string[]) => {
    const own = subMids[Number(id.slice(1))]!.currencies;
    return !own || own.some((c) => currencies.includes(c));
  };
  return {
    version: 'generated',
    providers: { p0: { apiBaseUrl: 'https://p0.example' }, p1: { apiBaseUrl: 'https://p1.example' } },
    subMids: subMids.map((s, i) => ({ id: `s${i}`, ...s })),
    rules: rules.map(([match, groups], index) => {
      let fixed = { ...match };
      let kept = groups;
      if (fixed.currencies) {
        const currencies = fixed.currencies;
        kept = groups
          .map((g) => ({ ...g, subMids: g.subMids.filter((id) => accepts(id, currencies)) }))
          .filter((g) => g.subMids.length > 0);
        if (kept.length === 0) {
          delete fixed.currencies;
          kept = groups;
        }
      }
      if (Object.keys(fixed).length === 0 && index < rules.length - 1) fixed = { merchantIds: ['m1'] };
      return { id: `r${index}`, match: fixed, groups: kept };
    }),
  };
}

const rulesArb = configArb.map((raw) => parseRoutingRules(raw));

const requestArb: fc.Arbitrary<RoutingRequest> = fc.record({
  merchantId: fc.constantFrom(...MERCHANTS, 'm3'),
  amountMinor: fc.nat(20_000),
  currency: fc.constantFrom(...CURRENCIES, 'JPY'),
  country: fc.constantFrom<string | null>(...COUNTRIES, 'US', null),
  paymentMethod: fc.constantFrom(...METHODS, 'bank_transfer'),
});

/** Usage of one (SUB MID, window): often idle, sometimes near or over the generated limits. */
const oneUsageArb = fc.oneof(
  { arbitrary: fc.constant({ count: 0, amountMinor: 0 }), weight: 4 },
  { arbitrary: fc.record({ count: fc.nat(6), amountMinor: fc.nat(25_000) }), weight: 1 },
);
const usageArb = fc.array(oneUsageArb, {
  minLength: MAX_SUB_MIDS * WINDOWS.length,
  maxLength: MAX_SUB_MIDS * WINDOWS.length,
});
function lookup(table: VelocityUsage[]): VelocityLookup {
  return (subMidId, windowSeconds) =>
    table[Number(subMidId.slice(1)) * WINDOWS.length + WINDOWS.indexOf(windowSeconds)]!;
}

// ---- Oracles: the documented semantics, restated ----

function oracleMatches(match: RuleMatch, r: RoutingRequest): boolean {
  return (
    (!match.merchantIds || match.merchantIds.includes(r.merchantId)) &&
    (!match.currencies || match.currencies.includes(r.currency)) &&
    (!match.countries || (r.country !== null && match.countries.includes(r.country))) &&
    (!match.paymentMethods || match.paymentMethods.includes(r.paymentMethod)) &&
    (match.amountMinor?.min === undefined || r.amountMinor >= match.amountMinor.min) &&
    (match.amountMinor?.max === undefined || r.amountMinor <= match.amountMinor.max)
  );
}

function fits(subMidId: string, limits: VelocityLimit[], amount: number, velocity: VelocityLookup): boolean {
  return limits.every((limit) => {
    const used = velocity(subMidId, limit.windowSeconds);
    return (
      (limit.maxCount === undefined || used.count < limit.maxCount) &&
      (limit.maxAmountMinor === undefined || used.amountMinor + amount <= limit.maxAmountMinor)
    );
  });
}

const settings = { numRuns: 400 };

describe('routing properties', () => {
  it('plans only active SUB MIDs that accept the currency and stay within every velocity limit', () => {
    fc.assert(
      fc.property(rulesArb, requestArb, usageArb, (rules, request, table) => {
        const decision = planRoute(rules, request, lookup(table));
        if (!decision.ok) return;
        for (const c of decision.candidates) {
          const subMid = rules.subMids.get(c.subMidId)!;
          expect(subMid.active).to.equal(true);
          expect(c.providerId).to.equal(subMid.providerId);
          if (subMid.currencies) expect(subMid.currencies).to.include(request.currency);
          expect(fits(c.subMidId, subMid.velocity, request.amountMinor, lookup(table))).to.equal(true);
        }
      }),
      settings,
    );
  });

  it('gives the same plan for the same input', () => {
    fc.assert(
      fc.property(configArb, requestArb, usageArb, (raw, request, table) => {
        const first = planRoute(parseRoutingRules(raw), request, lookup(table));
        const second = planRoute(parseRoutingRules(structuredClone(raw)), { ...request }, lookup([...table]));
        expect(second).to.deep.equal(first);
      }),
      settings,
    );
  });

  it('takes candidates only from the first matching rule, each SUB MID either planned or skipped, in order', () => {
    fc.assert(
      fc.property(rulesArb, requestArb, usageArb, (rules, request, table) => {
        const decision = planRoute(rules, request, lookup(table));
        const expected = rules.rules.find((rule) => oracleMatches(rule.match, request));
        if (!expected) {
          expect(decision).to.include({ ok: false, reason: 'no_matching_rule' });
          return;
        }
        expect(decision.ruleId).to.equal(expected.id);
        const listed = expected.groups.flatMap((g, i) => g.subMids.map((id) => `${i}:${id}`));
        const planned = decision.ok ? decision.candidates.map((c) => `${c.group}:${c.subMidId}`) : [];
        const skipped = decision.skipped.map((s) => `${s.group}:${s.subMidId}`);
        expect(planned.filter((x) => !listed.includes(x))).to.deep.equal([]);
        expect(listed.filter((x) => planned.includes(x))).to.deep.equal(planned);
        expect([...planned, ...skipped].sort()).to.deep.equal([...listed].sort());
        expect(decision.ok).to.equal(planned.length > 0);
      }),
      settings,
    );
  });

  it('walks the plan without repeating a failed SUB MID, within velocity, respecting "stop", until it ends for a true reason', () => {
    // Declines end routing at once: rarer, so walks get long enough to cross groups.
    const kindArb = fc.oneof(
      { arbitrary: fc.constantFrom(...KINDS.filter((k) => k !== 'declined')), weight: 12 },
      { arbitrary: fc.constant<AttemptFailureKind>('declined'), weight: 1 },
    );
    const historyArb = fc.array(fc.tuple(kindArb, usageArb), { minLength: 1, maxLength: 10 });
    fc.assert(
      fc.property(rulesArb, requestArb, usageArb, historyArb, (rules, request, table, history) => {
        const decision = planRoute(rules, request, lookup(table));
        fc.pre(decision.ok);
        const failed: FailedAttempt[] = [];
        for (const [kind, stepTable] of history) {
          const velocity = lookup(stepTable);
          const next = nextCandidate(decision, failed, velocity);
          const isFailed = (id: string) => failed.some((f) => f.subMidId === id);
          const usable = (id: string) =>
            !isFailed(id) && fits(id, rules.subMids.get(id)!.velocity, request.amountMinor, velocity);
          const stoppedGroups = stopped(decision.candidates, failed);
          if (next.ok) {
            const c = next.candidate;
            expect(isFailed(c.subMidId), 'never repeats a failed SUB MID').to.equal(false);
            expect(rules.subMids.get(c.subMidId)!.active).to.equal(true);
            expect(usable(c.subMidId), 'within velocity now').to.equal(true);
            const before = decision.candidates.slice(0, decision.candidates.indexOf(c));
            expect(
              before.filter((b) => usable(b.subMidId)),
              'earliest usable candidate',
            ).to.deep.equal([]);
            expect(
              stoppedGroups.filter((g) => g < c.group),
              'no cascade past a stopped group',
            ).to.deep.equal([]);
            failed.push({ subMidId: c.subMidId, failureKind: kind });
            continue;
          }
          const lastGroup = Math.max(...decision.candidates.map((c) => c.group));
          if (next.reason === 'declined') {
            expect(failed.some((f) => f.failureKind === 'declined')).to.equal(true);
          } else {
            expect(failed.some((f) => f.failureKind === 'declined')).to.equal(false);
            const stopsBeforeLast = stoppedGroups.filter((g) => g < lastGroup);
            expect(stopsBeforeLast.length > 0, next.reason).to.equal(next.reason === 'group_stopped');
            const firstStop = Math.min(...stopsBeforeLast);
            const reachable = decision.candidates.filter((c) => c.group <= firstStop);
            expect(
              reachable.filter((c) => usable(c.subMidId)),
              'nothing usable was left',
            ).to.deep.equal([]);
          }
          return;
        }
      }),
      settings,
    );
  });

  it('only generates configurations the validator accepts', () => {
    fc.assert(
      fc.property(configArb, (raw) => {
        expect(() => parseRoutingRules(raw)).not.to.throw();
      }),
      { numRuns: 200 },
    );
  });
});

/** Groups with fallback "stop" in which an attempt failed in processing. */
function stopped(
  candidates: ReadonlyArray<{ subMidId: string; group: number; groupFallback: string }>,
  failed: FailedAttempt[],
): number[] {
  return [
    ...new Set(
      candidates
        .filter(
          (c) =>
            c.groupFallback === 'stop' &&
            failed.some((f) => f.subMidId === c.subMidId && PROCESSING_FAILURES.includes(f.failureKind)),
        )
        .map((c) => c.group),
    ),
  ];
}
