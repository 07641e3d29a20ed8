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
  if (version === 6) return classifyV6(address);
  return 'reserved';
}

function classifyV4(address: string): AddressClass {
  const [a, b, c] = address.split('.').map(Number) as [number, number, number, number];
  if (address === '169.254.169.254') return 'metadata';
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 100 && b >= 64 && b <= 127) return 'private'; // carrier-grade NAT
  if (
    a === 0 ||
    a >= 224 ||
    (a === 192 && b === 0) || // IETF protocol assignments, TEST-NET-1
    (a === 192 && b === 88 && c === 99) || // 6to4 relay anycast
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    (a === 198 && b === 51 && c === 100) || // TEST-NET-2
    (a === 203 && b === 0 && c === 113) // TEST-NET-3
  )
    return 'reserved';
  return 'public';
}

/**
 * IPv6, judged on its 128 bits rather than on its spelling: the URL parser and DNS answers write the
 * same address in several ways (`::ffff:127.0.0.1` is `::ffff:7f00:1`), and every form that embeds an
 * IPv4 address takes that address's class or, for the deprecated and translation forms, is refused.
 */
function classifyV6(address: string): AddressClass {
  const words = ipv6Words(address);
  if (!words) return 'reserved';
  const [w0, w1, w2, w3, w4, w5, w6, w7] = words as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const embeddedV4 = `${w6 >> 8}.${w6 & 0xff}.${w7 >> 8}.${w7 & 0xff}`;
  const zeroUpTo = (n: number) => words.slice(0, n).every((w) => w === 0);
  if (zeroUpTo(7) && w7 === 1) return 'loopback';
  if (zeroUpTo(8)) return 'reserved';
  if (zeroUpTo(5) && w5 === 0xffff) return classifyV4(embeddedV4); // IPv4-mapped ::ffff:a.b.c.d
  if (zeroUpTo(6)) return 'reserved'; // IPv4-compatible ::a.b.c.d (deprecated)
  if (zeroUpTo(4) && w4 === 0xffff && w5 === 0) return 'reserved'; // IPv4-translated ::ffff:0:a.b.c.d
  if (w0 === 0x64 && w1 === 0xff9b) return 'reserved'; // NAT64 64:ff9b::/96 and 64:ff9b:1::/48
  if (w0 === 0x2002) return 'reserved'; // 6to4: embeds an IPv4 address
  if (w0 === 0x2001 && w1 === 0) return 'reserved'; // Teredo: embeds an IPv4 address
  if (w0 === 0x2001 && w1 === 0xdb8) return 'reserved'; // documentation
  if (w0 === 0x100 && w1 === 0 && w2 === 0 && w3 === 0) return 'reserved'; // discard-only
  if (words.join(':') === AWS_METADATA_V6) return 'metadata'; // fd00:ec2::254
  if ((w0 & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((w0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((w0 & 0xffc0) === 0xfec0) return 'private'; // site-local (deprecated)
  if ((w0 & 0xff00) === 0xff00) return 'reserved'; // multicast
  return 'public';
}

const AWS_METADATA_V6 = [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254].join(':');

/** The eight 16-bit words of an IPv6 address (zone id dropped, embedded dotted IPv4 allowed), or null. */
function ipv6Words(address: string): number[] | null {
  const bare = address.split('%')[0]!.toLowerCase();
  let text = bare;
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (dotted) {
    if (isIP(dotted[2]!) !== 4) return null;
    const [a, b, c, d] = dotted[2]!.split('.').map(Number) as [number, number, number, number];
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').map((w) => (/^[0-9a-f]{1,4}$/.test(w) ? parseInt(w, 16) : NaN));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const words = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return words.some(Number.isNaN) ? null : words;
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
