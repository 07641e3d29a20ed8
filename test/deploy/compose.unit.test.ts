import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../core/config/index.js';

/** No docker engine runs here: check docker-compose.yml and the Dockerfile against the code instead. */
describe('docker-compose.yml and Dockerfile', () => {
  const root = new URL('../../', import.meta.url);
  const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8'), { merge: true }) as {
    services: Record<
      string,
      {
        environment?: Record<string, string>;
        command?: string[];
        healthcheck?: { test: string[] };
        ports?: string[];
        build?: unknown;
      }
    >;
  };
  const platformServices = Object.entries(compose.services).filter(([, s]) => s.build === '.');
  const known = new Set(CONFIG_VARIABLES.map((v) => v.name));

  it('runs every platform service, the relay and a migration step', () => {
    expect(platformServices.map(([name]) => name).sort()).to.deep.equal([
      'gateway',
      'migrate',
      'processor',
      'relay',
      'webhook-dispatcher',
    ]);
  });

  it('sets only variables loadConfig knows, with values it accepts', () => {
    for (const [name, service] of platformServices) {
      const env = service.environment ?? {};
      for (const variable of Object.keys(env))
        expect(known.has(variable), `${name}: ${variable}`).to.equal(true);
      const config = loadConfig(env);
      expect(config.broker.kind, name).to.equal('kafka');
      expect(config.database.driver, name).to.equal('postgres');
      if (name !== 'migrate') expect(config.services, name).to.deep.equal([name]);
    }
  });

  it('probes real endpoints on the port the services listen on, and runs real entry points', () => {
    const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
    const cmd = /^CMD \[(.*)\]$/m.exec(dockerfile)![1]!;
    for (const file of cmd.match(/bin\/[\w-]+\.ts/g)!)
      expect(existsSync(new URL(file, root)), file).to.equal(true);
    expect(dockerfile).to.contain('/healthz');
    expect(dockerfile).to.match(/^USER node$/m);
    for (const [name, service] of platformServices) {
      if (name === 'migrate') {
        expect(existsSync(new URL(service.command![3]!, root)), 'migration entry point').to.equal(true);
        continue;
      }
      expect(service.healthcheck!.test.join(' '), name).to.contain(
        `127.0.0.1:${service.environment!.HTTP_PORT}/readyz`,
      );
    }
    expect(compose.services.gateway!.ports).to.deep.equal([
      `${compose.services.gateway!.environment!.HTTP_PORT}:8080`,
    ]);
  });
});
