/**
 * payments-ops: operations commands. `events tail` prints the business event stream as JSON lines.
 * (The dead-letter commands arrive with the failed-events issue.)
 */
import { Command, InvalidArgumentError } from 'commander';
import { createTransport } from '../adapters/broker/index.js';
import { openDatabase, type Database } from '../adapters/db/index.js';
import { EventBus } from '../core/broker/index.js';
import { loadConfig } from '../core/config/index.js';
import { ConfigError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { BUSINESS_EVENTS_TOPIC } from '../core/streams.js';
import { EVENT_TYPES, type EventType } from '../schemas/index.js';
import { tailEvents } from './events-tail.js';

function eventType(value: string, previous: EventType[]): EventType[] {
  if (!(EVENT_TYPES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`unknown event type "${value}"; one of ${EVENT_TYPES.join(', ')}`);
  }
  return [...previous, value as EventType];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

async function connect(): Promise<{ broker: EventBus; database?: Database }> {
  const config = loadConfig(process.env);
  const logger = createLogger({
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    service: 'payments-ops',
  });
  let database: Database | undefined;
  if (config.broker.kind === 'embedded') {
    if (config.database.driver === 'pglite') {
      throw new ConfigError(
        'the embedded broker on PGlite belongs to the running platform process (one process per data dir); set DATABASE_URL to use the embedded broker on PostgreSQL, or BROKER=kafka|pubsub',
      );
    }
    database = await openDatabase(config.database, { logger });
  }
  const broker = new EventBus({
    transport: createTransport(config.broker, { database: database as Database, logger }),
    logger,
    publishTimeoutMs: config.broker.publishTimeoutMs,
  });
  await broker.start();
  return { broker, ...(database ? { database } : {}) };
}

export function buildCli(): Command {
  const program = new Command('payments-ops')
    .description(
      'Operations commands for the payments platform. Reads the same environment as the services (BROKER, KAFKA_BROKERS, ...).',
    )
    .showHelpAfterError();
  const events = program
    .command('events')
    .description('The business event stream (Avro, keyed by transaction id)');
  events
    .command('tail')
    .description('Print decoded events as JSON lines')
    .option('--topic <topic>', 'stream topic', BUSINESS_EVENTS_TOPIC)
    .option('--type <type>', 'only this event type (repeatable)', eventType, [] as EventType[])
    .option('--transaction <id>', 'only events of this transaction id')
    .option(
      '--from-beginning',
      'start at the oldest retained event (Kafka and embedded) instead of now',
      false,
    )
    .option('--limit <n>', 'exit after printing n events', positiveInt)
    .addHelpText(
      'after',
      `
Examples:
  BROKER=kafka KAFKA_BROKERS=127.0.0.1:9092 payments-ops events tail
  payments-ops events tail --type TransactionStatusChanged --transaction 3f7c... --from-beginning --limit 10`,
    )
    .action(
      async (options: {
        topic: string;
        type: EventType[];
        transaction?: string;
        fromBeginning: boolean;
        limit?: number;
      }) => {
        const { broker, database } = await connect();
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        process.once('SIGTERM', () => abort.abort());
        try {
          await tailEvents(
            broker,
            {
              topic: options.topic,
              types: options.type,
              fromBeginning: options.fromBeginning,
              signal: abort.signal,
              ...(options.transaction ? { transactionId: options.transaction } : {}),
              ...(options.limit ? { limit: options.limit } : {}),
            },
            (line) => process.stdout.write(`${line}\n`),
          );
        } finally {
          await broker.stop(1_000);
          await database?.close();
        }
      },
    );
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    const message =
      error instanceof ConfigError
        ? `Configuration error: ${error.message}`
        : `Error: ${(error as Error).message}`;
    process.stderr.write(`${message}\n`);
    process.exitCode = error instanceof ConfigError ? 2 : 1;
  }
}
