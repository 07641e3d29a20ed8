/**
 * Wires the orchestrator: routing rules from the configured file (provider accounts resolved from the
 * environment, `{simulatorBaseUrl}` pointing at the simulator in development), the provider connectors,
 * and hosted-page return URLs derived like the Merchant Gateway derives them.
 */
import type { Knex } from 'knex';
import type { Registry } from 'prom-client';
import type { Broker } from '../core/broker/types.js';
import type { Config } from '../core/config/index.js';
import type { Logger } from '../core/logger.js';
import { deriveSessionToken, hostedPaymentUrl } from '../core/transactions/session-token.js';
import { connectorFor, createConnectorRegistry } from '../processor/connectors/index.js';
import { processorMetrics, startProcessor, type RunningProcessor } from '../processor/index.js';
import { routingPort } from '../processor/routing-port.js';
import { loadRoutingRules } from '../processor/routing/index.js';

export async function startProcessorService(options: {
  config: Config;
  knex: Knex;
  broker: Broker;
  logger: Logger;
  registry: Registry;
  simulatorUrl: string | null;
  env: NodeJS.ProcessEnv;
}): Promise<RunningProcessor> {
  const { config, knex } = options;
  const setup = await loadRoutingRules(config.routing.rulesFile, {
    env: options.env,
    simulatorBaseUrl: options.simulatorUrl,
    allowDevCredentials: config.routing.allowDevCredentials,
  });
  const connectors = createConnectorRegistry({ logger: options.logger });
  const sessionSecret = config.merchantApi.sessionTokenSecrets[0]!;
  return startProcessor({
    knex,
    broker: options.broker,
    logger: options.logger,
    routing: routingPort(setup),
    connector: (providerId) => connectorFor(connectors, providerId),
    publicBaseUrl: config.http.publicBaseUrl,
    returnUrl: (sessionId) =>
      hostedPaymentUrl(config.http.publicBaseUrl, deriveSessionToken(sessionSecret, sessionId)),
    providerTimeoutMs: config.routing.providerTimeoutMs,
    metrics: processorMetrics(options.registry, () => parkedCallbacks(knex)),
  });
}

async function parkedCallbacks(knex: Knex): Promise<{ count: number; oldestAgeSeconds: number }> {
  const row = await knex('provider_callbacks')
    .where({ state: 'parked' })
    .first(
      knex.raw('count(*)::int as count'),
      knex.raw('coalesce(extract(epoch from (now() - min(created_at))), 0)::float as age'),
    );
  return { count: Number(row?.count ?? 0), oldestAgeSeconds: Number(row?.age ?? 0) };
}
