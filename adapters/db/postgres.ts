import knexFactory from 'knex';
import pg from 'pg';
import type { Logger } from '../../core/logger.js';
import { assertChannel, type Database } from './types.js';

/** `"name"` with embedded quotes doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * PostgreSQL through a knex pool of `poolMax` connections. With `schema`, every pooled connection uses
 * it as `search_path` (created if missing): tests get one schema each. LISTEN runs on one dedicated
 * client that reconnects (and re-LISTENs) when its connection drops.
 */
export async function openPostgres(
  url: string,
  options: { poolMax: number; schema?: string; logger?: Logger },
): Promise<Database> {
  const { schema, logger } = options;
  if (schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists ${quoteIdentifier(schema)}`).catch((error: unknown) => {
        // Two processes creating it at once: the loser gets a unique violation; the schema exists.
        if ((error as { code?: string }).code !== '23505') throw error;
      });
    } finally {
      await admin.end();
    }
  }
  const knex = knexFactory({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: options.poolMax },
    acquireConnectionTimeout: 10_000,
    log: {
      warn: (message: string) => logger?.warn(`knex: ${message}`),
      error: (message: string) => logger?.error(`knex: ${message}`),
      deprecate: (message: string) => logger?.warn(`knex: ${message}`),
      debug: () => undefined,
    },
    ...(schema ? { searchPath: [schema] } : {}),
  });
  const listener = new Listener(url, logger);
  let closed = false;
  return {
    knex,
    driver: 'postgres',
    listen: (channel, onNotify) => listener.listen(channel, onNotify),
    async close() {
      if (closed) return;
      closed = true;
      await listener.close();
      await knex.destroy();
    },
  };
}

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

/**
 * One LISTEN connection shared by every subscriber of a Database. NOTIFY is database-wide (not
 * schema-scoped), so it needs no search_path. On `error` or `end` it reconnects with backoff and
 * re-LISTENs every channel; notifications sent in between are lost (callers poll as a fallback).
 */
class Listener {
  private readonly subscribers = new Map<string, Set<(payload: string) => void>>();
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = RECONNECT_MIN_MS;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly logger: Logger | undefined,
  ) {}

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    assertChannel(channel);
    if (this.closed) throw new Error('database is closed');
    let set = this.subscribers.get(channel);
    const fresh = !set;
    if (!set) this.subscribers.set(channel, (set = new Set()));
    set.add(onNotify);
    try {
      const client = await this.connect();
      if (fresh) await client.query(`listen ${channel}`);
    } catch (error) {
      set.delete(onNotify);
      if (set.size === 0) this.subscribers.delete(channel);
      throw error;
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      set.delete(onNotify);
      if (set.size > 0 || this.subscribers.get(channel) !== set) return;
      this.subscribers.delete(channel);
      if (this.client && !this.closed) await this.client.query(`unlisten ${channel}`).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private connect(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.url,
      keepAlive: true,
      application_name: 'payments-listen',
    });
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      if (this.closed) return;
      this.logger?.warn('LISTEN connection lost; reconnecting', { error: error?.message });
      this.scheduleReconnect();
    };
    client.on('notification', (msg) => {
      for (const fn of this.subscribers.get(msg.channel) ?? []) {
        try {
          fn(msg.payload ?? '');
        } catch (error) {
          this.logger?.warn('NOTIFY subscriber threw', { error: (error as Error).message });
        }
      }
    });
    await client.connect();
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      for (const channel of this.subscribers.keys()) await client.query(`listen ${channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('database is closed');
    }
    this.client = client;
    this.retryDelay = RECONNECT_MIN_MS;
    return client;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(RECONNECT_MAX_MS, this.retryDelay * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed || this.client || this.subscribers.size === 0) return;
      this.connect().then(
        () => this.logger?.info('LISTEN connection restored'),
        (error: Error) => {
          this.logger?.warn('LISTEN reconnect failed', { error: error.message });
          this.scheduleReconnect();
        },
      );
    }, delay);
    this.retryTimer.unref();
  }
}
