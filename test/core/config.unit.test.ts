import { expect } from 'chai';
import { loadConfig, CONFIG_VARIABLES } from '../../core/config/index.js';
import { ConfigError } from '../../core/errors.js';

describe('loadConfig', () => {
  it('runs everything on embedded defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config.database).to.deep.equal({ driver: 'pglite', dataDir: '.data/pglite' });
    expect(config.broker.kind).to.equal('embedded');
    expect(config.services).to.include.members([
      'gateway',
      'processor',
      'webhook-dispatcher',
      'relay',
      'simulator',
    ]);
    expect(config.http.publicBaseUrl).to.equal('http://127.0.0.1:8080');
  });

  it('selects PostgreSQL and Kafka from their variables', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u@db:5432/p',
      BROKER: 'kafka',
      KAFKA_BROKERS: 'k1:9092,k2:9092',
      SERVICES: 'gateway',
    });
    expect(config.database).to.deep.equal({ driver: 'postgres', url: 'postgres://u@db:5432/p', poolMax: 10 });
    expect(config.broker).to.include({ kind: 'kafka', partitions: 8 });
    expect(config.services).to.deep.equal(['gateway']);
  });

  const failures: Array<[Record<string, string>, RegExp]> = [
    [{ BROKER: 'rabbit' }, /^BROKER must be one of embedded, kafka, pubsub/],
    [{ BROKER: 'kafka' }, /^KAFKA_BROKERS must be set/],
    [{ BROKER: 'kafka', KAFKA_BROKERS: 'no-port' }, /^KAFKA_BROKERS must be host:port/],
    [{ BROKER: 'pubsub' }, /^PUBSUB_PROJECT_ID must be set/],
    [{ HTTP_PORT: 'eighty' }, /^HTTP_PORT must be an integer/],
    [{ HTTP_PORT: '70000' }, /^HTTP_PORT must be <= 65535/],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must use postgres:/],
    [{ SERVICES: 'gateway,billing' }, /^SERVICES contains unknown service "billing"/],
    [{ BROKER_DELAY_TIERS_MS: '1000,soon' }, /^BROKER_DELAY_TIERS_MS must be a comma-separated list/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    [
      { PROVIDER_STRIPESIM_WEBHOOK_SECRET: 'REPLACE_ME' },
      /^PROVIDER_STRIPESIM_WEBHOOK_SECRET still holds the template placeholder/,
    ],
  ];
  for (const [env, message] of failures) {
    it(`fails fast naming the variable: ${JSON.stringify(env)}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }

  it('documents every variable it reads', () => {
    const names = CONFIG_VARIABLES.map((v) => v.name);
    for (const name of [
      'SERVICES',
      'DATABASE_URL',
      'BROKER',
      'KAFKA_BROKERS',
      'PUBSUB_PROJECT_ID',
      'PUBSUB_EMULATOR_HOST',
      'HTTP_PORT',
    ]) {
      expect(names).to.include(name);
    }
  });

  it('reads exactly the variables CONFIG_VARIABLES lists (the README and the manifests rely on it)', () => {
    const read = new Set<string>();
    const recording = (env: Record<string, string>) =>
      new Proxy(env, {
        get: (target, name) => {
          if (typeof name === 'string') read.add(name);
          return target[name as string];
        },
      });
    // One environment per branch, so every variable the parser can read is read once.
    loadConfig(recording({}));
    loadConfig(recording({ DATABASE_URL: 'postgres://u@db/p', BROKER: 'kafka', KAFKA_BROKERS: 'k:9092' }));
    loadConfig(recording({ BROKER: 'pubsub', PUBSUB_PROJECT_ID: 'p' }));
    expect([...read].sort()).to.deep.equal(CONFIG_VARIABLES.map((v) => v.name).sort());
  });
});

describe('demo mode', () => {
  it('is on with the embedded database only, and only then allows loopback http:// URLs by default', () => {
    const embedded = loadConfig({});
    expect(embedded.demo).to.include({ enabled: true, webhookPort: 8082 });
    expect(embedded.webhooks).to.deep.include({ allowHttp: true, allowAddresses: ['loopback'] });
    expect(embedded.merchantApi.allowHttpLoopbackUrls).to.equal(true);
    const production = loadConfig({ DATABASE_URL: 'postgres://db/payments' });
    expect(production.demo.enabled).to.equal(false);
    expect(production.webhooks).to.deep.include({ allowHttp: false, allowAddresses: [] });
    expect(production.merchantApi.allowHttpLoopbackUrls).to.equal(false);
    expect(loadConfig({ DEMO: 'off' }).demo.enabled).to.equal(false);
    expect(loadConfig({ DEMO: 'on', DATABASE_URL: 'postgres://db/payments' }).demo.enabled).to.equal(true);
    expect(loadConfig({ WEBHOOK_ALLOW_HTTP: 'false' }).webhooks.allowHttp).to.equal(false);
  });
});

describe('webhook overdue sweep', () => {
  it('sweeps every minute for attempts 15 minutes overdue by default, and can be turned off', () => {
    expect(loadConfig({}).webhooks.overdueSweep).to.deep.equal({ intervalMs: 60_000, graceMs: 900_000 });
    expect(loadConfig({ WEBHOOK_SWEEP_INTERVAL_MS: '0' }).webhooks.overdueSweep.intervalMs).to.equal(0);
  });

  it('refuses a grace an attempt still in flight could outlast', () => {
    expect(() => loadConfig({ WEBHOOK_SWEEP_GRACE_MS: '1000' })).to.throw(/WEBHOOK_SWEEP_GRACE_MS/);
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '60000', WEBHOOK_SWEEP_GRACE_MS: '90000' })).to.throw(
      /at least twice WEBHOOK_TIMEOUT_MS/,
    );
  });
});
