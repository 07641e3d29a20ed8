/**
 * Structural mutation of a valid JSON request: one member replaced by a hostile value, removed, given
 * hostile text appended (so URLs and ids keep their valid prefix and reach deeper checks), or joined by
 * an unknown sibling. Mutating a valid request gets past the first "must be an object" check into the
 * validation, storage and read-back code that random JSON rarely reaches.
 */
import fc from 'fast-check';
import { hostileJsonValue, hostileKey, hostileString } from './hostile.js';

export type Mutation =
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'append'; at: number; text: string }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: unknown };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Paths to every member (containers too) of a JSON document, root excluded. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return [];
  const entries: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...paths(child, [...prefix, key])]);
}

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: hostileJsonValue }),
  fc.record({ op: fc.constant('append' as const), at: fc.nat(), text: hostileString(24) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: hostileKey, value: hostileJsonValue }),
);

/** A deep copy of `document` with `m` applied; also says which member it touched. */
export function applyMutation(document: unknown, m: Mutation): { document: unknown; path: string } {
  const copy = structuredClone(document) as Json;
  const all = paths(copy);
  const path = all[m.at % all.length]!;
  const parent = path
    .slice(0, -1)
    .reduce<Json>((node, key) => (node as Record<string, Json>)[key]!, copy) as Record<string | number, Json>;
  const key = path[path.length - 1]!;
  switch (m.op) {
    case 'replace':
      parent[key] = m.value as Json;
      break;
    case 'append':
      parent[key] = typeof parent[key] === 'string' ? `${parent[key]}${m.text}` : (m.text as Json);
      break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
      break;
    case 'add': {
      const target = parent[key];
      if (target !== null && typeof target === 'object' && !Array.isArray(target))
        Object.defineProperty(target, m.key, {
          value: m.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else parent[key] = { [m.key]: m.value } as Json;
      break;
    }
  }
  return { document: copy, path: `${m.op} /${path.join('/')}` };
}
