/**
 * Reading a provider's JSON defensively, for the wire-format modules: an answer or callback body is
 * untrusted input, so every member is checked before use and anything unexpected reads as absent.
 * Pure.
 */
export type Json = Record<string, unknown>;

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as a JSON object; undefined when it is not UTF-8 JSON or not an object. */
export function parseObject(body: Buffer): Json | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A non-empty string, or null. */
export function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}
