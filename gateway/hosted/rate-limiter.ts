/**
 * Fixed-window request counting per key, in memory, for the hosted page's public endpoints. It bounds
 * what one payment link (or one client hunting for links) can cost this process; it is not a global
 * quota (each pod counts on its own; edge rate limiting belongs in the ingress). Memory is bounded:
 * past `maxKeys` expired windows are swept and then the oldest keys dropped. The clock is injected.
 */
export interface RateLimit {
  /** Requests allowed per key and window. */
  limit: number;
  windowMs: number;
}

export interface RateDecision {
  allowed: boolean;
  /** When the current window ends (for Retry-After); 0 when allowed. */
  retryAfterMs: number;
}

export class RateLimiter {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();
  private readonly maxKeys: number;
  private readonly clock: () => number;

  constructor(
    private readonly rate: RateLimit,
    options: { maxKeys?: number; clock?: () => number } = {},
  ) {
    this.maxKeys = options.maxKeys ?? 50_000;
    this.clock = options.clock ?? Date.now;
  }

  /** Counts one request for `key` and says whether it is within the limit. */
  hit(key: string): RateDecision {
    const now = this.clock();
    let window = this.current(key, now);
    if (!window) {
      this.makeRoom(now);
      window = { startedAt: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    return this.decide(window, now);
  }

  /**
   * Takes back one request of `key` counted in the current window: for requests the server failed
   * (e.g. its database was down), which must not use up what the client is allowed.
   */
  refund(key: string): void {
    const window = this.current(key, this.clock());
    if (window && window.count > 0) window.count--;
  }

  private current(key: string, now: number): { startedAt: number; count: number } | undefined {
    const window = this.windows.get(key);
    if (window && now - window.startedAt >= this.rate.windowMs) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  private decide(window: { startedAt: number; count: number }, now: number): RateDecision {
    if (window.count <= this.rate.limit) return { allowed: true, retryAfterMs: 0 };
    return { allowed: false, retryAfterMs: Math.max(1, window.startedAt + this.rate.windowMs - now) };
  }

  private makeRoom(now: number): void {
    if (this.windows.size < this.maxKeys) return;
    for (const [key, window] of this.windows) {
      if (now - window.startedAt >= this.rate.windowMs) this.windows.delete(key);
    }
    // Still full: forget the oldest windows (Map keeps insertion order), which at worst lets them start over.
    for (const key of this.windows.keys()) {
      if (this.windows.size < this.maxKeys) break;
      this.windows.delete(key);
    }
  }
}
