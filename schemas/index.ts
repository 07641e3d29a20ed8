/** Public surface of the event schemas: types, the one codec, the registry and the compatibility gate. */
export * from './events.js';
export {
  encodeEvent,
  decodeEvent,
  eventTypeOf,
  latestSchema,
  schemaRegistry,
  schemaCatalog,
  createCodec,
  SINGLE_OBJECT_MARKER,
  type EventCodec,
  type RegisteredSchema,
} from './codec.js';
export { MalformedEventError, UnknownSchemaError, InvalidEventError } from './errors.js';
export {
  checkFullCompatibility,
  checkReleaseLock,
  type CompatibilityProblem,
  type ReleasedSchemaEntry,
  type ReleaseProblem,
} from './compatibility.js';
export {
  loadReleasedSchemas,
  describeVersion,
  parseSchema,
  EVENT_NAMESPACE,
  type SchemaVersion,
} from './registry.js';
export { rabinFingerprint } from './fingerprint.js';
