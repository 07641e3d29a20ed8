/**
 * The control API tests and demos script the simulator with (never expose it beyond development):
 *
 *   POST   /_sim/scenarios        {match?, behaviour, times?} -> 201 the scenario (newest match wins)
 *   GET    /_sim/scenarios        DELETE /_sim/scenarios/:id
 *   GET    /_sim/requests         the request log (filters: provider, reference, transactionId, idempotencyKey, paymentId)
 *   GET    /_sim/payments         payments and their count (same filters): "one payment per idempotency key"
 *   GET    /_sim/callbacks        every callback delivery attempt (filters: provider, paymentId, reference, transactionId)
 *   GET    /_sim/magic-amounts    the default behaviour table
 *   POST   /_sim/reset            forget everything, cancel scheduled callbacks
 *
 * Bad input answers an RFC 9457 problem.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { ProblemError, problemResponses } from '../core/http/problem.js';
import type { Logger } from '../core/logger.js';
import { MAGIC_AMOUNTS } from './behaviour.js';
import { readBody } from './http.js';
import { publicPayment } from './model.js';
import { parseScenarioInput } from './scenario-input.js';
import type { LogFilter, SimulatorState } from './state.js';

export interface ControlDeps {
  state: SimulatorState;
  /** Cancels scheduled callbacks and auto-completions. */
  cancelScheduled(): void;
  logger: Logger;
}

const FILTERS = ['provider', 'reference', 'transactionId', 'idempotencyKey', 'paymentId'] as const;

function filterOf(ctx: Context): LogFilter {
  const filter: LogFilter = {};
  for (const name of FILTERS) {
    const value = ctx.query[name];
    if (typeof value === 'string' && value !== '') filter[name] = value;
  }
  return filter;
}

function json(ctx: Context, status: number, value: unknown): void {
  ctx.status = status;
  ctx.type = 'application/json; charset=utf-8';
  ctx.body = JSON.stringify(value);
}

export function controlRoutes(deps: ControlDeps): Router {
  const router = new Router({ prefix: '/_sim' });
  router.use(problemResponses(deps.logger));

  router.post('/scenarios', async (ctx) => {
    const body = await readBody(ctx, { allowForm: false });
    if (!body.ok) {
      throw new ProblemError({
        status: 400,
        code: 'BAD_REQUEST',
        title: 'Bad request',
        detail: body.message,
      });
    }
    const parsed = parseScenarioInput(body.value);
    if (!parsed.ok) {
      throw new ProblemError({
        status: 400,
        code: 'INVALID_SCENARIO',
        title: 'Invalid scenario',
        detail: parsed.errors.map((e) => `${e.path} ${e.message}`).join('; '),
        extensions: { errors: parsed.errors },
      });
    }
    const scenario = deps.state.addScenario(parsed.value, new Date());
    deps.logger.info('scenario added', { scenarioId: scenario.id, behaviour: scenario.behaviour.kind });
    json(ctx, 201, scenario);
  });

  router.get('/scenarios', (ctx) => json(ctx, 200, { scenarios: deps.state.listScenarios() }));

  router.delete('/scenarios/:id', (ctx) => {
    if (!deps.state.removeScenario(ctx.params.id ?? '')) {
      throw new ProblemError({
        status: 404,
        code: 'NOT_FOUND',
        title: 'Not found',
        detail: 'no such scenario',
      });
    }
    ctx.status = 204;
  });

  router.get('/requests', (ctx) => json(ctx, 200, { requests: deps.state.listRequests(filterOf(ctx)) }));

  router.get('/payments', (ctx) => {
    const payments = deps.state.findPayments(filterOf(ctx)).map(publicPayment);
    json(ctx, 200, { count: payments.length, payments });
  });

  router.get('/callbacks', (ctx) => json(ctx, 200, { callbacks: deps.state.listCallbacks(filterOf(ctx)) }));

  router.get('/magic-amounts', (ctx) =>
    json(ctx, 200, { magicAmounts: MAGIC_AMOUNTS.map(({ suffix, summary }) => ({ suffix, summary })) }),
  );

  router.post('/reset', (ctx) => {
    deps.cancelScheduled();
    deps.state.reset();
    deps.logger.info('simulator reset');
    ctx.status = 204;
  });

  return router;
}
