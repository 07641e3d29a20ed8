/**
 * Koa middleware that admits a request only with a valid merchant API key in `Authorization: Bearer
 * <key>` and puts the merchant on `ctx.state.merchant`. Every refusal is the same 401 (a disabled
 * merchant's valid key gets 403), so a caller learns nothing about keys it does not hold. Logs carry the
 * public key id and the reason, never the key.
 */
import type { Context, Middleware } from 'koa';
import type { Knex } from 'knex';
import { withDatabaseDeadline } from '../../core/db/availability.js';
import { ProblemError } from '../../core/http/problem.js';
import { addToLogContext } from '../../core/log-context.js';
import type { Logger } from '../../core/logger.js';
import { ApiKeyCache, authenticateApiKey, type AuthenticatedMerchant } from '../../core/merchants/index.js';
import type { MerchantApiObserver } from './metrics.js';
import { problems } from './problems.js';

const CHALLENGE = 'Bearer realm="merchant-api"';

export function merchantAuthentication(options: {
  knex: Knex;
  logger: Logger;
  databaseTimeoutMs: number;
  observer: MerchantApiObserver;
  /** See core/merchants/api-key-cache.ts; 0 asks the database on every request. */
  apiKeyCacheMs: number;
}): Middleware {
  const keys = new ApiKeyCache((presented) => authenticateApiKey(options.knex, presented), {
    ttlMs: options.apiKeyCacheMs,
  });
  return async (ctx, next) => {
    const presented = /^Bearer +(\S+) *$/i.exec(ctx.get('authorization'))?.[1];
    if (presented === undefined) {
      options.observer.authFailure('missing');
      ctx.set('WWW-Authenticate', CHALLENGE);
      throw new ProblemError(problems.unauthorized());
    }
    const result = await withDatabaseDeadline(() => keys.authenticate(presented), options.databaseTimeoutMs);
    if (!result.ok) {
      options.observer.authFailure(result.reason);
      options.logger.warn('merchant API key refused', {
        reason: result.reason,
        keyId: result.keyId,
        ip: ctx.ip,
      });
      if (result.reason === 'merchant-disabled') throw new ProblemError(problems.merchantDisabled());
      ctx.set('WWW-Authenticate', `${CHALLENGE}, error="invalid_token"`);
      throw new ProblemError(problems.unauthorized());
    }
    ctx.state.merchant = result.merchant;
    addToLogContext({ merchantId: result.merchant.merchantId });
    await next();
  };
}

/** The merchant `merchantAuthentication` admitted. */
export function merchantOf(ctx: Context): AuthenticatedMerchant {
  const merchant = ctx.state.merchant as AuthenticatedMerchant | undefined;
  if (!merchant) throw new Error('route is missing merchantAuthentication');
  return merchant;
}
