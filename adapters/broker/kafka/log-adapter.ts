import { logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from '../../../core/logger.js';

type Level = 'error' | 'warn' | 'info' | 'debug';

/**
 * kafkajs messages that are routine, not problems: kafkajs handles them itself and a real failure
 * reaches us as a rejected call or a consumer crash (which stay at warn/error).
 */
const ROUTINE: ReadonlyArray<{ pattern: RegExp; level: Level }> = [
  // The producer bounds its retries on purpose and is replaced after any failed send (producer.ts).
  { pattern: /Limiting retries for the idempotent producer/, level: 'debug' },
  // ensureTopics ignores "already exists"; kafkajs still logs the error response.
  { pattern: /^Response CreateTopics.*Topic creation errors/, level: 'debug' },
  // Every member sees these during a normal rebalance.
  {
    pattern:
      /^Response (Heartbeat|OffsetCommit|JoinGroup|SyncGroup).*(rebalanc|generation|not aware of this member|member id)/i,
    level: 'debug',
  },
  { pattern: /The group is rebalancing, re-joining/, level: 'info' },
  // Follows a "Crash:" line (kept at error) when kafkajs restarts the member by itself.
  { pattern: /^Restarting the consumer in/, level: 'warn' },
];

/**
 * kafkajs logs each failed connection attempt and each protocol error response at ERROR, including the
 * ones it retries. They are warnings here: a failure that matters reaches us as a rejected publish
 * (BrokerUnavailableError, logged and counted by callers) or a consumer crash (kept at error).
 */
const RETRIED_NAMESPACES = new Set(['Connection', 'BrokerPool']);

/** Fields of a kafkajs log entry that may reach our logs. Anything else (payloads) is dropped. */
const SAFE_FIELDS = [
  'broker',
  'clientId',
  'groupId',
  'memberId',
  'topic',
  'partition',
  'retryCount',
  'retryTime',
  'restart',
] as const;

const MAX_TEXT = 300;
const REPEAT_WINDOW_MS = 10_000;

/**
 * Routes kafkajs logs (warn and above) to our logger:
 * - only whitelisted fields are kept and error texts are truncated, so message keys/values or request
 *   payloads never reach a log line (kafkajs logs neither at warn+, but we do not rely on it);
 * - routine rebalance/topic-exists noise is downgraded;
 * - the same message repeated within 10 s is logged once with a count (an unreachable broker otherwise
 *   logs every reconnect attempt of every client).
 */
export function kafkaLogCreator(logger: Logger, now: () => number = Date.now): logCreator {
  const recent = new Map<string, { at: number; suppressed: number }>();
  return () => (entry: LogEntry) => {
    const level = levelOf(entry);
    if (level === null) return;
    const message = `kafka: ${truncate(String(entry.log.message))}`;
    const meta: Record<string, unknown> = { namespace: entry.namespace };
    for (const field of SAFE_FIELDS) {
      const value: unknown = entry.log[field];
      if (value !== undefined && value !== null)
        meta[field] = typeof value === 'string' ? truncate(value) : value;
    }
    const error: unknown = entry.log.error;
    if (error !== undefined && error !== null) {
      meta.error = truncate(error instanceof Error ? error.message : String(error));
    }

    const key = `${level}|${entry.namespace}|${message}|${String(meta.error ?? '')}`;
    const t = now();
    const seen = recent.get(key);
    if (seen && t - seen.at < REPEAT_WINDOW_MS) {
      seen.suppressed++;
      return;
    }
    if (seen && seen.suppressed > 0) meta.repeatedTimes = seen.suppressed;
    recent.set(key, { at: t, suppressed: 0 });
    if (recent.size > 500) {
      for (const [k, v] of recent) if (t - v.at >= REPEAT_WINDOW_MS) recent.delete(k);
    }
    logger[level](message, meta);
  };
}

function levelOf(entry: LogEntry): Level | null {
  const text = `${String(entry.log.message)} ${String(entry.log.error ?? '')}`;
  for (const { pattern, level } of ROUTINE) if (pattern.test(text)) return level;
  switch (entry.level) {
    case logLevel.ERROR:
      return RETRIED_NAMESPACES.has(entry.namespace) || String(entry.log.message).startsWith('Response ')
        ? 'warn'
        : 'error';
    case logLevel.WARN:
      return 'warn';
    default:
      return null;
  }
}

function truncate(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}
