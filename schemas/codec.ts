/**
 * The only place bytes become events and events become bytes.
 *
 * Framing: Avro single-object encoding (marker C3 01, the writer schema's 8-byte little-endian
 * CRC-64-AVRO fingerprint, then the Avro binary body), so any stock Avro library that supports it
 * (Java BinaryMessageDecoder, ...) decodes our stream given the schemas in `schemas/avro/`.
 * Decoding resolves the writer's version to the latest version of the same event type.
 */
import type avro from 'avsc';
import { InvalidEventError, MalformedEventError, UnknownSchemaError } from './errors.js';
import type { EventType, PlatformEvent } from './events.js';
import { loadReleasedSchemas, type SchemaVersion } from './registry.js';

const MARKER = Buffer.from([0xc3, 0x01]);
const HEADER_LENGTH = MARKER.length + 8;

export interface EventCodec {
  encode(event: PlatformEvent): Buffer;
  decode(bytes: Buffer): PlatformEvent;
  typeOf(bytes: Buffer): EventType;
  latest(type: string): SchemaVersion;
}

/** A codec over a set of schema versions (the released ones in production; tests may add more). */
export function createCodec(versions: readonly SchemaVersion[]): EventCodec {
  const byFingerprint = new Map(versions.map((v) => [v.fingerprintHex, v]));
  const latestByType = new Map<string, SchemaVersion>();
  for (const version of versions) {
    const current = latestByType.get(version.type);
    if (!current || current.version < version.version) latestByType.set(version.type, version);
  }
  const resolvers = new Map<string, avro.Resolver>();

  const latest = (type: string): SchemaVersion => {
    const version = latestByType.get(type);
    if (!version) throw new Error(`no schema released for event type ${type}`);
    return version;
  };

  const writerOf = (bytes: Buffer): SchemaVersion => {
    if (!Buffer.isBuffer(bytes) || bytes.length < HEADER_LENGTH) {
      throw new MalformedEventError(`expected at least ${HEADER_LENGTH} bytes of single-object encoding`);
    }
    if (bytes[0] !== MARKER[0] || bytes[1] !== MARKER[1]) {
      throw new MalformedEventError('missing the Avro single-object marker C3 01');
    }
    const fingerprintHex = bytes.subarray(2, HEADER_LENGTH).toString('hex');
    const writer = byFingerprint.get(fingerprintHex);
    if (!writer) throw new UnknownSchemaError(fingerprintHex);
    return writer;
  };

  return {
    latest,
    typeOf: (bytes) => writerOf(bytes).type as EventType,
    encode(event) {
      const schema = latest(event.envelope.type);
      const value = { ...event, envelope: { ...event.envelope, schemaVersion: schema.version } };
      const paths: string[] = [];
      if (!schema.avroType.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') })) {
        throw new InvalidEventError(event.envelope.type, paths);
      }
      return Buffer.concat([MARKER, schema.fingerprint, schema.avroType.toBuffer(value)]);
    },
    decode(bytes) {
      const writer = writerOf(bytes);
      const reader = latest(writer.type);
      let resolver = resolvers.get(writer.fingerprintHex);
      if (!resolver && writer !== reader) {
        resolver = reader.avroType.createResolver(writer.avroType);
        resolvers.set(writer.fingerprintHex, resolver);
      }
      try {
        return reader.avroType.fromBuffer(bytes.subarray(HEADER_LENGTH), resolver) as PlatformEvent;
      } catch (error) {
        throw new MalformedEventError(`corrupt ${writer.type} v${writer.version} body: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
  };
}

const released = loadReleasedSchemas();
const codec = createCodec(released);

/** Released schema versions (type, version, fingerprint), for docs and the data team. */
export function schemaCatalog(): ReadonlyArray<Omit<SchemaVersion, 'avroType'>> {
  return released.map(({ avroType: _t, ...rest }) => rest);
}

/** Encodes with the latest released schema of the event's type; the envelope's schemaVersion is set to it. */
export const encodeEvent = (event: PlatformEvent): Buffer => codec.encode(event);
/** Decodes single-object-encoded bytes into the latest released version of the event's type. */
export const decodeEvent = (bytes: Buffer): PlatformEvent => codec.decode(bytes);
/** The event type of encoded bytes, without decoding the body. */
export const eventTypeOf = (bytes: Buffer): EventType => codec.typeOf(bytes);
/** The latest released version of an event type. */
export const latestSchema = (type: EventType): SchemaVersion => codec.latest(type);
