import { expect } from 'chai';
import { ConfigError } from '../../core/errors.js';
import type { RoutingRulesError } from '../../processor/routing/index.js';
import { parseRoutingRules, resolveSubMidAccounts } from '../../processor/routing/index.js';
import { baseConfig, issuesOf, withField } from './routing-fixtures.js';

const problems = (raw: unknown) => issuesOf(() => parseRoutingRules(raw));

describe('routing rules validation', () => {
  it('reads a valid configuration into rules, SUB MIDs and providers', () => {
    const rules = parseRoutingRules(baseConfig());
    expect(rules.version).to.equal('v1');
    expect(rules.rules.map((r) => r.id)).to.deep.equal(['eur', 'rest']);
    expect(rules.subMids.get('b')).to.deep.include({
      providerId: 'p2',
      active: true,
      currencies: ['EUR'],
      velocity: [{ windowSeconds: 60, maxCount: 2 }],
    });
    expect(rules.subMids.get('a')!.currencies).to.equal(null);
    expect(rules.providers.get('p2')!.credentials).to.deep.equal({});
  });

  // Each kind of mistake is reported alone, with the path of the field to fix.
  const cases: Array<[string, Array<string | number>, unknown, string]> = [
    ['a missing version', ['version'], undefined, 'version: is required'],
    ['a version that is not a string', ['version'], 3, 'version: must be a non-empty string, got number 3'],
    [
      'an unknown top-level key',
      ['rule'],
      [],
      'rule: unknown key (allowed here: version, providers, subMids, rules, description)',
    ],
    [
      'an unknown key inside a match',
      ['rules', 0, 'match', 'currency'],
      ['EUR'],
      'rules[0].match.currency: unknown key (allowed here: merchantIds, currencies, amountMinor, countries, paymentMethods)',
    ],
    [
      'an unknown key in a velocity limit',
      ['subMids', 1, 'velocity', 0, 'maxAmount'],
      5,
      'subMids[1].velocity[0].maxAmount: unknown key (allowed here: windowSeconds, maxCount, maxAmountMinor)',
    ],
    [
      'a group naming an unknown SUB MID',
      ['rules', 0, 'groups', 0, 'subMids'],
      ['a', 'x'],
      'rules[0].groups[0].subMids[1]: unknown SUB MID "x"',
    ],
    [
      'a SUB MID listed in two groups of one rule',
      ['rules', 0, 'groups', 1, 'subMids'],
      ['b', 'a'],
      'rules[0].groups[1].subMids[1]: SUB MID "a" is already in rules[0].groups[0]',
    ],
    [
      'a SUB MID listed twice in one group',
      ['rules', 1, 'groups', 0, 'subMids'],
      ['a', 'a'],
      'rules[1].groups[0].subMids[1]: "a" is listed twice',
    ],
    [
      'a SUB MID of an unknown provider',
      ['subMids', 0, 'providerId'],
      'p3',
      'subMids[0].providerId: unknown provider "p3" (defined: p1, p2)',
    ],
    [
      'two SUB MIDs with one id',
      ['subMids', 3],
      { id: 'a', providerId: 'p2', active: true, velocity: [] },
      'subMids[3].id: duplicate SUB MID id "a" (also subMids[0])',
    ],
    [
      'two rules with one id',
      ['rules', 1, 'id'],
      'eur',
      'rules[1].id: duplicate rule id "eur" (also rules[0])',
    ],
    [
      'a currency that is not ISO 4217',
      ['rules', 0, 'match', 'currencies'],
      ['EUR', 'eur'],
      'rules[0].match.currencies[1]: "eur" is not an upper-case ISO 4217 currency code such as EUR',
    ],
    [
      'a country that is not ISO 3166-1',
      ['rules', 0, 'match', 'countries'],
      ['DE', 'ZZ'],
      'rules[0].match.countries[1]: "ZZ" is not an upper-case ISO 3166-1 alpha-2 country code such as DE',
    ],
    [
      'a payment method in the wrong case',
      ['rules', 0, 'match', 'paymentMethods'],
      ['Card'],
      'rules[0].match.paymentMethods[0]: "Card" is not a lower-case payment method such as card',
    ],
    [
      'an empty list in a match',
      ['rules', 0, 'match', 'merchantIds'],
      [],
      'rules[0].match.merchantIds: must not be empty (leave the field out to match any value)',
    ],
    [
      'an amount range upside down',
      ['rules', 0, 'match', 'amountMinor'],
      { min: 500, max: 100 },
      'rules[0].match.amountMinor: min 500 is greater than max 100',
    ],
    [
      'an amount range without bounds',
      ['rules', 0, 'match', 'amountMinor'],
      {},
      'rules[0].match.amountMinor: set min, max or both (inclusive), or leave amountMinor out',
    ],
    [
      'a fractional amount bound',
      ['rules', 0, 'match', 'amountMinor'],
      { max: 10.5 },
      'rules[0].match.amountMinor.max: must be an integer, got number 10.5',
    ],
    [
      'a negative amount bound',
      ['rules', 0, 'match', 'amountMinor'],
      { min: -1 },
      'rules[0].match.amountMinor.min: must be >= 0, got -1',
    ],
    ['a rule without groups', ['rules', 0, 'groups'], [], 'rules[0].groups: must not be empty'],
    [
      'an unknown group fallback',
      ['rules', 0, 'groups', 0, 'fallback'],
      'retry',
      'rules[0].groups[0].fallback: must be one of "next_group", "stop", got the string "retry"',
    ],
    [
      'a group without fallback',
      ['rules', 0, 'groups', 0, 'fallback'],
      undefined,
      'rules[0].groups[0].fallback: is required',
    ],
    ['no rules at all', ['rules'], [], 'rules: must not be empty'],
    [
      'a velocity limit without a maximum',
      ['subMids', 1, 'velocity', 0],
      { windowSeconds: 60 },
      'subMids[1].velocity[0]: needs maxCount, maxAmountMinor or both',
    ],
    [
      'a zero velocity window',
      ['subMids', 1, 'velocity', 0, 'windowSeconds'],
      0,
      'subMids[1].velocity[0].windowSeconds: must be >= 1, got 0',
    ],
    [
      'a velocity window longer than a month',
      ['subMids', 1, 'velocity', 0, 'windowSeconds'],
      40 * 86400,
      'subMids[1].velocity[0].windowSeconds: must be <= 2678400 (31 days)',
    ],
    [
      'the same velocity window twice',
      ['subMids', 1, 'velocity'],
      [
        { windowSeconds: 60, maxCount: 2 },
        { windowSeconds: 60, maxAmountMinor: 100 },
      ],
      'subMids[1].velocity[1].windowSeconds: window 60 is listed twice',
    ],
    [
      'a zero count limit',
      ['subMids', 1, 'velocity', 0, 'maxCount'],
      0,
      'subMids[1].velocity[0].maxCount: must be >= 1, got 0',
    ],
    [
      'an active flag that is not a boolean',
      ['subMids', 0, 'active'],
      'yes',
      'subMids[0].active: must be true or false, got the string "yes"',
    ],
    [
      'a secret written into the file',
      ['providers', 'p1', 'credentials', 'apiKey'],
      'sk_live_123',
      'providers["p1"].credentials.apiKey: must be {"env": "VARIABLE"}: secrets come from the environment, never this file',
    ],
    [
      'a secret hidden in the account identifiers',
      ['subMids', 0, 'account', 'apiSecret'],
      'shh',
      'subMids[0].account.apiSecret: looks like a secret; reference an environment variable in credentials instead',
    ],
    [
      'a credential variable that is not an environment name',
      ['providers', 'p1', 'credentials', 'apiKey', 'env'],
      'p1-key',
      'providers["p1"].credentials.apiKey.env: "p1-key" is not an environment variable name such as PSP_API_KEY',
    ],
    [
      'an unknown placeholder in a provider URL',
      ['providers', 'p1', 'apiBaseUrl'],
      '{host}/api',
      'providers["p1"].apiBaseUrl: the only placeholder allowed is {simulatorBaseUrl}, at the start',
    ],
    [
      'a provider URL that glues a path to the placeholder',
      ['providers', 'p1', 'apiBaseUrl'],
      '{simulatorBaseUrl}sim',
      'providers["p1"].apiBaseUrl: a path must follow {simulatorBaseUrl} with a "/"',
    ],
    [
      'a provider URL that is not http',
      ['providers', 'p2', 'apiBaseUrl'],
      'ftp://psp.example',
      'providers["p2"].apiBaseUrl: must be an http or https URL, got ftp:',
    ],
    [
      'a provider URL with credentials',
      ['providers', 'p2', 'apiBaseUrl'],
      'https://user:pw@psp.example',
      'providers["p2"].apiBaseUrl: must not contain credentials; reference them in credentials instead',
    ],
    [
      'a provider id that is not an id',
      ['providers', 'bad id'],
      { apiBaseUrl: 'https://x.example' },
      'providers["bad id"]: "bad id" is not an id (letters, digits, _ . : -, at most 64 characters)',
    ],
  ];
  for (const [name, path, value, expected] of cases) {
    it(`refuses ${name}`, () => {
      expect(problems(withField(baseConfig(), path, value as never))).to.deep.equal([expected]);
    });
  }

  it('refuses an empty provider list (and the SUB MIDs that use it)', () => {
    expect(problems(withField(baseConfig(), ['providers'], {}))).to.deep.equal([
      'providers: must define at least one provider',
      'subMids[0].providerId: unknown provider "p1" (defined: none)',
      'subMids[1].providerId: unknown provider "p2" (defined: none)',
      'subMids[2].providerId: unknown provider "p2" (defined: none)',
    ]);
  });

  it('refuses a configuration that is not an object at all', () => {
    expect(problems([])).to.deep.equal(['(root): must be an object, got an array']);
  });

  it('refuses a catch-all rule that would hide the rules after it', () => {
    const config = withField(
      baseConfig(),
      ['rules'],
      [
        { id: 'all', match: {}, groups: [{ subMids: ['a'], fallback: 'stop' }] },
        { id: 'eur', match: { currencies: ['EUR'] }, groups: [{ subMids: ['b'], fallback: 'stop' }] },
      ],
    );
    expect(problems(config)).to.deep.equal([
      'rules[0].match: matches every request, so the rules after it ("eur") can never match; move it last',
    ]);
  });

  it('refuses a SUB MID that accepts none of its rule’s currencies', () => {
    const config = withField(baseConfig(), ['rules', 0, 'match', 'currencies'], ['GBP']);
    expect(problems(config)).to.deep.equal([
      'rules[0].groups[1].subMids[0]: SUB MID "b" accepts none of the rule\'s currencies (GBP)',
    ]);
  });

  it('reports every problem of a file at once, and a broken SUB MID only where it is defined', () => {
    let config = withField(baseConfig(), ['version'], undefined);
    config = withField(config, ['subMids', 1, 'active'], 1);
    config = withField(config, ['rules', 1, 'groups', 0, 'fallback'], 'later');
    const issues = problems(config);
    expect(issues).to.have.length(3);
    expect(issues[0]).to.equal('version: is required');
    expect(issues.join('\n')).not.to.contain('unknown SUB MID');
  });

  it('throws a ConfigError whose message names the source and lists the problems', () => {
    const error = (() => {
      try {
        parseRoutingRules(withField(baseConfig(), ['version'], undefined), 'rules.json');
      } catch (thrown) {
        return thrown as RoutingRulesError;
      }
    })();
    expect(error).to.be.instanceOf(ConfigError);
    expect(error!.message).to.equal('rules.json: 1 problem to fix:\n  - version: is required');
  });
});

describe('SUB MID accounts', () => {
  const rules = parseRoutingRules(baseConfig());
  const options = { env: {}, simulatorBaseUrl: 'http://127.0.0.1:8090/', allowDevCredentials: true };

  it('fills in the public base URL and merges account identifiers with credentials from the environment', () => {
    const accounts = resolveSubMidAccounts(rules, { ...options, env: { P1_API_KEY: ' real-key ' } });
    expect(accounts.get('a')).to.deep.equal({
      subMidId: 'a',
      providerId: 'p1',
      apiBaseUrl: 'http://127.0.0.1:8090/p1',
      credentials: { merchantAccount: 'MA', apiKey: 'real-key' },
    });
    expect(accounts.get('b')).to.deep.equal({
      subMidId: 'b',
      providerId: 'p2',
      apiBaseUrl: 'https://psp.example/api',
      credentials: {},
    });
  });

  it('uses development defaults only when allowed', () => {
    expect(resolveSubMidAccounts(rules, options).get('a')!.credentials.apiKey).to.equal('dev-p1');
    expect(
      issuesOf(() => resolveSubMidAccounts(rules, { ...options, allowDevCredentials: false })),
    ).to.deep.equal([
      'providers["p1"].credentials.apiKey: environment variable P1_API_KEY is not set (development defaults are off in production)',
    ]);
  });

  it('needs every referenced variable without a default, reported once per reference', () => {
    const noDefault = parseRoutingRules(
      withField(baseConfig(), ['providers', 'p1', 'credentials', 'apiKey'], { env: 'P1_API_KEY' }),
    );
    const more = withField(baseConfig(), ['subMids', 3], {
      id: 'c',
      providerId: 'p1',
      active: true,
      velocity: [],
      credentials: { apiKey: { env: 'C_API_KEY' } },
    });
    expect(issuesOf(() => resolveSubMidAccounts(noDefault, options))).to.deep.equal([
      'providers["p1"].credentials.apiKey: environment variable P1_API_KEY is not set',
    ]);
    // A SUB MID's own credential replaces the provider's: only its variable is needed for it.
    const accounts = resolveSubMidAccounts(parseRoutingRules(more), {
      ...options,
      env: { C_API_KEY: 'c-key' },
    });
    expect(accounts.get('c')!.credentials).to.deep.equal({ apiKey: 'c-key' });
  });

  it('needs a simulator only for providers whose URL points at it', () => {
    expect(
      issuesOf(() => resolveSubMidAccounts(rules, { ...options, simulatorBaseUrl: null })),
    ).to.deep.equal([
      'providers["p1"].apiBaseUrl: uses {simulatorBaseUrl} but this process has no provider simulator',
    ]);
    const real = parseRoutingRules(withField(baseConfig(), ['subMids', 0, 'providerId'], 'p2'));
    const accounts = resolveSubMidAccounts(real, { ...options, simulatorBaseUrl: null });
    expect(accounts.get('a')!.apiBaseUrl).to.equal('https://psp.example/api');
  });

  it('refuses a deployment template placeholder as a credential', () => {
    const env = { P1_API_KEY: 'REPLACE_ME' };
    expect(issuesOf(() => resolveSubMidAccounts(rules, { ...options, env }))).to.deep.equal([
      'providers["p1"].credentials.apiKey: P1_API_KEY still holds the template placeholder REPLACE_ME',
    ]);
  });

  it('gives inactive SUB MIDs no account, so their credentials are not needed', () => {
    const accounts = resolveSubMidAccounts(rules, options);
    expect([...accounts.keys()]).to.deep.equal(['a', 'b']);
  });

  it('refuses an account identifier that has the name of a credential', () => {
    const clientId = { env: 'P1_CLIENT_ID', devDefault: 'cid' };
    let config = withField(baseConfig(), ['providers', 'p1', 'credentials', 'clientId'], clientId);
    config = withField(config, ['subMids', 0, 'account', 'clientId'], 'x');
    expect(issuesOf(() => resolveSubMidAccounts(parseRoutingRules(config), options))).to.deep.equal([
      'subMids[0].account.clientId: is also a credential name in providers["p1"].credentials',
    ]);
  });
});
