/**
 * Customer fields the simulated providers know, in each provider's own naming (Stripe: paths under
 * `billing_details`; Adyen: top-level request fields), so a "requires fields" answer can describe them.
 */
import type { FieldRequirement, SimProviderId } from './model.js';

const PHONE_PATTERN = '^\\+?[0-9 ()-]{6,20}$';
const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';
const COUNTRY_PATTERN = '^[A-Z]{2}$';

export const KNOWN_FIELDS: Record<SimProviderId, readonly FieldRequirement[]> = {
  'stripe-sim': [
    { name: 'email', type: 'email', label: 'Email' },
    { name: 'phone', type: 'tel', label: 'Phone', pattern: PHONE_PATTERN },
    { name: 'name', type: 'text', label: 'Full name' },
    { name: 'address.line1', type: 'text', label: 'Address' },
    { name: 'address.city', type: 'text', label: 'City' },
    { name: 'address.postal_code', type: 'text', label: 'Postal code' },
    { name: 'address.country', type: 'country', label: 'Country', pattern: COUNTRY_PATTERN },
  ],
  'adyen-sim': [
    { name: 'shopperEmail', type: 'email', label: 'Email' },
    { name: 'telephoneNumber', type: 'tel', label: 'Phone', pattern: PHONE_PATTERN },
    { name: 'dateOfBirth', type: 'date', label: 'Date of birth', pattern: DATE_PATTERN },
    { name: 'shopperName.firstName', type: 'text', label: 'First name' },
    { name: 'shopperName.lastName', type: 'text', label: 'Last name' },
    { name: 'countryCode', type: 'country', label: 'Country', pattern: COUNTRY_PATTERN },
    { name: 'billingAddress.street', type: 'text', label: 'Street' },
    { name: 'billingAddress.city', type: 'text', label: 'City' },
    { name: 'billingAddress.postalCode', type: 'text', label: 'Postal code' },
    { name: 'billingAddress.country', type: 'country', label: 'Country', pattern: COUNTRY_PATTERN },
  ],
};

/** The fields each provider asks for in the "requires fields" case of the magic amount table. */
export const DEFAULT_REQUIRED_FIELDS: Record<SimProviderId, FieldRequirement[]> = {
  'stripe-sim': fieldsNamed('stripe-sim', ['email', 'phone']),
  'adyen-sim': fieldsNamed('adyen-sim', ['shopperEmail', 'telephoneNumber', 'dateOfBirth']),
};

/** The description of a field by name; an unknown name is a plain text field labelled with its name. */
export function describeField(provider: SimProviderId | undefined, name: string): FieldRequirement {
  const catalogs = provider ? [KNOWN_FIELDS[provider]] : Object.values(KNOWN_FIELDS);
  for (const catalog of catalogs) {
    const known = catalog.find((field) => field.name === name);
    if (known) return { ...known };
  }
  return { name, type: 'text', label: name };
}

/** Missing fields as both providers' "requires fields" answers list them: every one required. */
export function fieldsToAskFor(fields: readonly FieldRequirement[]): Array<Record<string, unknown>> {
  return fields.map((field) => ({
    name: field.name,
    type: field.type,
    label: field.label,
    required: true,
    pattern: field.pattern ?? null,
  }));
}

function fieldsNamed(provider: SimProviderId, names: string[]): FieldRequirement[] {
  return names.map((name) => describeField(provider, name));
}
