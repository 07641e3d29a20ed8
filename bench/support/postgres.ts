/**
 * An isolated PostgreSQL schema for one benchmark run: created empty, reachable through a URL whose
 * connections use it as search_path (for startPlatform, which takes only DATABASE_URL), dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { quoteIdentifier } from '../../adapters/db/postgres.js';

export interface BenchSchema {
  schema: string;
  /** TEST_DATABASE_URL with `options=-c search_path=<schema>`. */
  url: string;
  drop(): Promise<void>;
}

export async function createBenchSchema(baseUrl: string, prefix: string): Promise<BenchSchema> {
  const schema = `bench_${prefix}_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
  await adminQuery(baseUrl, `create schema ${quoteIdentifier(schema)}`);
  const url = `${baseUrl}${baseUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    schema,
    url,
    drop: () => adminQuery(baseUrl, `drop schema if exists ${quoteIdentifier(schema)} cascade`),
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
