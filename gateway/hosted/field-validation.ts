/**
 * Server-side check of what the customer typed against the fields the orchestrator asked for. The
 * browser runs the same rules first (see form-fields.ts); this is the one that counts. Errors name the
 * field and a stable code, never the value. Pure.
 */
import type { CustomerFieldSpec } from '../../schemas/events.js';
import { compilePattern, fieldKind } from './form-fields.js';

export type FieldErrorCode =
  'required' | 'unknown_field' | 'not_text' | 'too_long' | 'invalid_format' | 'pattern_mismatch';

export interface FieldError {
  field: string;
  code: FieldErrorCode;
}

export type ValuesCheck = { ok: true; values: Record<string, string> } | { ok: false; errors: FieldError[] };

/**
 * Refused in every kind, whatever its own format check says (an email pattern like `[^\s@]+` lets them
 * through): control characters, NUL among them, and lone surrogates cannot be stored (PostgreSQL jsonb
 * refuses `\u0000` and unpaired surrogate escapes) and have no business in a customer's details.
 */
const UNSTORABLE = /[\p{Cc}\p{Cs}]/u;

/**
 * Validates and normalises submitted values: every key must be a requested field, every value a
 * string; values are trimmed, empty optional fields are dropped, required ones must be present and each
 * value must fit its kind and the spec's pattern (anchored, HTML semantics).
 */
export function validateCustomerValues(
  specs: readonly CustomerFieldSpec[],
  input: Readonly<Record<string, unknown>>,
): ValuesCheck {
  const errors: FieldError[] = [];
  const bySpec = new Map(specs.map((spec) => [spec.name, spec]));
  for (const name of Object.keys(input)) {
    if (!bySpec.has(name)) errors.push({ field: name.slice(0, 64), code: 'unknown_field' });
  }
  const values: Record<string, string> = {};
  for (const spec of specs) {
    const raw = Object.hasOwn(input, spec.name) ? input[spec.name] : undefined;
    if (raw !== undefined && raw !== null && typeof raw !== 'string') {
      errors.push({ field: spec.name, code: 'not_text' });
      continue;
    }
    const value = (raw ?? '').trim();
    if (value === '') {
      if (spec.required) errors.push({ field: spec.name, code: 'required' });
      continue;
    }
    const kind = fieldKind(spec.kind);
    if (value.length > kind.maxLength) {
      errors.push({ field: spec.name, code: 'too_long' });
      continue;
    }
    if (UNSTORABLE.test(value) || !kind.accepts(value)) {
      errors.push({ field: spec.name, code: 'invalid_format' });
      continue;
    }
    const pattern = compilePattern(spec.pattern);
    if (pattern && !pattern.test(value)) {
      errors.push({ field: spec.name, code: 'pattern_mismatch' });
      continue;
    }
    values[spec.name] = kind.normalize(value);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
}
