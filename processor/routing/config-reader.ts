/**
 * Small checks for reading untrusted configuration (parsed JSON) into typed values. Every problem is
 * collected with the path of the offending field (`rules[2].groups[0].subMids[1]`), so one start-up
 * reports all mistakes of a file at once instead of one per restart. Readers return undefined without an
 * issue for an absent value: `object()` already reported it if the key is required.
 */

export class Issues {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path || '(root)'}: ${message}`);
  }
}

export const field = (path: string, key: string): string => (path ? `${path}.${key}` : key);
export const item = (path: string, index: number): string => `${path}[${index}]`;
export const entry = (path: string, key: string): string => `${path}[${JSON.stringify(key)}]`;

type Json = Record<string, unknown>;

/** What a string field must look like, and how to say it in an error. */
export interface Format {
  test(value: string): boolean;
  hint: string;
}

export const pattern = (regex: RegExp, hint: string): Format => ({ test: (v) => regex.test(v), hint });

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** An object with exactly the allowed keys; unknown keys and missing required keys are issues. */
export function object(
  issues: Issues,
  value: unknown,
  path: string,
  keys: { required: readonly string[]; optional?: readonly string[] },
): Json | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    issues.add(path, `must be an object, got ${describe(value)}`);
    return undefined;
  }
  const allowed = [...keys.required, ...(keys.optional ?? [])];
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      issues.add(field(path, key), `unknown key (allowed here: ${allowed.join(', ')})`);
  }
  for (const key of keys.required) {
    if (value[key] === undefined) issues.add(field(path, key), 'is required');
  }
  return value;
}

/** An object used as a map from ids to values (`providers`, `credentials`). */
export function record(issues: Issues, value: unknown, path: string): Json | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    issues.add(path, `must be an object, got ${describe(value)}`);
    return undefined;
  }
  return value;
}

export function string(issues: Issues, value: unknown, path: string, format?: Format): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    issues.add(path, `must be a non-empty string, got ${describe(value)}`);
    return undefined;
  }
  if (format && !format.test(value)) {
    issues.add(path, `${JSON.stringify(value)} is not ${format.hint}`);
    return undefined;
  }
  return value;
}

export function integer(issues: Issues, value: unknown, path: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    issues.add(path, `must be an integer, got ${describe(value)}`);
    return undefined;
  }
  if (value < min) {
    issues.add(path, `must be >= ${min}, got ${value}`);
    return undefined;
  }
  return value;
}

export function boolean(issues: Issues, value: unknown, path: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    issues.add(path, `must be true or false, got ${describe(value)}`);
    return undefined;
  }
  return value;
}

export function oneOf<T extends string>(
  issues: Issues,
  value: unknown,
  path: string,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    issues.add(path, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describe(value)}`);
    return undefined;
  }
  return value as T;
}

/** A non-empty array; `each` reads one element (returning undefined when it is invalid). */
export function array<T>(
  issues: Issues,
  value: unknown,
  path: string,
  each: (element: unknown, path: string, index: number) => T | undefined,
  options: { allowEmpty?: boolean; emptyHint?: string } = {},
): T[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    issues.add(path, `must be an array, got ${describe(value)}`);
    return undefined;
  }
  if (value.length === 0 && !options.allowEmpty) {
    issues.add(path, `must not be empty${options.emptyHint ? ` (${options.emptyHint})` : ''}`);
    return undefined;
  }
  const result: T[] = [];
  let valid = true;
  value.forEach((element, index) => {
    const read = each(element, item(path, index), index);
    if (read === undefined) valid = false;
    else result.push(read);
  });
  return valid ? result : undefined;
}

/** A non-empty list of distinct strings of one format (currency codes, ids, ...). */
export function stringSet(
  issues: Issues,
  value: unknown,
  path: string,
  format: Format,
): string[] | undefined {
  const seen = new Set<string>();
  return array(
    issues,
    value,
    path,
    (element, elementPath) => {
      const text = string(issues, element, elementPath, format);
      if (text === undefined) return undefined;
      if (seen.has(text)) {
        issues.add(elementPath, `${JSON.stringify(text)} is listed twice`);
        return undefined;
      }
      seen.add(text);
      return text;
    },
    { emptyHint: 'leave the field out to match any value' },
  );
}
