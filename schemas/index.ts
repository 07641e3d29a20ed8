export * from './events.js';
export { encodeEvent, decodeEvent, eventTypeOf, latestSchema, schemaCatalog, createCodec, type EventCodec } from './codec.js';
export { MalformedEventError, UnknownSchemaError, InvalidEventError } from './errors.js';
export { checkFullCompatibility, type CompatibilityProblem } from './compatibility.js';
export { loadReleasedSchemas, describeVersion, type SchemaVersion } from './registry.js';
export { rabinFingerprint } from './fingerprint.js';
