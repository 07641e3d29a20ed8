/**
 * Hostile input for the fuzzing suites, as fast-check arbitraries: strings built from the characters
 * that break naive code (NUL and other controls PostgreSQL text refuses, lone surrogates JSON and jsonb
 * disagree about, bidi overrides, BOMs, line separators), JSON documents of the wrong types and depths,
 * byte sequences that are not UTF-8 (overlong forms, encoded surrogates), and header values a real
 * client would never send. One place, so every endpoint is attacked with the same vocabulary.
 */
import fc from 'fast-check';

/** Characters each of which has broken a parser, a database column or a log line somewhere. */
export const HOSTILE_CHARACTERS = [
  '\u0000', // NUL: PostgreSQL text and jsonb refuse it
  '\u0001',
  '\u001b', // ESC: terminal injection in logs
  '\u007f',
  '\u0085', // NEL
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  '\ud83d', // the first half of an emoji, alone
  '\u202e', // RIGHT-TO-LEFT OVERRIDE
  '\u200f', // RIGHT-TO-LEFT MARK
  '\u2066', // LEFT-TO-RIGHT ISOLATE
  '\u200b', // ZERO WIDTH SPACE
  '\ufeff', // BOM
  '\u2028', // LINE SEPARATOR (breaks JS string literals)
  '\u2029',
  '\ufffd',
  '\uffff', // a noncharacter
  '\u00a0',
  'e\u0301', // combining accent
  '😀',
  '𝒳',
  'ﷺ',
  '\n',
  '\r',
  '\t',
  '"',
  "'",
  '\\',
  '/',
  '<',
  '>',
  '&',
  '%',
  '%00',
  '${',
  '{{',
  ' ',
] as const;

const plainCharacter = fc.constantFrom(...'abcXYZ019@.-_:+'.split(''));

/** One unit of a hostile string: a hostile character, any code point, or something plain. */
const hostileUnit = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_CHARACTERS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: plainCharacter },
);

/** A string mixing hostile characters with plain ones (never longer than `maxLength` units). */
export function hostileString(maxLength = 40): fc.Arbitrary<string> {
  return fc.string({ unit: hostileUnit, maxLength });
}

/** Keys that trip prototype-pollution bugs, plus hostile and plain ones. */
export const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', '$where'),
  hostileString(12),
);

/** Any JSON value (wrong types everywhere), with hostile strings and keys, nested a few levels. */
export const hostileJsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.constantFrom(0, -0, 1, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 999_999_999_999, 1e-7),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    hostileString(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** JSON text nested `depth` levels deep (arrays or objects): recursion limits of parsers and walkers. */
export function deeplyNested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Text that is not JSON, or JSON a lenient parser might accept differently. */
export const malformedJsonText = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '{',
    '}',
    '{"a":1,}',
    "{'a':1}",
    '{"a":1}{"a":2}',
    'NaN',
    'Infinity',
    'undefined',
    '1e999999',
    '[1,2',
    '"\\ud800"',
    '"\\u0000"',
    '{"a":"\\x00"}',
    '\ufeff{}',
    '{"__proto__":{"admin":true}}',
    '{"a":1,"a":2}',
    'null',
    'true',
    '[]',
    '0',
    '"text"',
  ),
  fc.string({ unit: hostileUnit, maxLength: 60 }),
  fc.integer({ min: 50, max: 20_000 }).map((depth) => deeplyNested(depth, 'array')),
  fc.integer({ min: 50, max: 5_000 }).map((depth) => deeplyNested(depth, 'object')),
);

/** Byte sequences that are not valid UTF-8: overlong forms, UTF-8-encoded surrogates, stray bytes. */
export const INVALID_UTF8 = [
  [0xc0, 0xaf], // overlong "/"
  [0xc0, 0x80], // overlong NUL (Modified UTF-8)
  [0xe0, 0x80, 0xaf], // overlong "/" (3 bytes)
  [0xf0, 0x80, 0x80, 0xaf], // overlong "/" (4 bytes)
  [0xed, 0xa0, 0x80], // an encoded high surrogate (CESU-8)
  [0xed, 0xbf, 0xbf], // an encoded low surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xe2, 0x82], // truncated
].map((bytes) => Buffer.from(bytes));

/** A JSON body whose string content contains invalid UTF-8 bytes. */
export function jsonWithInvalidUtf8(prefix: string, bytes: Buffer, suffix: string): Buffer {
  return Buffer.concat([Buffer.from(prefix, 'utf8'), bytes, Buffer.from(suffix, 'utf8')]);
}

/** Content types a JSON endpoint must refuse or handle: wrong types, odd parameters and spellings. */
export const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json;charset="UTF-8"',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json, text/plain',
  'application/json; boundary=----x',
  'application/problem+json',
  'application/merge-patch+json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'text/plain',
  'text/json',
  'application/jsonp',
  '*/*',
  '',
  ';',
  'application/json\u00a0',
);

/** Authorization headers that must never authenticate (for any key the test holds, see `mangledKey`). */
export const badAuthorization = fc.oneof(
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'Bearer  ',
    'Basic dXNlcjpwYXNz',
    'Digest username="x"',
    'Token abc',
    'bearer',
    'Bearer null',
    'Bearer undefined',
    'Bearer [object Object]',
    "Bearer ' OR '1'='1",
    'Bearer %00',
    'Bearer ../../etc/passwd',
    'Bearer a b',
    'Negotiate YII=',
    'AWS4-HMAC-SHA256 Credential=x',
  ),
  // Any byte an HTTP client can put in a header value (node:http refuses other control characters).
  fc
    .string({ unit: 'binary-ascii', maxLength: 40 })
    .map((s) => `Bearer ${s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '')}`),
  fc.integer({ min: 4_000, max: 12_000 }).map((n) => `Bearer ${'k'.repeat(n)}`),
);

/** Variants of a real key that must not authenticate: truncated, extended, case-flipped, one character changed. */
export function mangledKey(key: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.integer({ min: 0, max: key.length - 1 }).map((n) => key.slice(0, n)),
    fc.constantFrom(`${key}x`, `${key}=`, key.toUpperCase(), ` ${key}x`),
    fc
      .tuple(fc.integer({ min: 0, max: key.length - 1 }), fc.constantFrom('0', 'a', 'Z', '_', '-'))
      .filter(([i, c]) => key[i] !== c)
      .map(([i, c]) => `${key.slice(0, i)}${c}${key.slice(i + 1)}`),
  );
}

/** A path segment a client could put in a URL: hostile text, percent-escapes valid and invalid, dots. */
export const hostilePathSegment = fc.oneof(
  fc.constantFrom(
    '%',
    '%Z',
    '%E0%A4%A',
    '%00',
    '%2F',
    '..',
    '.',
    '%2e%2e',
    '%C0%AF',
    '%ED%A0%80',
    '%FF',
    '~',
  ),
  hostileString(30).map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, 'x'))),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 120 }).map((s) => encodeURIComponent(s)),
  fc.integer({ min: 200, max: 4_000 }).map((n) => 'a'.repeat(n)),
);
