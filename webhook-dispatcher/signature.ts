import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-signature` carries one
 * `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` per active secret, space-separated, so
 * merchants verify with any stock library during secret rotation. Secrets are `whsec_<base64 key>`.
 */
export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

const PREFIX = 'whsec_';

export function signWebhook(input: {
  id: string;
  timestamp: Date;
  body: string;
  secrets: readonly string[];
}): SignedHeaders {
  if (input.secrets.length === 0) throw new Error('at least one webhook secret is required to sign');
  const seconds = Math.floor(input.timestamp.getTime() / 1000).toString();
  const signed = `${input.id}.${seconds}.${input.body}`;
  const signatures = input.secrets.map((secret) => {
    const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
    return `v1,${createHmac('sha256', key).update(signed).digest('base64')}`;
  });
  return { 'webhook-id': input.id, 'webhook-timestamp': seconds, 'webhook-signature': signatures.join(' ') };
}

/** A new random signing secret in the Standard Webhooks format. */
export function newWebhookSecret(random: (size: number) => Buffer): string {
  return `${PREFIX}${random(32).toString('base64')}`;
}
