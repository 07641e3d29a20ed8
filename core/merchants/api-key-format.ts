import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Merchant API keys: `psk_live_<key id>_<secret>`, e.g. `psk_live_3f9c0a1b2c3d4e5f_<64 hex>`.
 *
 * - `psk_live_<key id>` is public (the primary key of merchant_api_keys, safe in logs and lists); the
 *   distinctive prefix lets secret scanners find leaked keys ("psk" = platform secret key, not Stripe's
 *   `pk_` which means publishable; "live" leaves room for test-mode keys).
 * - the secret is 32 random bytes (hex: no `_`/`-`, so a double click selects the whole key).
 * - only SHA-256 of the whole key is stored; a fast hash is right for 256-bit random secrets (no
 *   dictionary to slow down), and lookup is by key id, so comparison is one constant-time equality.
 * Pure: no I/O.
 */
export const API_KEY_PREFIX = 'psk_live_';

const KEY = /^(psk_live_[0-9a-f]{16})_([0-9a-f]{64})$/;

export interface MintedApiKey {
  keyId: string;
  /** The full key, shown to the merchant once. */
  apiKey: string;
  /** What is stored: SHA-256 of the full key, hex. */
  keyHash: string;
}

export function mintApiKey(random: (size: number) => Buffer = randomBytes): MintedApiKey {
  const keyId = `${API_KEY_PREFIX}${random(8).toString('hex')}`;
  const apiKey = `${keyId}_${random(32).toString('hex')}`;
  return { keyId, apiKey, keyHash: hashApiKey(apiKey) };
}

/** The key id of a well-formed key, or null (checked before any database lookup). */
export function apiKeyId(presented: string): string | null {
  return KEY.exec(presented)?.[1] ?? null;
}

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

/** Constant-time comparison of the presented key's hash with the stored hash. */
export function apiKeyMatches(presented: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, 'hex');
  const actual = Buffer.from(hashApiKey(presented), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
