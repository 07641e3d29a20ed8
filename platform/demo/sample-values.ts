/** Plausible values for the customer fields a provider asks for (used by `npm run demo` and the flow tests). */
export function sampleFieldValue(field: string, kind: string): string {
  const name = field.toLowerCase();
  if (kind === 'email' || name.includes('email')) return 'ada@example.com';
  if (kind === 'tel' || name.includes('phone')) return '+4915112345678';
  if (kind === 'date' || name.includes('birth')) return '1990-05-17';
  if (kind === 'country' || name.includes('country')) return 'DE';
  if (name.includes('postal') || name.includes('zip')) return '10115';
  return 'Ada Lovelace';
}
