/**
 * The backends a whole test platform can run on, each run isolated from every other run on the shared
 * services: a PostgreSQL schema of its own (the platform opens DATABASE_URL, whose `options=-c
 * search_path=` makes every pooled connection use that schema), a Kafka namespace of its own
 * (BROKER_NAMESPACE prefixes every topic and consumer group, so offsets and leftover messages of other
 * runs on `payments.events.v1`/group `processor` are never seen), a Pub/Sub project of its own on the
 * emulator. Everything a run created is removed when it is released (best effort for the brokers).
 */
import { PubSub } from '@google-cloud/pubsub';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { quoteIdentifier } from '../../adapters/db/postgres.js';
import { backendEnv, requireBackend, uniqueName } from './backends.js';
import { databaseUrlForSchema } from './cli.js';

export type TestBackend = 'embedded-pglite' | 'embedded-postgres' | 'kafka' | 'pubsub';

export const TEST_BACKENDS: ReadonlyArray<{ backend: TestBackend; name: string }> = [
  { backend: 'embedded-pglite', name: 'embedded broker on PGlite' },
  { backend: 'embedded-postgres', name: 'embedded broker on PostgreSQL' },
  { backend: 'kafka', name: 'Kafka + PostgreSQL' },
  { backend: 'pubsub', name: 'Pub/Sub emulator + PostgreSQL' },
];

/** Skips the suite (or fails it under REQUIRE_REAL_BACKENDS=1) when the backend's services are not configured. */
export function requireTestBackend(context: Mocha.Context, backend: TestBackend): void {
  if (backend === 'embedded-pglite') return;
  requireBackend(context, 'PostgreSQL (TEST_DATABASE_URL)', !!backendEnv.postgresUrl);
  if (backend === 'kafka') requireBackend(context, 'Kafka (TEST_KAFKA_BROKERS)', !!backendEnv.kafkaBrokers);
  if (backend === 'pubsub')
    requireBackend(context, 'Pub/Sub emulator (TEST_PUBSUB_EMULATOR_HOST)', !!backendEnv.pubsubEmulatorHost);
}

export interface PreparedBackend {
  /** Environment for loadConfig / the platform process (on top of DATA_DIR, ports, ...). */
  env: Record<string, string>;
  /** PostgreSQL backends: the schema the platform's tables live in. */
  schema: string | undefined;
  /** Drops the schema and the broker resources of this run. Call after the platform stopped. */
  release(): Promise<void>;
}

export async function prepareBackend(backend: TestBackend): Promise<PreparedBackend> {
  if (backend === 'embedded-pglite') return { env: {}, schema: undefined, release: async () => undefined };
  const url = backendEnv.postgresUrl;
  if (!url) throw new Error(`${backend} needs TEST_DATABASE_URL (source scripts/services/env.sh)`);
  const schema = uniqueName('flow').replace(/-/g, '_');
  await withPgClient(url, (client) => client.query(`create schema ${quoteIdentifier(schema)}`));
  const dropSchema = () =>
    withPgClient(url, (client) => client.query(`drop schema if exists ${quoteIdentifier(schema)} cascade`));
  const env: Record<string, string> = { DATABASE_URL: databaseUrlForSchema(url, schema) };
  const cleanups: Array<() => Promise<unknown>> = [dropSchema];
  if (backend === 'embedded-postgres') env.BROKER = 'embedded';
  if (backend === 'kafka') {
    const namespace = uniqueName('flow');
    Object.assign(env, {
      BROKER: 'kafka',
      KAFKA_BROKERS: backendEnv.kafkaBrokers!.join(','),
      KAFKA_CLIENT_ID: namespace,
      KAFKA_PARTITIONS: '4',
      BROKER_NAMESPACE: namespace,
    });
    cleanups.push(() => deleteKafkaNamespace(backendEnv.kafkaBrokers!, namespace));
  }
  if (backend === 'pubsub') {
    const projectId = uniqueName('flow');
    Object.assign(env, {
      BROKER: 'pubsub',
      PUBSUB_PROJECT_ID: projectId,
      PUBSUB_EMULATOR_HOST: backendEnv.pubsubEmulatorHost!,
    });
    cleanups.push(() => deletePubSubProject(backendEnv.pubsubEmulatorHost!, projectId));
  }
  let released: Promise<void> | undefined;
  return {
    env,
    schema,
    release: () =>
      (released ??= (async () => {
        const results = await Promise.allSettled(cleanups.map((cleanup) => cleanup()));
        const schemaDrop = results[0]!;
        if (schemaDrop.status === 'rejected') throw schemaDrop.reason;
      })()),
  };
}

async function withPgClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Topics and consumer groups whose names start with `<namespace>.`. */
async function deleteKafkaNamespace(brokers: string[], namespace: string): Promise<void> {
  const admin = new Kafka({ brokers, clientId: `${namespace}-cleanup`, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const prefix = `${namespace}.`;
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
    const groups = (await admin.listGroups()).groups
      .map((group) => group.groupId)
      .filter((group) => group.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

async function deletePubSubProject(emulatorHost: string, projectId: string): Promise<void> {
  const pubsub = new PubSub({
    projectId,
    apiEndpoint: emulatorHost,
    emulatorMode: true,
    universeDomain: 'googleapis.com',
  });
  try {
    const [subscriptions] = await pubsub.getSubscriptions();
    await Promise.all(subscriptions.map((subscription) => subscription.delete()));
    const [topics] = await pubsub.getTopics();
    await Promise.all(topics.map((topic) => topic.delete()));
  } finally {
    await pubsub.close();
  }
}
