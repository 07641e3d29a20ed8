import { expect } from 'chai';
import { SERVICES, type ServiceName } from '../../core/config/index.js';
import {
  composeFile,
  composePlatformServices,
  dockerfile,
  expectDeployedConfig,
  expectEntryPoint,
  expectMigrationConfig,
  isOpsRoute,
} from './deployed-config.js';

/** No docker engine runs here: check docker-compose.yml and the Dockerfile against the code instead. */
describe('docker-compose.yml and Dockerfile', () => {
  const compose = composeFile();
  const platformServices = composePlatformServices();

  it('runs every platform service but the dev-only simulator, and a migration step', () => {
    expect(platformServices.map(([name]) => name).sort()).to.deep.equal(
      [...SERVICES.filter((s) => s !== 'simulator'), 'migrate'].sort(),
    );
  });

  it('sets only variables loadConfig knows, with values it accepts', () => {
    for (const [name, service] of platformServices) {
      const env = service.environment ?? {};
      if (name === 'migrate') expectMigrationConfig('compose migrate', env);
      else expectDeployedConfig(`compose ${name}`, env, { broker: 'kafka', services: [name as ServiceName] });
    }
  });

  it('probes real endpoints on the port the services listen on, and runs real entry points', () => {
    const { cmd, user, healthcheckPath } = dockerfile();
    expectEntryPoint('Dockerfile CMD', cmd);
    expect(user).to.equal('node');
    expect(isOpsRoute(healthcheckPath), `Dockerfile HEALTHCHECK ${healthcheckPath}`).to.equal(true);
    for (const [name, service] of platformServices) {
      if (name === 'migrate') {
        expect(expectEntryPoint('compose migrate', service.command!)).to.equal('bin/migrate.ts');
        continue;
      }
      const probe = /127\.0\.0\.1:(\d+)(\/\w+)/.exec(service.healthcheck!.test.join(' '))!;
      expect(probe[1], name).to.equal(service.environment!.HTTP_PORT);
      expect(probe[2], name).to.equal('/readyz');
      expect(isOpsRoute(probe[2]!), probe[2]).to.equal(true);
    }
    expect(compose.services.gateway!.ports).to.deep.equal([
      `${compose.services.gateway!.environment!.HTTP_PORT}:8080`,
    ]);
  });
});
