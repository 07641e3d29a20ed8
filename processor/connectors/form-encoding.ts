/**
 * Stripe's request encoding: nested objects as bracket paths (`metadata[reference]=…`), arrays as
 * indexed paths (`payment_method_types[0]=card`). Null and undefined members are left out. Pure.
 */

export type FormInput =
  string | number | boolean | null | undefined | FormInput[] | { [key: string]: FormInput };

export function encodeForm(params: Readonly<Record<string, FormInput>>): string {
  const pairs = new URLSearchParams();
  const walk = (prefix: string, value: FormInput) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) value.forEach((item, index) => walk(`${prefix}[${index}]`, item));
    else if (typeof value === 'object')
      for (const [key, member] of Object.entries(value)) walk(`${prefix}[${key}]`, member);
    else pairs.append(prefix, String(value));
  };
  for (const [key, value] of Object.entries(params)) walk(key, value);
  return pairs.toString();
}
