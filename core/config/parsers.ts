import { ConfigError } from '../errors.js';

/** Small, pure parsers for environment variables; each error names the variable to fix. */
export type Env = Readonly<Record<string, string | undefined>>;

export function str(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? fallback : raw.trim();
}

export function optionalStr(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

export function int(
  env: Env,
  name: string,
  fallback: number,
  bounds: { min?: number; max?: number } = {},
): number {
  const raw = optionalStr(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (bounds.min !== undefined && value < bounds.min)
    throw new ConfigError(`${name} must be >= ${bounds.min}, got ${value}`);
  if (bounds.max !== undefined && value > bounds.max)
    throw new ConfigError(`${name} must be <= ${bounds.max}, got ${value}`);
  return value;
}

export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = optionalStr(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = optionalStr(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

export function list(env: Env, name: string, fallback: readonly string[]): string[] {
  const raw = optionalStr(env, name);
  if (raw === undefined) return [...fallback];
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function intList(env: Env, name: string, fallback: readonly number[]): number[] {
  const raw = optionalStr(env, name);
  if (raw === undefined) return [...fallback];
  return raw.split(',').map((item) => {
    const trimmed = item.trim();
    if (!/^\d+$/.test(trimmed))
      throw new ConfigError(`${name} must be a comma-separated list of integers, got "${raw}"`);
    return Number(trimmed);
  });
}

export function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = optionalStr(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got a value that does not parse`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
  }
  return raw;
}

/** host:port, e.g. for PUBSUB_EMULATOR_HOST or one Kafka broker. */
export function hostPort(value: string, name: string): string {
  if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(value))
    throw new ConfigError(`${name} must be host:port, got "${value}"`);
  return value;
}
