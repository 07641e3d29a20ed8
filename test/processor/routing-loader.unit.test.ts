import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../core/config/index.js';
import { ConfigError } from '../../core/errors.js';
import { loadRoutingRules, planRoute, type AccountOptions } from '../../processor/routing/index.js';
import { baseConfig, withField } from './routing-fixtures.js';

const dev: AccountOptions = { env: {}, simulatorBaseUrl: 'http://127.0.0.1:8090', allowDevCredentials: true };

async function failure(run: Promise<unknown>): Promise<Error> {
  try {
    await run;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the load to fail');
}

describe('routing rules loader', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'routing-rules-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('the shipped default file', () => {
    const { routing } = loadConfig({});

    it('is what ROUTING_RULES_FILE points to by default, and validates', async () => {
      expect(routing.rulesFile).to.equal('config/routing-rules.json');
      const { rules, accounts } = await loadRoutingRules(routing.rulesFile, dev);
      expect([...rules.providers.keys()].sort()).to.deep.equal(['adyen-sim', 'stripe-sim']);
      const subMids = [...rules.subMids.values()];
      expect(
        subMids.some((s) => !s.active),
        'an inactive SUB MID',
      ).to.equal(true);
      expect(subMids.some((s) => s.velocity.some((l) => (l.maxCount ?? Infinity) <= 5))).to.equal(true);
      expect([...accounts.keys()].sort()).to.deep.equal(
        subMids
          .filter((s) => s.active)
          .map((s) => s.id)
          .sort(),
      );
      expect(accounts.get('adyen-eu-1')!.apiBaseUrl).to.equal('http://127.0.0.1:8090/adyen-sim');
    });

    it('routes EUR, USD and GBP card payments of the demo', async () => {
      const { rules } = await loadRoutingRules(routing.rulesFile, dev);
      const idle = () => ({ count: 0, amountMinor: 0 });
      for (const currency of ['EUR', 'USD', 'GBP']) {
        const request = {
          merchantId: 'm_demo',
          amountMinor: 1999,
          currency,
          country: 'DE',
          paymentMethod: 'card',
        };
        expect(planRoute(rules, request, idle).ok, currency).to.equal(true);
      }
    });

    it('needs real provider credentials in production', async () => {
      const production = loadConfig({ NODE_ENV: 'production', SERVICES: 'processor' }).routing;
      expect(production.allowDevCredentials).to.equal(false);
      const error = await failure(
        loadRoutingRules(production.rulesFile, { ...dev, allowDevCredentials: false }),
      );
      expect(error).to.be.instanceOf(ConfigError);
      expect(error.message).to.contain('environment variable PROVIDER_ADYENSIM_API_KEY is not set');
      expect(error.message).to.contain('environment variable PROVIDER_STRIPESIM_API_KEY is not set');
      const env = { PROVIDER_ADYENSIM_API_KEY: 'a-key', PROVIDER_STRIPESIM_API_KEY: 's-key' };
      const { accounts } = await loadRoutingRules(production.rulesFile, {
        ...dev,
        env,
        allowDevCredentials: false,
      });
      expect(accounts.get('stripe-eu-1')!.credentials.apiKey).to.equal('s-key');
    });
  });

  it('reads the file ROUTING_RULES_FILE names', async () => {
    const file = join(dir, 'custom.json');
    await writeFile(file, JSON.stringify(baseConfig()));
    expect(loadConfig({ ROUTING_RULES_FILE: file }).routing.rulesFile).to.equal(file);
    expect((await loadRoutingRules(file, dev)).rules.version).to.equal('v1');
  });

  it('names the variable when the file cannot be read', async () => {
    const file = join(dir, 'missing.json');
    const error = await failure(loadRoutingRules(file, dev));
    expect(error).to.be.instanceOf(ConfigError);
    expect(error.message).to.equal(`ROUTING_RULES_FILE "${file}" cannot be read (ENOENT)`);
  });

  it('accepts only JSON files', async () => {
    const error = await failure(loadRoutingRules(join(dir, 'rules.yaml'), dev));
    expect(error.message).to.equal(
      `ROUTING_RULES_FILE must name a .json file, got "${join(dir, 'rules.yaml')}"`,
    );
  });

  it('names the file when it is not JSON', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, '{"version": "v1",');
    const error = await failure(loadRoutingRules(file, dev));
    expect(error).to.be.instanceOf(ConfigError);
    expect(error.message).to.match(new RegExp(`^${escape(file)}: 1 problem to fix:\\n  - not valid JSON: `));
  });

  it('names the file and the field when the content is invalid', async () => {
    const file = join(dir, 'invalid.json');
    await writeFile(
      file,
      JSON.stringify(withField(baseConfig(), ['rules', 1, 'groups', 0, 'subMids'], ['zz'])),
    );
    const error = await failure(loadRoutingRules(file, dev));
    expect(error.message).to.equal(
      `${file}: 1 problem to fix:\n  - rules[1].groups[0].subMids[0]: unknown SUB MID "zz"`,
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
