/** A small valid routing configuration and a way to break one field of it, for the routing tests. */
import { RoutingRulesError } from '../../processor/routing/index.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function baseConfig(): { [key: string]: Json } {
  return {
    version: 'v1',
    providers: {
      p1: {
        apiBaseUrl: '{simulatorBaseUrl}/p1',
        credentials: { apiKey: { env: 'P1_API_KEY', devDefault: 'dev-p1' } },
      },
      p2: { apiBaseUrl: 'https://psp.example/api' },
    },
    subMids: [
      { id: 'a', providerId: 'p1', active: true, account: { merchantAccount: 'MA' }, velocity: [] },
      {
        id: 'b',
        providerId: 'p2',
        active: true,
        currencies: ['EUR'],
        velocity: [{ windowSeconds: 60, maxCount: 2 }],
      },
      { id: 'off', providerId: 'p2', active: false, velocity: [] },
    ],
    rules: [
      {
        id: 'eur',
        match: { currencies: ['EUR'] },
        groups: [
          { subMids: ['a', 'off'], fallback: 'next_group' },
          { subMids: ['b'], fallback: 'stop' },
        ],
      },
      { id: 'rest', match: {}, groups: [{ subMids: ['a'], fallback: 'stop' }] },
    ],
  };
}

/** A copy of `config` with the field at `path` set to `value` (removed when `value` is undefined). */
export function withField(
  config: { [key: string]: Json },
  path: Array<string | number>,
  value: Json | undefined,
): { [key: string]: Json } {
  const copy = structuredClone(config);
  let node: Json = copy;
  for (const key of path.slice(0, -1)) node = (node as Record<string, Json>)[key]!;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete (node as Record<string, Json>)[last];
  } else (node as Record<string, Json>)[last] = value;
  return copy;
}

/** The issues `run` reports (it must throw RoutingRulesError). */
export function issuesOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof RoutingRulesError) return error.issues;
    throw error;
  }
  throw new Error('expected a RoutingRulesError');
}
