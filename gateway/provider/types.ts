/**
 * The contract of a callback provider (PSP) as the Provider Gateway sees it: pure signature
 * verification over the raw request, plus the answer the provider expects once we took the callback.
 * Nothing here touches the database, the broker or the clock: everything comes in as arguments.
 */

/** Request headers as Node gives them: lower-case names. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Why a callback was refused. `bad-body` answers 400; every other reason answers 401. */
export type VerifyFailure =
  | 'missing-signature'
  | 'malformed-signature'
  | 'timestamp-outside-tolerance'
  | 'signature-mismatch'
  | 'bad-body';

export type VerifyResult =
  | {
      ok: true;
      /** The provider's payment reference, when the signed body carries one (used as the ordering key). */
      reference?: string;
    }
  | { ok: false; reason: VerifyFailure; detail: string };

/** What the provider expects back once the callback is durably accepted. */
export interface SuccessResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface CallbackProvider {
  /** The `{provider}` path segment of `POST /callbacks/{provider}`. */
  readonly id: string;
  /**
   * Checks the callback's signature with the configured secrets (several during a rotation: any of
   * them may match). Pure and total: never throws, whatever the input.
   */
  verify(rawBody: Buffer, headers: RequestHeaders, secrets: readonly string[], now: Date): VerifyResult;
  readonly successResponse: SuccessResponse;
  /** Headers (lower-case) worth keeping with the raw body, e.g. the signature header. */
  readonly relevantHeaders: readonly string[];
}

/** Provider id -> provider. */
export type ProviderRegistry = ReadonlyMap<string, CallbackProvider>;

/** Provider id -> its secrets, newest first (several only while rotating). */
export type ProviderSecrets = Readonly<Record<string, readonly string[]>>;

/** First value of a header, trimmed; undefined when absent or empty. */
export function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const raw = headers[name.toLowerCase()];
  const value = typeof raw === 'string' ? raw : raw?.[0];
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** JSON.parse that reports failure instead of throwing. */
export function parseJson(raw: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string field, else undefined. */
export function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
