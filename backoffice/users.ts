/**
 * Back-office users and their access tokens: created by ops (`payments-ops users create`, or a seed
 * script), never through the HTTP API. A token is returned once and only its hash is kept. Disabling a
 * user revokes every token at once; users are never deleted, so the audit log always names someone.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { PlatformError } from '../core/errors.js';
import { mintAccessToken } from './access-token.js';
import { roleProblem, type UserKind } from './permissions.js';

export class BackofficeUserError extends PlatformError {
  constructor(message: string) {
    super('BACKOFFICE_USER_INVALID', message, { retryable: false });
  }
}

export interface NewBackofficeUser {
  email: string;
  kind: UserKind;
  /** Required for merchant users, forbidden for platform users. */
  merchantId?: string | null;
  roles: readonly string[];
  /** The first token's expiry (none when omitted). */
  tokenExpiresAt?: Date | null;
  tokenLabel?: string;
}

export interface IssuedToken {
  userId: string;
  tokenId: string;
  /** The bearer token; the only time it exists outside its holder. */
  token: string;
  expiresAt: Date | null;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/** Creates a user with a first access token. Throws BackofficeUserError for invalid input (unknown role, missing merchant, taken email). */
export async function createBackofficeUser(knex: Knex, input: NewBackofficeUser): Promise<IssuedToken> {
  const email = input.email.trim().toLowerCase();
  if (!EMAIL.test(email)) throw new BackofficeUserError(`"${input.email}" is not an email address`);
  if (input.kind !== 'merchant' && input.kind !== 'platform')
    throw new BackofficeUserError('kind must be merchant or platform');
  const problem = roleProblem(input.kind, input.roles);
  if (problem) throw new BackofficeUserError(problem);
  const merchantId = input.merchantId ?? null;
  if (input.kind === 'merchant' && !merchantId)
    throw new BackofficeUserError('a merchant user needs a merchant id');
  if (input.kind === 'platform' && merchantId)
    throw new BackofficeUserError('a platform user has no merchant id');
  return knex.transaction(async (trx) => {
    if (merchantId && !(await trx('merchants').where({ id: merchantId }).first('id')))
      throw new BackofficeUserError(`merchant ${merchantId} does not exist`);
    if (await trx('backoffice_users').whereRaw('lower(email) = ?', [email]).first('id'))
      throw new BackofficeUserError(`a back-office user with email ${email} already exists`);
    const userId = `bou_${randomBytes(8).toString('hex')}`;
    await trx('backoffice_users').insert({
      id: userId,
      email,
      kind: input.kind,
      merchant_id: merchantId,
      roles: JSON.stringify([...new Set(input.roles)]),
    });
    return insertToken(trx, userId, {
      expiresAt: input.tokenExpiresAt ?? null,
      label: input.tokenLabel ?? 'initial',
    });
  });
}

/** Issues another token for an active user (rotation: issue, switch, then revoke the old one). */
export async function issueAccessToken(
  knex: Knex,
  email: string,
  options: { expiresAt?: Date | null; label?: string } = {},
): Promise<IssuedToken> {
  return knex.transaction(async (trx) => {
    const user = await trx('backoffice_users')
      .whereRaw('lower(email) = ?', [email.trim().toLowerCase()])
      .first('id', 'disabled_at');
    if (!user) throw new BackofficeUserError(`no back-office user with email ${email}`);
    if (user.disabled_at) throw new BackofficeUserError(`back-office user ${email} is disabled`);
    return insertToken(trx, user.id as string, {
      expiresAt: options.expiresAt ?? null,
      label: options.label ?? null,
    });
  });
}

/** Disables a user and revokes all their tokens now. Returns false when there is no such user. */
export async function disableBackofficeUser(knex: Knex, email: string): Promise<boolean> {
  return knex.transaction(async (trx) => {
    const user = await trx('backoffice_users')
      .whereRaw('lower(email) = ?', [email.trim().toLowerCase()])
      .first('id');
    if (!user) return false;
    await trx('backoffice_users')
      .where({ id: user.id })
      .update({ disabled_at: trx.raw('coalesce(disabled_at, now())'), updated_at: trx.fn.now() });
    await trx('backoffice_access_tokens')
      .where({ user_id: user.id })
      .update({ revoked_at: trx.raw('least(revoked_at, now())') });
    return true;
  });
}

async function insertToken(
  trx: Knex.Transaction,
  userId: string,
  options: { expiresAt: Date | null; label: string | null },
): Promise<IssuedToken> {
  const { tokenId, token, tokenHash } = mintAccessToken();
  await trx('backoffice_access_tokens').insert({
    id: tokenId,
    user_id: userId,
    token_hash: tokenHash,
    label: options.label,
    expires_at: options.expiresAt,
  });
  return { userId, tokenId, token, expiresAt: options.expiresAt };
}
