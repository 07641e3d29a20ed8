import { expect } from 'chai';
import fc from 'fast-check';
import type avro from 'avsc';
import {
  EVENT_TYPES,
  MalformedEventError,
  UnknownSchemaError,
  InvalidEventError,
  createCodec,
  decodeEvent,
  describeVersion,
  encodeEvent,
  eventTypeOf,
  latestSchema,
  loadReleasedSchemas,
  rabinFingerprint,
  schemaRegistry,
  type PlatformEvent,
} from '../../schemas/index.js';
import { sampleEvent as sharedSample } from '../support/events.js';

/** A sample event this test may mutate (the support fixtures share their payload objects). */
const sampleEvent: typeof sharedSample = (...args) => structuredClone(sharedSample(...args));

/** Events as plain JSON (Dates as ISO strings) for deep comparison. */
const plain = (event: unknown): unknown => JSON.parse(JSON.stringify(event));

/** Avro zig-zag varint of a long. */
function varint(n: bigint): Buffer {
  let z = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return Buffer.from(out);
}

function expectRejected(
  input: Uint8Array,
  errorClass: typeof MalformedEventError | typeof UnknownSchemaError,
) {
  const code = errorClass === MalformedEventError ? 'EVENT_MALFORMED' : 'EVENT_SCHEMA_UNKNOWN';
  expect(() => decodeEvent(input))
    .to.throw(errorClass)
    .with.property('code', code);
}

describe('event codec (Avro single-object encoding)', () => {
  it('has a released schema for every event type of the catalog', () => {
    const released = new Set(loadReleasedSchemas().map((v) => v.type));
    expect([...released].sort()).to.deep.equal([...EVENT_TYPES].sort());
  });

  for (const type of EVENT_TYPES) {
    it(`round-trips ${type}`, () => {
      const event = sampleEvent(type, 'tx_roundtrip', 7);
      const bytes = encodeEvent(event);
      expect(eventTypeOf(bytes)).to.equal(type);
      const decoded = decodeEvent(bytes);
      expect(plain(decoded)).to.deep.equal(plain(event));
      expect(decoded.envelope.occurredAt).to.be.instanceOf(Date);
      expect(decoded.envelope.occurredAt.getTime()).to.equal(event.envelope.occurredAt.getTime());
    });
  }

  it('keeps longs exact within ±2^52 (minor units, sequence numbers, timestamps)', () => {
    const event = sampleEvent('TransactionStatusChanged', 'tx_big', 2 ** 52 - 1);
    event.payload.amount = { amountMinor: -(2 ** 52), currency: 'IDR' };
    const decoded = decodeEvent(encodeEvent(event));
    expect(decoded.envelope.sequence).to.equal(2 ** 52 - 1);
    expect(plain(decoded)).to.deep.equal(plain(event));
  });

  it('refuses longs beyond ±2^52 both ways instead of silently changing them (avsc uses doubles)', () => {
    const event = sampleEvent('TransactionStatusChanged');
    event.payload.amount = { amountMinor: -(2 ** 53) + 2, currency: 'EUR' };
    expect(() => encodeEvent(event)).to.throw(InvalidEventError, /cannot be encoded exactly/);
    // What a Java producer may legally write: sequence = -2^53 + 5 (avsc alone would read +2^53 - 6).
    const str = (text: string) => Buffer.concat([varint(BigInt(Buffer.byteLength(text))), Buffer.from(text)]);
    const body = Buffer.concat([
      ...[
        str('evt_1'),
        str('RoutingStarted'),
        varint(1n),
        varint(1_700_000_000_000n),
        str('tx_1'),
        str('m_1'),
      ],
      ...[varint(-(2n ** 53n) + 5n), str('corr_1'), varint(0n), str('rules-1')],
    ]);
    const schema = latestSchema('RoutingStarted');
    expect(schema.avroType.fromBuffer(body).envelope.sequence, 'avsc alone flips the sign').to.equal(
      2 ** 53 - 6,
    );
    expectRejected(Buffer.concat([Buffer.from([0xc3, 0x01]), schema.fingerprint, body]), MalformedEventError);
  });

  it('decodes from any Uint8Array view, not only Buffers', () => {
    const bytes = encodeEvent(sampleEvent('RoutingStarted'));
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    expect(decodeEvent(padded.subarray(3)).envelope.type).to.equal('RoutingStarted');
  });

  describe('CRC-64-AVRO fingerprint', () => {
    // Known answers from the Avro project's test vectors (share/test/data/schema-tests.txt), which Java's
    // SchemaNormalization.parsingFingerprint64 returns as signed longs.
    const vectors: Array<[string, bigint]> = [
      ['"null"', 7195948357588979594n],
      ['"int"', 8247732601305521295n],
      ['"string"', -8142146995180207161n],
      ['{"name":"foo","type":"fixed","size":15}', 1756455273707447556n],
    ];
    for (const [canonical, expected] of vectors) {
      it(`fingerprints ${canonical} as the Avro specification does`, () => {
        expect(BigInt.asIntN(64, rabinFingerprint(canonical))).to.equal(expected);
      });
    }

    it('is taken over the Parsing Canonical Form (full names; no docs, defaults or logical types)', () => {
      const version = describeVersion('Test', 1, {
        type: 'record',
        name: 'Test',
        namespace: 'x.y',
        doc: 'd',
        fields: [{ name: 'f', type: { type: 'long', logicalType: 'timestamp-millis' }, default: 0 }],
      } as avro.Schema);
      expect(version.canonical).to.equal(
        '{"name":"x.y.Test","type":"record","fields":[{"name":"f","type":"long"}]}',
      );
      // Value printed by Java SchemaNormalization.parsingFingerprint64 for the same schema.
      expect(version.fingerprint.readBigInt64LE()).to.equal(-7549434419661959404n);
    });
  });

  it('frames bytes as C3 01 + the writer schema fingerprint (little-endian) + body', () => {
    const bytes = encodeEvent(sampleEvent('DepositRequested'));
    expect([...bytes.subarray(0, 2)]).to.deep.equal([0xc3, 0x01]);
    const schema = latestSchema('DepositRequested');
    expect(bytes.subarray(2, 10).equals(schema.fingerprint)).to.equal(true);
    expect(bytes.readBigUInt64LE(2)).to.equal(rabinFingerprint(schema.canonical));
    const registered = schemaRegistry.find(
      (s) => s.type === 'DepositRequested' && s.version === schema.version,
    )!;
    expect(bytes.subarray(2, 10).toString('hex')).to.equal(registered.fingerprintHex);
    expect(registered.fingerprintLong).to.equal(BigInt.asIntN(64, bytes.readBigUInt64LE(2)).toString());
    // After the 10-byte header comes the plain Avro binary body, nothing else.
    expect(schema.avroType.fromBuffer(bytes.subarray(10)).envelope.type).to.equal('DepositRequested');
  });

  it('lists every released version in the schema registry with its fingerprint and schema JSON', () => {
    expect(schemaRegistry).to.have.length(loadReleasedSchemas().length);
    for (const entry of schemaRegistry) {
      expect(entry.fingerprintHex).to.match(/^[0-9a-f]{16}$/);
      expect((entry.schema as avro.schema.RecordType).name).to.equal(entry.type);
      expect(Object.isFrozen(entry)).to.equal(true);
    }
  });

  describe('rejecting bad input', () => {
    const good = encodeEvent(sampleEvent('TransactionStatusChanged'));
    const header = good.subarray(0, 10);

    it('rejects garbage, truncated bodies and unknown schemas with stable error codes', () => {
      expectRejected(Buffer.from('{"json": true}'), MalformedEventError);
      expectRejected(Buffer.alloc(0), MalformedEventError);
      expectRejected(Buffer.from([0xc3]), MalformedEventError);
      expectRejected(good.subarray(0, 9), MalformedEventError);
      expectRejected(good.subarray(0, good.length - 5), MalformedEventError);
      expectRejected(Buffer.concat([good, Buffer.from([0])]), MalformedEventError);
      expectRejected(
        Buffer.concat([Buffer.from([0xc3, 0x01]), Buffer.alloc(8, 0xab), Buffer.from('x')]),
        UnknownSchemaError,
      );
    });

    it('rejects non-bytes without crashing', () => {
      for (const input of [undefined, null, 'C3 01', 42, {}]) {
        expect(() => decodeEvent(input as unknown as Buffer)).to.throw(MalformedEventError);
      }
    });

    it('says which fingerprint it does not know', () => {
      const bytes = Buffer.concat([
        Buffer.from([0xc3, 0x01]),
        Buffer.from('0102030405060708', 'hex'),
        Buffer.from([0]),
      ]);
      expect(() => eventTypeOf(bytes))
        .to.throw(UnknownSchemaError)
        .with.property('fingerprintHex', '0102030405060708');
    });

    it('rejects a block count larger than the message without allocating it (a 20-byte message must not OOM)', () => {
      const event = sampleEvent('CustomerDataSubmitted');
      event.payload.fieldNames = [];
      const bytes = encodeEvent(event);
      expect(bytes.at(-1)).to.equal(0); // the empty array's terminating block
      for (const count of [400_000_000n, 1n << 40n, -(1n << 40n), (1n << 62n) - 1n]) {
        const started = Date.now();
        expectRejected(Buffer.concat([bytes.subarray(0, -1), varint(count)]), MalformedEventError);
        expect(Date.now() - started).to.be.below(50);
      }
    });

    it('rejects a string length beyond the message, overlong varints and invalid UTF-8', () => {
      const body = (...parts: Buffer[]) => Buffer.concat([header, ...parts]);
      expectRejected(body(varint(1n << 50n)), MalformedEventError);
      expectRejected(body(Buffer.alloc(11, 0xff)), MalformedEventError);
      expectRejected(body(varint(2n), Buffer.from([0xc3, 0x28])), MalformedEventError);
    });

    it('rejects a body whose envelope.type contradicts its schema', () => {
      const event = sampleEvent('RoutingStarted');
      const schema = latestSchema('RoutingStarted');
      const body = schema.avroType.toBuffer({
        ...event,
        envelope: { ...event.envelope, type: 'RoutingFailed' },
      });
      expectRejected(
        Buffer.concat([Buffer.from([0xc3, 0x01]), schema.fingerprint, body]),
        MalformedEventError,
      );
    });

    it('throws only its own errors for arbitrarily corrupted messages (property)', () => {
      const valid = EVENT_TYPES.map((type) => encodeEvent(sampleEvent(type)));
      const corruption = fc.oneof(
        // flip bytes of the body
        fc.record({
          kind: fc.constant('flip' as const),
          at: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
          byte: fc.integer({ min: 0, max: 255 }),
        }),
        // cut the message short
        fc.record({
          kind: fc.constant('cut' as const),
          at: fc.array(fc.nat(), { minLength: 1, maxLength: 1 }),
        }),
        // replace the body with random bytes
        fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
      );
      fc.assert(
        fc.property(fc.nat({ max: valid.length - 1 }), corruption, (index, change) => {
          const original = valid[index]!;
          let input = Buffer.from(original);
          if (change.kind === 'flip')
            for (const at of change.at) input[10 + (at % (input.length - 10))] = change.byte;
          if (change.kind === 'cut') input = input.subarray(0, 10 + (change.at[0]! % (input.length - 10)));
          if (change.kind === 'random') input = Buffer.concat([original.subarray(0, 10), change.bytes]);
          try {
            const event = decodeEvent(input);
            // Avro has no checksum: a corrupted value may still decode, but then it is a well-typed event.
            expect(event.envelope.type).to.equal(eventTypeOf(original));
          } catch (error) {
            expect(error).to.be.instanceOf(MalformedEventError);
          }
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('encoding', () => {
    it('refuses an event that does not match its schema, naming the field', () => {
      const event = sampleEvent('DepositRequested');
      (event.payload.amount as { amountMinor: unknown }).amountMinor = 'lots';
      expect(() => encodeEvent(event))
        .to.throw(InvalidEventError, /payload\.amount\.amountMinor/)
        .with.property('code', 'EVENT_INVALID');
    });

    it('refuses fractional minor units, unsafe integers and invalid dates', () => {
      const fractional = sampleEvent('TransactionStatusChanged');
      fractional.payload.amount = { amountMinor: 10.5, currency: 'EUR' };
      expect(() => encodeEvent(fractional)).to.throw(InvalidEventError);
      const unsafe = sampleEvent('RoutingStarted', 'tx', 2 ** 53);
      expect(() => encodeEvent(unsafe)).to.throw(InvalidEventError, /envelope\.sequence/);
      const invalidDate = sampleEvent('RoutingStarted');
      invalidDate.envelope.occurredAt = new Date(Number.NaN);
      expect(() => encodeEvent(invalidDate)).to.throw(InvalidEventError, /envelope\.occurredAt/);
    });

    it('refuses an unknown event type or a non-event with InvalidEventError', () => {
      const event = sampleEvent('RoutingStarted');
      const unknown = {
        ...event,
        envelope: { ...event.envelope, type: 'RoutingPondered' },
      } as unknown as PlatformEvent;
      expect(() => encodeEvent(unknown)).to.throw(InvalidEventError, /RoutingPondered/);
      expect(() => encodeEvent(null as unknown as PlatformEvent)).to.throw(InvalidEventError);
    });

    it('writes the latest released schema version into the envelope', () => {
      const event = sampleEvent('RoutingStarted');
      event.envelope.schemaVersion = 99;
      expect(decodeEvent(encodeEvent(event)).envelope.schemaVersion).to.equal(
        latestSchema('RoutingStarted').version,
      );
    });
  });

  describe('schema evolution', () => {
    function routingFailedV2() {
      const v1 = loadReleasedSchemas().find((v) => v.type === 'RoutingFailed' && v.version === 1)!;
      const v2Schema = JSON.parse(JSON.stringify(v1.schema)) as avro.schema.RecordType;
      const payload = (v2Schema.fields.find((f) => f.name === 'payload')!.type as avro.schema.RecordType)
        .fields;
      payload.push({
        name: 'retryable',
        type: 'boolean',
        default: false,
      } as avro.schema.RecordType['fields'][number]);
      return { v1, v2: describeVersion('RoutingFailed', 2, v2Schema) };
    }

    it('decodes a message written with an older schema version into the latest version', () => {
      const { v1, v2 } = routingFailedV2();
      const oldCodec = createCodec([v1]);
      const newCodec = createCodec([v1, v2]);
      const bytes = oldCodec.encode(sampleEvent('RoutingFailed'));
      const decoded = newCodec.decode(bytes) as unknown as {
        envelope: { schemaVersion: number };
        payload: { retryable: boolean; reason: string };
      };
      expect(decoded.payload.retryable, 'the new field takes its default').to.equal(false);
      expect(decoded.payload.reason).to.equal('all_candidates_failed');
      expect(decoded.envelope.schemaVersion, 'the envelope still says what the writer used').to.equal(1);
    });

    it('refuses bytes of a version it does not know instead of misreading them', () => {
      const { v1, v2 } = routingFailedV2();
      const oldCodec = createCodec([v1]);
      const newCodec = createCodec([v1, v2]);
      const newBytes = newCodec.encode(sampleEvent('RoutingFailed'));
      expect(() => oldCodec.decode(newBytes)).to.throw(UnknownSchemaError);
      expect(newCodec.decode(newBytes).envelope.schemaVersion).to.equal(2);
      // A v1 reader that is given the v2 writer schema (but keeps v1 as its reader: v2 is listed with a lower
      // number) resolves v2 data to v1: forward compatibility, which the gate checks for every release.
      const upgradedOldReader = createCodec([v1, { ...v2, version: 0 }]);
      expect(plain(upgradedOldReader.decode(newBytes).payload)).to.deep.equal(
        plain(sampleEvent('RoutingFailed').payload),
      );
    });
  });
});
