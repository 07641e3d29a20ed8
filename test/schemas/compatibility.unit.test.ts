import { expect } from 'chai';
import type avro from 'avsc';
import { checkFullCompatibility, describeVersion, loadReleasedSchemas } from '../../schemas/index.js';

describe('schema compatibility gate', () => {
  it('every released version is backward and forward compatible with every earlier version of its event', () => {
    const released = loadReleasedSchemas();
    const byType = new Map<string, typeof released>();
    for (const version of released) byType.set(version.type, [...(byType.get(version.type) ?? []), version]);
    const problems = [...byType.values()].flatMap((versions) => checkFullCompatibility(versions));
    expect(problems, JSON.stringify(problems, null, 2)).to.deep.equal([]);
  });

  function withPayloadChange(change: (fields: avro.schema.RecordType['fields']) => void) {
    const v1 = loadReleasedSchemas().find((v) => v.type === 'TransactionStatusChanged' && v.version === 1)!;
    const schema = JSON.parse(JSON.stringify(v1.schema)) as avro.schema.RecordType;
    change((schema.fields.find((f) => f.name === 'payload')!.type as avro.schema.RecordType).fields);
    return [v1, describeVersion('TransactionStatusChanged', 2, schema)];
  }

  it('fails on a new required field without a default (old data cannot be read)', () => {
    const problems = checkFullCompatibility(withPayloadChange((fields) => fields.push({ name: 'riskScore', type: 'int' })));
    expect(problems.map((p) => p.direction)).to.deep.equal(['backward']);
  });

  it('fails on a removed field without a default (old readers cannot read new data)', () => {
    const problems = checkFullCompatibility(
      withPayloadChange((fields) => fields.splice(fields.findIndex((f) => f.name === 'toStatus'), 1)),
    );
    expect(problems.map((p) => p.direction)).to.deep.equal(['forward']);
  });

  it('fails on an incompatible type change', () => {
    const problems = checkFullCompatibility(
      withPayloadChange((fields) => {
        fields.find((f) => f.name === 'toStatus')!.type = 'int';
      }),
    );
    expect(problems.length).to.equal(2);
  });

  it('accepts a new optional field with a default', () => {
    const problems = checkFullCompatibility(
      withPayloadChange((fields) => fields.push({ name: 'note', type: ['null', 'string'], default: null })),
    );
    expect(problems).to.deep.equal([]);
  });
});
