/**
 * Reads the `providers` and `subMids` sections of the routing configuration. Secrets are only ever
 * references to environment variables here; a literal secret in the file is refused, not ignored.
 */
import {
  array,
  boolean,
  entry,
  field,
  integer,
  item,
  object,
  pattern,
  record,
  string,
  stringSet,
  type Format,
  type Issues,
} from './config-reader.js';
import { isCurrencyCode } from '../../core/reference-data/index.js';
import type { CredentialRef, ProviderSpec, SubMidSpec, VelocityLimit } from './types.js';

export const ID = pattern(
  /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/,
  'an id (letters, digits, _ . : -, at most 64 characters)',
);
export const CURRENCY: Format = {
  test: isCurrencyCode,
  hint: 'an upper-case ISO 4217 currency code such as EUR',
};
const ENV_NAME = pattern(/^[A-Z][A-Z0-9_]*$/, 'an environment variable name such as PSP_API_KEY');
const NAME = pattern(/^[A-Za-z][A-Za-z0-9_]*$/, 'a name (letters, digits, _)');
/** Velocity windows longer than a month would make the caller scan too much history per attempt. */
const MAX_WINDOW_SECONDS = 31 * 24 * 3600;
/** The placeholder an apiBaseUrl may start with: where the provider simulator runs, known only at start. */
export const URL_PLACEHOLDER = '{simulatorBaseUrl}';
const SECRET_LIKE = /secret|password|passwd|token|api_?key|private/i;

export function parseProviders(issues: Issues, value: unknown, path: string): Map<string, ProviderSpec> {
  const providers = new Map<string, ProviderSpec>();
  const raw = record(issues, value, path);
  if (!raw) return providers;
  if (Object.keys(raw).length === 0) issues.add(path, 'must define at least one provider');
  for (const [id, spec] of Object.entries(raw)) {
    const specPath = entry(path, id);
    const validId = string(issues, id, specPath, ID);
    const obj = object(issues, spec, specPath, {
      required: ['apiBaseUrl'],
      optional: ['credentials', 'description'],
    });
    if (!obj) continue;
    descriptionOf(issues, obj, specPath);
    const apiBaseUrl = parseApiBaseUrl(issues, obj.apiBaseUrl, field(specPath, 'apiBaseUrl'));
    const credentials = parseCredentials(issues, obj.credentials, field(specPath, 'credentials'));
    if (validId && apiBaseUrl && credentials) providers.set(id, { id, apiBaseUrl, credentials });
  }
  return providers;
}

function parseApiBaseUrl(issues: Issues, value: unknown, path: string): string | undefined {
  const text = string(issues, value, path);
  if (text === undefined) return undefined;
  const rest = text.startsWith(URL_PLACEHOLDER) ? text.slice(URL_PLACEHOLDER.length) : text;
  if (/[{}]/.test(rest)) {
    issues.add(path, `the only placeholder allowed is ${URL_PLACEHOLDER}, at the start`);
    return undefined;
  }
  if (rest !== text && rest !== '' && !rest.startsWith('/')) {
    issues.add(path, `a path must follow ${URL_PLACEHOLDER} with a "/"`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(text.startsWith(URL_PLACEHOLDER) ? `http://simulator.invalid${rest}` : text);
  } catch {
    issues.add(path, `${JSON.stringify(text)} is not a URL`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    issues.add(path, `must be an http or https URL, got ${url.protocol}`);
    return undefined;
  }
  if (url.username || url.password) {
    issues.add(path, 'must not contain credentials; reference them in credentials instead');
    return undefined;
  }
  return text;
}

/** `{ name: { env, devDefault? } }`; a plain string value is a literal secret and is refused. */
function parseCredentials(
  issues: Issues,
  value: unknown,
  path: string,
): Record<string, CredentialRef> | undefined {
  if (value === undefined) return {};
  const raw = record(issues, value, path);
  if (!raw) return undefined;
  const result: Record<string, CredentialRef> = {};
  let valid = true;
  for (const [name, ref] of Object.entries(raw)) {
    const refPath = field(path, name);
    if (string(issues, name, refPath, NAME) === undefined) valid = false;
    if (typeof ref === 'string') {
      issues.add(refPath, 'must be {"env": "VARIABLE"}: secrets come from the environment, never this file');
      valid = false;
      continue;
    }
    const obj = object(issues, ref, refPath, { required: ['env'], optional: ['devDefault'] });
    if (!obj) {
      valid = false;
      continue;
    }
    const env = string(issues, obj.env, field(refPath, 'env'), ENV_NAME);
    const devDefault =
      obj.devDefault === undefined ? undefined : string(issues, obj.devDefault, field(refPath, 'devDefault'));
    if (env === undefined || (obj.devDefault !== undefined && devDefault === undefined)) valid = false;
    else result[name] = devDefault === undefined ? { env } : { env, devDefault };
  }
  return valid ? result : undefined;
}

export function parseSubMids(
  issues: Issues,
  value: unknown,
  path: string,
  providerIds: ReadonlySet<string>,
): Map<string, SubMidSpec> {
  const subMids = new Map<string, SubMidSpec>();
  const firstSeen = new Map<string, number>();
  array(issues, value, path, (raw, itemPath, index) => {
    const obj = object(issues, raw, itemPath, {
      required: ['id', 'providerId', 'active', 'velocity'],
      optional: ['currencies', 'account', 'credentials', 'description'],
    });
    if (!obj) return undefined;
    descriptionOf(issues, obj, itemPath);
    const id = string(issues, obj.id, field(itemPath, 'id'), ID);
    if (id !== undefined && firstSeen.has(id)) {
      issues.add(
        field(itemPath, 'id'),
        `duplicate SUB MID id "${id}" (also ${item(path, firstSeen.get(id)!)})`,
      );
    } else if (id !== undefined) firstSeen.set(id, index);
    const providerId = string(issues, obj.providerId, field(itemPath, 'providerId'));
    if (providerId !== undefined && !providerIds.has(providerId)) {
      issues.add(
        field(itemPath, 'providerId'),
        `unknown provider "${providerId}" (defined: ${[...providerIds].join(', ') || 'none'})`,
      );
    }
    const active = boolean(issues, obj.active, field(itemPath, 'active'));
    const currencies =
      obj.currencies === undefined
        ? null
        : stringSet(issues, obj.currencies, field(itemPath, 'currencies'), CURRENCY);
    const velocity = parseVelocity(issues, obj.velocity, field(itemPath, 'velocity'));
    const account = parseAccount(issues, obj.account, field(itemPath, 'account'));
    const credentials = parseCredentials(issues, obj.credentials, field(itemPath, 'credentials'));
    if (
      id === undefined ||
      providerId === undefined ||
      active === undefined ||
      currencies === undefined ||
      velocity === undefined ||
      account === undefined ||
      credentials === undefined
    )
      return undefined;
    const spec: SubMidSpec = { id, providerId, active, currencies, velocity, account, credentials };
    if (!subMids.has(id)) subMids.set(id, spec);
    return spec;
  });
  return subMids;
}

function parseVelocity(issues: Issues, value: unknown, path: string): VelocityLimit[] | undefined {
  const windows = new Set<number>();
  return array(
    issues,
    value,
    path,
    (raw, itemPath) => {
      const obj = object(issues, raw, itemPath, {
        required: ['windowSeconds'],
        optional: ['maxCount', 'maxAmountMinor'],
      });
      if (!obj) return undefined;
      const windowSeconds = integer(issues, obj.windowSeconds, field(itemPath, 'windowSeconds'), 1);
      if (windowSeconds !== undefined && windowSeconds > MAX_WINDOW_SECONDS) {
        issues.add(field(itemPath, 'windowSeconds'), `must be <= ${MAX_WINDOW_SECONDS} (31 days)`);
        return undefined;
      }
      if (windowSeconds !== undefined && windows.has(windowSeconds)) {
        issues.add(field(itemPath, 'windowSeconds'), `window ${windowSeconds} is listed twice`);
        return undefined;
      }
      if (windowSeconds !== undefined) windows.add(windowSeconds);
      if (obj.maxCount === undefined && obj.maxAmountMinor === undefined) {
        issues.add(itemPath, 'needs maxCount, maxAmountMinor or both');
        return undefined;
      }
      const limit: VelocityLimit = { windowSeconds: windowSeconds ?? 0 };
      let valid = windowSeconds !== undefined;
      if (obj.maxCount !== undefined) {
        const maxCount = integer(issues, obj.maxCount, field(itemPath, 'maxCount'), 1);
        if (maxCount === undefined) valid = false;
        else limit.maxCount = maxCount;
      }
      if (obj.maxAmountMinor !== undefined) {
        const maxAmount = integer(issues, obj.maxAmountMinor, field(itemPath, 'maxAmountMinor'), 1);
        if (maxAmount === undefined) valid = false;
        else limit.maxAmountMinor = maxAmount;
      }
      return valid ? limit : undefined;
    },
    { allowEmpty: true },
  );
}

/** Non-secret provider-side identifiers; a key that looks like a secret is refused. */
function parseAccount(issues: Issues, value: unknown, path: string): Record<string, string> | undefined {
  if (value === undefined) return {};
  const raw = record(issues, value, path);
  if (!raw) return undefined;
  let valid = true;
  for (const [name, text] of Object.entries(raw)) {
    const namePath = field(path, name);
    if (string(issues, name, namePath, NAME) === undefined || string(issues, text, namePath) === undefined) {
      valid = false;
    } else if (SECRET_LIKE.test(name)) {
      issues.add(namePath, 'looks like a secret; reference an environment variable in credentials instead');
      valid = false;
    }
  }
  return valid ? { ...(raw as Record<string, string>) } : undefined;
}

export function descriptionOf(issues: Issues, obj: Record<string, unknown>, path: string): void {
  if (obj.description !== undefined) string(issues, obj.description, field(path, 'description'));
}
