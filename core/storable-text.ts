/**
 * Text PostgreSQL can store: `text` refuses NUL, and `jsonb` refuses both `\u0000` and unpaired
 * surrogate escapes, while JavaScript strings may hold either. Where the platform stores text it did not
 * choose (an error message quoting a poison message, a merchant's response body, broker headers from
 * another system), it is made storable first: each such character becomes U+FFFD. Pure.
 */
export function storableText(value: string): string {
  return value.replaceAll('\u0000', '\ufffd').replace(/\p{Cs}/gu, '\ufffd');
}
