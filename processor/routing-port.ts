/** The orchestrator's RoutingPort over loaded routing rules (processor/routing) and their accounts. */
import { nextCandidate, planRoute, velocityWindows, type RoutingSetup } from './routing/index.js';
import type { RoutingPort } from './ports.js';

export function routingPort(setup: RoutingSetup): RoutingPort {
  const windows = velocityWindows(setup.rules);
  return {
    plan: (request, velocity) => planRoute(setup.rules, request, velocity),
    next: (plan, failed, velocity) => {
      const next = nextCandidate(plan, failed, velocity);
      return next.ok ? next.candidate : null;
    },
    velocityWindows: () => windows,
    account: (subMidId) => {
      const account = setup.accounts.get(subMidId);
      if (!account) throw new Error(`no provider account configured for SUB MID ${subMidId}`);
      return account;
    },
  };
}
