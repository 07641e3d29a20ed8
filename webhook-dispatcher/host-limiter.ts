/**
 * Bounds how many attempts this process has in flight to one merchant host (`host:port`). A merchant
 * endpoint that hangs until the timeout can then hold at most `maxPerHost` of the consumer's handler
 * slots; its other attempts are put back on the attempts topic with a short delay instead of waiting,
 * so healthy merchants keep their slots. Per process: N dispatcher processes allow N × maxPerHost.
 */
export class HostLimiter {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly maxPerHost: number) {
    if (!Number.isInteger(maxPerHost) || maxPerHost < 1) throw new Error('maxPerHost must be >= 1');
  }

  /** A release function when a slot was free, else null (do not wait: defer the attempt). */
  tryAcquire(host: string): (() => void) | null {
    const current = this.inFlight.get(host) ?? 0;
    if (current >= this.maxPerHost) return null;
    this.inFlight.set(host, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(host) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(host);
      else this.inFlight.set(host, left);
    };
  }

  /** Attempts in flight to `host` (diagnostics, tests). */
  count(host: string): number {
    return this.inFlight.get(host) ?? 0;
  }
}

/** The limiter key of a URL: its host and port; the raw string when it does not parse. */
export function hostKey(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname.toLowerCase()}:${parsed.port || (parsed.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return url;
  }
}

/** Delay before a deferred attempt is tried again: doubling from `baseMs`, capped, ±20 % jitter. */
export function deferDelay(baseMs: number, deferrals: number, random: () => number = Math.random): number {
  const capped = Math.min(baseMs * 2 ** Math.min(deferrals, 10), 30_000);
  return Math.round(capped * (0.8 + 0.4 * random()));
}
