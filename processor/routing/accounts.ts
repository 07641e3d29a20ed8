/**
 * Turns validated rules into the provider accounts connectors need, pure: the API base URL (with
 * `{simulatorBaseUrl}` filled in) and the credentials, read from the environment variables the rules name.
 * Development defaults are used only when allowed (never in production), so a forgotten secret fails
 * the start naming the variable instead of sending a placeholder key to a real PSP.
 */
import { CONFIG_PLACEHOLDER, type Env } from '../../core/config/index.js';
import type { SubMidAccount } from '../connectors/types.js';
import { Issues, entry, field, item } from './config-reader.js';
import { URL_PLACEHOLDER } from './parse-accounts.js';
import { RoutingRulesError } from './rules-error.js';
import type { CredentialRef, RoutingRules } from './types.js';

export interface AccountOptions {
  env: Env;
  /** Where this process reaches the provider simulator (replaces `{simulatorBaseUrl}`); null: nowhere. */
  simulatorBaseUrl: string | null;
  /** Whether `devDefault` may stand in for an unset variable (false in production). */
  allowDevCredentials: boolean;
}

/** Accounts of the active SUB MIDs by id; throws RoutingRulesError naming every missing variable. */
export function resolveSubMidAccounts(
  rules: RoutingRules,
  options: AccountOptions,
  source = 'routing rules',
): ReadonlyMap<string, SubMidAccount> {
  const issues = new Issues();
  const accounts = new Map<string, SubMidAccount>();
  [...rules.subMids.values()].forEach((subMid, index) => {
    if (!subMid.active) return;
    const provider = rules.providers.get(subMid.providerId)!;
    const providerPath = field(entry('providers', provider.id), 'credentials');
    const subMidPath = field(item('subMids', index), 'credentials');
    const credentials: Record<string, string> = { ...subMid.account };
    // A SUB MID's own credential replaces the provider's of the same name.
    const refs = new Map<string, { ref: CredentialRef; path: string }>();
    for (const [name, ref] of Object.entries(provider.credentials))
      refs.set(name, { ref, path: providerPath });
    for (const [name, ref] of Object.entries(subMid.credentials)) refs.set(name, { ref, path: subMidPath });
    for (const [name, { ref, path }] of refs) {
      if (Object.hasOwn(subMid.account, name)) {
        issues.add(
          field(field(item('subMids', index), 'account'), name),
          `is also a credential name in ${path}`,
        );
        continue;
      }
      const value = read(ref, options);
      if (value === undefined) issues.add(field(path, name), missing(ref, options));
      else if (value.includes(CONFIG_PLACEHOLDER))
        issues.add(
          field(path, name),
          `${ref.env} still holds the template placeholder ${CONFIG_PLACEHOLDER}`,
        );
      else credentials[name] = value;
    }
    const apiBaseUrl = resolveUrl(provider.apiBaseUrl, options);
    if (apiBaseUrl === null)
      issues.add(
        field(entry('providers', provider.id), 'apiBaseUrl'),
        `uses ${URL_PLACEHOLDER} but this process has no provider simulator`,
      );
    else accounts.set(subMid.id, { subMidId: subMid.id, providerId: provider.id, apiBaseUrl, credentials });
  });
  // The same provider credential is reported once even when several SUB MIDs use it.
  const unique = [...new Set(issues.list)];
  if (unique.length > 0) throw new RoutingRulesError(source, unique);
  return accounts;
}

function resolveUrl(template: string, options: AccountOptions): string | null {
  if (!template.startsWith(URL_PLACEHOLDER)) return template;
  if (options.simulatorBaseUrl === null) return null;
  return options.simulatorBaseUrl.replace(/\/+$/, '') + template.slice(URL_PLACEHOLDER.length);
}

function read(ref: CredentialRef, options: AccountOptions): string | undefined {
  const value = options.env[ref.env]?.trim();
  if (value) return value;
  return options.allowDevCredentials ? ref.devDefault : undefined;
}

function missing(ref: CredentialRef, options: AccountOptions): string {
  const hint =
    ref.devDefault !== undefined && !options.allowDevCredentials
      ? ' (development defaults are off in production)'
      : '';
  return `environment variable ${ref.env} is not set${hint}`;
}
