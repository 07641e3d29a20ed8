/**
 * A short-lived memory of accepted API keys, so a merchant sending hundreds of requests a second does
 * not cost a database round trip each for the same answer. Only acceptances are remembered: an unknown,
 * wrong, revoked or disabled key always asks the database (no way to pin a refusal, nothing cached for
 * keys nobody holds). The price is staleness: a revocation or a merchant being disabled takes effect
 * within `ttlMs` (decision 0026). Concurrent checks of one uncached key share one lookup.
 *
 * Entries are keyed by a SHA-256 of the presented key, so the memory holds no usable secret.
 */
import { createHash } from 'node:crypto';
import type { AuthenticationResult } from './api-keys.js';

export interface ApiKeyCacheOptions {
  /** How long an acceptance is trusted; 0 turns the cache off. */
  ttlMs: number;
  /** Oldest entries are dropped beyond this many keys. */
  maxEntries?: number;
  /** Milliseconds clock (tests inject one). */
  now?: () => number;
}

type Lookup = (presented: string) => Promise<AuthenticationResult>;

export class ApiKeyCache {
  private readonly accepted = new Map<string, { result: AuthenticationResult; until: number }>();
  private readonly pending = new Map<string, Promise<AuthenticationResult>>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly lookup: Lookup,
    private readonly options: ApiKeyCacheOptions,
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async authenticate(presented: string): Promise<AuthenticationResult> {
    if (this.options.ttlMs <= 0) return this.lookup(presented);
    const id = createHash('sha256').update(presented).digest('base64');
    const hit = this.accepted.get(id);
    if (hit && hit.until > this.now()) return hit.result;
    if (hit) this.accepted.delete(id);
    const inFlight = this.pending.get(id);
    if (inFlight) return inFlight;
    const lookup = this.lookup(presented)
      .then((result) => {
        if (result.ok) this.remember(id, result);
        return result;
      })
      .finally(() => this.pending.delete(id));
    this.pending.set(id, lookup);
    return lookup;
  }

  private remember(id: string, result: AuthenticationResult): void {
    if (this.accepted.size >= this.maxEntries) {
      const oldest = this.accepted.keys().next();
      if (!oldest.done) this.accepted.delete(oldest.value);
    }
    this.accepted.set(id, { result, until: this.now() + this.options.ttlMs });
  }
}
