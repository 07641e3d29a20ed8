import { expect } from 'chai';
import {
  nextCandidate,
  parseRoutingRules,
  planRoute,
  velocityWindows,
  type FailedAttempt,
  type RoutePlan,
  type RoutingDecision,
  type RoutingRequest,
  type VelocityLookup,
  type VelocityUsage,
} from '../../processor/routing/index.js';

const rules = parseRoutingRules({
  version: 'test-7',
  providers: { p1: { apiBaseUrl: 'https://p1.example' }, p2: { apiBaseUrl: 'https://p2.example' } },
  subMids: [
    {
      id: 'a1',
      providerId: 'p1',
      active: true,
      currencies: ['EUR', 'USD'],
      velocity: [{ windowSeconds: 60, maxCount: 3 }],
    },
    { id: 'a2', providerId: 'p1', active: true, velocity: [{ windowSeconds: 3600, maxAmountMinor: 10_000 }] },
    { id: 'b1', providerId: 'p2', active: true, velocity: [] },
    {
      id: 'b2',
      providerId: 'p2',
      active: true,
      velocity: [
        { windowSeconds: 60, maxCount: 1 },
        { windowSeconds: 86_400, maxAmountMinor: 5_000 },
      ],
    },
    { id: 'off', providerId: 'p2', active: false, velocity: [] },
    { id: 'gbp', providerId: 'p2', active: true, currencies: ['GBP'], velocity: [] },
  ],
  rules: [
    { id: 'vip', match: { merchantIds: ['m_vip'] }, groups: [{ subMids: ['b1'], fallback: 'stop' }] },
    {
      id: 'de-small-card',
      match: {
        currencies: ['EUR'],
        countries: ['DE'],
        paymentMethods: ['card'],
        amountMinor: { min: 100, max: 5000 },
      },
      groups: [
        { subMids: ['a1', 'off', 'a2'], fallback: 'stop' },
        { subMids: ['b1', 'b2'], fallback: 'next_group' },
      ],
    },
    {
      id: 'eur',
      match: { currencies: ['EUR'] },
      groups: [
        { subMids: ['a1', 'a2'], fallback: 'next_group' },
        { subMids: ['b1', 'b2'], fallback: 'stop' },
      ],
    },
    {
      id: 'card-any',
      match: { paymentMethods: ['card'] },
      groups: [{ subMids: ['gbp', 'b1'], fallback: 'next_group' }],
    },
  ],
});

const request = (overrides: Partial<RoutingRequest> = {}): RoutingRequest => ({
  merchantId: 'm_1',
  amountMinor: 1000,
  currency: 'EUR',
  country: 'DE',
  paymentMethod: 'card',
  ...overrides,
});

/** Usage per "subMid/window"; anything not listed is unused. */
function usage(table: Record<string, Partial<VelocityUsage>> = {}): VelocityLookup {
  return (subMidId, windowSeconds) => ({
    count: 0,
    amountMinor: 0,
    ...table[`${subMidId}/${windowSeconds}`],
  });
}

function plan(decision: RoutingDecision): Extract<RoutingDecision, { ok: true }> {
  if (!decision.ok) throw new Error(`expected a plan, got ${decision.reason}: ${decision.detail}`);
  return decision;
}
const order = (decision: RoutingDecision) => plan(decision).candidates.map((c) => `${c.group}:${c.subMidId}`);

describe('planRoute', () => {
  it('takes the first rule that matches, in file order', () => {
    const vip = plan(planRoute(rules, request({ merchantId: 'm_vip' }), usage()));
    expect(vip.ruleId).to.equal('vip');
    expect(vip.rulesVersion).to.equal('test-7');
    expect(plan(planRoute(rules, request(), usage())).ruleId).to.equal('de-small-card');
  });

  it('matches every field a rule sets: country, payment method, currency, inclusive amount bounds', () => {
    const rule = (r: Partial<RoutingRequest>) => {
      const decision = planRoute(rules, request(r), usage());
      return decision.ok ? decision.ruleId : decision.reason;
    };
    expect(rule({ amountMinor: 100 })).to.equal('de-small-card');
    expect(rule({ amountMinor: 5000 })).to.equal('de-small-card');
    expect(rule({ amountMinor: 99 })).to.equal('eur');
    expect(rule({ amountMinor: 5001 })).to.equal('eur');
    expect(rule({ country: 'FR' })).to.equal('eur');
    expect(rule({ country: null }), 'unknown country never matches a country list').to.equal('eur');
    expect(rule({ paymentMethod: 'wallet' })).to.equal('eur');
    expect(rule({ currency: 'GBP' })).to.equal('card-any');
    expect(rule({ currency: 'eur', country: 'de', paymentMethod: 'CARD' }), 'canonical case').to.equal(
      'de-small-card',
    );
  });

  it('explains when no rule matches', () => {
    const decision = planRoute(rules, request({ currency: 'GBP', paymentMethod: 'wallet' }), usage());
    expect(decision).to.deep.equal({
      ok: false,
      rulesVersion: 'test-7',
      reason: 'no_matching_rule',
      detail: 'no routing rule matches 1000 GBP wallet from DE for merchant m_1',
      ruleId: null,
      skipped: [],
    });
  });

  it('orders candidates by group, then as listed, and records the SUB MIDs it leaves out', () => {
    const decision = plan(planRoute(rules, request(), usage()));
    expect(order(decision)).to.deep.equal(['0:a1', '0:a2', '1:b1', '1:b2']);
    expect(decision.candidates[0]).to.deep.equal({
      providerId: 'p1',
      subMidId: 'a1',
      group: 0,
      groupFallback: 'stop',
      velocity: [{ windowSeconds: 60, maxCount: 3 }],
    });
    expect(decision.amountMinor).to.equal(1000);
    expect(decision.skipped).to.deep.equal([{ subMidId: 'off', group: 0, reason: 'inactive' }]);
  });

  it('leaves out SUB MIDs that do not accept the currency', () => {
    const decision = plan(planRoute(rules, request({ currency: 'USD' }), usage()));
    expect(decision.ruleId).to.equal('card-any');
    expect(order(decision)).to.deep.equal(['0:b1']);
    expect(decision.skipped).to.deep.equal([{ subMidId: 'gbp', group: 0, reason: 'currency_not_supported' }]);
  });

  it('allows exactly maxCount payments per window', () => {
    expect(order(planRoute(rules, request(), usage({ 'a1/60': { count: 2 } })))).to.include('0:a1');
    const full = plan(planRoute(rules, request(), usage({ 'a1/60': { count: 3 } })));
    expect(order(full)).not.to.include('0:a1');
    expect(full.skipped).to.deep.include({ subMidId: 'a1', group: 0, reason: 'velocity_limit' });
  });

  it('counts this payment against the amount limits', () => {
    expect(order(planRoute(rules, request(), usage({ 'a2/3600': { amountMinor: 9000 } })))).to.include(
      '0:a2',
    );
    expect(order(planRoute(rules, request(), usage({ 'a2/3600': { amountMinor: 9001 } })))).not.to.include(
      '0:a2',
    );
  });

  it('applies every window of a SUB MID', () => {
    expect(order(planRoute(rules, request(), usage({ 'b2/86400': { amountMinor: 4500 } })))).not.to.include(
      '1:b2',
    );
    expect(order(planRoute(rules, request(), usage({ 'b2/60': { count: 1 } })))).not.to.include('1:b2');
    // Rule 'eur' for 6000: a1 has no count left, b2 cannot take 6000 a day; a2 and b1 can.
    const busy = usage({ 'a1/60': { count: 3 } });
    expect(order(planRoute(rules, request({ amountMinor: 6000 }), busy))).to.deep.equal(['0:a2', '1:b1']);
  });

  it('answers no_active_candidate with the reasons when the matched rule has nothing usable', () => {
    const none = parseRoutingRules({
      version: 'x',
      providers: { p: { apiBaseUrl: 'https://p.example' } },
      subMids: [
        { id: 's1', providerId: 'p', active: false, velocity: [] },
        { id: 's2', providerId: 'p', active: true, velocity: [{ windowSeconds: 60, maxCount: 1 }] },
      ],
      rules: [{ id: 'only', match: {}, groups: [{ subMids: ['s1', 's2'], fallback: 'stop' }] }],
    });
    expect(planRoute(none, request(), usage({ 's2/60': { count: 1 } }))).to.deep.equal({
      ok: false,
      rulesVersion: 'x',
      reason: 'no_active_candidate',
      detail:
        'rule "only" matched 1000 EUR card from DE for merchant m_1 but none of its SUB MIDs is usable: s1 (inactive), s2 (velocity_limit)',
      ruleId: 'only',
      skipped: [
        { subMidId: 's1', group: 0, reason: 'inactive' },
        { subMidId: 's2', group: 0, reason: 'velocity_limit' },
      ],
    });
  });

  it('asks usage only for the windows the rules configure', () => {
    const asked: string[] = [];
    planRoute(rules, request(), (subMidId, windowSeconds) => {
      asked.push(`${subMidId}/${windowSeconds}`);
      return { count: 0, amountMinor: 0 };
    });
    const configured = velocityWindows(rules).map((w) => `${w.subMidId}/${w.windowSeconds}`);
    expect(asked).to.have.length.greaterThan(0);
    for (const pair of asked) expect(configured).to.include(pair);
    expect(configured).to.deep.equal(['a1/60', 'a2/3600', 'b2/60', 'b2/86400']);
  });
});

describe('nextCandidate', () => {
  const fail = (
    subMidId: string,
    failureKind: FailedAttempt['failureKind'] = 'provider_error',
  ): FailedAttempt => ({
    subMidId,
    failureKind,
  });
  const pick = (p: RoutePlan, failed: FailedAttempt[], lookup = usage()) => {
    const next = nextCandidate(p, failed, lookup);
    return next.ok ? next.candidate.subMidId : next.reason;
  };
  const eur = plan(planRoute(rules, request({ amountMinor: 50 }), usage())); // rule 'eur'
  const small = plan(planRoute(rules, request(), usage())); // rule 'de-small-card', group 0 stops

  it('starts with the first candidate and moves along the plan as attempts fail', () => {
    expect(eur.ruleId).to.equal('eur');
    expect(pick(eur, [])).to.equal('a1');
    expect(pick(eur, [fail('a1')])).to.equal('a2');
    expect(pick(eur, [fail('a1'), fail('a2', 'timeout')]), 'next_group').to.equal('b1');
    expect(pick(eur, [fail('a1'), fail('a2'), fail('b1', 'network')])).to.equal('b2');
  });

  it('ends with candidates_exhausted when everything failed', () => {
    const all = ['a1', 'a2', 'b1', 'b2'].map((id) => fail(id));
    expect(nextCandidate(eur, all, usage())).to.deep.equal({
      ok: false,
      reason: 'candidates_exhausted',
      detail: '4 of 4 candidates failed',
    });
  });

  it('keeps trying inside a "stop" group, but does not cascade after a processing failure there', () => {
    expect(pick(small, [fail('a1', 'timeout')])).to.equal('a2');
    expect(
      nextCandidate(small, [fail('a1', 'timeout'), fail('a2', 'provider_error')], usage()),
    ).to.deep.equal({
      ok: false,
      reason: 'group_stopped',
      detail: 'group 0 failed (a1: timeout) and its fallback is "stop"',
    });
  });

  it('moves past a "stop" group whose SUB MIDs only refused for availability', () => {
    expect(pick(small, [fail('a1', 'velocity_limited'), fail('a2', 'inactive_config')])).to.equal('b1');
    expect(pick(small, [fail('a1', 'inactive_config'), fail('a2', 'network')])).to.equal('group_stopped');
  });

  it('moves past a "stop" group that is over its velocity limits before any attempt', () => {
    expect(pick(small, [], usage({ 'a1/60': { count: 3 }, 'a2/3600': { amountMinor: 10_000 } }))).to.equal(
      'b1',
    );
  });

  it('stops when the rest of a failed "stop" group is over its limits now', () => {
    expect(pick(small, [fail('a1', 'timeout')], usage({ 'a2/3600': { amountMinor: 9500 } }))).to.equal(
      'group_stopped',
    );
  });

  it('re-checks velocity at every attempt', () => {
    expect(pick(eur, [fail('a1')], usage({ 'a2/3600': { amountMinor: 9951 } }))).to.equal('b1');
    expect(pick(eur, [fail('a1')], usage({ 'a2/3600': { amountMinor: 9950 } }))).to.equal('a2');
    const busy = usage({ 'b2/60': { count: 1 } });
    expect(nextCandidate(eur, [fail('a1'), fail('a2'), fail('b1')], busy)).to.deep.equal({
      ok: false,
      reason: 'candidates_exhausted',
      detail: '3 of 4 candidates failed; over their velocity limits now: b2',
    });
  });

  it('ends routing on a decline', () => {
    expect(nextCandidate(eur, [fail('a1', 'declined')], usage())).to.deep.equal({
      ok: false,
      reason: 'declined',
      detail: 'SUB MID a1 declined the payment; a decline is final and is not routed elsewhere',
    });
  });

  it('works from a plan stored as JSON', () => {
    const stored = JSON.parse(
      JSON.stringify({ candidates: eur.candidates, amountMinor: eur.amountMinor }),
    ) as RoutePlan;
    expect(pick(stored, [fail('a1'), fail('a2')], usage({ 'b1/60': { count: 99 } }))).to.equal('b1');
    expect(pick(stored, [fail('a1'), fail('a2'), fail('b1')], usage({ 'b2/60': { count: 1 } }))).to.equal(
      'candidates_exhausted',
    );
  });
});
