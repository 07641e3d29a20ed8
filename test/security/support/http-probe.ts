/**
 * HTTP clients for hostile requests. `probe` uses node:http (not fetch) so a test can send what fetch
 * refuses or normalises away: duplicate headers (an array value sends one header line per item), any
 * method, raw Buffer bodies that are not UTF-8, and an oversized body the server stops reading.
 * `rawExchange` writes bytes straight to a socket for requests node:http will not even produce.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface ProbeRequest {
  method: string;
  /** Path and query, already encoded. */
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

export interface ProbeAnswer {
  method: string;
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body when the answer says it is JSON, else undefined. */
  json: unknown;
  /** The server closed the connection before answering (only acceptable for bodies it refused to read). */
  reset: boolean;
}

const RESET_CODES = new Set(['EPIPE', 'ECONNRESET']);

export function probe(baseUrl: string, req: ProbeRequest): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const client = request(
      `${baseUrl}${req.path}`,
      { method: req.method, headers: req.headers ?? {}, agent: false },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const contentType = String(res.headers['content-type'] ?? '');
          let json: unknown;
          if (/json/i.test(contentType) && text !== '') {
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
          }
          resolve({
            method: req.method,
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json,
            reset: false,
          });
        });
      },
    );
    client.setTimeout(30_000, () => client.destroy(new Error(`no answer to ${req.method} ${req.path}`)));
    client.on('error', (error: NodeJS.ErrnoException) => {
      if (answered) return;
      if (RESET_CODES.has(error.code ?? '')) {
        // The server may have answered and closed while we were still sending: wait for that answer.
        client.on('close', () => {
          if (!answered)
            resolve({ method: req.method, status: 0, headers: {}, text: '', json: undefined, reset: true });
        });
        return;
      }
      reject(error);
    });
    // Node sends a GET/DELETE/OPTIONS body with neither length nor chunking (an unparseable request):
    // declare its length unless the test set framing headers itself.
    const headerNames = Object.keys(req.headers ?? {}).map((name) => name.toLowerCase());
    if (
      req.body !== undefined &&
      !headerNames.includes('content-length') &&
      !headerNames.includes('transfer-encoding')
    )
      client.setHeader('content-length', Buffer.byteLength(req.body));
    client.end(req.body);
  });
}

export interface RawAnswer {
  status: number;
  head: string;
  body: string;
}

/**
 * Writes `bytes` (a whole HTTP/1.1 request, normally with `Connection: close`) to the server and reads
 * until it closes. Status 0 when the server closed without a status line.
 */
export function rawExchange(baseUrl: string, bytes: Buffer | string): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.setTimeout(30_000, () => socket.destroy(new Error('raw exchange timed out')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!RESET_CODES.has(error.code ?? '')) reject(error);
    });
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split >= 0 ? text.slice(0, split) : text;
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: split >= 0 ? text.slice(split + 4) : '' });
    });
    socket.end(bytes);
  });
}
