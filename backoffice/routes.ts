/**
 * Back-office API v1 (Koa), for merchant users and platform staff:
 *
 *   GET  /backoffice/api/v1/me                                      who am I, what may I do
 *   GET  /backoffice/api/v1/transactions                            search (paginated)
 *   GET  /backoffice/api/v1/transactions/:id                        detail (merchant-safe | internal)
 *   GET  /backoffice/api/v1/transactions/:id/timeline               timeline (merchant-safe | internal)
 *   GET  /backoffice/api/v1/transactions/:id/webhooks               deliveries and attempts
 *   POST /backoffice/api/v1/transactions/:id/webhooks/:wid/resend   manual resend (202, asynchronous)
 *   GET  /backoffice/api/v1/transactions/:id/failed-events          dead-lettered events (platform)
 *   GET  /backoffice/api/v1/openapi.json                            the OpenAPI document
 *
 * Every request but the document is authenticated (bearer access token) and authorised (permissions
 * from roles, permissions.ts). Merchant users are confined to their merchant in SQL
 * (transaction-store.ts): another merchant's transaction is 404. Internal views go to platform users
 * holding the permission; everybody else gets the merchant-safe view. Internal reads and privileged
 * actions are audited before the answer (audit.ts). Routes parse, call and map — nothing more.
 * Everything under /backoffice/api answers RFC 9457 problems and `Cache-Control: no-store`.
 */
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Knex } from 'knex';
import { DatabaseUnavailableError, withDatabaseDeadline } from '../core/db/availability.js';
import { FailedEventStore } from '../core/failed-events/store.js';
import { ProblemError, problemResponses, writeProblem } from '../core/http/problem.js';
import type { Logger } from '../core/logger.js';
import { internalTimeline, merchantTimeline } from '../core/timeline/views.js';
import { recordAudit, type AuditActor, type AuditEntry } from './audit.js';
import { backofficeAuthentication, principalOf } from './authentication.js';
import { loadInternalRecords } from './internal-records.js';
import { openApiDocument } from './openapi.js';
import { backofficePage } from './page/page-routes.js';
import { ROLES, type Permission } from './permissions.js';
import { can, merchantScope, viewFor, type Principal } from './principal.js';
import { problems } from './problems.js';
import { resendWebhook } from './resend.js';
import { encodeCursor, parseSearchQuery, TRANSACTION_ID, type RawQuery } from './search-query.js';
import { loadTimeline } from './timeline-records.js';
import { findVisibleTransaction, searchTransactions, type TransactionRecord } from './transaction-store.js';
import {
  failedEventView,
  internalTransactionDetail,
  merchantTransactionDetail,
  transactionSummary,
  webhookDeliveryView,
} from './views.js';
import { loadWebhookDeliveries } from './webhook-records.js';

export const BACKOFFICE_PREFIX = '/backoffice';
export const BACKOFFICE_API_PREFIX = `${BACKOFFICE_PREFIX}/api/v1`;
export const DEFAULT_BACKOFFICE_DATABASE_TIMEOUT_MS = 5_000;

export interface BackofficeOptions {
  knex: Knex;
  logger: Logger;
  /** Database work of one request answers 503 after this long. */
  databaseTimeoutMs?: number;
  /** Base URL for the OpenAPI `servers` entry (PUBLIC_BASE_URL); relative when omitted. */
  publicBaseUrl?: string;
  /** The dispatcher's attempts topic (tests use unique names); the dispatcher's default otherwise. */
  resendTopic?: string;
}

export interface Backoffice {
  /** Mount with `app.use(backoffice.middleware)`: handles /backoffice and everything under it, passes others on. */
  middleware: Middleware;
  /** The API routes, for the OpenAPI coverage test. */
  router: Router;
}

const WEBHOOK_ID = /^[A-Za-z0-9_-]{1,200}$/;

/** The back-office API and page. */
export function backofficeRoutes(options: BackofficeOptions): Backoffice {
  const { knex } = options;
  const logger = options.logger.child({ component: 'backoffice' });
  const timeoutMs = options.databaseTimeoutMs ?? DEFAULT_BACKOFFICE_DATABASE_TIMEOUT_MS;
  const database = <T>(work: () => Promise<T>) => withDatabaseDeadline(work, timeoutMs);
  const authenticate = backofficeAuthentication({ knex, logger, databaseTimeoutMs: timeoutMs });
  const failedEvents = new FailedEventStore(knex);
  const base = options.publicBaseUrl?.replace(/\/+$/, '') ?? '';
  const document = openApiDocument({ serverUrl: `${base}${BACKOFFICE_API_PREFIX}` });

  const actorOf = (ctx: Context): AuditActor => ({
    principal: principalOf(ctx),
    requestId: ctx.state.requestId as string,
    clientIp: ctx.ip || null,
  });
  const audit = (ctx: Context, entry: AuditEntry) => database(() => recordAudit(knex, actorOf(ctx), entry));

  /** 403 unless the caller holds the permission; refusals of privileged actions are audited. */
  const requirePermission = async (
    ctx: Context,
    permission: Permission,
    audited?: Pick<AuditEntry, 'action' | 'target'>,
  ): Promise<Principal> => {
    const principal = principalOf(ctx);
    if (can(principal, permission)) return principal;
    if (audited)
      await audit(ctx, {
        ...audited,
        transactionId: null,
        merchantId: null,
        outcome: 'denied',
        detail: { permission },
      });
    logger.warn('back-office request refused: missing permission', {
      userId: principal.userId,
      permission,
      route: ctx._matchedRoute,
    });
    throw new ProblemError(problems.forbidden(permission));
  };

  /** The transaction named in the path, if the caller may see it; 404 otherwise (also for another merchant's). */
  const visibleTransaction = async (ctx: Context): Promise<TransactionRecord> => {
    const transactionId = ctx.params.transactionId ?? '';
    if (!TRANSACTION_ID.test(transactionId)) throw new ProblemError(problems.notFound());
    const principal = principalOf(ctx);
    const record = await database(() =>
      findVisibleTransaction(knex, merchantScope(principal), transactionId),
    );
    if (!record) throw new ProblemError(problems.notFound());
    return record;
  };

  const auditRead = (ctx: Context, action: AuditEntry['action'], record: TransactionRecord) =>
    audit(ctx, {
      action,
      target: { type: 'transaction', id: record.transactionId },
      transactionId: record.transactionId,
      merchantId: record.merchantId,
      outcome: 'succeeded',
    });

  const router = new Router({ prefix: BACKOFFICE_API_PREFIX });

  router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });

  router.get('/me', authenticate, (ctx) => {
    const principal = principalOf(ctx);
    ctx.body = {
      userId: principal.userId,
      email: principal.email,
      kind: principal.kind,
      merchantId: principal.merchantId,
      roles: principal.roles.filter((role) => role in ROLES),
      permissions: [...principal.permissions].sort(),
    };
  });

  router.get('/transactions', authenticate, async (ctx) => {
    const principal = await requirePermission(ctx, 'transactions:read');
    const view = viewFor(principal, 'transactions:read_internal');
    const parsed = parseSearchQuery(ctx.query as RawQuery, { internalStatuses: view === 'internal' });
    if (!parsed.ok) throw new ProblemError(problems.invalidRequest(parsed.errors));
    const { records, next } = await database(() =>
      searchTransactions(knex, merchantScope(principal), parsed.query),
    );
    ctx.body = {
      data: records.map((record) => transactionSummary(record, view)),
      nextCursor: next ? encodeCursor(next) : null,
    };
  });

  router.get('/transactions/:transactionId', authenticate, async (ctx) => {
    const principal = await requirePermission(ctx, 'transactions:read');
    const record = await visibleTransaction(ctx);
    if (viewFor(principal, 'transactions:read_internal') === 'merchant') {
      ctx.body = merchantTransactionDetail(record);
      return;
    }
    const internal = await database(() => loadInternalRecords(knex, record.transactionId));
    await auditRead(ctx, 'transaction.read_internal', record);
    ctx.body = internalTransactionDetail(record, internal);
  });

  router.get('/transactions/:transactionId/timeline', authenticate, async (ctx) => {
    const principal = await requirePermission(ctx, 'transactions:read');
    const record = await visibleTransaction(ctx);
    const entries = await database(() => loadTimeline(knex, record.transactionId));
    if (viewFor(principal, 'timeline:read_internal') === 'merchant') {
      ctx.body = {
        transactionId: record.transactionId,
        view: 'merchant',
        entries: merchantTimeline(entries),
      };
      return;
    }
    await auditRead(ctx, 'timeline.read_internal', record);
    ctx.body = { transactionId: record.transactionId, view: 'internal', entries: internalTimeline(entries) };
  });

  router.get('/transactions/:transactionId/webhooks', authenticate, async (ctx) => {
    const principal = await requirePermission(ctx, 'transactions:read');
    const record = await visibleTransaction(ctx);
    const view = viewFor(principal, 'transactions:read_internal');
    const deliveries = await database(() => loadWebhookDeliveries(knex, record.transactionId));
    if (view === 'internal') await auditRead(ctx, 'webhooks.read_internal', record);
    ctx.body = {
      transactionId: record.transactionId,
      view,
      data: deliveries.map((delivery) => webhookDeliveryView(delivery, view)),
    };
  });

  router.post('/transactions/:transactionId/webhooks/:webhookId/resend', authenticate, async (ctx) => {
    const webhookId = ctx.params.webhookId ?? '';
    const principal = await requirePermission(ctx, 'webhooks:resend', {
      action: 'webhook.resend',
      target: { type: 'webhook', id: webhookId.slice(0, 200) },
    });
    const record = await visibleTransaction(ctx).catch(async (error: unknown) => {
      if (error instanceof ProblemError && error.problem.status === 404)
        await audit(ctx, {
          action: 'webhook.resend',
          target: { type: 'webhook', id: webhookId.slice(0, 200) },
          transactionId: null,
          merchantId: null,
          outcome: 'not_found',
          detail: { transactionId: (ctx.params.transactionId ?? '').slice(0, 100) },
        });
      throw error;
    });
    if (!WEBHOOK_ID.test(webhookId)) throw new ProblemError(problems.notFound());
    const outcome = await database(() =>
      resendWebhook(
        knex,
        actorOf(ctx),
        record,
        webhookId,
        options.resendTopic ? { topic: options.resendTopic } : {},
      ),
    );
    if (outcome.kind === 'not_found') throw new ProblemError(problems.notFound());
    if (outcome.kind === 'not_resendable') throw new ProblemError(problems.notResendable());
    logger.info('webhook resend requested', {
      userId: principal.userId,
      transactionId: record.transactionId,
      merchantId: record.merchantId,
      webhookId,
      attemptNumber: outcome.attemptNumber,
      alreadyQueued: outcome.alreadyQueued,
    });
    ctx.status = 202;
    ctx.set(
      'Location',
      `${BACKOFFICE_API_PREFIX}/transactions/${encodeURIComponent(record.transactionId)}/webhooks`,
    );
    ctx.body = {
      webhookId,
      attemptNumber: outcome.attemptNumber,
      status: outcome.alreadyQueued ? 'already_queued' : 'queued',
    };
  });

  router.get('/transactions/:transactionId/failed-events', authenticate, async (ctx) => {
    await requirePermission(ctx, 'failed_events:read', {
      action: 'failed_events.read',
      target: { type: 'transaction', id: (ctx.params.transactionId ?? '').slice(0, 100) },
    });
    const record = await visibleTransaction(ctx);
    const records = await database(() =>
      failedEvents.list({ transactionId: record.transactionId, status: 'all', limit: 500 }),
    );
    await auditRead(ctx, 'failed_events.read', record);
    ctx.body = { transactionId: record.transactionId, data: records.map(failedEventView) };
  });

  const handleApi = apiHandler(router, logger);
  const page = backofficePage();
  const middleware: Middleware = async (ctx, next) => {
    if (ctx.path === BACKOFFICE_API_PREFIX || ctx.path.startsWith(`${BACKOFFICE_PREFIX}/api/`))
      return handleApi(ctx);
    if (ctx.path === BACKOFFICE_PREFIX || ctx.path.startsWith(`${BACKOFFICE_PREFIX}/`)) return page(ctx);
    return next();
  };
  return { middleware, router };
}

/**
 * Runs the API routes inside the problem mapping: unknown path 404, wrong method 405, database down or
 * too slow 503 with Retry-After, a bug 500 without details — all problems. Every answer is no-store
 * and carries a request id (also in the audit rows it caused).
 */
function apiHandler(router: Router, logger: Logger): (ctx: Context) => Promise<void> {
  const toProblems = problemResponses(logger);
  // @koa/router types its middleware for its own context type; at run time it is plain Koa middleware.
  const routes = router.routes() as unknown as Middleware;
  const allowed = router.allowedMethods() as unknown as Middleware;
  const none = async () => undefined;
  return async (ctx) => {
    // The platform's request id (core/http/request-context.ts) when it runs behind it: logs and audit
    // rows then share one id.
    ctx.state.requestId ??= randomUUID();
    ctx.set('X-Request-Id', ctx.state.requestId as string);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    await toProblems(ctx, async () => {
      try {
        await allowed(ctx, () => routes(ctx, none));
      } catch (error) {
        if (!(error instanceof DatabaseUnavailableError)) throw error;
        logger.warn('back-office request refused: database unavailable', {
          route: ctx._matchedRoute,
          error: error.message,
        });
        ctx.set('Retry-After', '5');
        throw new ProblemError(problems.databaseUnavailable());
      }
    });
    if (ctx.body == null && ctx.status === 404) writeProblem(ctx, problems.notFound());
    else if (ctx.body == null && (ctx.status === 405 || ctx.status === 501))
      writeProblem(ctx, problems.methodNotAllowed());
  };
}
