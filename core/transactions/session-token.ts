import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * Hosted payment page tokens: 32 bytes, base64url, in the hosted URL `/pay/<token>` — random
 * (`newSessionToken`) or derived from a server secret (`deriveSessionToken`, below). Only the SHA-256 is
 * stored (payment_sessions.token_hash), so a database leak does not leak live payment links.
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

/**
 * A session's token derived from a server secret: HMAC-SHA256(secret, session id), base64url (the same
 * 43-character shape as `newSessionToken`). The Merchant Gateway uses it so an idempotent replay of a
 * deposit can answer the same hosted URL although only the token's hash is stored: the token is
 * recomputed, never read back. Knowing a session id (it is on the event stream) is useless without the secret.
 */
export function deriveSessionToken(secret: string, sessionId: string): string {
  return createHmac('sha256', secret)
    .update(`payment-session-token:v1:${sessionId}`, 'utf8')
    .digest('base64url');
}

/**
 * Recomputes the token of a stored session: tries each configured secret (newest first, several during
 * a rotation) and returns the token whose hash is the stored one, or null when none matches (the session
 * was minted with a secret that is no longer configured).
 */
export function recoverSessionToken(
  secrets: readonly string[],
  sessionId: string,
  storedTokenHash: string,
): string | null {
  for (const secret of secrets) {
    const token = deriveSessionToken(secret, sessionId);
    if (hashSessionToken(token) === storedTokenHash) return token;
  }
  return null;
}
