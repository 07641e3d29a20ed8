/**
 * Reads a JSON request body under the merchant API's rules, before anything looks at its content:
 * application/json only (UTF-8, no content encoding) -> else 415; larger than the limit -> 413 (from
 * Content-Length at once, or while streaming); slow -> 408; not valid UTF-8 JSON -> 400. Throws
 * ProblemError; returns the parsed value (any JSON type: the caller validates its shape).
 */
import type { Context } from 'koa';
import { ProblemError } from '../../core/http/problem.js';
import { readRawBody } from '../provider/raw-body.js';
import { problems } from './problems.js';

export interface JsonBodyLimits {
  maxBytes: number;
  timeoutMs: number;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export async function readJsonBody(ctx: Context, limits: JsonBodyLimits): Promise<unknown> {
  if (!isJsonUtf8(ctx.get('content-type')) || !isIdentity(ctx.get('content-encoding'))) {
    ctx.set('Connection', 'close');
    throw new ProblemError(problems.unsupportedMediaType());
  }
  const declared = ctx.get('content-length');
  if (declared && Number(declared) > limits.maxBytes) {
    ctx.set('Connection', 'close');
    throw new ProblemError(problems.payloadTooLarge(limits.maxBytes));
  }
  const read = await readRawBody(ctx.req, { limitBytes: limits.maxBytes, timeoutMs: limits.timeoutMs });
  if (!read.ok) {
    ctx.set('Connection', 'close');
    if (read.reason === 'too-large') throw new ProblemError(problems.payloadTooLarge(limits.maxBytes));
    if (read.reason === 'timeout') throw new ProblemError(problems.bodyTimeout(limits.timeoutMs));
    throw new ProblemError(problems.bodyAborted());
  }
  try {
    return JSON.parse(UTF8.decode(read.body)) as unknown;
  } catch {
    throw new ProblemError(problems.malformedJson());
  }
}

function isJsonUtf8(header: string): boolean {
  const [media, ...params] = header.split(';').map((part) => part.trim().toLowerCase());
  if (media !== 'application/json') return false;
  return params.every((param) => !param.startsWith('charset=') || /^charset="?utf-8"?$/.test(param));
}

function isIdentity(header: string): boolean {
  return header === '' || header.trim().toLowerCase() === 'identity';
}
