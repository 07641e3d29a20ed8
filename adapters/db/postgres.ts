import knexFactory from 'knex';
import pg from 'pg';
import type { Logger } from '../../core/logger.js';
import type { Database } from './types.js';

/** PostgreSQL through a knex pool; LISTEN runs on one dedicated client that reconnects when dropped. */
export async function openPostgres(
  url: string,
  options: { poolMax: number; schema?: string; logger?: Logger },
): Promise<Database> {
  if (options.schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists "${options.schema.replace(/"/g, '""')}"`);
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
      warn: (message: string) => options.logger?.warn(`knex: ${message}`),
      error: (message: string) => options.logger?.error(`knex: ${message}`),
      deprecate: (message: string) => options.logger?.warn(`knex: ${message}`),
      debug: () => undefined,
    },
    ...(options.schema ? { searchPath: [options.schema] } : {}),
  });
  const listeners = new Map<string, Set<(payload: string) => void>>();
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let closed = false;

  const connectListener = (): Promise<pg.Client> => {
    connecting ??= (async () => {
      const c = new pg.Client({ connectionString: url });
      c.on('notification', (msg) => {
        for (const fn of listeners.get(msg.channel) ?? []) fn(msg.payload ?? '');
      });
      c.on('error', (error) => {
        options.logger?.warn('LISTEN connection lost; reconnecting', { error: error.message });
        client = undefined;
        connecting = undefined;
        if (!closed) setTimeout(() => void reconnect(), 500);
      });
      await c.connect();
      for (const channel of listeners.keys()) await c.query(`listen "${channel}"`);
      client = c;
      return c;
    })();
    return connecting;
  };
  const reconnect = async () => {
    try {
      await connectListener();
    } catch (error) {
      connecting = undefined;
      if (!closed) setTimeout(() => void reconnect(), 1_000);
      options.logger?.warn('LISTEN reconnect failed', { error: (error as Error).message });
    }
  };

  return {
    knex,
    driver: 'postgres',
    async listen(channel, onNotify) {
      let set = listeners.get(channel);
      const fresh = !set;
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(onNotify);
      const c = await connectListener();
      if (fresh) await c.query(`listen "${channel}"`);
      return async () => {
        set.delete(onNotify);
        if (set.size === 0) {
          listeners.delete(channel);
          if (client && !closed) await client.query(`unlisten "${channel}"`).catch(() => undefined);
        }
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await client?.end().catch(() => undefined);
      await knex.destroy();
    },
  };
}
