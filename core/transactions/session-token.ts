import { createHash, randomBytes } from 'node:crypto';

/**
 * Hosted payment page tokens: 32 random bytes, base64url, in the hosted URL `/pay/<token>`. Only the
 * SHA-256 is stored (payment_sessions.token_hash), so a database leak does not leak live payment links.
 */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Cheap shape check before touching the database: 43 base64url characters. */
export function isWellFormedSessionToken(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}

export function hostedPaymentUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/pay/${token}`;
}
