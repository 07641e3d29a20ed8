/**
 * Loads the routing configuration at start: the only routing file that does I/O. Reads the JSON file
 * named by ROUTING_RULES_FILE, validates it and resolves the provider accounts; any problem throws a
 * ConfigError that names the file and every field to fix, so a bad file never reaches traffic.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../core/errors.js';
import type { SubMidAccount } from '../connectors/types.js';
import { resolveSubMidAccounts, type AccountOptions } from './accounts.js';
import { parseRoutingRules } from './parse-rules.js';
import { RoutingRulesError } from './rules-error.js';
import type { RoutingRules } from './types.js';

export interface RoutingSetup {
  rules: RoutingRules;
  /** Provider accounts of the active SUB MIDs, with secrets: never log this. */
  accounts: ReadonlyMap<string, SubMidAccount>;
}

export async function loadRoutingRules(file: string, options: AccountOptions): Promise<RoutingSetup> {
  if (!file.endsWith('.json'))
    throw new ConfigError(`ROUTING_RULES_FILE must name a .json file, got "${file}"`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(`ROUTING_RULES_FILE "${file}" cannot be read (${code})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new RoutingRulesError(file, [`not valid JSON: ${(error as Error).message}`]);
  }
  const rules = parseRoutingRules(raw, file);
  return { rules, accounts: resolveSubMidAccounts(rules, options, file) };
}
