/**
 * Keep-alive connections to merchant endpoints. A delivery to a host the dispatcher sent to in the
 * last few seconds reuses the idle connection instead of a new TCP (and TLS) handshake.
 *
 * The SSRF guarantee is unchanged: connections are only ever opened to an address the guard checked
 * (ssrf-guard.ts pins it), and the pool is keyed by that address as well as by host and port, so a
 * request only reuses a connection to the very address its own check allowed.
 *
 * Idle connections close after `idleMs`, or one second before the `Keep-Alive: timeout=N` the merchant
 * announced (Node's agent reads it), and at most `maxIdlePerHost` stay open per host. A merchant may
 * still close an idle connection just as we reuse it: http-delivery.ts then sends once more on a new
 * connection, as Node's documentation recommends (`request.reusedSocket`).
 */
import http from 'node:http';
import https from 'node:https';

/** Request options with the address the SSRF guard checked (see http-delivery.ts). */
type PinnedOptions = { pinnedAddress?: string };

class PinnedHttpAgent extends http.Agent {
  override getName(options?: http.ClientRequestArgs & PinnedOptions): string {
    return `${super.getName(options)}@${options?.pinnedAddress ?? ''}`;
  }
}

class PinnedHttpsAgent extends https.Agent {
  override getName(options?: https.RequestOptions & PinnedOptions): string {
    return `${super.getName(options)}@${options?.pinnedAddress ?? ''}`;
  }
}

/** Idle time after which a kept connection is closed, unless configured (WEBHOOK_KEEP_ALIVE_MS). */
export const DEFAULT_KEEP_ALIVE_MS = 4_000;

export interface MerchantConnectionOptions {
  /** Idle time after which a kept connection is closed (default DEFAULT_KEEP_ALIVE_MS). */
  idleMs?: number;
  /** Idle connections kept per merchant host (default 4, the default per-host in-flight limit). */
  maxIdlePerHost?: number;
}

export class MerchantConnections {
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(options: MerchantConnectionOptions = {}) {
    const settings = {
      keepAlive: true,
      timeout: options.idleMs ?? DEFAULT_KEEP_ALIVE_MS,
      maxFreeSockets: options.maxIdlePerHost ?? 4,
      scheduling: 'lifo' as const,
    };
    this.agents = { http: new PinnedHttpAgent(settings), https: new PinnedHttpsAgent(settings) };
  }

  /**
   * The pool a dispatcher with these settings uses: idle connections kept `keepAliveMs` (default
   * DEFAULT_KEEP_ALIVE_MS), as many per host as it sends to at once; none when `keepAliveMs` is 0.
   */
  static forSettings(settings: {
    keepAliveMs?: number;
    maxInFlightPerHost: number;
  }): MerchantConnections | undefined {
    const idleMs = settings.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
    return idleMs > 0
      ? new MerchantConnections({ idleMs, maxIdlePerHost: settings.maxInFlightPerHost })
      : undefined;
  }

  agentFor(url: URL): http.Agent {
    return url.protocol === 'https:' ? this.agents.https : this.agents.http;
  }

  /** Closes every idle connection; requests in flight finish on theirs. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
