/**
 * Back-office access tokens: `pbo_<token id>_<secret>`, e.g. `pbo_3f9c0a1b2c3d4e5f_<64 hex>`.
 * The token id (16 hex) is public: the key of backoffice_access_tokens, safe in logs and the audit
 * log. The secret is 32 random bytes; only SHA-256 of the whole token is stored — a fast hash is right
 * for a 256-bit random secret (nothing to guess), and lookup by id makes the check one constant-time
 * comparison. The distinctive prefix lets secret scanners find leaked tokens. Pure: no I/O.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const ACCESS_TOKEN_PREFIX = 'pbo_';

const TOKEN = /^(pbo_[0-9a-f]{16})_([0-9a-f]{64})$/;

export interface MintedAccessToken {
  tokenId: string;
  /** The full token, shown once. */
  token: string;
  /** What is stored. */
  tokenHash: string;
}

export function mintAccessToken(random: (size: number) => Buffer = randomBytes): MintedAccessToken {
  const tokenId = `${ACCESS_TOKEN_PREFIX}${random(8).toString('hex')}`;
  const token = `${tokenId}_${random(32).toString('hex')}`;
  return { tokenId, token, tokenHash: hashAccessToken(token) };
}

/** The token id of a well-formed token, or null (checked before any database lookup). */
export function accessTokenId(presented: string): string | null {
  return TOKEN.exec(presented)?.[1] ?? null;
}

export function hashAccessToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function accessTokenMatches(presented: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, 'hex');
  const actual = Buffer.from(hashAccessToken(presented), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
