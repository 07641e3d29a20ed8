import { BrokerUnavailableError, PlatformError } from '../errors.js';

/**
 * "The database is down" as one error, so request handlers answer 503 (retry later) instead of 500 or
 * hanging: connection refused/reset/lost, PostgreSQL shutting down or out of connections, no pooled
 * connection in time, or no answer within the caller's deadline. Everything else stays a bug (500).
 */
export class DatabaseUnavailableError extends PlatformError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('DATABASE_UNAVAILABLE', message, { retryable: true, cause: options.cause });
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** PostgreSQL SQLSTATEs meaning "not now": connection exceptions, shutdown, insufficient resources. */
const SQLSTATE_UNAVAILABLE = /^(08...|57P0[1-3]|53...)$/;

/** pg reports a connection lost mid-query with a message only. */
const LOST_CONNECTION =
  /connection terminated|connection error and is not queryable|timeout exceeded when trying to connect/i;

export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATE_UNAVAILABLE.test(code))) return true;
  if (name === 'KnexTimeoutError') return true;
  if (typeof message === 'string' && LOST_CONNECTION.test(message)) return true;
  const errors = (error as { errors?: unknown }).errors; // AggregateError from dual-stack connects
  return Array.isArray(errors) && errors.some(isDatabaseUnavailable);
}

/**
 * Runs database work with a deadline: resolves with its result, or rejects with DatabaseUnavailableError
 * when it takes longer than `timeoutMs` or fails because the database is unreachable. The work itself is
 * not cancelled: a write may still commit after the deadline, so callers must be idempotent (the
 * Merchant Gateway is: a retried deposit gets the original answer).
 */
export async function withDatabaseDeadline<T>(work: () => Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const running = work();
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DatabaseUnavailableError(`no answer from the database within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([running, deadline]);
  } catch (error) {
    if (error instanceof DatabaseUnavailableError) {
      running.catch(() => undefined); // finishes (or fails) in the background; nobody waits for it
      throw error;
    }
    if (isDatabaseUnavailable(error))
      throw new DatabaseUnavailableError('the database is unreachable', { cause: error });
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A handler failed because a dependency is unreachable (the database, or the broker it publishes to),
 * not because of the message: the EventBus retries such failures until the dependency is back instead
 * of dead-lettering the message (EventBusOptions.isTransient).
 */
export function isDependencyUnavailable(error: unknown): boolean {
  return error instanceof BrokerUnavailableError || isDatabaseUnavailable(error);
}
