/**
 * What the orchestrator needs from the outside, as narrow interfaces: routing (pure, over validated
 * rules), provider connectors, and where customers and providers reach the platform.
 */
import type { Knex } from 'knex';
import type { Broker } from '../core/broker/types.js';
import type { Logger } from '../core/logger.js';
import type { ProviderConnector, SubMidAccount } from './connectors/types.js';
import type {
  FailedAttempt,
  PlannedCandidate,
  RoutePlan,
  RoutingDecision,
  RoutingRequest,
  VelocityLookup,
} from './routing/types.js';
import type { ProcessorMetrics } from './metrics.js';

export interface RoutingPort {
  plan(request: RoutingRequest, velocity: VelocityLookup): RoutingDecision;
  /** The candidate to try after these failures, or null when routing allows none. */
  next(plan: RoutePlan, failed: readonly FailedAttempt[], velocity: VelocityLookup): PlannedCandidate | null;
  /** Velocity windows (seconds) configured per SUB MID, to preload usage. */
  velocityWindows(): ReadonlyArray<{ subMidId: string; windowSeconds: number }>;
  account(subMidId: string): SubMidAccount;
}

export interface ProcessorDeps {
  knex: Knex;
  broker: Broker;
  logger: Logger;
  routing: RoutingPort;
  connector(providerId: string): ProviderConnector;
  /** Base URL of the platform as customers and providers reach it. */
  publicBaseUrl: string;
  /** Where the provider sends the customer back: the hosted page of this session. */
  returnUrl(sessionId: string): string;
  providerTimeoutMs: number;
  metrics: ProcessorMetrics;
  clock?: () => Date;
}
