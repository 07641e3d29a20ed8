/**
 * Small HTTP helpers of the simulator's front ends: reading a JSON or form body with a size limit, and
 * a parameter fingerprint for idempotency (same key + other parameters = refused, as PSPs do).
 */
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { readRawBody } from '../gateway/provider/raw-body.js';
import { FormError, parseStripeForm } from './stripe-sim/form.js';

const MAX_BODY_BYTES = 64 * 1024;
const BODY_TIMEOUT_MS = 10_000;

export type BodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

/** Reads a JSON object or (when `allowForm`) a Stripe-style form body. Never throws. */
export async function readBody(ctx: Context, options: { allowForm: boolean }): Promise<BodyResult> {
  const read = await readRawBody(ctx.req, { limitBytes: MAX_BODY_BYTES, timeoutMs: BODY_TIMEOUT_MS });
  if (!read.ok) {
    ctx.set('Connection', 'close');
    return { ok: false, message: `request body not received (${read.reason})` };
  }
  const text = read.body.toString('utf8');
  const media = ctx.get('content-type').split(';')[0]!.trim().toLowerCase();
  if (media === 'application/x-www-form-urlencoded' && options.allowForm) {
    try {
      return { ok: true, value: parseStripeForm(text) };
    } catch (error) {
      return { ok: false, message: error instanceof FormError ? error.message : 'invalid form body' };
    }
  }
  if (media === 'application/json' || (media === '' && text.trim().startsWith('{'))) {
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        return { ok: true, value: value as Record<string, unknown> };
      return { ok: false, message: 'the body must be a JSON object' };
    } catch {
      return { ok: false, message: 'the body is not valid JSON' };
    }
  }
  if (media === '' && text.length === 0) return { ok: true, value: {} };
  return {
    ok: false,
    message: options.allowForm
      ? 'send application/x-www-form-urlencoded or application/json'
      : 'send application/json',
  };
}

/** Stable hash of the parameters (object key order does not matter). */
export function fingerprint(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

export function sendJson(
  ctx: Context,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  ctx.status = status;
  ctx.type = 'application/json; charset=utf-8';
  for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
  ctx.body = body;
}

/** A non-empty string member, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** A non-negative integer from a JSON number or a form string, else undefined. */
export function nonNegativeInt(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Flattens nested string members into dotted paths (`{address: {city}}` -> `address.city`). */
export function flattenStrings(value: unknown, prefix = '', out: Record<string, string> = {}, depth = 0) {
  if (!isObject(value) || depth > 4) return out;
  for (const [key, member] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof member === 'string' && member.trim() !== '') out[path] = member.slice(0, 512);
    else if (isObject(member)) flattenStrings(member, path, out, depth + 1);
  }
  return out;
}

/** An absolute http(s) URL, else undefined. */
export function httpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** The `Idempotency-Key` header: null when absent, not ok when longer than the provider allows. */
export function idempotencyKeyHeader(
  ctx: Context,
  maxLength: number,
): { ok: true; key: string | null } | { ok: false } {
  const key = ctx.get('idempotency-key');
  if (!key) return { ok: true, key: null };
  return key.length > maxLength ? { ok: false } : { ok: true, key };
}
