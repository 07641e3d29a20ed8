/**
 * Who is calling: `Authorization: Bearer pbo_...` checked against backoffice_access_tokens. A token is
 * accepted only when its secret matches, it is neither revoked nor expired, and its user is not
 * disabled. Every refusal is the same 401, so a caller learns nothing about tokens it does not hold;
 * logs carry the public token id and the reason, never the token.
 */
import type { Context, Middleware } from 'koa';
import type { Knex } from 'knex';
import { withDatabaseDeadline } from '../core/db/availability.js';
import { ProblemError } from '../core/http/problem.js';
import type { Logger } from '../core/logger.js';
import { accessTokenId, accessTokenMatches } from './access-token.js';
import { permissionsOf, type UserKind } from './permissions.js';
import type { Principal } from './principal.js';
import { problems } from './problems.js';

export type TokenCheck =
  | { ok: true; principal: Principal }
  | {
      ok: false;
      reason: 'malformed' | 'unknown-token' | 'wrong-secret' | 'revoked' | 'expired' | 'user-disabled';
      tokenId: string | null;
    };

/** `last_used_at` is refreshed at most this often, so authentication is not a write per request. */
const LAST_USED_RESOLUTION_SECONDS = 60;

/** Checks a presented bearer token. Never throws for a bad token; only on database errors. */
export async function authenticateAccessToken(knex: Knex, presented: string): Promise<TokenCheck> {
  const tokenId = accessTokenId(presented);
  if (tokenId === null) return { ok: false, reason: 'malformed', tokenId: null };
  const row = (await knex('backoffice_access_tokens as t')
    .join('backoffice_users as u', 'u.id', 't.user_id')
    .where('t.id', tokenId)
    .first(
      't.token_hash',
      'u.id as user_id',
      'u.email',
      'u.kind',
      'u.merchant_id',
      'u.roles',
      knex.raw('(u.disabled_at is not null) as disabled'),
      knex.raw('(t.revoked_at is not null and t.revoked_at <= now()) as revoked'),
      knex.raw('(t.expires_at is not null and t.expires_at <= now()) as expired'),
      knex.raw(
        `(t.last_used_at is null or t.last_used_at < now() - interval '${LAST_USED_RESOLUTION_SECONDS} seconds') as stale`,
      ),
    )) as
    | {
        token_hash: string;
        user_id: string;
        email: string;
        kind: UserKind;
        merchant_id: string | null;
        roles: unknown;
        disabled: boolean;
        revoked: boolean;
        expired: boolean;
        stale: boolean;
      }
    | undefined;
  if (!row) return { ok: false, reason: 'unknown-token', tokenId };
  // The secret first: without it, nobody learns whether a token id is revoked, expired or disabled.
  if (!accessTokenMatches(presented, row.token_hash)) return { ok: false, reason: 'wrong-secret', tokenId };
  if (row.revoked) return { ok: false, reason: 'revoked', tokenId };
  if (row.expired) return { ok: false, reason: 'expired', tokenId };
  if (row.disabled) return { ok: false, reason: 'user-disabled', tokenId };
  if (row.stale)
    await knex('backoffice_access_tokens').where({ id: tokenId }).update({ last_used_at: knex.fn.now() });
  const roles = Array.isArray(row.roles) ? row.roles.filter((r): r is string => typeof r === 'string') : [];
  return {
    ok: true,
    principal: {
      userId: row.user_id,
      email: row.email,
      kind: row.kind,
      merchantId: row.kind === 'merchant' ? row.merchant_id : null,
      roles,
      permissions: permissionsOf(row.kind, roles),
      tokenId,
    },
  };
}

const CHALLENGE = 'Bearer realm="backoffice"';

/** Admits a request only with a valid token; puts the caller on `ctx.state.principal`. */
export function backofficeAuthentication(options: {
  knex: Knex;
  logger: Logger;
  databaseTimeoutMs: number;
}): Middleware {
  return async (ctx, next) => {
    const presented = /^Bearer +(\S+) *$/i.exec(ctx.get('authorization'))?.[1];
    if (presented === undefined) {
      ctx.set('WWW-Authenticate', CHALLENGE);
      throw new ProblemError(problems.unauthorized());
    }
    const result = await withDatabaseDeadline(
      () => authenticateAccessToken(options.knex, presented),
      options.databaseTimeoutMs,
    );
    if (!result.ok) {
      options.logger.warn('back-office token refused', {
        reason: result.reason,
        tokenId: result.tokenId,
        ip: ctx.ip,
      });
      ctx.set('WWW-Authenticate', `${CHALLENGE}, error="invalid_token"`);
      throw new ProblemError(problems.unauthorized());
    }
    ctx.state.principal = result.principal;
    await next();
  };
}

/** The caller `backofficeAuthentication` admitted. */
export function principalOf(ctx: Context): Principal {
  const principal = ctx.state.principal as Principal | undefined;
  if (!principal) throw new Error('route is missing backofficeAuthentication');
  return principal;
}
