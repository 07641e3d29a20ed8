import { isIP } from 'node:net';

/**
 * SSRF protection for merchant-supplied webhook URLs. A URL is allowed only if every address its host
 * resolves to is a public unicast address; the request then connects to the checked address (no second
 * DNS lookup an attacker could rebind). Loopback may be allowed by configuration (tests, the local demo).
 */
export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'reserved';

export function classifyAddress(address: string): AddressClass {
  const version = isIP(address);
  if (version === 4) return classifyV4(address);
  if (version === 6) return classifyV6(address.toLowerCase());
  return 'reserved';
}

function classifyV4(address: string): AddressClass {
  const [a, b] = address.split('.').map(Number) as [number, number, number, number];
  if (address === '169.254.169.254') return 'metadata';
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 100 && b >= 64 && b <= 127) return 'private'; // carrier-grade NAT
  if (a === 0 || a >= 224 || (a === 192 && b === 0) || (a === 198 && (b === 18 || b === 19)))
    return 'reserved';
  return 'public';
}

function classifyV6(address: string): AddressClass {
  if (address === '::1') return 'loopback';
  if (address === '::') return 'reserved';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return classifyV4(mapped[1]!);
  if (address === 'fd00:ec2::254') return 'metadata';
  if (/^f[cd]/.test(address)) return 'private';
  if (/^fe[89ab]/.test(address)) return 'link-local';
  if (/^ff/.test(address) || address.startsWith('2001:db8') || address.startsWith('64:ff9b'))
    return 'reserved';
  return 'public';
}

export interface UrlPolicy {
  /** Allow http:// (not only https://). */
  allowHttp: boolean;
  /** Address classes allowed besides public (e.g. ['loopback'] for tests and the local demo). */
  allowAddresses: readonly AddressClass[];
}

export class ForbiddenUrlError extends Error {
  readonly code = 'WEBHOOK_URL_FORBIDDEN';
}

/** Resolves and checks a URL; returns the address to connect to. Throws ForbiddenUrlError. */
export async function resolveAllowedTarget(
  rawUrl: string,
  policy: UrlPolicy,
  lookup: (host: string) => Promise<Array<{ address: string; family: number }>>,
): Promise<{ url: URL; address: string; family: number }> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new ForbiddenUrlError('webhook URL does not parse');
  }
  if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:')) {
    throw new ForbiddenUrlError(`webhook URL scheme ${url.protocol} is not allowed`);
  }
  if (url.username || url.password) throw new ForbiddenUrlError('webhook URL must not carry credentials');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host);
  if (addresses.length === 0) throw new ForbiddenUrlError(`webhook host ${host} does not resolve`);
  for (const { address } of addresses) {
    const kind = classifyAddress(address);
    if (kind !== 'public' && !policy.allowAddresses.includes(kind)) {
      throw new ForbiddenUrlError(`webhook host ${host} resolves to a ${kind} address`);
    }
  }
  return { url, address: addresses[0]!.address, family: addresses[0]!.family };
}
