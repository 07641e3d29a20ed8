/**
 * The transaction search's query string, parsed and validated (every problem reported at once, per
 * parameter), and its opaque pagination cursor. Status filters take merchant statuses (pending,
 * approved, ...) from everyone; internal statuses (PROCESSING, AWAITING_PROVIDER, ...) only from callers
 * allowed to see them, since the set of internal stages is itself internal. Pure: no I/O.
 */
import {
  merchantStatus,
  TRANSACTION_STATUSES,
  type MerchantStatus,
  type TransactionStatus,
} from '../core/transactions/status.js';
import type { ParameterError } from './problems.js';

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

export const MERCHANT_STATUSES: readonly MerchantStatus[] = [
  'pending',
  'approved',
  'declined',
  'rejected',
  'expired',
];

export const TRANSACTION_ID = /^[A-Za-z0-9_-]{1,100}$/;
export const MERCHANT_TRANSACTION_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const MERCHANT_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** RFC 3339 date-time with an offset, or a bare date (midnight UTC). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** created_at in UTC with microseconds, as the store renders it for cursors (JS dates only keep milliseconds). */
export const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Keyset position: the last row of the previous page. */
export interface Cursor {
  createdAt: string;
  id: string;
}

export interface SearchQuery {
  transactionId?: string;
  merchantTransactionId?: string;
  merchantId?: string;
  /** Internal statuses to match (merchant statuses expanded). */
  statuses?: TransactionStatus[];
  createdFrom?: Date;
  createdTo?: Date;
  limit: number;
  after?: Cursor;
}

export const SEARCH_PARAMETERS = [
  'transactionId',
  'merchantTransactionId',
  'merchantId',
  'status',
  'createdFrom',
  'createdTo',
  'limit',
  'cursor',
] as const;

export type RawQuery = Record<string, string | string[] | undefined>;

export function parseSearchQuery(
  raw: RawQuery,
  options: { internalStatuses: boolean },
): { ok: true; query: SearchQuery } | { ok: false; errors: ParameterError[] } {
  const errors: ParameterError[] = [];
  const query: SearchQuery = { limit: DEFAULT_PAGE_SIZE };
  const fail = (parameter: string, detail: string) => errors.push({ parameter, detail });
  const single = (name: string): string | undefined => {
    const value = raw[name];
    if (Array.isArray(value)) {
      fail(name, 'must be given once');
      return undefined;
    }
    return value;
  };
  for (const name of Object.keys(raw))
    if (!(SEARCH_PARAMETERS as readonly string[]).includes(name))
      fail(name, 'is not a known query parameter');

  const pattern = (
    name: 'transactionId' | 'merchantTransactionId' | 'merchantId',
    regex: RegExp,
    what: string,
  ) => {
    const value = single(name);
    if (value === undefined) return;
    if (regex.test(value)) query[name] = value;
    else fail(name, `must be ${what}`);
  };
  pattern('transactionId', TRANSACTION_ID, 'a transaction id (1 to 100 of A-Z a-z 0-9 _ -)');
  pattern(
    'merchantTransactionId',
    MERCHANT_TRANSACTION_ID,
    'a merchant transaction id (1 to 64 of A-Z a-z 0-9 . _ : -)',
  );
  pattern('merchantId', MERCHANT_ID, 'a merchant id (1 to 64 of A-Z a-z 0-9 _ -)');

  const status = single('status');
  if (status !== undefined) {
    const statuses = new Set<TransactionStatus>();
    for (const name of status.split(',')) {
      const expanded = expandStatus(name.trim(), options.internalStatuses);
      if (expanded) expanded.forEach((s) => statuses.add(s));
      else {
        const allowed = options.internalStatuses
          ? [...MERCHANT_STATUSES, ...TRANSACTION_STATUSES]
          : MERCHANT_STATUSES;
        fail('status', `"${name.trim().slice(0, 40)}" is not one of ${allowed.join(', ')}`);
      }
    }
    query.statuses = [...statuses];
  }

  for (const name of ['createdFrom', 'createdTo'] as const) {
    const value = single(name);
    if (value === undefined) continue;
    const at = TIMESTAMP.test(value) ? new Date(value) : null;
    if (at && !Number.isNaN(at.getTime())) query[name] = at;
    else
      fail(name, 'must be an RFC 3339 date-time with offset (2026-11-24T10:00:00Z) or a date (2026-11-24)');
  }
  if (query.createdFrom && query.createdTo && query.createdFrom >= query.createdTo)
    fail('createdTo', 'must be after createdFrom');

  const limit = single('limit');
  if (limit !== undefined) {
    const n = /^\d{1,3}$/.test(limit) ? Number(limit) : NaN;
    if (n >= 1 && n <= MAX_PAGE_SIZE) query.limit = n;
    else fail('limit', `must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }

  const cursor = single('cursor');
  if (cursor !== undefined) {
    const after = decodeCursor(cursor);
    if (after) query.after = after;
    else fail('cursor', 'is not a cursor this API returned');
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, query };
}

function expandStatus(name: string, internal: boolean): TransactionStatus[] | null {
  if ((MERCHANT_STATUSES as readonly string[]).includes(name))
    return TRANSACTION_STATUSES.filter((s) => merchantStatus(s) === name);
  if (internal && (TRANSACTION_STATUSES as readonly string[]).includes(name))
    return [name as TransactionStatus];
  return null;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id]), 'utf8').toString('base64url');
}

export function decodeCursor(value: string): Cursor | null {
  if (value.length > 400 || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (!Array.isArray(decoded) || decoded.length !== 2) return null;
    const [createdAt, id] = decoded as unknown[];
    if (typeof createdAt !== 'string' || typeof id !== 'string') return null;
    if (!TRANSACTION_ID.test(id) || !CURSOR_TIME.test(createdAt)) return null;
    return { createdAt, id };
  } catch {
    return null;
  }
}
