import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * Merchant webhook signing secrets in the Standard Webhooks format (`whsec_` + base64 of 32 random
 * bytes; the spec asks for 24 to 64). They are stored as-is because signing needs them. Rotation adds a
 * new secret and lets the old ones expire after an overlap, during which webhooks carry one signature
 * per active secret, so merchants can switch their verifier without missing a delivery.
 */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** Default time a rotated-out secret keeps signing. */
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 60 * 60;

export function newWebhookSecret(random: (size: number) => Buffer = randomBytes): string {
  return `${WEBHOOK_SECRET_PREFIX}${random(32).toString('base64')}`;
}

/** Stores a new active secret for the merchant and returns it. */
export async function addWebhookSecret(db: Knex | Knex.Transaction, merchantId: string): Promise<string> {
  const secret = newWebhookSecret();
  await db('merchant_webhook_secrets').insert({ merchant_id: merchantId, secret });
  return secret;
}

/**
 * Replaces the merchant's secrets: the old ones expire after `overlapSeconds` at the latest (0 = at
 * once, for a leaked secret), the new one is active at once. Returns it (shown to the merchant once).
 */
export async function rotateWebhookSecret(
  knex: Knex,
  merchantId: string,
  options: { overlapSeconds?: number } = {},
): Promise<string> {
  const overlap = options.overlapSeconds ?? DEFAULT_ROTATION_OVERLAP_SECONDS;
  return knex.transaction(async (trx) => {
    // Every older secret expires by then (least() ignores nulls): overlap 0 is an emergency cut-off.
    await trx('merchant_webhook_secrets')
      .where({ merchant_id: merchantId })
      .update({ expires_at: trx.raw(`least(expires_at, now() + make_interval(secs => ?))`, [overlap]) });
    return addWebhookSecret(trx, merchantId);
  });
}

/** Secrets that sign the merchant's webhooks now, newest first. */
export async function activeWebhookSecrets(
  db: Knex | Knex.Transaction,
  merchantId: string,
): Promise<string[]> {
  const rows = (await db('merchant_webhook_secrets')
    .where({ merchant_id: merchantId })
    .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()))
    .orderBy('id', 'desc')
    .select('secret')) as Array<{ secret: string }>;
  return rows.map((row) => row.secret);
}
