import { readdirSync, readFileSync } from 'node:fs';
import avro from 'avsc';
import { fingerprintBytes } from './fingerprint.js';
import { LOGICAL_TYPES } from './logical-types.js';

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
}

const SCHEMA_DIR = new URL('./avro/', import.meta.url);

/** Parses a schema with our logical types; the one place avsc types are built. */
export function parseSchema(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, { logicalTypes: LOGICAL_TYPES });
}

export function describeVersion(type: string, version: number, schema: avro.Schema): SchemaVersion {
  const avroType = parseSchema(schema);
  const canonical = JSON.stringify(avroType.schema());
  const fingerprint = fingerprintBytes(canonical);
  return { type, version, schema, avroType, canonical, fingerprint, fingerprintHex: fingerprint.toString('hex') };
}

/** Every released version of every event schema, read from `schemas/avro/<Type>/v<N>.avsc`. */
export function loadReleasedSchemas(dir: URL = SCHEMA_DIR): SchemaVersion[] {
  const versions: SchemaVersion[] = [];
  for (const type of readdirSync(dir).sort()) {
    for (const file of readdirSync(new URL(`${type}/`, dir))) {
      const match = /^v(\d+)\.avsc$/.exec(file);
      if (!match) continue;
      const schema = JSON.parse(readFileSync(new URL(`${type}/${file}`, dir), 'utf8')) as avro.Schema;
      versions.push(describeVersion(type, Number(match[1]), schema));
    }
  }
  return versions.sort((a, b) => a.type.localeCompare(b.type) || a.version - b.version);
}
