import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type avro from 'avsc';
import {
  checkFullCompatibility,
  checkReleaseLock,
  describeVersion,
  loadReleasedSchemas,
  type ReleasedSchemaEntry,
  type SchemaVersion,
} from '../../schemas/index.js';

const releaseLock = JSON.parse(
  readFileSync(new URL('../../schemas/released-schemas.json', import.meta.url), 'utf8'),
) as ReleasedSchemaEntry[];

type Fields = avro.schema.RecordType['fields'];

/** A would-be v2 of TransactionStatusChanged: v1 with `change` applied to its payload fields. */
function v2Of(
  change: (fields: Fields) => void,
  type = 'TransactionStatusChanged',
): [SchemaVersion, SchemaVersion] {
  const v1 = loadReleasedSchemas().find((v) => v.type === type && v.version === 1)!;
  const schema = JSON.parse(JSON.stringify(v1.schema)) as avro.schema.RecordType;
  change((schema.fields.find((f) => f.name === 'payload')!.type as avro.schema.RecordType).fields);
  return [v1, describeVersion(type, 2, schema)];
}

const field = (fields: Fields, name: string) => fields.find((f) => f.name === name)!;

describe('schema compatibility gate', () => {
  it('every released version is backward and forward compatible with every earlier version of its event', () => {
    const problems = checkFullCompatibility(loadReleasedSchemas());
    expect(problems, JSON.stringify(problems, null, 2)).to.deep.equal([]);
  });

  it('every schema file is released exactly as recorded in schemas/released-schemas.json', () => {
    const problems = checkReleaseLock(loadReleasedSchemas(), releaseLock);
    expect(problems.map((p) => p.message)).to.deep.equal([]);
  });

  describe('fails on incompatible changes', () => {
    it('a new required field without a default (new readers cannot read old data)', () => {
      const problems = checkFullCompatibility(
        v2Of((fields) => fields.push({ name: 'riskScore', type: 'int' })),
      );
      expect(problems.map((p) => [p.type, p.from, p.to, p.direction])).to.deep.equal([
        ['TransactionStatusChanged', 1, 2, 'backward'],
      ]);
    });

    it('a removed field without a default (old readers cannot read new data)', () => {
      const problems = checkFullCompatibility(
        v2Of((fields) => fields.splice(fields.indexOf(field(fields, 'toStatus')), 1)),
      );
      expect(problems.map((p) => p.direction)).to.deep.equal(['forward']);
    });

    it('a type change that does not promote (string to int)', () => {
      const problems = checkFullCompatibility(
        v2Of((fields) => {
          field(fields, 'toStatus').type = 'int';
        }),
      );
      expect(problems.map((p) => p.direction)).to.deep.equal(['backward', 'forward']);
    });

    it('a one-way promotion (int to long: old readers cannot read longs)', () => {
      const problems = checkFullCompatibility(
        v2Of((fields) => {
          field(fields, 'attempts').type = 'long';
        }, 'MerchantWebhookRetryExhausted'),
      );
      expect(problems.map((p) => p.direction)).to.deep.equal(['forward']);
    });

    it('a nullable field made required (old data may hold null)', () => {
      const problems = checkFullCompatibility(
        v2Of((fields) => {
          const reason = field(fields, 'reason');
          reason.type = 'string';
          delete (reason as { default?: unknown }).default;
        }),
      );
      expect(problems.map((p) => p.direction)).to.deep.equal(['backward']);
    });

    it('a renamed record (resolution matches records by full name)', () => {
      const [v1] = v2Of(() => {});
      const renamed = JSON.parse(JSON.stringify(v1.schema)) as avro.schema.RecordType;
      renamed.name = 'TransactionStateChanged';
      const problems = checkFullCompatibility([v1, describeVersion('TransactionStatusChanged', 2, renamed)]);
      expect(problems.map((p) => p.direction)).to.deep.equal(['backward', 'forward']);
    });

    it('an incompatible version anywhere in the history, not only against the previous one', () => {
      const [v1, bad] = v2Of((fields) => fields.push({ name: 'riskScore', type: 'int' }));
      const v3Schema = JSON.parse(JSON.stringify(bad.schema)) as avro.schema.RecordType;
      const v3 = describeVersion('TransactionStatusChanged', 3, v3Schema);
      const problems = checkFullCompatibility([v1, { ...bad, version: 2 }, v3]);
      expect(problems.map((p) => `${p.from}->${p.to} ${p.direction}`)).to.deep.equal([
        '1->2 backward',
        '1->3 backward',
      ]);
    });

    it('compares versions only within their event type', () => {
      const released = loadReleasedSchemas();
      expect(checkFullCompatibility(released.map((v) => ({ ...v, version: 1 })))).to.deep.equal([]);
    });
  });

  describe('accepts compatible changes', () => {
    it('a new optional field with a default', () => {
      expect(
        checkFullCompatibility(
          v2Of((fields) => fields.push({ name: 'note', type: ['null', 'string'], default: null })),
        ),
      ).to.deep.equal([]);
    });

    it('a removed field that had a default', () => {
      expect(
        checkFullCompatibility(v2Of((fields) => fields.splice(fields.indexOf(field(fields, 'reason')), 1))),
      ).to.deep.equal([]);
    });

    it('docs only (the fingerprint ignores them)', () => {
      const [v1, v2] = v2Of((fields) => {
        field(fields, 'toStatus').doc = 'Reworded.';
      });
      expect(checkFullCompatibility([v1, v2])).to.deep.equal([]);
      expect(v2.fingerprintHex).to.equal(v1.fingerprintHex);
    });
  });

  describe('release lock', () => {
    const released = () => loadReleasedSchemas();

    it('fails when a released schema is edited in place', () => {
      const [v1, edited] = v2Of((fields) =>
        fields.push({ name: 'note', type: ['null', 'string'], default: null }),
      );
      const replaced = released().map((v) => (v.type === v1.type ? { ...edited, version: 1 } : v));
      const problems = checkReleaseLock(replaced, releaseLock);
      expect(problems.map((p) => [p.type, p.version, p.kind])).to.deep.equal([
        ['TransactionStatusChanged', 1, 'changed'],
      ]);
    });

    it('fails when only a default, alias or logical type changes (same fingerprint, different meaning)', () => {
      const edits: Array<[string, (fields: Fields) => void]> = [
        ['ProviderRequestFailed', (fields) => void (field(fields, 'outcomeUnknown').default = true)],
        [
          'TransactionStatusChanged',
          (fields) => void ((field(fields, 'fromStatus') as { aliases?: string[] }).aliases = ['x']),
        ],
        ['PaymentSessionCreated', (fields) => void (field(fields, 'expiresAt').type = 'long')],
      ];
      for (const [type, edit] of edits) {
        const [v1, edited] = v2Of(edit, type);
        expect(edited.fingerprintHex, type).to.equal(v1.fingerprintHex);
        const replaced = released().map((v) => (v.type === type ? { ...edited, version: 1 } : v));
        expect(checkReleaseLock(replaced, releaseLock).map((p) => [p.type, p.kind])).to.deep.equal([
          [type, 'changed'],
        ]);
      }
    });

    it('fails when a released version is deleted, or a new one is not recorded', () => {
      const [, v2] = v2Of((fields) => fields.push({ name: 'note', type: ['null', 'string'], default: null }));
      const withoutV1 = released().filter((v) => v.type !== 'TransactionStatusChanged');
      expect(checkReleaseLock(withoutV1, releaseLock).map((p) => p.kind)).to.deep.equal(['deleted']);
      const problems = checkReleaseLock([...released(), v2], releaseLock);
      expect(problems.map((p) => p.kind)).to.deep.equal(['unreleased']);
      expect(problems[0]!.message).to.include(v2.fingerprintHex);
    });

    it('fails on a gap in version numbers', () => {
      const [, v2] = v2Of(() => {});
      const problems = checkReleaseLock([...released(), { ...v2, version: 3 }], releaseLock);
      expect(problems.map((p) => p.kind)).to.deep.equal(['unreleased', 'gap']);
    });
  });
});
