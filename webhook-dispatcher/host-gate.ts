/**
 * Isolation between merchant hosts (`host:port`) inside one dispatcher process.
 *
 * At most `maxInFlightPerHost` attempts run at once to one host, so an endpoint that hangs until the
 * timeout ties up only that many requests. An attempt over the limit WAITS here, in memory, in a FIFO
 * queue of its host, and gets the host's next free slot: attempts to a busy host go out in the order
 * they arrived, and cost nothing while they wait. They stay durable: their broker message is
 * acknowledged only once the attempt is recorded, and on shutdown (`close`) every waiter is told to
 * put its attempt back on the attempts topic instead.
 *
 * The queues are bounded — per host (`maxQueuedPerHost`) and in total (`maxQueued`) — because each
 * waiting attempt holds one of the consumer's message slots. Beyond the bounds an attempt is refused,
 * and the dispatcher defers it through the broker's delay tiers with a doubling delay, as it did for
 * every over-limit attempt before. So one slow host can hold at most maxInFlightPerHost +
 * maxQueuedPerHost messages of a subscription whose concurrency is the working concurrency plus
 * `maxQueued` (see start.ts): it can never crowd out the other hosts. Per process: N dispatcher
 * processes allow N x maxInFlightPerHost to one host.
 */

/** Gives a host slot back; calling it again does nothing. */
export type Release = () => void;

export type Admission =
  | { kind: 'granted'; release: Release }
  /** Resolves with the slot once the host frees one, or with null when the gate closed meanwhile. */
  | { kind: 'queued'; granted: Promise<Release | null> }
  | { kind: 'refused'; reason: 'host_queue_full' | 'queue_full' | 'closed' };

export interface HostGateLimits {
  maxInFlightPerHost: number;
  maxQueuedPerHost: number;
  maxQueued: number;
}

interface HostState {
  inFlight: number;
  waiting: Array<(release: Release | null) => void>;
}

export class HostGate {
  private readonly hosts = new Map<string, HostState>();
  private queued = 0;
  private closed = false;

  constructor(
    private readonly limits: HostGateLimits,
    /** Called with the number of waiting attempts whenever it changes (a gauge). */
    private readonly onWaitingChange: (waiting: number) => void = () => undefined,
  ) {
    if (!Number.isInteger(limits.maxInFlightPerHost) || limits.maxInFlightPerHost < 1)
      throw new Error('maxInFlightPerHost must be >= 1');
    if (!(limits.maxQueuedPerHost >= 0 && limits.maxQueued >= 0))
      throw new Error('queue limits must be >= 0');
  }

  admit(host: string): Admission {
    let state = this.hosts.get(host);
    if (!state) {
      state = { inFlight: 0, waiting: [] };
      this.hosts.set(host, state);
    }
    if (state.inFlight < this.limits.maxInFlightPerHost) {
      state.inFlight++;
      return { kind: 'granted', release: this.releaser(host, state) };
    }
    if (this.closed) return { kind: 'refused', reason: 'closed' };
    if (state.waiting.length >= this.limits.maxQueuedPerHost)
      return { kind: 'refused', reason: 'host_queue_full' };
    if (this.queued >= this.limits.maxQueued) return { kind: 'refused', reason: 'queue_full' };
    const granted = new Promise<Release | null>((resolve) => state.waiting.push(resolve));
    this.changeQueued(+1);
    return { kind: 'queued', granted };
  }

  /** Shutdown: every waiting attempt is handed null (put it back on the broker); no new one waits. */
  close(): void {
    this.closed = true;
    for (const [host, state] of this.hosts) {
      const waiters = state.waiting.splice(0);
      if (waiters.length > 0) this.changeQueued(-waiters.length);
      for (const wake of waiters) wake(null);
      if (state.inFlight === 0) this.hosts.delete(host);
    }
  }

  /** Attempts in flight to `host` (diagnostics, tests). */
  inFlight(host: string): number {
    return this.hosts.get(host)?.inFlight ?? 0;
  }

  /** Attempts waiting for `host` (diagnostics, tests). */
  waiting(host: string): number {
    return this.hosts.get(host)?.waiting.length ?? 0;
  }

  get totalWaiting(): number {
    return this.queued;
  }

  private releaser(host: string, state: HostState): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = state.waiting.shift();
      if (next) {
        // The slot goes straight to the longest waiter: no later arrival can overtake it.
        this.changeQueued(-1);
        next(this.releaser(host, state));
        return;
      }
      state.inFlight--;
      if (state.inFlight === 0 && this.hosts.get(host) === state) this.hosts.delete(host);
    };
  }

  private changeQueued(delta: number): void {
    this.queued += delta;
    this.onWaitingChange(this.queued);
  }
}

/** The gate key of a URL: its host and port; the raw string when it does not parse. */
export function hostKey(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname.toLowerCase()}:${parsed.port || (parsed.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return url;
  }
}

/** Delay before a refused attempt is tried again: doubling from `baseMs`, capped, ±20 % jitter. */
export function deferDelay(baseMs: number, deferrals: number, random: () => number = Math.random): number {
  const capped = Math.min(baseMs * 2 ** Math.min(deferrals, 10), 30_000);
  return Math.round(capped * (0.8 + 0.4 * random()));
}
