import { NonRetryableError } from '../core/errors.js';

/** Bytes that are not a single-object-encoded event (wrong marker, truncated, corrupt body). */
export class MalformedEventError extends NonRetryableError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, code: 'EVENT_MALFORMED' });
  }
}

/** The writer schema's fingerprint is not one of our released schema versions. */
export class UnknownSchemaError extends NonRetryableError {
  constructor(fingerprintHex: string) {
    super(`no released event schema has fingerprint ${fingerprintHex}`, { code: 'EVENT_SCHEMA_UNKNOWN' });
  }
}

/** An event object that does not match its schema (a programming error on the producing side). */
export class InvalidEventError extends NonRetryableError {
  readonly paths: string[];
  constructor(type: string, paths: string[]) {
    super(`${type} does not match its schema at: ${paths.join(', ')}`, { code: 'EVENT_INVALID' });
    this.paths = paths;
  }
}
