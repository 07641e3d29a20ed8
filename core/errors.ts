/**
 * Errors with a stable `code`. HTTP layers map them to RFC 7807 problem details; the broker runtime
 * reads `retryable` to decide between another attempt and the dead-letter topic.
 */
export class PlatformError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? true;
  }
}

/** Thrown by a handler when retrying cannot help: the message goes to the dead-letter topic at once. */
export class NonRetryableError extends PlatformError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'NON_RETRYABLE', message, { retryable: false, cause: options.cause });
  }
}

/** The broker did not durably accept a publish in time (or refused it). Callers answer 503. */
export class BrokerUnavailableError extends PlatformError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('BROKER_UNAVAILABLE', message, { retryable: true, cause: options.cause });
  }
}

/** Configuration is invalid; the message names the variable to fix. */
export class ConfigError extends PlatformError {
  constructor(message: string) {
    super('CONFIG_INVALID', message, { retryable: false });
  }
}

/** Normalises anything thrown into an Error, once, so callers never inspect `unknown` themselves. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  try {
    return new Error(`Non-error thrown: ${JSON.stringify(thrown)}`);
  } catch {
    return new Error(`Non-error thrown: ${String(thrown)}`);
  }
}

/** True when the error says retrying cannot help. */
export function isNonRetryable(error: unknown): boolean {
  return error instanceof PlatformError && !error.retryable;
}
