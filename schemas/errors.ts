import { NonRetryableError } from '../core/errors.js';

/**
 * Bytes that are not a single-object-encoded event: wrong marker, truncated, corrupt body, or a body
 * whose envelope contradicts its schema. Code `EVENT_MALFORMED`; never retryable (poison message).
 */
export class MalformedEventError extends NonRetryableError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, code: 'EVENT_MALFORMED' });
  }
}

/**
 * The writer schema's fingerprint is not one of our released schema versions (a producer with a newer
 * schema than this consumer has, or bytes from another system). Code `EVENT_SCHEMA_UNKNOWN`.
 */
export class UnknownSchemaError extends NonRetryableError {
  readonly fingerprintHex: string;
  constructor(fingerprintHex: string) {
    super(`no released event schema has fingerprint ${fingerprintHex}`, { code: 'EVENT_SCHEMA_UNKNOWN' });
    this.fingerprintHex = fingerprintHex;
  }
}

/** An event object that does not match its schema (a programming error on the producing side). Code `EVENT_INVALID`. */
export class InvalidEventError extends NonRetryableError {
  readonly paths: string[];
  constructor(type: string, paths: string[], detail?: string) {
    super(detail ?? `${type} does not match its schema at: ${paths.join(', ')}`, { code: 'EVENT_INVALID' });
    this.paths = paths;
  }
}
