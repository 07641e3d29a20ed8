import { createInterface } from 'node:readline/promises';
import { userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import {
  FailedEventStore,
  replayFailedEvents,
  type FailedEvent,
  type FailedEventFilter,
} from '../core/failed-events/index.js';
import { decodeEvent } from '../schemas/index.js';
import { connect } from './connect.js';

interface FilterOptions {
  consumer?: string;
  topic?: string;
  type?: string;
  transaction?: string;
  since?: Date;
  until?: Date;
  error?: string;
  status?: FailedEventFilter['status'];
  limit?: number;
}

function date(value: string): Date {
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime()))
    throw new InvalidArgumentError('must be an ISO date/time, e.g. 2026-11-24T10:00:00Z');
  return parsed;
}
function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}
function status(value: string): FailedEventFilter['status'] {
  if (!['open', 'replayed', 'purged', 'all'].includes(value))
    throw new InvalidArgumentError('must be open, replayed, purged or all');
  return value as FailedEventFilter['status'];
}

function withFilters(command: Command): Command {
  return command
    .option('--consumer <group>', 'consumer group that failed')
    .option('--topic <topic>', 'original topic')
    .option('--type <eventType>', 'event type')
    .option('--transaction <id>', 'transaction id')
    .option('--since <time>', 'last failure at or after (ISO time)', date)
    .option('--until <time>', 'last failure before (ISO time)', date)
    .option('--error <text>', 'error class or message contains (case-insensitive)')
    .option('--status <status>', 'open (default), replayed, purged or all', status)
    .option('--limit <n>', 'at most n records', positiveNumber);
}

function toFilter(options: FilterOptions, ids?: string[]): FailedEventFilter {
  return {
    ...(ids && ids.length > 0 ? { ids } : {}),
    ...(options.consumer ? { consumerGroup: options.consumer } : {}),
    ...(options.topic ? { topic: options.topic } : {}),
    ...(options.type ? { eventType: options.type } : {}),
    ...(options.transaction ? { transactionId: options.transaction } : {}),
    ...(options.since ? { since: options.since } : {}),
    ...(options.until ? { until: options.until } : {}),
    ...(options.error ? { errorText: options.error } : {}),
    ...(options.status ? { status: options.status } : {}),
    ...(options.limit ? { limit: options.limit } : {}),
  };
}

function summary(record: FailedEvent) {
  return {
    id: record.id,
    status: record.status,
    consumerGroup: record.consumerGroup,
    topic: record.topic,
    eventType: record.eventType,
    transactionId: record.transactionId,
    errorClass: record.errorClass,
    errorMessage: record.errorMessage,
    attempts: record.attempts,
    lastFailureAt: record.lastFailureAt.toISOString(),
    replayCount: record.replayCount,
  };
}

function table(rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) return '(no failed events)';
  const columns = Object.keys(rows[0]!);
  const cell = (v: unknown) =>
    (v === null || v === undefined ? '' : String(v)).replace(/\s+/g, ' ').slice(0, 60);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  return [
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ].join('\n');
}

function decodedPayload(record: FailedEvent): unknown {
  try {
    return decodeEvent(record.payload);
  } catch {
    const text = record.payload.toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return { base64: record.payload.toString('base64') };
    }
  }
}

async function withStore<T>(
  needsBroker: boolean,
  fn: (store: FailedEventStore, connection: Awaited<ReturnType<typeof connect>>) => Promise<T>,
): Promise<T> {
  const connection = await connect({ broker: needsBroker, database: true });
  try {
    return await fn(new FailedEventStore(connection.database!.knex), connection);
  } finally {
    await connection.close();
  }
}

/** `payments-ops dlq ...`: inspect, replay and purge dead-lettered events (failed_events). */
export function registerDlqCommands(program: Command): void {
  const dlq = program.command('dlq').description('Dead-lettered events: list, show, replay, purge');

  withFilters(dlq.command('list').description('List failed events (open ones by default)'))
    .option('--json', 'one JSON object per line instead of a table', false)
    .addHelpText(
      'after',
      '\nExamples:\n  payments-ops dlq list --consumer processor --since 2026-11-24T00:00:00Z\n  payments-ops dlq list --transaction tx_123 --status all --json',
    )
    .action(async (options: FilterOptions & { json: boolean }) => {
      await withStore(false, async (store) => {
        const rows = (await store.list(toFilter(options))).map(summary);
        process.stdout.write(
          options.json
            ? rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '')
            : `${table(rows)}\n`,
        );
      });
    });

  dlq
    .command('show <id>')
    .description('Show one failed event: metadata, error, decoded payload, replay history')
    .action(async (id: string) => {
      await withStore(false, async (store) => {
        const record = await store.get(id);
        if (!record) throw new InvalidArgumentError(`no failed event with id ${id}`);
        const { payload: _payload, ...metadata } = record;
        process.stdout.write(
          `${JSON.stringify({ ...metadata, payload: decodedPayload(record), history: await store.actions(id) }, null, 2)}\n`,
        );
      });
    });

  withFilters(
    dlq
      .command('replay [ids...]')
      .description('Publish failed events back to their topic, for the consumer group that failed'),
  )
    .option('--all', 'every record matching the filters (required when no id and no filter is given)', false)
    .option('--dry-run', 'show what would be replayed, change nothing', false)
    .option('--rate <perSecond>', 'at most this many replays per second', positiveNumber)
    .option('--force', 'replay records already replayed', false)
    .option('--actor <name>', 'who is replaying (recorded)', userInfo().username)
    .addHelpText(
      'after',
      '\nExamples:\n  payments-ops dlq replay 42\n  payments-ops dlq replay --consumer processor --type DepositRequested --dry-run\n  payments-ops dlq replay --all --rate 50',
    )
    .action(
      async (
        ids: string[],
        options: FilterOptions & {
          all: boolean;
          dryRun: boolean;
          rate?: number;
          force: boolean;
          actor: string;
        },
      ) => {
        const filtered =
          ids.length > 0 ||
          ['consumer', 'topic', 'type', 'transaction', 'since', 'until', 'error'].some(
            (k) => options[k as keyof FilterOptions] !== undefined,
          );
        if (!filtered && !options.all) throw new InvalidArgumentError('give ids, filters, or --all');
        await withStore(!options.dryRun, async (store, connection) => {
          const records = await store.list(
            // Named ids are looked up whatever their status, so the summary can say why one was skipped.
            toFilter(
              { ...options, status: options.status ?? (options.force || ids.length > 0 ? 'all' : 'open') },
              ids,
            ),
          );
          const counts = await replayFailedEvents(connection.broker as never, store, records, {
            actor: options.actor,
            dryRun: options.dryRun,
            force: options.force,
            ...(options.rate ? { ratePerSecond: options.rate } : {}),
            onProgress: (done, total, record, outcome) => {
              if (options.dryRun)
                process.stdout.write(`${JSON.stringify({ ...summary(record), outcome })}\n`);
              else if (process.stderr.isTTY)
                process.stderr.write(`\r${progressBar(done, total)} ${done}/${total}`);
              else if (done === total || done % 100 === 0)
                process.stderr.write(`replayed ${done}/${total}\n`);
            },
          });
          if (process.stderr.isTTY && records.length > 0 && !options.dryRun) process.stderr.write('\n');
          process.stdout.write(`${JSON.stringify(counts)}\n`);
        });
      },
    );

  withFilters(
    dlq
      .command('purge [ids...]')
      .description('Mark failed events purged: they stop counting as open (kept for audit)'),
  )
    .option('--all', 'every record matching the filters', false)
    .option('--yes', 'do not ask for confirmation', false)
    .option('--actor <name>', 'who is purging (recorded)', userInfo().username)
    .action(async (ids: string[], options: FilterOptions & { all: boolean; yes: boolean; actor: string }) => {
      const filtered =
        ids.length > 0 ||
        ['consumer', 'topic', 'type', 'transaction', 'since', 'until', 'error'].some(
          (k) => options[k as keyof FilterOptions] !== undefined,
        );
      if (!filtered && !options.all) throw new InvalidArgumentError('give ids, filters, or --all');
      await withStore(false, async (store) => {
        const records = (
          await store.list(
            toFilter({ ...options, status: options.status ?? (ids.length > 0 ? 'all' : 'open') }, ids),
          )
        ).filter((r) => r.status !== 'purged');
        if (records.length === 0) {
          process.stdout.write('nothing to purge\n');
          return;
        }
        if (!options.yes) {
          if (!process.stdin.isTTY)
            throw new InvalidArgumentError('refusing to purge without confirmation: pass --yes');
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          const answer = await rl.question(
            `Purge ${records.length} failed event(s)? Type "purge" to confirm: `,
          );
          rl.close();
          if (answer.trim() !== 'purge') {
            process.stdout.write('aborted\n');
            return;
          }
        }
        for (const record of records) await store.mark(record.id, 'purged', options.actor);
        process.stdout.write(`${JSON.stringify({ purged: records.length })}\n`);
      });
    });
}

function progressBar(done: number, total: number): string {
  const width = 30;
  const filled = Math.round((done / Math.max(1, total)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
