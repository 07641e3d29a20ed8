/**
 * Correlation ids on every log line of a flow without threading a logger through every call: the
 * consumer or HTTP layer runs its work inside `withLogContext({ transactionId, eventId, ... })`, and the
 * logger's `logContext` format adds those ids to each line logged within, however deep (handlers,
 * connectors, the broker runtime). Explicit meta on a line wins over the context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import winston from 'winston';

export interface LogContext {
  transactionId?: string;
  eventId?: string;
  eventType?: string;
  merchantId?: string;
  correlationId?: string;
  callbackId?: string;
  provider?: string;
  sessionId?: string;
  requestId?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `work` with these ids added to the current context (nested contexts merge). */
export function withLogContext<T>(context: LogContext, work: () => T): T {
  return storage.run({ ...storage.getStore(), ...stripUndefined(context) }, work);
}

/**
 * Adds ids to the context of the flow in progress (e.g. the merchant once a request is authenticated):
 * every later line of that flow carries them. Outside a context it does nothing. Each
 * `withLogContext` holds its own copy, so an addition never leaks into the enclosing flow.
 */
export function addToLogContext(context: LogContext): void {
  const store = storage.getStore();
  if (store) Object.assign(store, stripUndefined(context));
}

/**
 * Runs `work` outside any log context: for work done on behalf of many flows at once (a batch of
 * several requests' database work), whose lines must not carry one of those flows' ids.
 */
export function withoutLogContext<T>(work: () => T): T {
  return storage.run({}, work);
}

export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}

/** winston format: the current context's ids, under the line's own meta. */
export const logContext = winston.format((info) => {
  const context = storage.getStore();
  if (!context) return info;
  for (const [key, value] of Object.entries(context)) if (!(key in info)) info[key] = value;
  return info;
});

function stripUndefined(context: LogContext): LogContext {
  return Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined)) as LogContext;
}
