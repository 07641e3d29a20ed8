import type { Context, Middleware } from 'koa';
import type { Logger } from '../logger.js';

/** RFC 9457 (ex-7807) problem details. `code` is our stable, documented error code. */
export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  /** Extra members, e.g. `errors` for field validation failures. Never internal details. */
  extensions?: Record<string, unknown>;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function writeProblem(ctx: Context, problem: Problem): void {
  ctx.status = problem.status;
  ctx.set('Content-Type', PROBLEM_CONTENT_TYPE);
  ctx.body = JSON.stringify({
    type: 'about:blank',
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    ...problem.extensions,
  });
}

/** Thrown inside a route to answer with a problem; `problemResponses` turns it into the response. */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
    this.name = 'ProblemError';
  }
}

/**
 * Outermost middleware of a public API: a ProblemError becomes its problem, a Koa HttpError (e.g. from
 * a body parser) keeps its status with a generic message, anything else is logged and answered with a
 * 500 problem that reveals nothing (no stack, no internal message).
 */
export function problemResponses(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof ProblemError) return writeProblem(ctx, error.problem);
      const status = (error as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        return writeProblem(ctx, {
          status,
          code: 'BAD_REQUEST',
          title: 'Bad request',
          detail: (error as { expose?: boolean }).expose
            ? (error as Error).message
            : 'the request was not valid',
        });
      }
      logger.error('unhandled error in request', { error, method: ctx.method, route: ctx._matchedRoute });
      writeProblem(ctx, {
        status: 500,
        code: 'INTERNAL_ERROR',
        title: 'Internal error',
        detail: 'the request could not be processed; it is safe to retry',
      });
    }
  };
}

/**
 * Outermost middleware of a public server: a request no route answered (404), or that a router
 * answered with a bare 405/501 (a method it does not serve, including unknown ones such as PROPFIND),
 * gets a problem document instead of Koa's plain-text default. Unknown methods answer 405, not 501: a
 * client sending an odd method is a client error, and hostile input never earns a 5xx.
 */
export function unmatchedRequestProblems(): Middleware {
  return async (ctx, next) => {
    await next();
    // A router's allowedMethods() turns any 404 of a later middleware into 501 for methods it does not
    // know (PROPFIND, ...), keeping that middleware's body: the status is the one to fix.
    if (ctx.body != null && ctx.status !== 501) return;
    if (ctx.status === 404)
      writeProblem(ctx, { status: 404, code: 'NOT_FOUND', title: 'Not found', detail: 'no such resource' });
    else if (ctx.status === 405 || ctx.status === 501)
      writeProblem(ctx, {
        status: 405,
        code: 'METHOD_NOT_ALLOWED',
        title: 'Method not allowed',
        detail: 'see the Allow header',
      });
  };
}
