import { expect } from 'chai';
import { validateCustomerValues } from '../../gateway/hosted/field-validation.js';
import { compilePattern, formFields, parseFieldSpecs } from '../../gateway/hosted/form-fields.js';
import type { CustomerFieldSpec } from '../../schemas/events.js';

const spec = (name: string, kind: string, extra: Partial<CustomerFieldSpec> = {}): CustomerFieldSpec => ({
  name,
  kind,
  required: true,
  pattern: null,
  label: null,
  ...extra,
});

describe('hosted page: customer fields', () => {
  it('reads the orchestrator specs, defaulting what is missing and refusing malformed lists', () => {
    expect(parseFieldSpecs('[{"name":"first_name"}]')).to.deep.equal([
      { name: 'first_name', kind: 'text', required: true, pattern: null, label: null },
    ]);
    expect(parseFieldSpecs([{ name: 'a' }, { name: 'a' }])).to.equal(null);
    expect(parseFieldSpecs([{ name: 'bad name' }])).to.equal(null);
    expect(parseFieldSpecs({ name: 'a' })).to.equal(null);
    expect(parseFieldSpecs(Array.from({ length: 51 }, (_, i) => ({ name: `f${i}` })))).to.equal(null);
  });

  it('renders kinds as input types with labels, autocomplete and patterns the browser checks', () => {
    const fields = formFields([
      spec('first_name', 'first_name'),
      spec('email', 'email'),
      spec('phone', 'phone'),
      spec('dob', 'birth_date'),
      spec('amount', 'number', { required: false }),
      spec('zip', 'postal_code', { pattern: '[0-9]{5}' }),
      spec('x', 'some_future_kind', { pattern: '[unclosed' }),
    ]);
    expect(fields.map((f) => [f.label, f.type, f.autocomplete, f.required])).to.deep.equal([
      ['First name', 'text', 'given-name', true],
      ['Email', 'email', 'email', true],
      ['Phone', 'tel', 'tel', true],
      ['Dob', 'date', 'bday', true],
      ['Amount', 'number', null, false],
      ['Zip', 'text', 'postal-code', true],
      ['X', 'text', null, true],
    ]);
    expect(fields[5]!.pattern).to.equal('[0-9]{5}');
    expect(fields[6]!.pattern, 'a pattern that does not compile is ignored, as browsers do').to.equal(null);
    for (const field of fields) {
      if (field.pattern) expect(compilePattern(field.pattern), field.name).to.be.instanceOf(RegExp);
    }
  });

  it('validates on the server: required, kind formats, anchored patterns, unknown fields, types', () => {
    const specs = [
      spec('email', 'email'),
      spec('phone', 'tel'),
      spec('dob', 'date'),
      spec('country', 'country'),
      spec('tax_id', 'text', { required: false, pattern: '[0-9]{9}' }),
    ];
    const good = { email: 'ann@example.com', phone: '+49 30 1234567', dob: '1990-02-28', country: 'de' };
    expect(validateCustomerValues(specs, { ...good, tax_id: '  ' })).to.deep.equal({
      ok: true,
      values: { ...good, country: 'DE' },
    });
    const check = validateCustomerValues(specs, {
      email: 'ann@',
      phone: 'call me',
      dob: '1990-02-30',
      country: 42,
      tax_id: '123456789x',
      password: 'hunter2',
    });
    expect(check).to.deep.equal({
      ok: false,
      errors: [
        { field: 'password', code: 'unknown_field' },
        { field: 'email', code: 'invalid_format' },
        { field: 'phone', code: 'invalid_format' },
        { field: 'dob', code: 'invalid_format' },
        { field: 'country', code: 'not_text' },
        { field: 'tax_id', code: 'pattern_mismatch' },
      ],
    });
    expect(JSON.stringify(check)).not.to.contain('hunter2');
    expect(validateCustomerValues(specs, {})).to.deep.include({ ok: false });
    expect(validateCustomerValues([spec('name', 'text')], { name: 'x'.repeat(201) })).to.deep.equal({
      ok: false,
      errors: [{ field: 'name', code: 'too_long' }],
    });
    expect(validateCustomerValues([spec('name', 'text')], { name: 'a\u0000b' })).to.deep.include({
      ok: false,
    });
  });
});
