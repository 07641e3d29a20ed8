/**
 * Merchant API v2 (Koa): `POST /api/v2/deposit`, `GET /api/v2/transactions/:transactionId`,
 * `GET /api/v2/transactions?merchantTransactionId=`, `GET /api/v2/openapi.json`. Routes parse, call and
 * map: validation is deposit-request.ts, acceptance deposits.ts, views responses.ts.
 *
 * Everything under /api/v2 answers RFC 9457 problems (unknown path 404, wrong method 405, database
 * down or too slow 503 with Retry-After, a bug 500 without details) and `Cache-Control: no-store`
 * (answers carry payment links).
 *
 *   deposit: 201 created | 200 idempotent replay (same body, `Idempotent-Replayed: true`)
 *            | 400 invalid | 401 | 403 merchant disabled | 409 id reused | 413 | 415 | 503
 */
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Knex } from 'knex';
import { DatabaseUnavailableError, withDatabaseDeadline } from '../../core/db/availability.js';
import { ProblemError, problemResponses, writeProblem } from '../../core/http/problem.js';
import { addToLogContext } from '../../core/log-context.js';
import type { Logger } from '../../core/logger.js';
import { merchantAuthentication, merchantOf } from './authentication.js';
import { parseDepositRequest } from './deposit-request.js';
import { acceptDeposit } from './deposits.js';
import { DEFAULT_DEPOSIT_WRITER, depositWriter, type DepositWriterOptions } from './deposit-writer.js';
import type { FieldError } from './field-errors.js';
import { readJsonBody } from './json-body.js';
import { noopObserver, type MerchantApiObserver } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { problems } from './problems.js';
import { depositAnswer, transactionView } from './responses.js';
import { SessionLinks } from './session-links.js';
import { findMerchantTransaction } from './transaction-lookup.js';

export const MERCHANT_API_PREFIX = '/api/v2';
export const DEFAULT_SESSION_TTL_SECONDS = 1800;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;
export const DEFAULT_DATABASE_TIMEOUT_MS = 5_000;

export interface MerchantApiOptions {
  knex: Knex;
  logger: Logger;
  /** Base of the hosted payment URLs (`<base>/pay/<token>`) and of the OpenAPI `servers` entry. */
  publicBaseUrl: string;
  /** Secrets deriving hosted-session tokens, newest first (see session-links.ts). */
  sessionTokenSecrets: readonly string[];
  sessionTtlSeconds?: number;
  maxBodyBytes?: number;
  bodyTimeoutMs?: number;
  allowHttpLoopbackUrls?: boolean;
  /** Database work of one request answers 503 after this long. */
  databaseTimeoutMs?: number;
  /** How long an accepted API key is trusted without a database lookup (default 0: always look up). */
  apiKeyCacheMs?: number;
  /** Group commit of concurrent deposits (deposit-writer.ts); the timeout is `databaseTimeoutMs`. */
  depositWriter?: Omit<DepositWriterOptions, 'timeoutMs'>;
  clock?: () => Date;
  observer?: MerchantApiObserver;
}

export interface MerchantApi {
  /** Mount with `app.use(api.middleware)`: handles every path under /api/v2, passes others on. */
  middleware: Middleware;
  /** The routes, for the OpenAPI coverage test. */
  router: Router;
}

const TRANSACTION_ID = /^[A-Za-z0-9_-]{1,100}$/;

export function merchantApi(options: MerchantApiOptions): MerchantApi {
  const logger = options.logger.child({ component: 'merchant-api' });
  const observer = options.observer ?? noopObserver;
  const databaseTimeoutMs = options.databaseTimeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS;
  const sessionTtlSeconds = options.sessionTtlSeconds ?? DEFAULT_SESSION_TTL_SECONDS;
  const bodyLimits = {
    maxBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    timeoutMs: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
  };
  const urlPolicy = { allowHttpLoopback: options.allowHttpLoopbackUrls ?? false };
  const clock = options.clock ?? (() => new Date());
  const links = new SessionLinks(options.sessionTokenSecrets, options.publicBaseUrl);
  const knex = options.knex;
  const database = <T>(work: () => Promise<T>) => withDatabaseDeadline(work, databaseTimeoutMs);
  const writeDeposit = depositWriter(knex, {
    ...(options.depositWriter ?? DEFAULT_DEPOSIT_WRITER),
    timeoutMs: databaseTimeoutMs,
    onBatch: (size) => observer.depositBatch(size),
  });
  const authenticate = merchantAuthentication({
    knex,
    logger,
    databaseTimeoutMs,
    observer,
    apiKeyCacheMs: options.apiKeyCacheMs ?? 0,
  });
  const document = openApiDocument({
    serverUrl: `${options.publicBaseUrl.replace(/\/+$/, '')}${MERCHANT_API_PREFIX}`,
  });

  const router = new Router({ prefix: MERCHANT_API_PREFIX });

  router.get('/openapi.json', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = document;
  });

  router.post('/deposit', authenticate, async (ctx) => {
    const merchant = merchantOf(ctx);
    const body = await readJsonBody(ctx, bodyLimits);
    const check = parseDepositRequest(body, urlPolicy);
    if (!check.ok) {
      observer.deposit('invalid');
      throw new ProblemError(problems.invalidRequest(check.errors));
    }
    const { request } = check;
    const log = logger.child({ merchantId: merchant.merchantId, keyId: merchant.keyId });
    const outcome = await database(() =>
      acceptDeposit(
        knex,
        {
          merchant,
          request,
          tokenHashFor: (sessionId) => links.tokenHashFor(sessionId),
          sessionTtlSeconds,
          now: clock(),
          correlationId: randomUUID(),
        },
        writeDeposit,
      ),
    ).catch((error: unknown) => {
      if (error instanceof DatabaseUnavailableError) observer.deposit('unavailable');
      throw error;
    });
    if (outcome.kind === 'conflict') {
      observer.deposit('conflict');
      log.info('deposit refused: merchantTransactionId reused with a different request', {
        merchantTransactionId: request.merchantTransactionId,
      });
      throw new ProblemError(problems.idempotencyConflict(request.merchantTransactionId));
    }
    const { deposit } = outcome;
    addToLogContext({ transactionId: deposit.transactionId });
    const hostedUrl = links.urlFor(deposit.sessionId, deposit.tokenHash);
    // Only when SESSION_TOKEN_SECRET lost the secret that minted this session: configuration, not the merchant.
    if (hostedUrl === null)
      throw new Error(`no configured session token secret minted session ${deposit.sessionId}`);
    const created = outcome.kind === 'created';
    observer.deposit(created ? 'accepted' : 'duplicate');
    log.info(created ? 'deposit accepted' : 'deposit replayed', {
      transactionId: deposit.transactionId,
      merchantTransactionId: deposit.merchantTransactionId,
    });
    ctx.status = created ? 201 : 200;
    if (!created) ctx.set('Idempotent-Replayed', 'true');
    ctx.set('Location', `${MERCHANT_API_PREFIX}/transactions/${encodeURIComponent(deposit.transactionId)}`);
    ctx.body = depositAnswer(deposit, hostedUrl);
  });

  router.get('/transactions/:transactionId', authenticate, async (ctx) => {
    const merchant = merchantOf(ctx);
    const transactionId = ctx.params.transactionId ?? '';
    if (!TRANSACTION_ID.test(transactionId)) throw new ProblemError(problems.notFound());
    addToLogContext({ transactionId });
    const transaction = await database(() =>
      findMerchantTransaction(knex, merchant.merchantId, { transactionId }),
    );
    if (!transaction) throw new ProblemError(problems.notFound());
    ctx.body = transactionView(transaction);
  });

  router.get('/transactions', authenticate, async (ctx) => {
    const merchant = merchantOf(ctx);
    const merchantTransactionId = singleQueryParameter(ctx, 'merchantTransactionId');
    const transaction = await database(() =>
      findMerchantTransaction(knex, merchant.merchantId, { merchantTransactionId }),
    );
    ctx.body = { data: transaction ? [transactionView(transaction)] : [] };
  });

  const handle = sequence([
    problemResponses(logger),
    answerUnavailable(logger),
    // @koa/router types its middleware for its own context type; at run time it is plain Koa middleware.
    router.routes() as unknown as Middleware,
    router.allowedMethods() as unknown as Middleware,
  ]);
  const middleware: Middleware = async (ctx, next) => {
    if (ctx.path !== MERCHANT_API_PREFIX && !ctx.path.startsWith(`${MERCHANT_API_PREFIX}/`)) return next();
    ctx.set('Cache-Control', 'no-store');
    await handle(ctx, async () => undefined);
    if (ctx.body == null && ctx.status === 404) writeProblem(ctx, problems.notFound());
    else if (ctx.body == null && (ctx.status === 405 || ctx.status === 501))
      writeProblem(ctx, problems.methodNotAllowed());
  };
  return { middleware, router };
}

/** The query must be exactly `merchantTransactionId=<one valid id>`. */
function singleQueryParameter(ctx: Context, name: string): string {
  const errors: FieldError[] = [];
  for (const key of Object.keys(ctx.query))
    if (key !== name) errors.push({ parameter: key, detail: 'is not a known query parameter' });
  const value = ctx.query[name];
  if (value === undefined) errors.push({ parameter: name, detail: 'is required' });
  else if (typeof value !== 'string' || value.length > 64 || !/^[A-Za-z0-9._:-]+$/.test(value))
    errors.push({
      parameter: name,
      detail: 'must be one merchantTransactionId (1 to 64 of A-Z a-z 0-9 . _ : -)',
    });
  if (errors.length > 0) throw new ProblemError(problems.invalidRequest(errors));
  return value as string;
}

/** Database down or too slow -> 503 with Retry-After (the merchant retries the same request safely). */
function answerUnavailable(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof DatabaseUnavailableError)) throw error;
      logger.warn('merchant API request refused: database unavailable', {
        route: ctx._matchedRoute,
        error: error.message,
        cause: (error.cause as Error | undefined)?.message,
      });
      ctx.set('Retry-After', '5');
      throw new ProblemError(problems.databaseUnavailable());
    }
  };
}

function sequence(middlewares: Middleware[]): (ctx: Context, next: Next) => Promise<void> {
  return (ctx, next) => {
    const dispatch = async (index: number): Promise<void> => {
      const middleware = middlewares[index];
      if (!middleware) return next();
      await middleware(ctx, () => dispatch(index + 1));
    };
    return dispatch(0);
  };
}
