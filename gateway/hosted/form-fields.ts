/**
 * Field kinds of the hosted form: how each CustomerFieldSpec `kind` is rendered (input type,
 * autocomplete, length limit) and checked on the server. The browser gets the rendering half of this
 * table through the state endpoint, so the client-side checks (type, required, pattern, maxlength) and
 * the server-side ones come from one place and never disagree. Pure.
 */
import type { CustomerFieldSpec } from '../../schemas/events.js';

/** What the page renders for one field; customer-safe (no provider names, no internal ids). */
export interface FormField {
  name: string;
  label: string;
  /** HTML input type. */
  type: 'text' | 'email' | 'tel' | 'date' | 'number';
  required: boolean;
  /** HTML `pattern` (whole value must match): the spec's when it compiles, else the kind's own, else null. */
  pattern: string | null;
  maxLength: number;
  autocomplete: string | null;
  inputMode: string | null;
  /** A short format hint shown under the field, e.g. "2-letter code, e.g. DE". */
  hint: string | null;
}

interface FieldKind {
  type: FormField['type'];
  maxLength: number;
  autocomplete: string | null;
  inputMode: string | null;
  hint: string | null;
  /** A browser-side approximation of `accepts` (HTML pattern, `v` flag), used when the spec has no pattern. */
  htmlPattern: string | null;
  /** Server-side format check of a trimmed, non-empty value. */
  accepts(value: string): boolean;
  /** Canonical stored form of an accepted value. */
  normalize(value: string): string;
}

const same = (value: string) => value;
const CONTROL_CHARACTERS = /[\p{Cc}\p{Cf}]/u;
const text = (maxLength: number, autocomplete: string | null): FieldKind => ({
  type: 'text',
  maxLength,
  autocomplete,
  inputMode: null,
  hint: null,
  htmlPattern: null,
  accepts: (value) => !CONTROL_CHARACTERS.test(value),
  normalize: same,
});

const KINDS: Record<string, FieldKind> = {
  text: text(200, null),
  name: text(200, 'name'),
  first_name: text(100, 'given-name'),
  last_name: text(100, 'family-name'),
  address: text(200, 'street-address'),
  city: text(100, 'address-level2'),
  postal_code: {
    ...text(16, 'postal-code'),
    htmlPattern: String.raw`[A-Za-z0-9][A-Za-z0-9 \-]{1,15}`,
    accepts: (value) => /^[A-Za-z0-9][A-Za-z0-9 -]{1,15}$/.test(value),
  },
  email: {
    type: 'email',
    maxLength: 254,
    autocomplete: 'email',
    inputMode: null,
    hint: null,
    htmlPattern: null,
    accepts: (value) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value),
    normalize: same,
  },
  tel: {
    type: 'tel',
    maxLength: 24,
    autocomplete: 'tel',
    inputMode: null,
    hint: 'International format, e.g. +49 30 1234567',
    htmlPattern: String.raw`\+?[0-9][0-9 \(\)\.\-]{4,22}`,
    accepts: (value) => /^\+?[0-9][0-9 ().-]{4,22}$/.test(value) && (value.match(/[0-9]/g)?.length ?? 0) >= 5,
    normalize: same,
  },
  date: {
    type: 'date',
    maxLength: 10,
    autocomplete: null,
    inputMode: null,
    hint: null,
    htmlPattern: null,
    accepts: isCalendarDate,
    normalize: same,
  },
  country: {
    type: 'text',
    maxLength: 2,
    autocomplete: 'country',
    inputMode: null,
    hint: '2-letter country code, e.g. DE',
    htmlPattern: '[A-Za-z]{2}',
    accepts: (value) => /^[A-Za-z]{2}$/.test(value),
    normalize: (value) => value.toUpperCase(),
  },
  number: {
    type: 'number',
    maxLength: 32,
    autocomplete: null,
    inputMode: 'decimal',
    hint: null,
    htmlPattern: null,
    accepts: (value) => /^-?[0-9]{1,20}(\.[0-9]{1,10})?$/.test(value),
    normalize: same,
  },
};
KINDS.phone = KINDS.tel!;
KINDS.birth_date = { ...KINDS.date!, autocomplete: 'bday' };

/** Unknown kinds render as plain text: the orchestrator may learn new kinds before the page does. */
export function fieldKind(kind: string): FieldKind {
  return KINDS[kind] ?? KINDS.text!;
}

/** Field names become customer_data keys and DOM ids: keep them plain. */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const MAX_FIELDS = 50;

/**
 * Reads payment_sessions.required_fields (JSON written by the orchestrator). Returns null when it is
 * not a well-formed list of field specs: the page then cannot ask for anything and keeps waiting.
 */
export function parseFieldSpecs(raw: unknown): CustomerFieldSpec[] | null {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_FIELDS) return null;
  const specs: CustomerFieldSpec[] = [];
  const names = new Set<string>();
  for (const item of value) {
    if (typeof item !== 'object' || item === null) return null;
    const { name, kind, required, pattern, label } = item as Record<string, unknown>;
    if (typeof name !== 'string' || !FIELD_NAME.test(name) || names.has(name)) return null;
    names.add(name);
    specs.push({
      name,
      kind: typeof kind === 'string' ? kind : 'text',
      required: required !== false,
      pattern: typeof pattern === 'string' && pattern.length > 0 ? pattern : null,
      label: typeof label === 'string' && label.trim().length > 0 ? label.trim().slice(0, 100) : null,
    });
  }
  return specs;
}

/**
 * Compiles a spec pattern with HTML `pattern` semantics (anchored, `v` flag as current browsers do).
 * A pattern that does not compile is ignored, exactly as browsers ignore it, so both sides agree.
 */
export function compilePattern(pattern: string | null): RegExp | null {
  if (pattern === null) return null;
  try {
    return new RegExp(`^(?:${pattern})$`, 'v');
  } catch {
    return null;
  }
}

/** The customer-safe rendering of the specs. */
export function formFields(specs: readonly CustomerFieldSpec[]): FormField[] {
  return specs.map((spec) => {
    const kind = fieldKind(spec.kind);
    return {
      name: spec.name,
      label: spec.label ?? humanize(spec.name),
      type: kind.type,
      required: spec.required,
      pattern: compilePattern(spec.pattern) ? spec.pattern : kind.htmlPattern,
      maxLength: kind.maxLength,
      autocomplete: kind.autocomplete,
      inputMode: kind.inputMode,
      hint: kind.hint,
    };
  });
}

/** `first_name` -> "First name". */
function humanize(name: string): string {
  const words = name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function isCalendarDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    year >= 1900 &&
    year <= 2200 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day
  );
}
