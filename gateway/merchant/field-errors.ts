/**
 * A tiny collector of field errors for strict request validation. Each error points at the offending
 * member with a JSON Pointer in the form of RFC 9457's example (`#/amount/value`) and says what is
 * expected; all errors of a request are reported at once. Pure.
 */
export type FieldError =
  /** A member of the JSON body. */
  | { pointer: string; detail: string }
  /** A query parameter. */
  | { parameter: string; detail: string };

/** No control characters (including NUL, which PostgreSQL text cannot hold) and no lone surrogates. */
const UNSAFE_TEXT = /[\p{Cc}\p{Cs}]/u;

export class FieldErrors {
  readonly errors: FieldError[] = [];

  add(pointer: string, detail: string): void {
    this.errors.push({ pointer, detail });
  }

  get ok(): boolean {
    return this.errors.length === 0;
  }

  /** The value as a plain object, reporting members it does not allow; undefined (and reported) otherwise. */
  object(value: unknown, pointer: string, allowed: readonly string[]): Record<string, unknown> | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.add(pointer, 'must be an object');
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.add(`${pointer}/${escapePointer(key)}`, 'is not a known field');
    }
    return value as Record<string, unknown>;
  }

  /** A string of `minLength`..`maxLength` characters without control characters, matching `pattern`. */
  text(
    value: unknown,
    pointer: string,
    rules: { maxLength: number; minLength?: number; pattern?: RegExp; patternHint?: string },
  ): string | undefined {
    const minLength = rules.minLength ?? 1;
    if (typeof value !== 'string') return this.fail(pointer, 'must be a string');
    if (value.length < minLength || value.length > rules.maxLength)
      return this.fail(pointer, `must be ${minLength} to ${rules.maxLength} characters long`);
    if (UNSAFE_TEXT.test(value)) return this.fail(pointer, 'must not contain control characters');
    if (minLength > 0 && value.trim() === '') return this.fail(pointer, 'must not be blank');
    if (rules.pattern && !rules.pattern.test(value))
      return this.fail(pointer, rules.patternHint ?? `must match ${rules.pattern.source}`);
    return value;
  }

  required(container: Record<string, unknown>, key: string, pointer: string): unknown {
    const value = container[key];
    if (value === undefined || value === null) this.add(`${pointer}/${key}`, 'is required');
    return value ?? undefined;
  }

  private fail(pointer: string, detail: string): undefined {
    this.add(pointer, detail);
    return undefined;
  }
}

/** RFC 6901 escaping of one reference token. */
export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
