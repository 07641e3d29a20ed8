/**
 * CSRF defence for the hosted page's one state-changing request. The unguessable token in the path is
 * the credential (there are no cookies), and on top of it a submission must come from the page itself:
 * browsers send `Origin` on every POST, so a request whose Origin is not ours (or is missing, or
 * "null") is refused. JSON bodies also force a CORS preflight cross-origin, which we never answer. Pure.
 */

/** The origin (`scheme://host[:port]`) of a URL, or null when it is not an http(s) URL. */
export function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : null;
  } catch {
    return null;
  }
}

/**
 * True when the request comes from one of `allowedOrigins` (the configured public base URL and the
 * origin the request was addressed to). Without an Origin header, only a browser's
 * `Sec-Fetch-Site: same-origin` vouches for it.
 */
export function isSameOriginRequest(
  headers: { origin: string | undefined; secFetchSite: string | undefined },
  allowedOrigins: readonly (string | null)[],
): boolean {
  if (headers.origin !== undefined && headers.origin !== '') {
    const origin = originOf(headers.origin);
    return origin !== null && allowedOrigins.includes(origin);
  }
  return headers.secFetchSite === 'same-origin';
}
