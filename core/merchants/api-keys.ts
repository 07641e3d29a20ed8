import type { Knex } from 'knex';
import { apiKeyId, apiKeyMatches, mintApiKey } from './api-key-format.js';

/**
 * Issuing, revoking and checking merchant API keys (format in api-key-format.ts). A key is accepted only
 * when its secret matches, it is not revoked (a revocation may be scheduled: `revoked_at` in the future
 * keeps the key working until then, for rotation) and its merchant is active.
 */

export interface AuthenticatedMerchant {
  merchantId: string;
  keyId: string;
  /** Where webhooks go when a deposit names no URL of its own. */
  defaultWebhookUrl: string | null;
}

export type AuthenticationResult =
  | { ok: true; merchant: AuthenticatedMerchant }
  | {
      ok: false;
      /** For logs and metrics only; callers answer every failure but `merchant-disabled` the same way. */
      reason: 'malformed' | 'unknown-key' | 'wrong-secret' | 'revoked' | 'merchant-disabled';
      keyId: string | null;
    };

/** `last_used_at` is refreshed at most this often, so authentication is not a write per request. */
const LAST_USED_RESOLUTION_SECONDS = 60;

/** Creates a key for the merchant; the returned `apiKey` is the only time the secret exists outside the caller. */
export async function issueApiKey(
  db: Knex | Knex.Transaction,
  merchantId: string,
  options: { label?: string } = {},
): Promise<{ keyId: string; apiKey: string }> {
  const { keyId, apiKey, keyHash } = mintApiKey();
  await db('merchant_api_keys').insert({
    id: keyId,
    merchant_id: merchantId,
    key_hash: keyHash,
    label: options.label ?? null,
  });
  return { keyId, apiKey };
}

/** Revokes a key now, or at `at` (rotation grace period). An earlier revocation stays in force. */
export async function revokeApiKey(db: Knex | Knex.Transaction, keyId: string, at?: Date): Promise<boolean> {
  const updated = await db('merchant_api_keys')
    .where({ id: keyId })
    .update({
      // least() ignores nulls: the earlier of an existing revocation and this one.
      revoked_at: at ? db.raw('least(revoked_at, ?::timestamptz)', [at]) : db.raw('least(revoked_at, now())'),
    });
  return updated > 0;
}

/** Checks a presented key (the bearer token). Never throws for a bad key; throws only on database errors. */
export async function authenticateApiKey(knex: Knex, presented: string): Promise<AuthenticationResult> {
  const keyId = apiKeyId(presented);
  if (keyId === null) return { ok: false, reason: 'malformed', keyId: null };
  const row = (await knex('merchant_api_keys as k')
    .join('merchants as m', 'm.id', 'k.merchant_id')
    .where('k.id', keyId)
    .first(
      'k.key_hash',
      'm.id as merchant_id',
      'm.status',
      'm.default_webhook_url',
      knex.raw('(k.revoked_at is not null and k.revoked_at <= now()) as revoked'),
      knex.raw(
        `(k.last_used_at is null or k.last_used_at < now() - interval '${LAST_USED_RESOLUTION_SECONDS} seconds') as stale`,
      ),
    )) as
    | {
        key_hash: string;
        merchant_id: string;
        status: string;
        default_webhook_url: string | null;
        revoked: boolean;
        stale: boolean;
      }
    | undefined;
  if (!row) return { ok: false, reason: 'unknown-key', keyId };
  // The secret is checked first: without it, nobody learns whether a key id is revoked or disabled.
  if (!apiKeyMatches(presented, row.key_hash)) return { ok: false, reason: 'wrong-secret', keyId };
  if (row.revoked) return { ok: false, reason: 'revoked', keyId };
  if (row.status !== 'active') return { ok: false, reason: 'merchant-disabled', keyId };
  if (row.stale) await knex('merchant_api_keys').where({ id: keyId }).update({ last_used_at: knex.fn.now() });
  return {
    ok: true,
    merchant: { merchantId: row.merchant_id, keyId, defaultWebhookUrl: row.default_webhook_url },
  };
}
