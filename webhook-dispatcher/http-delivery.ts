import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { storableText } from '../core/storable-text.js';
import type { MerchantConnections } from './merchant-connections.js';

export interface DeliveryRequest {
  url: URL;
  /** The already-checked address to connect to (see ssrf-guard). */
  address: string;
  family: number;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Keep-alive pool (merchant-connections.ts); without one every delivery opens its own connection. */
  connections?: MerchantConnections;
}

export type DeliveryErrorClass =
  'http_status' | 'redirect' | 'timeout' | 'connection' | 'tls' | 'forbidden_url';

export interface DeliveryResult {
  delivered: boolean;
  status: number | null;
  errorClass: DeliveryErrorClass | null;
  errorMessage: string | null;
  durationMs: number;
  responseHeaders: Record<string, string>;
  /** First bytes of the response body (capped), for support. */
  bodyExcerpt: string;
}

/** Errors of a kept connection the other side closed before our request reached it. */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);

/**
 * One POST to a merchant endpoint. Any 2xx is delivered; anything else — another status, a redirect
 * (never followed), a timeout, a connection or TLS error — is a failed attempt. The response body is
 * read up to `maxResponseBytes` and the whole exchange is bounded by `timeoutMs`.
 *
 * With a keep-alive pool, a reused connection the merchant closed before answering (a reset or a
 * broken pipe before any response) is not the merchant's failure: the request goes once more on a new
 * connection, within the same timeout.
 */
export function deliverOnce(request: DeliveryRequest): Promise<DeliveryResult> {
  const started = performance.now();
  // Node asks for every address (`all: true`) when it may race IPv4/IPv6; answer with the pinned one either way.
  const pinnedLookup = ((
    _host: string,
    options: { all?: boolean },
    callback: (...args: unknown[]) => void,
  ) => {
    if (options?.all) callback(null, [{ address: request.address, family: request.family }]);
    else callback(null, request.address, request.family);
  }) as unknown as LookupFunction;
  const transport = request.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<DeliveryResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: Math.round(performance.now() - started) });
    };
    let req: http.ClientRequest;
    const send = (pooled: boolean) => {
      let responded = false;
      req = transport.request(
        request.url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'payments-platform-webhooks/1',
            ...request.headers,
            'content-length': Buffer.byteLength(request.body),
          },
          lookup: pinnedLookup,
          ...(pooled && request.connections
            ? { agent: request.connections.agentFor(request.url), pinnedAddress: request.address }
            : { agent: false }),
        },
        (res) => {
          responded = true;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size < request.maxResponseBytes)
              chunks.push(chunk.subarray(0, request.maxResponseBytes - size));
            size += chunk.length;
            if (size >= request.maxResponseBytes) res.destroy();
          });
          const done = () => {
            const status = res.statusCode ?? 0;
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers))
              if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
            const ok = status >= 200 && status < 300;
            finish({
              delivered: ok,
              status,
              errorClass: ok ? null : status >= 300 && status < 400 ? 'redirect' : 'http_status',
              errorMessage: ok ? null : `HTTP ${status}`,
              responseHeaders: headers,
              bodyExcerpt: storableExcerpt(Buffer.concat(chunks)),
            });
          };
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
        },
      );
      const sent = req;
      sent.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        if (sent.reusedSocket && !responded && STALE_CONNECTION.has(error.code ?? '')) {
          send(false);
          return;
        }
        const tls = /CERT|SSL|TLS/i.test(error.code ?? '') || /certificate|ssl|tls/i.test(error.message);
        finish({
          delivered: false,
          status: null,
          errorClass: tls ? 'tls' : 'connection',
          errorMessage: error.code ?? error.message,
          responseHeaders: {},
          bodyExcerpt: '',
        });
      });
      sent.end(request.body);
    };
    const timer = setTimeout(() => {
      req.destroy(new Error('timeout'));
      finish({
        delivered: false,
        status: null,
        errorClass: 'timeout',
        errorMessage: `no answer within ${request.timeoutMs} ms`,
        responseHeaders: {},
        bodyExcerpt: '',
      });
    }, request.timeoutMs);
    send(true);
  });
}

/**
 * The merchant's response body as text that can be stored: invalid UTF-8 becomes U+FFFD (toString does
 * that), and so does NUL (storableText), which PostgreSQL text refuses — one NUL used to fail the
 * attempt's insert, so the webhook was retried, re-sent and finally dead-lettered although the merchant
 * had answered.
 */
export function storableExcerpt(body: Buffer): string {
  return storableText(body.toString('utf8'));
}
