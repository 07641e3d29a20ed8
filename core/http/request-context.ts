/**
 * Koa middleware giving every HTTP request an id: answered as `X-Request-Id` and carried by every log
 * line the request causes, however deep (core/log-context.ts). Routes add what they learn on the way
 * (`addToLogContext({ merchantId })`, `{ transactionId }`), so a support question that quotes a request
 * id finds all of its lines. The id is always ours: one sent by the client is not trusted (it would let
 * a caller forge or collide log correlations).
 */
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { withLogContext } from '../log-context.js';

export function requestContext(): Middleware {
  return (ctx, next) => {
    const requestId = randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    return withLogContext({ requestId }, () => next());
  };
}
