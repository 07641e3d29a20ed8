/**
 * payments-ops: operations commands. `events tail` prints the business event stream as JSON lines.
 * `dlq list|show|replay|purge` inspects and replays dead-lettered events.
 * `users create|token|disable` manages back-office users and prints their access tokens once.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError } from '../core/errors.js';
import { BUSINESS_EVENTS_TOPIC } from '../core/streams.js';
import { EVENT_TYPES, type EventType } from '../schemas/index.js';
import { connect } from './connect.js';
import { registerDlqCommands } from './dlq.js';
import { tailEvents } from './events-tail.js';
import { registerUserCommands } from './users.js';

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
        const connection = await connect({ broker: true, database: false });
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        process.once('SIGTERM', () => abort.abort());
        try {
          await tailEvents(
            connection.broker!,
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
          await connection.close();
        }
      },
    );
  registerDlqCommands(program);
  registerUserCommands(program);
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
