/**
 * Our bytes against a stock Avro implementation: Apache Avro for Java (`org.apache.avro:avro` from Maven
 * Central), through `BinaryMessageDecoder` / `BinaryMessageEncoder` and `SchemaNormalization`, with no
 * project code on the Java side. Needs Java 17 and Maven (skipped without them unless
 * REQUIRE_REAL_BACKENDS=1); the first run downloads the Avro jars into ~/.m2, later runs take ~2 s.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type avro from 'avsc';
import {
  EVENT_TYPES,
  createCodec,
  decodeEvent,
  describeVersion,
  encodeEvent,
  loadReleasedSchemas,
  schemaRegistry,
  type PlatformEvent,
} from '../../schemas/index.js';
import { requireBackend } from '../support/backends.js';
import { sampleEvent } from '../support/events.js';

const JAVA_DIR = fileURLToPath(new URL('./java/', import.meta.url));
const SCHEMAS_DIR = fileURLToPath(new URL('../../schemas/avro/', import.meta.url));

const onPath = (command: string) => spawnSync(command, ['-version'], { stdio: 'ignore' }).status === 0;

/** The Avro jars' classpath, resolved by Maven once per pom.xml content and cached in the temp dir. */
function avroClasspath(): string {
  const pom = join(JAVA_DIR, 'pom.xml');
  const digest = createHash('sha256').update(readFileSync(pom)).digest('hex').slice(0, 16);
  const cached = join(tmpdir(), `payments-stock-avro-${digest}.classpath`);
  if (!existsSync(cached)) {
    const result = spawnSync(
      'mvn',
      ['-q', '-B', '-f', pom, 'dependency:build-classpath', `-Dmdep.outputFile=${cached}`],
      {
        encoding: 'utf8',
      },
    );
    if (result.status !== 0)
      throw new Error(`maven could not resolve org.apache.avro:avro:\n${result.stdout}${result.stderr}`);
  }
  return readFileSync(cached, 'utf8').trim();
}

interface JavaSchemaLine {
  kind: 'schema';
  type: string;
  version: number;
  fingerprint: string;
  fingerprintLong: string;
  canonical: string;
}
interface JavaMessageLine {
  kind: 'message';
  type: string;
  record: unknown;
  reencoded: string;
}
type JavaLine = JavaSchemaLine | JavaMessageLine | { kind: 'error'; message: string };

/** Runs StockAvroCheck.java over a schema directory and hex-encoded messages. */
function runJava(classpath: string, schemasDir: string, messages: Buffer[]): JavaLine[] {
  const work = mkdtempSync(join(tmpdir(), 'stock-avro-'));
  try {
    const input = join(work, 'messages.hex');
    writeFileSync(input, messages.map((m) => m.toString('hex')).join('\n'));
    const stdout = execFileSync(
      'java',
      ['-cp', classpath, join(JAVA_DIR, 'StockAvroCheck.java'), schemasDir, input],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 },
    );
    return stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as JavaLine);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Our event as Avro's GenericData renders it: timestamp-millis as epoch millis, records as objects. */
const asJavaSees = (event: PlatformEvent): unknown =>
  JSON.parse(JSON.stringify(event), (_key, value: unknown) =>
    typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value)
      ? Date.parse(value)
      : value,
  );

describe('stock Apache Avro (Java) reads and writes our events', function () {
  this.timeout(180_000);
  let classpath: string;
  const events = EVENT_TYPES.map((type) => structuredClone(sampleEvent(type, `tx_${type}`, 3)));
  const messages = events.map((event) => encodeEvent(event));
  let lines: JavaLine[];

  before(function () {
    requireBackend(this, 'Java 17 and Maven (stock Avro check)', onPath('java') && onPath('mvn'));
    classpath = avroClasspath();
    lines = runJava(classpath, SCHEMAS_DIR, messages);
  });

  it('computes the same Parsing Canonical Form and CRC-64-AVRO fingerprint for every released schema', () => {
    const java = lines.filter((l): l is JavaSchemaLine => l.kind === 'schema');
    expect(java.map((l) => `${l.type}/v${l.version}`)).to.deep.equal(
      schemaRegistry.map((s) => `${s.type}/v${s.version}`),
    );
    for (const ours of schemaRegistry) {
      const theirs = java.find((l) => l.type === ours.type && l.version === ours.version)!;
      expect(theirs.canonical, ours.type).to.equal(ours.canonical);
      expect(theirs.fingerprint, ours.type).to.equal(ours.fingerprintHex);
      expect(theirs.fingerprintLong, ours.type).to.equal(ours.fingerprintLong);
    }
  });

  it('decodes every event type with BinaryMessageDecoder to the values we encoded', () => {
    const decoded = lines.filter((l): l is JavaMessageLine => l.kind === 'message');
    expect(lines.filter((l) => l.kind === 'error')).to.deep.equal([]);
    expect(decoded.map((l) => l.type)).to.deep.equal([...EVENT_TYPES]);
    decoded.forEach((line, i) => expect(line.record, line.type).to.deep.equal(asJavaSees(events[i]!)));
  });

  it("writes byte-identical messages with BinaryMessageEncoder, and we decode Java's bytes", () => {
    const decoded = lines.filter((l): l is JavaMessageLine => l.kind === 'message');
    decoded.forEach((line, i) => {
      const javaBytes = Buffer.from(line.reencoded, 'hex');
      expect(javaBytes.equals(messages[i]!), line.type).to.equal(true);
      expect(JSON.stringify(decodeEvent(javaBytes))).to.equal(JSON.stringify(events[i]));
    });
  });

  it('resolves an older-version message to a newer reader schema exactly as our codec does', () => {
    // A would-be RoutingFailed v2 (new optional field), in a copy of the schema directory.
    const v1 = loadReleasedSchemas().find((v) => v.type === 'RoutingFailed' && v.version === 1)!;
    const v2Schema = JSON.parse(JSON.stringify(v1.schema)) as avro.schema.RecordType;
    (v2Schema.fields[1]!.type as avro.schema.RecordType).fields.push({
      name: 'retryable',
      type: 'boolean',
      default: true,
      doc: 'Whether routing may be retried later.',
    } as avro.schema.RecordType['fields'][number]);
    const dir = mkdtempSync(join(tmpdir(), 'stock-avro-schemas-'));
    try {
      cpSync(SCHEMAS_DIR, dir, { recursive: true });
      writeFileSync(join(dir, 'RoutingFailed', 'v2.avsc'), JSON.stringify(v2Schema, null, 2));
      const v2 = describeVersion('RoutingFailed', 2, v2Schema);
      const v1Message = createCodec([v1]).encode(sampleEvent('RoutingFailed'));
      const [java] = runJava(classpath, dir, [v1Message]).filter(
        (l): l is JavaMessageLine => l.kind === 'message',
      );
      const ours = createCodec([v1, v2]).decode(v1Message);
      expect((java!.record as { payload: { retryable: boolean } }).payload.retryable).to.equal(true);
      expect(java!.record).to.deep.equal(asJavaSees(ours));
      // Java re-encodes with v2; our v2-aware codec reads it back.
      expect(Buffer.from(java!.reencoded, 'hex').subarray(2, 10).equals(v2.fingerprint)).to.equal(true);
      expect(JSON.stringify(createCodec([v1, v2]).decode(Buffer.from(java!.reencoded, 'hex')))).to.equal(
        JSON.stringify(ours),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
