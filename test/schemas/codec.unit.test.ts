import { expect } from 'chai';
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
} from '../../schemas/index.js';
import { sampleEvent } from '../support/events.js';

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
      expect(JSON.parse(JSON.stringify(decoded))).to.deep.equal(JSON.parse(JSON.stringify(event)));
      expect(decoded.envelope.occurredAt).to.be.instanceOf(Date);
    });
  }

  it('computes CRC-64-AVRO fingerprints per the Avro specification', () => {
    // Known answer from the Avro project's schema fingerprint test vectors.
    expect(BigInt.asIntN(64, rabinFingerprint('"null"'))).to.equal(7195948357588979594n);
  });

  it('frames bytes as C3 01 + the writer schema fingerprint (little-endian) + body', () => {
    const bytes = encodeEvent(sampleEvent('DepositRequested'));
    expect([...bytes.subarray(0, 2)]).to.deep.equal([0xc3, 0x01]);
    const schema = latestSchema('DepositRequested');
    expect(bytes.subarray(2, 10).equals(schema.fingerprint)).to.equal(true);
    expect(bytes.readBigUInt64LE(2)).to.equal(rabinFingerprint(schema.canonical));
  });

  it('rejects garbage, truncated bodies and unknown schemas with stable error codes', () => {
    const bytes = encodeEvent(sampleEvent('TransactionStatusChanged'));
    const cases: Array<[Buffer, new (...args: never[]) => Error, string]> = [
      [Buffer.from('{"json": true}'), MalformedEventError, 'EVENT_MALFORMED'],
      [Buffer.from([0xc3]), MalformedEventError, 'EVENT_MALFORMED'],
      [bytes.subarray(0, bytes.length - 5), MalformedEventError, 'EVENT_MALFORMED'],
      [Buffer.concat([Buffer.from([0xc3, 0x01]), Buffer.alloc(8, 0xab), Buffer.from('x')]), UnknownSchemaError, 'EVENT_SCHEMA_UNKNOWN'],
    ];
    for (const [input, errorClass, code] of cases) {
      expect(() => decodeEvent(input)).to.throw(errorClass).with.property('code', code);
    }
  });

  it('refuses to encode an event that does not match its schema, naming the field', () => {
    const event = sampleEvent('DepositRequested');
    (event.payload.amount as { amountMinor: unknown }).amountMinor = 'lots';
    expect(() => encodeEvent(event)).to.throw(InvalidEventError, /payload\.amount\.amountMinor/);
  });

  it('decodes a message written with an older schema version into the latest version', () => {
    const v1 = latestSchema('RoutingFailed');
    const v2Schema = JSON.parse(JSON.stringify(v1.schema)) as avro.schema.RecordType;
    const payload = (v2Schema.fields.find((f) => f.name === 'payload')!.type as avro.schema.RecordType).fields;
    payload.push({ name: 'retryable', type: 'boolean', default: false } as avro.schema.RecordType['fields'][number]);
    const v2 = describeVersion('RoutingFailed', 2, v2Schema);
    const oldCodec = createCodec([v1]);
    const newCodec = createCodec([v1, v2]);
    const bytes = oldCodec.encode(sampleEvent('RoutingFailed'));
    const decoded = newCodec.decode(bytes) as unknown as { envelope: { schemaVersion: number }; payload: { retryable: boolean } };
    expect(decoded.payload.retryable).to.equal(false);
    expect(decoded.envelope.schemaVersion, 'the envelope still says what the writer used').to.equal(1);
    // A reader that does not know the writer's schema refuses the bytes clearly instead of misreading them;
    // once it loads the released v2 schema it resolves them (forward compatibility is checked by the gate).
    const newBytes = newCodec.encode(sampleEvent('RoutingFailed'));
    expect(oldCodec.decode.bind(null, newBytes)).to.throw(UnknownSchemaError);
    expect(newCodec.decode(newBytes).envelope.schemaVersion).to.equal(2);
  });
});
