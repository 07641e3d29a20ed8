/**
 * Hosted payment page routes (the customer's side of a deposit):
 *
 *   GET  /pay/:token                 the page (HTML shell; 404 "not valid", 410 "expired" pages)
 *   GET  /pay/:token/state           what the page shows now, polled (customer-safe JSON)
 *   POST /pay/:token/customer-data   the fields the orchestrator asked for (JSON, same origin only)
 *   GET  /pay/assets/:file           the page's script and stylesheet
 *
 * Routes parse, call and map: the view is session-view.ts, the submission decision submission.ts, the
 * database work session-store.ts. The token is the credential; it never reaches a log, and neither do
 * the customer's values (logs carry field names, session and transaction ids).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Knex } from 'knex';
import { addToLogContext } from '../../core/log-context.js';
import type { Logger } from '../../core/logger.js';
import { ProblemError, problemResponses, type Problem } from '../../core/http/problem.js';
import { hashSessionToken, isWellFormedSessionToken } from '../../core/transactions/session-token.js';
import { readRawBody } from '../provider/raw-body.js';
import { loadAssets } from './assets.js';
import { renderNoticePage, renderPaymentPage, type PageAssets } from './page-html.js';
import { RateLimiter, type RateDecision } from './rate-limiter.js';
import { isSameOriginRequest, originOf } from './same-origin.js';
import { hostedSecurityHeaders } from './security-headers.js';
import { findSession, submitCustomerData } from './session-store.js';
import { hostedView, isStuck, type HostedView, type SessionSnapshot } from './session-view.js';
import type { SubmissionDecision } from './submission.js';

export interface HostedPageLimits {
  /** Largest customer-data body accepted (413 beyond). */
  maxBodyBytes: number;
  /** A body not received by then answers 408. */
  bodyTimeoutMs: number;
  /** Per payment link and minute. */
  pageViewsPerMinute: number;
  statePollsPerMinute: number;
  submissionsPerMinute: number;
  /** Per client address and minute: lookups of tokens that do not exist (link guessing), then 429. */
  unknownTokensPerMinute: number;
}

export const DEFAULT_HOSTED_PAGE_LIMITS: HostedPageLimits = {
  maxBodyBytes: 16 * 1024,
  bodyTimeoutMs: 10_000,
  pageViewsPerMinute: 60,
  statePollsPerMinute: 120,
  submissionsPerMinute: 10,
  unknownTokensPerMinute: 30,
};

export interface HostedPageOptions {
  knex: Knex;
  logger: Logger;
  /** PUBLIC_BASE_URL: its origin may submit customer data (besides the origin the request was sent to). */
  publicBaseUrl?: string;
  limits?: Partial<HostedPageLimits>;
  clock?: () => Date;
}

const MINUTE_MS = 60_000;

/** Routes of the hosted payment page; mount with `.routes()` and `.allowedMethods()`. */
export function hostedPageRoutes(options: HostedPageOptions): Router {
  const { knex } = options;
  const limits = { ...DEFAULT_HOSTED_PAGE_LIMITS, ...options.limits };
  const clock = options.clock ?? (() => new Date());
  const logger = options.logger.child({ component: 'hosted-page' });
  const publicOrigin = options.publicBaseUrl ? originOf(options.publicBaseUrl) : null;
  const assets = loadAssets();
  const limiter = (perMinute: number) =>
    new RateLimiter({ limit: perMinute, windowMs: MINUTE_MS }, { clock: () => clock().getTime() });
  const pageViews = limiter(limits.pageViewsPerMinute);
  const statePolls = limiter(limits.statePollsPerMinute);
  const submissions = limiter(limits.submissionsPerMinute);
  const unknownTokens = limiter(limits.unknownTokensPerMinute);

  /**
   * Counts a lookup of a token that does not exist, per client address; past the limit the answer is
   * 429 instead of 404. Only misses are refused: behind a proxy every customer may share one address,
   * and one client guessing links must never lock customers out of their own valid links.
   */
  const unknownToken = (ctx: Context) => unknownTokens.hit(ctx.ip);

  const router = new Router();
  router.use(hostedSecurityHeaders());
  router.use(problemResponses(logger));

  router.get('/pay/assets/:file', (ctx) => {
    const asset = assets.files.get(ctx.params.file ?? '');
    if (!asset) {
      ctx.status = 404;
      return;
    }
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.type = asset.contentType;
    ctx.body = asset.body;
  });

  router.get('/pay/:token', async (ctx) => {
    const token = ctx.params.token ?? '';
    const notValid = (status: number) => htmlPage(ctx, status, invalidLinkPage(assets.paths));
    if (!isWellFormedSessionToken(token)) return notValid(404);
    const snapshot = await findSession(knex, token);
    if (!snapshot) {
      const guess = unknownToken(ctx);
      return guess.allowed ? notValid(404) : tooManyPage(ctx, guess, assets.paths);
    }
    addToLogContext(ids(snapshot));
    const rate = pageViews.hit(hashSessionToken(token));
    if (!rate.allowed) return tooManyPage(ctx, rate, assets.paths);
    const view = hostedView(snapshot, clock());
    if (view.state === 'expired') {
      return htmlPage(
        ctx,
        410,
        renderNoticePage(
          {
            title: 'This payment session has expired',
            message: `Please return to ${snapshot.merchantName} to start again.`,
            summary: snapshot,
            ...(view.returnUrl ? { returnUrl: view.returnUrl } : {}),
          },
          assets.paths,
        ),
      );
    }
    htmlPage(ctx, 200, renderPaymentPage(snapshot, assets.paths));
  });

  router.get('/pay/:token/state', async (ctx) => {
    const token = ctx.params.token ?? '';
    if (!isWellFormedSessionToken(token)) throw new ProblemError(LINK_NOT_FOUND);
    refuseWhenLimited(ctx, statePolls.hit(hashSessionToken(token)));
    const snapshot = await findSession(knex, token);
    if (!snapshot) {
      refuseWhenLimited(ctx, unknownToken(ctx));
      throw new ProblemError(LINK_NOT_FOUND);
    }
    addToLogContext(ids(snapshot));
    const view = hostedView(snapshot, clock());
    if (isStuck(snapshot, view)) {
      logger.error('hosted session cannot be shown: malformed required_fields or unsafe redirect_url', {
        sessionState: snapshot.sessionState,
      });
    }
    ctx.body = view;
  });

  router.post('/pay/:token/customer-data', async (ctx) => {
    const token = ctx.params.token ?? '';
    if (!/^application\/json\s*(;|$)/i.test(ctx.get('content-type'))) throw new ProblemError(NOT_JSON);
    const origin = {
      origin: ctx.get('origin') || undefined,
      secFetchSite: ctx.get('sec-fetch-site') || undefined,
    };
    // Not ctx.origin: since Koa 3 that is the request's Origin header, not the origin it was sent to.
    if (!isSameOriginRequest(origin, [publicOrigin, `${ctx.protocol}://${ctx.host}`])) {
      logger.warn('customer data refused: not sent from the payment page', { origin: origin.origin });
      throw new ProblemError(CROSS_ORIGIN);
    }
    if (!isWellFormedSessionToken(token)) throw new ProblemError(LINK_NOT_FOUND);
    const link = hashSessionToken(token);
    refuseWhenLimited(ctx, submissions.hit(link));
    const values = await readValues(ctx, limits);
    // A submission the platform failed to process (e.g. its database was down: a 5xx) does not count:
    // a customer retrying through an outage must not be locked out of their own payment for a minute.
    const result = await submitCustomerData(knex, token, values, clock()).catch((error: unknown) => {
      if (!(error instanceof ProblemError && error.problem.status < 500)) submissions.refund(link);
      throw error;
    });
    if (!result) {
      refuseWhenLimited(ctx, unknownToken(ctx));
      throw new ProblemError(LINK_NOT_FOUND);
    }
    addToLogContext(ids(result.snapshot));
    answerSubmission(ctx, result.snapshot, result.decision, clock(), logger);
  });

  return router;
}

function answerSubmission(
  ctx: Context,
  snapshot: SessionSnapshot,
  decision: SubmissionDecision,
  now: Date,
  logger: Logger,
): void {
  // The request's log context carries the session, transaction and merchant ids.
  switch (decision.kind) {
    case 'accept':
      logger.info('customer data submitted', { fieldNames: decision.fieldNames });
      return respondWithView(ctx, hostedView(snapshot, now));
    case 'unchanged':
      logger.info('customer data submitted again with the same values; nothing recorded');
      return respondWithView(ctx, hostedView(snapshot, now));
    case 'invalid':
      logger.info('customer data refused: invalid values', { errors: decision.errors });
      throw new ProblemError({
        status: 422,
        code: 'VALIDATION_FAILED',
        title: 'Please check your details',
        detail: 'some fields are missing or not in the expected format',
        extensions: { errors: decision.errors },
      });
    case 'not-awaiting':
      throw new ProblemError({
        status: 409,
        code: 'NOT_AWAITING_CUSTOMER_DATA',
        title: 'Details not needed now',
        detail: 'this payment is not waiting for these details; reload the page to see where it stands',
      });
    case 'closed':
      throw new ProblemError({
        status: 409,
        code: 'PAYMENT_FINISHED',
        title: 'Payment already finished',
        detail: 'this payment is already finished; reload the page to see the result',
      });
    case 'expired':
      throw new ProblemError({
        status: 410,
        code: 'SESSION_EXPIRED',
        title: 'Payment session expired',
        detail: 'this payment session has expired; return to the merchant to start again',
      });
  }
}

function respondWithView(ctx: Context, view: HostedView): void {
  ctx.status = 200;
  ctx.body = view;
}

/** Reads `{"values": {name: string}}` within the size and time limits. */
async function readValues(ctx: Context, limits: HostedPageLimits): Promise<Record<string, unknown>> {
  const declared = ctx.get('content-length');
  if (declared && Number(declared) > limits.maxBodyBytes) {
    ctx.set('Connection', 'close');
    throw new ProblemError(tooLarge(limits.maxBodyBytes));
  }
  const read = await readRawBody(ctx.req, {
    limitBytes: limits.maxBodyBytes,
    timeoutMs: limits.bodyTimeoutMs,
  });
  if (!read.ok) {
    ctx.set('Connection', 'close');
    if (read.reason === 'too-large') throw new ProblemError(tooLarge(limits.maxBodyBytes));
    throw new ProblemError({
      status: read.reason === 'timeout' ? 408 : 400,
      code: read.reason === 'timeout' ? 'BODY_TIMEOUT' : 'BODY_ABORTED',
      title: 'Request not received',
      detail: 'the request body was not received completely',
    });
  }
  let body: unknown;
  try {
    body = JSON.parse(read.body.toString('utf8'));
  } catch {
    throw new ProblemError(INVALID_BODY);
  }
  const values = isPlainObject(body) ? body.values : undefined;
  if (!isPlainObject(values)) throw new ProblemError(INVALID_BODY);
  return values;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuseWhenLimited(ctx: Context, decision: RateDecision): void {
  if (decision.allowed) return;
  ctx.set('Retry-After', String(Math.ceil(decision.retryAfterMs / 1000)));
  throw new ProblemError({
    status: 429,
    code: 'TOO_MANY_REQUESTS',
    title: 'Too many requests',
    detail: 'please wait a moment and try again',
    extensions: { retryAfterSeconds: Math.ceil(decision.retryAfterMs / 1000) },
  });
}

function htmlPage(ctx: Context, status: number, html: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = html;
}

function invalidLinkPage(assets: PageAssets): string {
  return renderNoticePage(
    {
      title: 'This payment link is not valid',
      message: 'Please check the link or return to the shop you came from.',
    },
    assets,
  );
}

function tooManyPage(ctx: Context, decision: RateDecision, assets: PageAssets): void {
  ctx.set('Retry-After', String(Math.ceil(decision.retryAfterMs / 1000)));
  htmlPage(
    ctx,
    429,
    renderNoticePage(
      { title: 'Please wait a moment', message: 'Too many requests. Please try again in a minute.' },
      assets,
    ),
  );
}

function ids(snapshot: SessionSnapshot): Record<string, string> {
  return {
    sessionId: snapshot.sessionId,
    transactionId: snapshot.transactionId,
    merchantId: snapshot.merchantId,
  };
}

const LINK_NOT_FOUND: Problem = {
  status: 404,
  code: 'PAYMENT_LINK_NOT_FOUND',
  title: 'Payment link not valid',
  detail: 'this payment link is not valid',
};

const NOT_JSON: Problem = {
  status: 415,
  code: 'UNSUPPORTED_MEDIA_TYPE',
  title: 'Unsupported media type',
  detail: 'send the details as application/json',
};

const CROSS_ORIGIN: Problem = {
  status: 403,
  code: 'CROSS_ORIGIN_REQUEST',
  title: 'Request refused',
  detail: 'details can only be submitted from the payment page',
};

const INVALID_BODY: Problem = {
  status: 400,
  code: 'INVALID_BODY',
  title: 'Bad request',
  detail: 'the body must be a JSON object {"values": {"<field>": "<value>"}}',
};

function tooLarge(maxBytes: number): Problem {
  return {
    status: 413,
    code: 'BODY_TOO_LARGE',
    title: 'Request too large',
    detail: `the request body must not exceed ${maxBytes} bytes`,
  };
}
