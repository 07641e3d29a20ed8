/**
 * Provider Gateway: `POST /callbacks/{provider}`, queue-first (DESIGN decision 2).
 *
 * Only cheap work that depends on nothing but configuration and the broker: body size limit, content
 * type, the provider's signature with config-held secrets. Then the raw callback is published to
 * `payments.provider-callbacks.v1` and, only once the broker durably acknowledged it, the provider gets
 * its success answer. No database: callbacks are taken while the processor and the database are down.
 *
 *   unknown provider -> 404            wrong content type -> 415      body > limit -> 413
 *   slow body -> 408                   unparseable body -> 400        bad/missing/expired signature -> 401
 *   no secret configured -> 503        broker did not ack in time -> 503 (the provider retries)
 */
import { writeProblem, type Problem } from '../../core/http/problem.js';
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Broker } from '../../core/broker/types.js';
import { coerceError } from '../../core/errors.js';
import { addToLogContext } from '../../core/log-context.js';
import type { Logger } from '../../core/logger.js';
import {
  encodeProviderCallback,
  PROVIDER_CALLBACKS_TOPIC,
  providerCallbackMessageHeaders,
  type ProviderCallbackEnvelope,
} from './envelope.js';
import { PROVIDERS } from './providers.js';
import { readRawBody } from './raw-body.js';
import type { CallbackProvider, ProviderRegistry, ProviderSecrets, RequestHeaders } from './types.js';

export const DEFAULT_MAX_CALLBACK_BYTES = 256 * 1024;
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_IN_FLIGHT = 1_000;

export type CallbackOutcome =
  | 'accepted'
  | 'unknown-provider'
  | 'unsupported-media-type'
  | 'too-large'
  | 'body-timeout'
  | 'aborted'
  | 'bad-body'
  | 'rejected-signature'
  | 'not-configured'
  | 'overloaded'
  | 'broker-unavailable';

export type ProviderGatewayObserver = (info: {
  provider: string;
  outcome: CallbackOutcome;
  durationMs: number;
}) => void;

export interface ProviderGatewayOptions {
  /** Only `publish` is used; it must resolve after a durable ack (EventBus does, within its timeout). */
  broker: Pick<Broker, 'publish'>;
  /** Provider id -> its secrets, newest first. A provider without secrets answers 503 (fail closed). */
  secrets: ProviderSecrets;
  logger: Logger;
  providers?: ProviderRegistry;
  /** Defaults to `payments.provider-callbacks.v1`. */
  topic?: string;
  /** Larger bodies answer 413 (default 256 KiB). */
  maxBodyBytes?: number;
  /** A body not fully received by then answers 408 (default 10 s). */
  bodyTimeoutMs?: number;
  /** Callbacks being read or published at once; beyond that 503 (default 1000). Bounds memory. */
  maxInFlight?: number;
  clock?: () => Date;
  newCallbackId?: () => string;
  observer?: ProviderGatewayObserver;
}

/** Routes for `POST /callbacks/:provider`; mount with `.routes()` and `.allowedMethods()`. */
export function providerGatewayRoutes(options: ProviderGatewayOptions): Router {
  const providers = options.providers ?? PROVIDERS;
  const topic = options.topic ?? PROVIDER_CALLBACKS_TOPIC;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_CALLBACK_BYTES;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const clock = options.clock ?? (() => new Date());
  const newCallbackId = options.newCallbackId ?? (() => `cb_${randomUUID()}`);
  const logger = options.logger.child({ component: 'provider-gateway' });
  let inFlight = 0;

  const router = new Router();
  router.post('/callbacks/:provider', async (ctx) => {
    const started = performance.now();
    const providerParam = ctx.params.provider ?? '';
    const provider = providers.get(providerParam);
    const callbackId = newCallbackId();
    // Every line this request logs (the access line included) names the callback and its provider.
    addToLogContext({ provider: provider?.id ?? 'unknown', callbackId });
    const done = (outcome: CallbackOutcome) =>
      options.observer?.({
        provider: provider?.id ?? 'unknown',
        outcome,
        durationMs: performance.now() - started,
      });
    const refuse = (outcome: CallbackOutcome, problem: Problem) => {
      writeProblem(ctx, problem);
      done(outcome);
    };

    if (!provider) {
      ctx.set('Connection', 'close');
      return refuse('unknown-provider', {
        status: 404,
        code: 'UNKNOWN_PROVIDER',
        title: 'Unknown provider',
        detail: `no provider "${providerParam.slice(0, 64)}" takes callbacks here`,
      });
    }
    if (!isJsonContentType(ctx.get('content-type')) || !isIdentityEncoding(ctx.get('content-encoding'))) {
      ctx.set('Connection', 'close');
      return refuse('unsupported-media-type', {
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
        title: 'Unsupported media type',
        detail: 'callbacks must be application/json, not content-encoded',
      });
    }
    const declaredLength = ctx.get('content-length');
    if (declaredLength && Number(declaredLength) > maxBodyBytes) {
      ctx.set('Connection', 'close');
      return refuse('too-large', tooLarge(maxBodyBytes));
    }
    if (inFlight >= maxInFlight) {
      ctx.set('Retry-After', '1');
      ctx.set('Connection', 'close');
      logger.warn('provider callback shed: too many in flight', { inFlight });
      return refuse('overloaded', {
        status: 503,
        code: 'OVERLOADED',
        title: 'Overloaded',
        detail: 'too many callbacks in flight; retry later',
      });
    }

    inFlight++;
    try {
      const read = await readRawBody(ctx.req, { limitBytes: maxBodyBytes, timeoutMs: bodyTimeoutMs });
      if (!read.ok) {
        ctx.set('Connection', 'close');
        if (read.reason === 'too-large') return refuse('too-large', tooLarge(maxBodyBytes));
        if (read.reason === 'timeout') {
          return refuse('body-timeout', {
            status: 408,
            code: 'BODY_TIMEOUT',
            title: 'Request timeout',
            detail: `body not received within ${bodyTimeoutMs} ms`,
          });
        }
        return refuse('aborted', {
          status: 400,
          code: 'BODY_ABORTED',
          title: 'Body aborted',
          detail: 'the request body was not received completely',
        });
      }
      const receivedAt = clock();
      const secrets = options.secrets[provider.id] ?? [];
      if (secrets.length === 0) {
        logger.error('provider callback refused: no secret configured for this provider');
        ctx.set('Retry-After', '60');
        return refuse('not-configured', {
          status: 503,
          code: 'PROVIDER_NOT_CONFIGURED',
          title: 'Provider not configured',
          detail: 'callbacks from this provider cannot be verified yet; retry later',
        });
      }
      const verified = provider.verify(read.body, ctx.req.headers, secrets, receivedAt);
      if (!verified.ok) {
        logger.warn('provider callback rejected', {
          reason: verified.reason,
          detail: verified.detail,
          ip: ctx.ip,
        });
        if (verified.reason === 'bad-body') {
          return refuse('bad-body', {
            status: 400,
            code: 'BAD_CALLBACK_BODY',
            title: 'Bad callback body',
            detail: verified.detail,
          });
        }
        return refuse('rejected-signature', {
          status: 401,
          code: 'SIGNATURE_INVALID',
          title: 'Invalid signature',
          detail: verified.reason,
        });
      }

      const envelope: ProviderCallbackEnvelope = {
        callbackId,
        provider: provider.id,
        reference: verified.reference ?? null,
        receivedAt: receivedAt.toISOString(),
        headers: relevantHeaders(provider, ctx.req.headers),
        bodyBase64: read.body.toString('base64'),
      };
      try {
        await options.broker.publish(topic, [
          {
            key: orderingKey(envelope.reference, callbackId),
            value: encodeProviderCallback(envelope),
            headers: providerCallbackMessageHeaders(envelope),
          },
        ]);
      } catch (thrown) {
        const error = coerceError(thrown);
        logger.error('provider callback not accepted: broker did not acknowledge the publish', {
          error: error.message,
          errorClass: error.name,
          reference: envelope.reference,
        });
        ctx.set('Retry-After', '5');
        return refuse('broker-unavailable', {
          status: 503,
          code: 'BROKER_UNAVAILABLE',
          title: 'Service unavailable',
          detail: 'the callback could not be stored durably; retry later',
        });
      }

      logger.info('provider callback accepted', { reference: envelope.reference, bytes: read.body.length });
      const success = provider.successResponse;
      ctx.status = success.status;
      ctx.set('Content-Type', success.contentType);
      ctx.body = success.body;
      done('accepted');
    } finally {
      inFlight--;
    }
  });
  return router;
}

/** Longest reference used as the ordering key (Pub/Sub ordering keys are limited to 1 KiB). */
const MAX_KEY_BYTES = 256;

/**
 * Printable ASCII only: a reference with NUL, other control characters or lone surrogates (the body
 * is the provider's, signed or not) cannot be a key on every broker (the embedded log stores keys as
 * PostgreSQL text), and refusing the publish would make the provider retry forever.
 */
const KEYABLE_REFERENCE = /^[\x20-\x7e]+$/;

function orderingKey(reference: string | null, callbackId: string): string {
  return reference !== null &&
    Buffer.byteLength(reference) <= MAX_KEY_BYTES &&
    KEYABLE_REFERENCE.test(reference)
    ? reference
    : callbackId;
}

function tooLarge(maxBodyBytes: number): Problem {
  return {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    title: 'Payload too large',
    detail: `callback bodies are limited to ${maxBodyBytes} bytes`,
  };
}

function isJsonContentType(header: string): boolean {
  const media = header.split(';')[0]!.trim().toLowerCase();
  return media === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(media);
}

function isIdentityEncoding(header: string): boolean {
  return header === '' || header.trim().toLowerCase() === 'identity';
}

function relevantHeaders(provider: CallbackProvider, headers: RequestHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of provider.relevantHeaders) {
    const value = headers[name];
    if (value === undefined) continue;
    kept[name] = typeof value === 'string' ? value : value.join(', ');
  }
  return kept;
}
