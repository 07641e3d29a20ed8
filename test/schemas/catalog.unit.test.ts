import { expect } from 'chai';
import type avro from 'avsc';
import {
  CALLBACK_IGNORED_REASONS,
  EVENT_NAMESPACE,
  EVENT_TYPES,
  LATEST_SCHEMA_VERSIONS,
  buildEnvelope,
  buildEvent,
  causedBy,
  decodeEvent,
  encodeEvent,
  isEventOf,
  isEventType,
  latestSchema,
  loadReleasedSchemas,
  parseSchema,
  type PlatformEvent,
} from '../../schemas/index.js';

type Field = avro.schema.RecordType['fields'][number];

/** Every field of a schema with its dotted path, nested records and array items included. */
function fieldsOf(schema: avro.Schema, path = ''): Array<{ path: string; field: Field }> {
  const out: Array<{ path: string; field: Field }> = [];
  const visit = (type: unknown, at: string): void => {
    if (Array.isArray(type)) return type.forEach((branch) => visit(branch, at));
    if (!type || typeof type !== 'object') return;
    const t = type as { type: string; fields?: Field[]; items?: unknown; values?: unknown };
    if (t.type === 'record') {
      for (const field of t.fields!) {
        const fieldPath = at ? `${at}.${field.name}` : field.name;
        out.push({ path: fieldPath, field });
        visit(field.type, fieldPath);
      }
    }
    if (t.type === 'array') visit(t.items, `${at}[]`);
    if (t.type === 'map') visit(t.values, `${at}{}`);
  };
  visit(schema, path);
  return out;
}

/** Names that would mean a payload carries secrets or card data, which events never do. */
const FORBIDDEN_FIELD =
  /pan$|cardnumber|card_number|cvv|cvc|securitycode|expiry|expmonth|expyear|track[12]?data|pin$|secret|password|apikey|api_key|privatekey|signingkey|hmac|authorization|cookie|iban$/i;

describe('event catalog schemas', () => {
  const released = loadReleasedSchemas();

  it('mirrors the TypeScript catalog: one record per event type, at the version the types describe', () => {
    expect(EVENT_TYPES).to.have.length(20);
    expect(new Set(EVENT_TYPES).size).to.equal(EVENT_TYPES.length);
    for (const type of EVENT_TYPES) {
      expect(latestSchema(type).version, type).to.equal(LATEST_SCHEMA_VERSIONS[type]);
    }
    expect(Object.keys(LATEST_SCHEMA_VERSIONS).sort()).to.deep.equal([...EVENT_TYPES].sort());
  });

  it(`names every record ${EVENT_NAMESPACE}.<EventType> with an envelope then a payload`, () => {
    for (const version of released) {
      const schema = version.schema as avro.schema.RecordType;
      expect(`${schema.namespace}.${schema.name}`).to.equal(`${EVENT_NAMESPACE}.${version.type}`);
      expect(schema.fields.map((f) => f.name)).to.deep.equal(['envelope', 'payload']);
      const payload = schema.fields[1]!.type as avro.schema.RecordType;
      expect(payload.name).to.equal(`${version.type}Payload`);
    }
  });

  /** A schema's resolution-relevant form: canonical plus defaults, aliases and logical types. */
  const shapeOf = (schema: avro.Schema) => parseSchema(schema).schema({ exportAttrs: true });

  it('shares one envelope, identical in every event (defaults and logical types included)', () => {
    const envelopes = new Set(
      released.map((v) => JSON.stringify(shapeOf((v.schema as avro.schema.RecordType).fields[0]!.type))),
    );
    expect(envelopes.size).to.equal(1);
    const envelope = shapeOf((released[0]!.schema as avro.schema.RecordType).fields[0]!.type) as {
      name: string;
      fields: Array<{ name: string; type: unknown; doc?: string }>;
    };
    expect(envelope.name).to.equal(`${EVENT_NAMESPACE}.Envelope`);
    expect(envelope.fields.map(({ doc: _doc, ...field }) => field)).to.deep.equal([
      { name: 'eventId', type: 'string' },
      { name: 'type', type: 'string' },
      { name: 'schemaVersion', type: 'int' },
      { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
      { name: 'transactionId', type: 'string' },
      { name: 'merchantId', type: 'string' },
      { name: 'sequence', type: 'long' },
      { name: 'correlationId', type: 'string' },
      { name: 'causationId', type: ['null', 'string'], default: null },
    ]);
  });

  it('uses the same shared records (Money, ...) everywhere they appear', () => {
    const shapes = new Map<string, Set<string>>();
    for (const version of released) {
      for (const { field } of fieldsOf(version.schema)) {
        const t = field.type as { type?: string; name?: string; items?: { type?: string; name?: string } };
        const record =
          t.type === 'record' ? t : t.type === 'array' && t.items?.type === 'record' ? t.items : undefined;
        if (!record?.name) continue;
        const shape = JSON.stringify(shapeOf(record as avro.Schema));
        shapes.set(record.name, (shapes.get(record.name) ?? new Set()).add(shape));
      }
    }
    for (const [name, variants] of shapes)
      expect(variants.size, `${name} differs between events`).to.equal(1);
    expect([...shapes.keys()]).to.include('Money');
  });

  it('documents every field for the data team', () => {
    const undocumented = released.flatMap((v) =>
      fieldsOf(v.schema)
        .filter(({ field }) => !field.doc)
        .map(({ path }) => `${v.type}.${path}`),
    );
    expect(undocumented).to.deep.equal([]);
  });

  it('keeps secrets and card data out of every payload (by field name)', () => {
    const suspicious = released.flatMap((v) =>
      fieldsOf(v.schema)
        .filter(({ field }) => FORBIDDEN_FIELD.test(field.name))
        .map(({ path }) => `${v.type}.${path}`),
    );
    expect(suspicious).to.deep.equal([]);
  });

  it('gives every nullable field a null default (so it can be dropped or added compatibly)', () => {
    const offenders = released.flatMap((v) =>
      fieldsOf(v.schema)
        .filter(({ field }) => Array.isArray(field.type) && (field.type as unknown[]).includes('null'))
        .filter(({ field }) => (field.type as unknown[])[0] !== 'null' || field.default !== null)
        .map(({ path }) => `${v.type}.${path}`),
    );
    expect(offenders).to.deep.equal([]);
  });

  it('stores money as integer minor units (long) with a currency code', () => {
    const money = released
      .flatMap((v) => fieldsOf(v.schema))
      .find(({ field }) => (field.type as { name?: string }).name === 'Money')!;
    const fields = (money.field.type as avro.schema.RecordType).fields.map((f) => [f.name, f.type]);
    expect(fields).to.deep.equal([
      ['amountMinor', 'long'],
      ['currency', 'string'],
    ]);
  });

  it('documents the ignored-callback reasons the issue names', () => {
    expect(CALLBACK_IGNORED_REASONS).to.include.members(['duplicate', 'rejected', 'late', 'conflicting']);
    const reason = fieldsOf(latestSchema('ProviderCallbackIgnored').schema).find(
      (f) => f.path === 'payload.reason',
    )!;
    for (const value of CALLBACK_IGNORED_REASONS) expect(reason.field.doc).to.include(value);
  });
});

describe('building events', () => {
  it('builds a complete envelope with fresh ids and the current schema version', () => {
    const before = Date.now();
    const envelope = buildEnvelope({
      type: 'DepositRequested',
      transactionId: 'tx_1',
      merchantId: 'm_1',
      sequence: 1,
    });
    expect(envelope.eventId).to.match(/^[0-9a-f-]{36}$/);
    expect(envelope.correlationId, 'a chain starts with its own id').to.equal(envelope.eventId);
    expect(envelope.causationId).to.equal(null);
    expect(envelope.schemaVersion).to.equal(LATEST_SCHEMA_VERSIONS.DepositRequested);
    expect(envelope.occurredAt.getTime()).to.be.at.least(before);
  });

  it('continues a chain with causedBy: same transaction, merchant and correlation; causation = parent', () => {
    const parent = buildEnvelope({
      type: 'DepositRequested',
      transactionId: 'tx_1',
      merchantId: 'm_1',
      sequence: 1,
    });
    const child = buildEnvelope({ ...causedBy(parent), type: 'RoutingStarted', sequence: 2 });
    expect(child).to.include({
      transactionId: 'tx_1',
      merchantId: 'm_1',
      correlationId: parent.eventId,
      causationId: parent.eventId,
    });
    expect(child.eventId).not.to.equal(parent.eventId);
  });

  it('refuses envelopes that cannot be ordered or routed', () => {
    const base = { type: 'RoutingStarted' as const, transactionId: 'tx_1', merchantId: 'm_1', sequence: 1 };
    expect(() => buildEnvelope({ ...base, sequence: -1 })).to.throw(TypeError, /sequence/);
    expect(() => buildEnvelope({ ...base, sequence: 1.5 })).to.throw(TypeError, /sequence/);
    expect(() => buildEnvelope({ ...base, transactionId: '' })).to.throw(TypeError, /transactionId/);
    expect(() => buildEnvelope({ ...base, type: 'Nope' as 'RoutingStarted' })).to.throw(TypeError, /Nope/);
  });

  it('builds typed events that encode and narrow by type', () => {
    const event: PlatformEvent = buildEvent(
      {
        type: 'RoutingFailed',
        transactionId: 'tx_1',
        merchantId: 'm_1',
        sequence: 4,
        correlationId: 'req_1',
      },
      { reason: 'no_matching_rule', detail: null },
    );
    const decoded = decodeEvent(encodeEvent(event));
    expect(isEventOf(decoded, 'RoutingFailed') && decoded.payload.reason).to.equal('no_matching_rule');
    expect(isEventOf(decoded, 'RoutingStarted')).to.equal(false);
    expect(isEventType('RoutingFailed')).to.equal(true);
    expect(isEventType('toString')).to.equal(false);
  });
});
