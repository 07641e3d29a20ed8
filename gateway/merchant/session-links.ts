import {
  deriveSessionToken,
  hashSessionToken,
  hostedPaymentUrl,
  recoverSessionToken,
} from '../../core/transactions/session-token.js';

/**
 * Hosted payment links whose tokens are derived, not stored: token = HMAC(secret, session id), only its
 * SHA-256 goes to payment_sessions.token_hash. An idempotent replay recomputes the same link from the
 * stored session id (see docs/decisions/0012-merchant-gateway.md). Secrets are newest first; new
 * sessions use the first, replays find whichever secret minted theirs.
 */
export class SessionLinks {
  constructor(
    private readonly secrets: readonly string[],
    private readonly publicBaseUrl: string,
  ) {
    if (secrets.length === 0) throw new Error('SessionLinks needs at least one secret');
  }

  /** The token hash to store for a new session. */
  tokenHashFor(sessionId: string): string {
    return hashSessionToken(deriveSessionToken(this.secrets[0]!, sessionId));
  }

  /** The hosted URL of a stored session, or null when no configured secret minted it. */
  urlFor(sessionId: string, storedTokenHash: string): string | null {
    const token = recoverSessionToken(this.secrets, sessionId, storedTokenHash);
    return token === null ? null : hostedPaymentUrl(this.publicBaseUrl, token);
  }
}
