/**
 * Stripe's request encoding: `application/x-www-form-urlencoded` with bracket paths
 * (`metadata[reference]=…`, `payment_method_types[]=card`, `a[b][c]=…`), parsed into nested objects.
 * Pure; bounded (pairs, depth) and immune to prototype keys.
 */

const MAX_PAIRS = 500;
const MAX_DEPTH = 6;
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

export class FormError extends Error {}

function segments(key: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) throw new FormError(`invalid parameter name "${key.slice(0, 64)}"`);
  const rest = [...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!);
  const all = [match[1]!, ...rest];
  if (all.length > MAX_DEPTH) throw new FormError(`parameter "${key.slice(0, 64)}" nests too deeply`);
  if (all.some((s) => FORBIDDEN.has(s))) throw new FormError(`invalid parameter name "${key.slice(0, 64)}"`);
  return all;
}

export function parseStripeForm(body: string): FormObject {
  const root: FormObject = {};
  const pairs = [...new URLSearchParams(body)];
  if (pairs.length > MAX_PAIRS) throw new FormError(`at most ${MAX_PAIRS} parameters`);
  for (const [key, value] of pairs) {
    const path = segments(key);
    let container: FormObject | FormValue[] = root;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]!;
      const last = i === path.length - 1;
      const nextIsList = !last && (path[i + 1] === '' || /^\d+$/.test(path[i + 1]!));
      if (Array.isArray(container)) {
        const index = segment === '' ? container.length : Number(segment);
        if (!Number.isSafeInteger(index) || index > MAX_PAIRS) throw new FormError(`bad index in "${key}"`);
        if (last) container[index] = value;
        else container = (container[index] ??= nextIsList ? [] : {}) as FormObject | FormValue[];
      } else {
        if (segment === '') throw new FormError(`invalid parameter name "${key.slice(0, 64)}"`);
        if (last) container[segment] = value;
        else container = (container[segment] ??= nextIsList ? [] : {}) as FormObject | FormValue[];
      }
      if (!last && typeof container !== 'object')
        throw new FormError(`parameter "${key}" conflicts with another`);
    }
  }
  return root;
}
