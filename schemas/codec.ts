/**
 * The only place bytes become events and events become bytes.
 *
 * Framing: Avro single-object encoding (marker C3 01, the writer schema's 8-byte little-endian
 * CRC-64-AVRO fingerprint, then the Avro binary body), so any stock Avro library that supports it
 * (Java BinaryMessageDecoder, ...) decodes our stream given the schemas in `schemas/avro/`.
 * Decoding resolves the writer's version to the latest version of the same event type.
 *
 * Decoding never trusts the bytes: whatever arrives either decodes to a well-typed event or throws
 * MalformedEventError / UnknownSchemaError, in time and memory proportional to its length.
 */
import type avro from 'avsc';
import { assertWellFormedBody } from './binary-guard.js';
import { InvalidEventError, MalformedEventError, UnknownSchemaError } from './errors.js';
import type { EventType, PlatformEvent } from './events.js';
import { loadReleasedSchemas, type SchemaVersion } from './registry.js';

/** The two bytes that open every single-object-encoded message (Avro specification). */
export const SINGLE_OBJECT_MARKER: Readonly<Buffer> = Buffer.from([0xc3, 0x01]);
const HEADER_LENGTH = SINGLE_OBJECT_MARKER.length + 8;

export interface EventCodec {
  encode(event: PlatformEvent): Buffer;
  decode(bytes: Uint8Array): PlatformEvent;
  typeOf(bytes: Uint8Array): EventType;
  latest(type: string): SchemaVersion;
}

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

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
    if (!version)
      throw new InvalidEventError(
        String(type),
        ['envelope.type'],
        `no schema released for event type ${type}`,
      );
    return version;
  };

  const writerOf = (bytes: Uint8Array): SchemaVersion => {
    if (!(bytes instanceof Uint8Array) || bytes.length < HEADER_LENGTH) {
      throw new MalformedEventError(
        `expected at least ${HEADER_LENGTH} bytes of Avro single-object encoding`,
      );
    }
    if (bytes[0] !== SINGLE_OBJECT_MARKER[0] || bytes[1] !== SINGLE_OBJECT_MARKER[1]) {
      throw new MalformedEventError('missing the Avro single-object marker C3 01');
    }
    const fingerprintHex = asBuffer(bytes).subarray(2, HEADER_LENGTH).toString('hex');
    const writer = byFingerprint.get(fingerprintHex);
    if (!writer) throw new UnknownSchemaError(fingerprintHex);
    return writer;
  };

  const resolverFor = (writer: SchemaVersion, reader: SchemaVersion): avro.Resolver | undefined => {
    if (writer === reader) return undefined;
    let resolver = resolvers.get(writer.fingerprintHex);
    if (!resolver) {
      // The compatibility gate keeps this from failing for released versions.
      resolver = reader.avroType.createResolver(writer.avroType);
      resolvers.set(writer.fingerprintHex, resolver);
    }
    return resolver;
  };

  return {
    latest,
    typeOf: (bytes) => writerOf(bytes).type as EventType,
    encode(event) {
      const type = (event as Partial<PlatformEvent> | null)?.envelope?.type;
      if (typeof type !== 'string')
        throw new InvalidEventError('event', ['envelope.type'], 'event has no envelope.type');
      const schema = latest(type);
      const value = { ...event, envelope: { ...event.envelope, schemaVersion: schema.version } };
      const paths: string[] = [];
      if (!schema.avroType.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') })) {
        throw new InvalidEventError(type, paths);
      }
      const body = schema.avroType.toBuffer(value);
      try {
        assertWellFormedBody(schema.avroType, body);
      } catch (error) {
        throw new InvalidEventError(
          type,
          [],
          `${type} cannot be encoded exactly: ${(error as Error).message}`,
        );
      }
      return Buffer.concat([SINGLE_OBJECT_MARKER, schema.fingerprint, body]);
    },
    decode(bytes) {
      const writer = writerOf(bytes);
      const reader = latest(writer.type);
      const body = asBuffer(bytes).subarray(HEADER_LENGTH);
      let event: PlatformEvent;
      try {
        assertWellFormedBody(writer.avroType, body);
        event = reader.avroType.fromBuffer(body, resolverFor(writer, reader)) as PlatformEvent;
      } catch (error) {
        throw new MalformedEventError(
          `corrupt ${writer.type} v${writer.version} body: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      if (event.envelope.type !== writer.type) {
        throw new MalformedEventError(
          `${writer.type} v${writer.version} body claims envelope.type ${JSON.stringify(event.envelope.type)}`,
        );
      }
      return event;
    },
  };
}

const released = loadReleasedSchemas();
const codec = createCodec(released);

/** One released schema version as the data team and tooling see it. */
export interface RegisteredSchema {
  type: EventType;
  version: number;
  /** CRC-64-AVRO fingerprint as the 16 hex digits of its little-endian bytes (what follows C3 01 on the wire). */
  fingerprintHex: string;
  /** The same fingerprint as Java's `SchemaNormalization.parsingFingerprint64` returns it (signed long, decimal). */
  fingerprintLong: string;
  /** Parsing Canonical Form. */
  canonical: string;
  /** The schema JSON as released (with docs and defaults). */
  schema: avro.Schema;
}

/** Every released schema version, ordered by type then version. */
export const schemaRegistry: readonly RegisteredSchema[] = Object.freeze(
  released.map((v) =>
    Object.freeze({
      type: v.type as EventType,
      version: v.version,
      fingerprintHex: v.fingerprintHex,
      fingerprintLong: v.fingerprint.readBigInt64LE().toString(),
      canonical: v.canonical,
      schema: v.schema,
    }),
  ),
);

/** Released schema versions (type, version, fingerprint), for docs and the data team. */
export function schemaCatalog(): ReadonlyArray<Omit<SchemaVersion, 'avroType'>> {
  return released.map(({ avroType: _t, ...rest }) => rest);
}

/** Encodes with the latest released schema of the event's type; the envelope's schemaVersion is set to it. */
export const encodeEvent = (event: PlatformEvent): Buffer => codec.encode(event);
/** Decodes single-object-encoded bytes into the latest released version of the event's type. */
export const decodeEvent = (bytes: Uint8Array): PlatformEvent => codec.decode(bytes);
/** The event type of encoded bytes, from the fingerprint alone (the body is not read). */
export const eventTypeOf = (bytes: Uint8Array): EventType => codec.typeOf(bytes);
/** The latest released version of an event type. */
export const latestSchema = (type: EventType): SchemaVersion => codec.latest(type);
