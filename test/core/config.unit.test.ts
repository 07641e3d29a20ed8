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
});
