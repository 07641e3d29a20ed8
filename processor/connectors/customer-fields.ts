/**
 * Customer fields: our names (the hosted form's and the merchant API's vocabulary) and how each provider
 * names them. Connectors translate both ways: our data to the provider's fields on a request, the
 * provider's "these fields are missing" to CustomerFieldSpecs the hosted form can render. Pure.
 *
 * A provider field we do not know keeps the provider's name on the way in and out, so the hosted form
 * can still ask for it and the answer reaches the provider under the name it asked for.
 */
import type { CustomerFieldSpec } from '../../schemas/index.js';
import { isObject } from './wire-json.js';

type FieldLook = Pick<CustomerFieldSpec, 'kind' | 'pattern' | 'label'>;

const PHONE = '^\\+?[0-9 ()-]{6,20}$';

/** Our customer fields. */
export const CUSTOMER_FIELDS: Readonly<Record<string, FieldLook>> = {
  email: { kind: 'email', pattern: null, label: 'Email' },
  phone: { kind: 'tel', pattern: PHONE, label: 'Phone' },
  firstName: { kind: 'text', pattern: null, label: 'First name' },
  lastName: { kind: 'text', pattern: null, label: 'Last name' },
  fullName: { kind: 'text', pattern: null, label: 'Full name' },
  dateOfBirth: { kind: 'date', pattern: '^\\d{4}-\\d{2}-\\d{2}$', label: 'Date of birth' },
  country: { kind: 'country', pattern: '^[A-Z]{2}$', label: 'Country' },
  city: { kind: 'text', pattern: null, label: 'City' },
  postalCode: { kind: 'text', pattern: null, label: 'Postal code' },
  addressLine1: { kind: 'text', pattern: null, label: 'Address' },
};

/** [our name, provider field path]; one of ours may feed several provider fields. */
export type FieldMapping = ReadonlyArray<readonly [ours: string, theirs: string]>;

/** A provider's description of a field it wants. */
export interface ProviderFieldSpec {
  name: string;
  type?: string;
  label?: string | null;
  pattern?: string | null;
  required?: boolean;
}

/** The field descriptions a provider's answer lists; anything that is not one (no name) is skipped. */
export function providerFieldSpecs(value: unknown): ProviderFieldSpec[] {
  return Array.isArray(value) ? value.filter(isFieldSpec) : [];
}

function isFieldSpec(value: unknown): value is ProviderFieldSpec {
  return isObject(value) && typeof value.name === 'string' && value.name.length > 0;
}

/** Our customer data as provider field paths (`shopperName.firstName` -> value). */
export function toProviderFields(
  mapping: FieldMapping,
  customer: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(customer)) {
    if (value.trim() === '') continue;
    const targets = mapping.filter(([ours]) => ours === name).map(([, theirs]) => theirs);
    if (targets.length > 0) for (const target of targets) out[target] = value;
    else if (!Object.hasOwn(CUSTOMER_FIELDS, name)) out[name] = value;
  }
  return out;
}

/** The provider's wanted fields as ours (deduplicated: two provider fields fed by one of ours ask once). */
export function fromProviderSpecs(
  mapping: FieldMapping,
  specs: readonly ProviderFieldSpec[],
): CustomerFieldSpec[] {
  const fields: CustomerFieldSpec[] = [];
  for (const spec of specs) {
    const ours = mapping.find(([, theirs]) => theirs === spec.name)?.[0];
    const name = ours ?? spec.name;
    if (fields.some((field) => field.name === name)) continue;
    const look = ours === undefined ? undefined : CUSTOMER_FIELDS[ours];
    fields.push({
      name,
      kind: look?.kind ?? (typeof spec.type === 'string' ? spec.type : 'text'),
      required: spec.required ?? true,
      pattern: spec.pattern ?? look?.pattern ?? null,
      label: look?.label ?? spec.label ?? null,
    });
  }
  return fields;
}

/** Dotted paths to nested objects (`{"a.b": "x"}` -> `{a: {b: "x"}}`). */
export function unflatten(flat: Readonly<Record<string, string>>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(flat)) {
    const parts = path.split('.');
    if (
      parts.some(
        (part) => part === '' || part === '__proto__' || part === 'constructor' || part === 'prototype',
      )
    )
      continue;
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== 'object' || next === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts.at(-1)!] = value;
  }
  return root;
}
