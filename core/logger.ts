import winston from 'winston';
import { logContext } from './log-context.js';

/** Structured logger: JSON lines carrying transactionId / eventId / merchantId where known. */
export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
  child(meta: Record<string, unknown>): Logger;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'silent';

/** Keys whose values never reach a log line, whatever object they are nested in. */
const SECRET_KEYS =
  /^(authorization|x-api-key|api[-_]?key|secret|password|token|signature|webhook-signature|card[-_]?number|pan|cvv|cvc)$/i;

const redact = winston.format((info) => redactDeep(info) as winston.Logform.TransformableInfo);

function redactDeep(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, depth + 1));
  const out: Record<string | symbol, unknown> = {};
  for (const key of Reflect.ownKeys(value)) {
    const v = (value as Record<string | symbol, unknown>)[key as string];
    out[key] = typeof key === 'string' && SECRET_KEYS.test(key) ? '[redacted]' : redactDeep(v, depth + 1);
  }
  return out;
}

/**
 * Creates the process logger; `service` lands on every line. Lines go to stderr, or to `destination`
 * (a stream of JSON lines: tests capture the real, redacted output to prove what never gets logged).
 */
export function createLogger(options: {
  level: LogLevel;
  service: string;
  destination?: NodeJS.WritableStream;
}): Logger {
  return winston.createLogger({
    level: options.level === 'silent' ? 'error' : options.level,
    silent: options.level === 'silent',
    defaultMeta: { service: options.service },
    format: winston.format.combine(logContext(), redact(), winston.format.timestamp(), winston.format.json()),
    transports: [
      options.destination
        ? new winston.transports.Stream({ stream: options.destination })
        : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] }),
    ],
  });
}

/** A logger that drops everything (unit tests). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
