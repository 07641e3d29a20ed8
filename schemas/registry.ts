import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import avro from 'avsc';
import { fingerprintBytes } from './fingerprint.js';
import { LOGICAL_TYPES } from './logical-types.js';

/** Namespace of every event record (and of the shared Envelope, Money, ... records). */
export const EVENT_NAMESPACE = 'com.payments.events';

/** One released schema version of one event type. */
export interface SchemaVersion {
  type: string;
  version: number;
  schema: avro.Schema;
  avroType: avro.Type;
  /** Parsing Canonical Form, what the fingerprint is computed from. */
  canonical: string;
  fingerprint: Buffer;
  fingerprintHex: string;
  /**
   * sha256 of the schema without `doc` attributes. The fingerprint ignores defaults, aliases and logical
   * types (Parsing Canonical Form strips them), yet they change how data resolves; this hash does not.
   */
  contentHash: string;
}

const SCHEMA_DIR = new URL('./avro/', import.meta.url);

/** Parses a schema with our logical types; the one place avsc types are built. */
export function parseSchema(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, { logicalTypes: LOGICAL_TYPES });
}

function withoutDocs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDocs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== 'doc')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, inner]) => [key, withoutDocs(inner)]),
  );
}

export function describeVersion(type: string, version: number, schema: avro.Schema): SchemaVersion {
  const avroType = parseSchema(schema);
  const canonical = JSON.stringify(avroType.schema());
  const fingerprint = fingerprintBytes(canonical);
  const contentHash = createHash('sha256')
    .update(JSON.stringify(withoutDocs(schema)))
    .digest('hex');
  return {
    type,
    version,
    schema,
    avroType,
    canonical,
    fingerprint,
    fingerprintHex: fingerprint.toString('hex'),
    contentHash,
  };
}

/**
 * Every released version of every event schema, read from `schemas/avro/<Type>/v<N>.avsc`. Throws at
 * startup when a file is not valid Avro or its record is not `com.payments.events.<Type>`.
 */
export function loadReleasedSchemas(dir: URL = SCHEMA_DIR): SchemaVersion[] {
  const versions: SchemaVersion[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const type = entry.name;
    for (const file of readdirSync(new URL(`${type}/`, dir))) {
      const match = /^v([1-9]\d*)\.avsc$/.exec(file);
      if (!match) continue;
      const location = new URL(`${type}/${file}`, dir);
      let version: SchemaVersion;
      try {
        const schema = JSON.parse(readFileSync(location, 'utf8')) as avro.Schema;
        version = describeVersion(type, Number(match[1]), schema);
      } catch (error) {
        throw new Error(
          `schemas/avro/${type}/${file} is not a valid Avro schema: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      if (version.avroType.name !== `${EVENT_NAMESPACE}.${type}`) {
        throw new Error(
          `schemas/avro/${type}/${file} must define record ${EVENT_NAMESPACE}.${type}, found ${version.avroType.name}`,
        );
      }
      versions.push(version);
    }
  }
  return versions.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.version - b.version));
}
