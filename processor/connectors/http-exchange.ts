/**
 * One HTTP request to a provider with a hard deadline, reporting whether the request may have reached
 * the provider. That is what decides `outcomeUnknown`: a refused connection or a DNS failure means the
 * provider never saw it; a timeout or a reset once the connection was up means it may have acted on it.
 *
 * No keep-alive: a pooled socket the provider already closed fails with ECONNRESET after "sending",
 * which would turn a request nobody received into an unknown outcome. A fresh connection per payment
 * call keeps "sent" exact (payment calls are few; the handshake is cheap next to the PSP's latency).
 * Never retries.
 */
import http from 'node:http';
import https from 'node:https';

export interface ExchangeRequest {
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** A larger answer is abandoned (default 1 MiB). */
  maxResponseBytes?: number;
}

export type ExchangeResult =
  | { kind: 'response'; status: number; body: Buffer }
  /** `sent`: the connection was established, so the provider may have received the request. */
  | { kind: 'timeout'; sent: boolean }
  | { kind: 'network'; sent: boolean; code: string };

const httpAgent = new http.Agent({ keepAlive: false });
const httpsAgent = new https.Agent({ keepAlive: false });
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** Errors that prove the request never left: nothing was connected. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

export function exchange(request: ExchangeRequest): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    let sent = false;
    let settled = false;
    const finish = (result: ExchangeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const isHttps = request.url.protocol === 'https:';
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    const headers =
      body === undefined ? request.headers : { ...request.headers, 'content-length': String(body.length) };
    const req = (isHttps ? https : http).request(request.url, {
      method: request.method,
      headers,
      agent: isHttps ? httpsAgent : httpAgent,
    });
    const timer = setTimeout(() => {
      finish({ kind: 'timeout', sent });
      req.destroy();
    }, request.timeoutMs);

    req.on('socket', (socket) => {
      if (!socket.connecting) sent = true;
      else socket.once(isHttps ? 'secureConnect' : 'connect', () => (sent = true));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? error.name;
      finish({ kind: 'network', sent: sent && !NOT_SENT_CODES.has(code), code });
    });
    req.on('response', (res) => {
      const limit = request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          finish({ kind: 'network', sent: true, code: 'RESPONSE_TOO_LARGE' });
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        finish({ kind: 'response', status: res.statusCode ?? 0, body: Buffer.concat(chunks) }),
      );
      res.on('aborted', () => finish({ kind: 'network', sent: true, code: 'ECONNRESET' }));
      res.on('error', (error: NodeJS.ErrnoException) =>
        finish({ kind: 'network', sent: true, code: error.code ?? 'ECONNRESET' }),
      );
    });
    req.end(body);
  });
}
