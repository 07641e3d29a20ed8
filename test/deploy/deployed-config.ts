/**
 * What every deployment description (docker-compose.yml, k8s/) must agree on with the code, shared by
 * their tests: the variables a container gets are ones loadConfig reads and accepts, it runs the
 * service it is named for, its command is a real entry point, its probes hit real ops routes, and it
 * runs the image the Dockerfile builds. No docker engine or cluster runs here: files are checked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import {
  CONFIG_VARIABLES,
  loadConfig,
  loadDatabaseConfig,
  type BrokerConfig,
  type Config,
  type DatabaseConfig,
  type Env,
  type ServiceName,
} from '../../core/config/index.js';
import { opsRoutes } from '../../core/http/ops-routes.js';

export const REPO_ROOT = new URL('../../', import.meta.url);

export function readRepoFile(path: string): string {
  return readFileSync(new URL(path, REPO_ROOT), 'utf8');
}

const KNOWN_VARIABLES = new Set(CONFIG_VARIABLES.map((v) => v.name));

/** Every name is a variable loadConfig reads (a typo or a stale variable would be silently ignored). */
export function expectKnownVariables(where: string, names: Iterable<string>): void {
  for (const name of names)
    expect(KNOWN_VARIABLES.has(name), `${where} sets ${name}, which loadConfig does not read`).to.equal(true);
}

/** What a container of the image sees: the Dockerfile's ENV (e.g. NODE_ENV=production), then `env`. */
export function imageEnv(env: Env): Env {
  return { ...dockerfile().env, ...env };
}

/**
 * The environment a deployment gives one process: only known variables, accepted by loadConfig on top
 * of the image's ENV, on PostgreSQL and the expected broker, running exactly `services` when given.
 */
export function expectDeployedConfig(
  where: string,
  env: Env,
  expected: { broker: BrokerConfig['kind']; services?: ServiceName[] },
): Config {
  expectKnownVariables(where, Object.keys(env));
  expectKnownVariables('Dockerfile ENV', Object.keys(dockerfile().env));
  const config = loadConfig(imageEnv(env));
  expect(config.database.driver, where).to.equal('postgres');
  expect(config.broker.kind, where).to.equal(expected.broker);
  if (expected.services) expect(config.services, where).to.deep.equal(expected.services);
  return config;
}

/** The migration step's environment: it reads only the database settings (bin/migrate.ts), on PostgreSQL. */
export function expectMigrationConfig(where: string, env: Env): DatabaseConfig {
  expectKnownVariables(where, Object.keys(env));
  const database = loadDatabaseConfig(imageEnv(env));
  expect(database.driver, where).to.equal('postgres');
  return database;
}

/** The `bin/*.ts` file a command runs (`node --import tsx bin/x.ts`); it must exist. */
export function expectEntryPoint(where: string, command: readonly string[]): string {
  const file = command.find((arg) => /^bin\/[\w-]+\.ts$/.test(arg));
  expect(file, `${where} runs a bin/*.ts entry point`).to.be.a('string');
  expect(existsSync(new URL(file!, REPO_ROOT)), `${where}: ${file} exists`).to.equal(true);
  return file!;
}

/** True when GET `path` is one of the routes every service mounts (`/healthz`, `/readyz`, `/metrics`). */
export function isOpsRoute(path: string): boolean {
  const router = opsRoutes({ registry: new Registry(), checks: [], isDraining: () => false });
  return router.match(path, 'GET').route;
}

/** The Dockerfile's default command, user, environment (ENV of the final stage) and HEALTHCHECK path. */
export function dockerfile(): {
  cmd: string[];
  user: string;
  env: Record<string, string>;
  healthcheckPath: string;
} {
  const text = readRepoFile('Dockerfile');
  const finalStage = text.slice(text.lastIndexOf('\nFROM '));
  const cmd = JSON.parse(`[${/^CMD \[(.*)\]$/m.exec(finalStage)![1]!}]`) as string[];
  const user = /^USER (\S+)$/m.exec(finalStage)![1]!;
  const env: Record<string, string> = {};
  for (const [, block] of finalStage.matchAll(/^ENV ((?:.*\\\n)*.*)$/gm))
    for (const [, name, value] of block!.matchAll(/(\w+)=(\S+)/g)) env[name!] = value!;
  const healthcheckPath = /^HEALTHCHECK[\s\S]*?'(\/\w+)'/m.exec(finalStage)![1]!;
  return { cmd, user, env, healthcheckPath };
}

export interface ComposeService {
  environment?: Record<string, string>;
  command?: string[];
  healthcheck?: { test: string[] };
  ports?: string[];
  build?: unknown;
  image?: string;
}

export function composeFile(): { services: Record<string, ComposeService> } {
  return parse(readRepoFile('docker-compose.yml'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };
}

/** The compose services built from this repository's Dockerfile (the platform and its migrate step). */
export function composePlatformServices(): Array<[string, ComposeService]> {
  return Object.entries(composeFile().services).filter(([, s]) => s.build === '.');
}
