/**
 * One attempt's I/O: sign the stored body with every active secret, check the URL against the SSRF
 * policy (and pin the checked address), POST with a bounded timeout and a capped response excerpt.
 * Never throws for anything the merchant side does: every outcome is an AttemptResult to record.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { deliverOnce } from './http-delivery.js';
import type { MerchantConnections } from './merchant-connections.js';
import type { AttemptErrorClass, AttemptResult } from './model.js';
import { signWebhook } from './signature.js';
import { ForbiddenUrlError, resolveAllowedTarget, type UrlPolicy } from './ssrf-guard.js';

export interface SenderOptions {
  policy: UrlPolicy;
  timeoutMs: number;
  maxResponseBytes: number;
  lookup?: (host: string) => Promise<Array<{ address: string; family: number }>>;
  now?: () => Date;
  /** Keep-alive pool; without one every attempt opens its own connection. */
  connections?: MerchantConnections;
}

const defaultLookup = (host: string) => dnsLookup(host, { all: true });

export async function sendAttempt(
  target: { webhookId: string; url: string; body: string; secrets: readonly string[] },
  options: SenderOptions,
): Promise<AttemptResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const started = performance.now();
  const refused = (errorClass: AttemptErrorClass, errorMessage: string, requestHeaders = {}) => ({
    delivered: false,
    status: null,
    errorClass,
    errorMessage,
    durationMs: Math.round(performance.now() - started),
    requestHeaders,
    responseHeaders: {},
    bodyExcerpt: '',
    startedAt,
    finishedAt: now(),
  });
  if (target.secrets.length === 0) {
    return refused('no_signing_secret', 'the merchant has no active webhook signing secret');
  }
  const requestHeaders: Record<string, string> = {
    'content-type': 'application/json',
    ...signWebhook({
      id: target.webhookId,
      timestamp: startedAt,
      body: target.body,
      secrets: target.secrets,
    }),
  };
  let resolved: Awaited<ReturnType<typeof resolveAllowedTarget>>;
  try {
    resolved = await resolveAllowedTarget(target.url, options.policy, options.lookup ?? defaultLookup);
  } catch (error) {
    if (error instanceof ForbiddenUrlError) return refused('forbidden_url', error.message, requestHeaders);
    const code = (error as NodeJS.ErrnoException).code;
    return refused(
      'connection',
      `webhook host lookup failed: ${code ?? (error as Error).message}`,
      requestHeaders,
    );
  }
  const result = await deliverOnce({
    url: resolved.url,
    address: resolved.address,
    family: resolved.family,
    headers: requestHeaders,
    body: target.body,
    timeoutMs: options.timeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    ...(options.connections ? { connections: options.connections } : {}),
  });
  return { ...result, requestHeaders, startedAt, finishedAt: now() };
}
