/**
 * The simulator's pure decisions: the magic amount table, which scenario a request gets, how a
 * callback script becomes deliveries (duplicates, out of order, batches), scenario validation, and the
 * Stripe form parser's limits.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  defaultBehaviour,
  findScenario,
  MAGIC_AMOUNTS,
  missingFields,
  step,
} from '../../provider-simulator/behaviour.js';
import { planDeliveries } from '../../provider-simulator/callbacks/plan.js';
import type { PaymentInput, Scenario } from '../../provider-simulator/model.js';
import { parseScenarioInput } from '../../provider-simulator/scenario-input.js';
import { FormError, parseStripeForm } from '../../provider-simulator/stripe-sim/form.js';

function input(overrides: Partial<PaymentInput> = {}): PaymentInput {
  return {
    provider: 'stripe-sim',
    account: 'acct_1',
    idempotencyKey: 'k1',
    reference: 'att_1',
    transactionId: 'tx_1',
    amountMinor: 1000,
    currency: 'EUR',
    paymentMethod: 'card',
    customer: {},
    returnUrl: 'https://shop.test/r',
    callbackUrl: null,
    metadata: {},
    ...overrides,
  };
}

describe('simulator magic amounts', () => {
  it('picks the behaviour from the last two digits of the minor amount', () => {
    const kind = (amount: number) => defaultBehaviour('adyen-sim', amount).kind;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => kind(1000 + n))).to.deep.equal([
      'decline',
      'server_error',
      'timeout',
      'requires_fields',
      'velocity',
      'inactive_account',
      'approved',
      'pending',
    ]);
    expect(kind(1000)).to.equal('redirect');
    expect(kind(1013)).to.equal('redirect');
    expect(kind(12_345_601)).to.equal('decline');
  });

  it('scripts duplicated, out-of-order and conflicting callbacks behind a redirect', () => {
    const steps = (amount: number) => {
      const behaviour = defaultBehaviour('stripe-sim', amount);
      if (behaviour.kind !== 'redirect') throw new Error(behaviour.kind);
      return planDeliveries(behaviour.callbacks, false).map((d) => `${d.items[0]!.outcome}#${d.copy}`);
    };
    expect(steps(1009)).to.deep.equal(['declined#1']);
    expect(steps(1010)).to.deep.equal(['approved#1', 'approved#2']);
    expect(steps(1011)).to.deep.equal(['approved#1', 'pending#1']);
    expect(steps(1012)).to.deep.equal(['approved#1', 'declined#1']);
  });

  it('is documented in the simulator README exactly as the code has it', () => {
    const suffixes = MAGIC_AMOUNTS.map((m) => m.suffix);
    expect(new Set(suffixes).size).to.equal(suffixes.length);
    const readme = readFileSync(new URL('../../provider-simulator/README.md', import.meta.url), 'utf8');
    const section = /<!-- magic-amounts:start -->\n([\s\S]*?)<!-- magic-amounts:end -->/.exec(readme)?.[1];
    const rows = MAGIC_AMOUNTS.map((m) => `| \`…${String(m.suffix).padStart(2, '0')}\` | ${m.summary} |`);
    expect(section?.trim()).to.equal(['| amount ends in | behaviour |', '| --- | --- |', ...rows].join('\n'));
  });

  it('auto-completes redirects when configured', () => {
    expect(defaultBehaviour('stripe-sim', 1000, { autoCompleteAfterMs: 50 })).to.deep.include({
      kind: 'redirect',
      autoCompleteAfterMs: 50,
    });
  });

  it('counts blank fields as missing', () => {
    const fields = [
      { name: 'email', type: 'email' as const, label: 'Email' },
      { name: 'phone', type: 'tel' as const, label: 'Phone' },
    ];
    expect(missingFields(fields, { email: 'a@b.test', phone: '  ' }).map((f) => f.name)).to.deep.equal([
      'phone',
    ]);
  });
});

describe('simulator scenario matching', () => {
  const scenario = (id: string, match: Scenario['match'], remaining: number | null = null): Scenario => ({
    id,
    match,
    behaviour: { kind: 'velocity' },
    remaining,
    createdAt: '',
  });

  it('takes the newest scenario whose every given field matches, skipping used-up ones', () => {
    const all = [
      scenario('old', { transactionId: 'tx_1' }),
      scenario('other-provider', { provider: 'adyen-sim' }),
      scenario('new', { amountMinor: 1000, account: 'acct_1' }),
      scenario('used-up', {}, 0),
    ];
    expect(findScenario(all, input())?.id).to.equal('new');
    expect(findScenario(all, input({ amountMinor: 5 }))?.id).to.equal('old');
    expect(findScenario(all, input({ amountMinor: 5, transactionId: 'tx_2' }))).to.equal(undefined);
  });
});

describe('simulator callback plan', () => {
  it('delivers in delay order; equal delays keep the logical order; copies follow each other', () => {
    const plan = planDeliveries(
      {
        steps: [
          step('pending', { deliverAfterMs: 100 }),
          step('approved', { copies: 2 }),
          step('declined', { deliverAfterMs: 100, code: 'fraud' }),
        ],
        batch: false,
      },
      true,
    );
    expect(
      plan.map((d) => [d.deliverAfterMs, d.copy, d.items.map((i) => `${i.index}:${i.outcome}`)]),
    ).to.deep.equal([
      [0, 1, ['1:approved']],
      [0, 2, ['1:approved']],
      [100, 1, ['0:pending']],
      [100, 1, ['2:declined']],
    ]);
    expect(plan[3]!.items[0]!.code).to.equal('fraud');
  });

  it('batches every step into one body when the provider can (Adyen), else sends one by one', () => {
    const script = { steps: [step('pending'), step('approved', { deliverAfterMs: 30 })], batch: true };
    expect(planDeliveries(script, true)).to.deep.equal([
      {
        deliverAfterMs: 0,
        copy: 1,
        items: [
          { index: 0, outcome: 'pending', code: null },
          { index: 1, outcome: 'approved', code: null },
        ],
      },
    ]);
    expect(planDeliveries(script, false)).to.have.length(2);
  });
});

describe('simulator scenario input', () => {
  it('fills defaults: redirect then approved, requires_fields with known field descriptions', () => {
    const parsed = parseScenarioInput({
      match: { provider: 'adyen-sim', transactionId: 'tx_1' },
      behaviour: { kind: 'requires_fields', fields: ['shopperEmail', { name: 'custom', label: 'Custom' }] },
      times: 2,
    });
    expect(parsed.ok).to.equal(true);
    if (!parsed.ok) return;
    expect(parsed.value.times).to.equal(2);
    expect(parsed.value.behaviour).to.deep.equal({
      kind: 'requires_fields',
      fields: [
        { name: 'shopperEmail', type: 'email', label: 'Email' },
        { name: 'custom', type: 'text', label: 'Custom' },
      ],
      then: { kind: 'redirect', callbacks: { steps: [step('approved')], batch: false } },
    });
  });

  it('names every invalid member by its JSON path', () => {
    const parsed = parseScenarioInput({
      match: { provider: 'paypal', amountMinor: -1, color: 'red' },
      behaviour: {
        kind: 'redirect',
        callbacks: [{ outcome: 'maybe' }, { outcome: 'approved', copies: 0 }],
        batchCallbacks: 'yes',
      },
      times: 0,
    });
    expect(parsed.ok).to.equal(false);
    if (parsed.ok) return;
    expect(parsed.errors.map((e) => e.path)).to.have.members([
      '$.match.color',
      '$.match.provider',
      '$.match.amountMinor',
      '$.behaviour.batchCallbacks',
      '$.behaviour.callbacks[0].outcome',
      '$.behaviour.callbacks[1].copies',
      '$.times',
    ]);
  });

  it('refuses unknown kinds, non-objects and runaway nesting', () => {
    expect(parseScenarioInput([]).ok).to.equal(false);
    expect(parseScenarioInput({ behaviour: { kind: 'explode' } }).ok).to.equal(false);
    let behaviour: Record<string, unknown> = { kind: 'velocity' };
    for (let i = 0; i < 6; i++) behaviour = { kind: 'timeout', then: behaviour };
    expect(parseScenarioInput({ behaviour }).ok).to.equal(false);
    expect(parseScenarioInput({ behaviour: { kind: 'server_error', status: 404 } }).ok).to.equal(false);
    expect(
      parseScenarioInput({ behaviour: { kind: 'requires_fields', fields: [{ name: 'x', pattern: '(' }] } })
        .ok,
    ).to.equal(false);
  });
});

describe('stripe-sim form parser', () => {
  it('reads bracket paths, lists and indexes', () => {
    expect(parseStripeForm('a=1&b[c]=2&b[d][e]=3&l[]=x&l[]=y&i[0]=p&i[1]=q')).to.deep.equal({
      a: '1',
      b: { c: '2', d: { e: '3' } },
      l: ['x', 'y'],
      i: ['p', 'q'],
    });
  });

  it('refuses prototype keys, malformed names, conflicts and excessive depth', () => {
    for (const body of [
      '__proto__[x]=1',
      'a[constructor]=1',
      'a]=1',
      'a=1&a[b]=2',
      `a${'[b]'.repeat(7)}=1`,
      '[a]=1',
    ]) {
      expect(() => parseStripeForm(body), body).to.throw(FormError);
    }
    expect(({} as Record<string, unknown>).x).to.equal(undefined);
  });
});
