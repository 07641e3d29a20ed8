/**
 * Which URLs a merchant may give us (webhook and return URLs): absolute https, no credentials, bounded
 * length. Plain http only for loopback hosts, and only when the operator allows it for local development
 * (MERCHANT_API_ALLOW_HTTP_LOOPBACK). Where a webhook URL actually resolves (private networks, DNS
 * rebinding) is checked at delivery time by the webhook dispatcher's SSRF guard, not here. Pure.
 */
export const MAX_URL_LENGTH = 2048;

export interface UrlPolicy {
  allowHttpLoopback: boolean;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The URL parser forgives these (it percent-encodes or drops them), but the URL is stored as sent:
 * NUL and lone surrogates cannot be stored (PostgreSQL text/jsonb refuse them) and CR/LF would end up
 * in a Location header. Refused like in every other text field (field-errors.ts).
 */
const UNSAFE_CHARACTERS = /[\p{Cc}\p{Cs}]/u;

/** Null when the URL is acceptable, otherwise what is wrong with it (for the field error). */
export function merchantUrlProblem(value: string, policy: UrlPolicy): string | null {
  if (value.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  if (UNSAFE_CHARACTERS.test(value)) return 'must not contain control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not contain credentials';
  if (url.protocol === 'https:') return url.hostname === '' ? 'must name a host' : null;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) {
    return policy.allowHttpLoopback
      ? null
      : 'must use https (http is accepted for localhost only when MERCHANT_API_ALLOW_HTTP_LOOPBACK is enabled)';
  }
  return 'must use https';
}
