/**
 * The back-office API's OpenAPI 3.1 document, served at `GET /backoffice/api/v1/openapi.json`. Written
 * as code so enums (statuses, permissions, page sizes, merchant-visible fields) come from the same
 * constants the server uses. Merchant-safe views are closed schemas (`additionalProperties: false`):
 * the test that checks every real response against this document also proves no internal member ever
 * reaches a merchant-safe view. A test checks every route is documented, and nothing else.
 */
import {
  bearerSecurityScheme,
  jsonContent as json,
  openApiDocumentPath,
  pickResponses,
  problemResponse as problem,
  problemSchema,
  schemaRef as ref,
} from '../core/http/openapi-fragments.js';
import { MERCHANT_ENTRY_TYPES } from '../core/timeline/views.js';
import { TRANSACTION_STATUSES } from '../core/transactions/status.js';
import { PERMISSIONS, ROLE_NAMES } from './permissions.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MERCHANT_STATUSES } from './search-query.js';
import { MERCHANT_REQUEST_HEADERS } from './views.js';

const closed = (required: string[], properties: Record<string, unknown>, description?: string) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
  ...(description ? { description } : {}),
});
const string = { type: 'string' };
const nullableString = { type: ['string', 'null'] };
const dateTime = { type: 'string', format: 'date-time' };
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' };
const integer = { type: 'integer' };
const nullableInteger = { type: ['integer', 'null'] };
const headers = { type: 'object', additionalProperties: { type: 'string' } };

/** What every view of a transaction shows: search results, the merchant-safe and the internal detail. */
const TRANSACTION_FIELDS = {
  transactionId: string,
  merchantId: string,
  merchantTransactionId: string,
  status: ref('MerchantStatus'),
  amount: ref('Money'),
  paymentMethod: string,
  createdAt: dateTime,
  updatedAt: dateTime,
};
const TRANSACTION_REQUIRED = Object.keys(TRANSACTION_FIELDS);

const PROBLEMS = {
  '401': problem('Missing, malformed, unknown, expired or revoked access token.', ['UNAUTHORIZED']),
  '403': problem("The caller's roles do not grant the permission this operation needs.", ['FORBIDDEN']),
  '404': problem(
    'No such transaction among those the caller may see (another merchant’s transaction is also 404).',
    ['NOT_FOUND'],
  ),
  '500': problem('An unexpected error; nothing internal is revealed.', ['INTERNAL_ERROR']),
  '503': problem('The database did not answer in time; retry later (see Retry-After).', [
    'SERVICE_UNAVAILABLE',
  ]),
};

const transactionIdParameter = {
  name: 'transactionId',
  in: 'path',
  required: true,
  description: 'The platform transaction id.',
  schema: { type: 'string', maxLength: 100 },
};

const common = (...statuses: Array<keyof typeof PROBLEMS>) => pickResponses(PROBLEMS, ...statuses);

/** A GET of one transaction's data, answered in the merchant-safe or the internal view. */
function transactionView(operation: {
  operationId: string;
  summary: string;
  description: string;
  answer: string;
  views: [merchant: string, internal: string];
}): Record<string, unknown> {
  return {
    get: {
      operationId: operation.operationId,
      summary: operation.summary,
      description: operation.description,
      parameters: [transactionIdParameter],
      responses: {
        '200': {
          description: operation.answer,
          content: json({ oneOf: operation.views.map((view) => ref(view)) }),
        },
        ...common('401', '403', '404', '500', '503'),
      },
    },
  };
}

export function openApiDocument(options: { serverUrl: string }): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Back-office API',
      version: '1.0.0',
      description: [
        'Transactions, timelines and webhooks for merchant users and platform staff.',
        'Authenticate with a back-office access token (`payments-ops users create` prints it once).',
        'Merchant users see only their own merchant’s transactions, in merchant-safe views (no provider names, SUB MIDs, internal statuses or errors).',
        'Platform users get internal views where they hold the permission (`transactions:read_internal`, `timeline:read_internal`), merchant-safe views otherwise.',
        'Internal reads and webhook resends are recorded in an audit log. Errors are RFC 9457 problem details with a stable `code`.',
        `Roles: ${ROLE_NAMES.join(', ')}. Permissions: ${PERMISSIONS.join(', ')}.`,
      ].join(' '),
    },
    servers: [{ url: options.serverUrl }],
    security: [{ accessToken: [] }],
    paths: {
      '/me': {
        get: {
          operationId: 'getCurrentUser',
          summary: 'The caller, their roles and permissions',
          responses: {
            '200': { description: 'The caller.', content: json(ref('Me')) },
            ...common('401', '500', '503'),
          },
        },
      },
      '/transactions': {
        get: {
          operationId: 'searchTransactions',
          summary: 'Search transactions, newest first',
          description: `Needs transactions:read. Merchant users only ever find their own merchant’s transactions. Filters combine with AND. Paginated with an opaque cursor: pass nextCursor back as cursor.`,
          parameters: [
            { name: 'transactionId', in: 'query', schema: { type: 'string', maxLength: 100 } },
            { name: 'merchantTransactionId', in: 'query', schema: { type: 'string', maxLength: 64 } },
            { name: 'merchantId', in: 'query', schema: { type: 'string', maxLength: 64 } },
            {
              name: 'status',
              in: 'query',
              description: `Comma list. Merchant statuses (${MERCHANT_STATUSES.join(', ')}) for everyone; internal statuses (${TRANSACTION_STATUSES.join(', ')}) only with transactions:read_internal.`,
              schema: { type: 'string' },
            },
            {
              name: 'createdFrom',
              in: 'query',
              description: 'Created at or after (RFC 3339 date-time with offset, or a date = midnight UTC).',
              schema: { type: 'string' },
            },
            { name: 'createdTo', in: 'query', description: 'Created before.', schema: { type: 'string' } },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
            },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: 'One page of matching transactions.',
              content: json(
                closed(['data', 'nextCursor'], {
                  data: { type: 'array', maxItems: MAX_PAGE_SIZE, items: ref('TransactionSummary') },
                  nextCursor: { ...nullableString, description: 'null on the last page.' },
                }),
              ),
            },
            '400': problem('Invalid query parameters; `errors` names each.', ['INVALID_REQUEST']),
            ...common('401', '403', '500', '503'),
          },
        },
      },
      '/transactions/{transactionId}': transactionView({
        operationId: 'getTransaction',
        summary: 'One transaction: merchant-safe, or internal (attempts, routing plan, callbacks)',
        description:
          'Needs transactions:read; the internal view needs a platform user with transactions:read_internal (audited).',
        answer: 'The transaction.',
        views: ['MerchantTransactionDetail', 'InternalTransactionDetail'],
      }),
      '/transactions/{transactionId}/timeline': transactionView({
        operationId: 'getTransactionTimeline',
        summary: 'The transaction’s timeline',
        description:
          'Needs transactions:read. The internal timeline (every entry with internal details) needs a platform user with timeline:read_internal and is audited; everyone else gets the merchant-safe timeline.',
        answer: 'The timeline, oldest entry first.',
        views: ['MerchantTimeline', 'InternalTimeline'],
      }),
      '/transactions/{transactionId}/webhooks': transactionView({
        operationId: 'listTransactionWebhooks',
        summary: 'Merchant webhooks of the transaction with every attempt',
        description:
          'Needs transactions:read. Merchant-safe attempts show only the Standard Webhooks request headers; the internal view (transactions:read_internal, audited) adds URLs, all headers, error messages and who asked for resends.',
        answer: 'The deliveries, oldest first.',
        views: ['MerchantWebhookList', 'InternalWebhookList'],
      }),
      '/transactions/{transactionId}/webhooks/{webhookId}/resend': {
        post: {
          operationId: 'resendWebhook',
          summary: 'Send a webhook again',
          description:
            'Needs webhooks:resend (audited, also when refused). Queues one more attempt with the same webhook-id and body, to the URL stored with the webhook when it was requested — not the merchant’s current default URL. The attempt happens asynchronously and appears on the timeline and in the webhook list with trigger manual_resend. One resend at a time per webhook: while an earlier resend has not been attempted yet (up to 10 minutes), the request answers that one with status already_queued and queues nothing.',
          parameters: [
            transactionIdParameter,
            { name: 'webhookId', in: 'path', required: true, schema: { type: 'string', maxLength: 200 } },
          ],
          responses: {
            '202': {
              description:
                'The resend is queued (status queued), or an earlier one still is (status already_queued).',
              headers: { Location: { schema: string, description: 'The webhook list of the transaction.' } },
              content: json(ref('ResendAccepted')),
            },
            ...common('401', '403'),
            '404': problem('No such transaction the caller may see, or no such webhook of it.', [
              'NOT_FOUND',
            ]),
            '409': problem('The webhook had no URL when it was requested.', ['WEBHOOK_NOT_RESENDABLE']),
            ...common('500', '503'),
          },
        },
      },
      '/transactions/{transactionId}/failed-events': {
        get: {
          operationId: 'listTransactionFailedEvents',
          summary: 'Dead-lettered events of the transaction (read-only)',
          description:
            'Needs failed_events:read (platform users only; audited). Replay stays with `payments-ops dlq replay`.',
          parameters: [transactionIdParameter],
          responses: {
            '200': {
              description: 'The failed events, oldest first.',
              content: json(
                closed(['transactionId', 'data'], {
                  transactionId: string,
                  data: { type: 'array', items: ref('FailedEvent') },
                }),
              ),
            },
            ...common('401', '403', '404', '500', '503'),
          },
        },
      },
      '/openapi.json': openApiDocumentPath(),
    },
    components: {
      securitySchemes: {
        accessToken: bearerSecurityScheme(
          'A back-office access token, e.g. `Authorization: Bearer pbo_<token id>_<secret>`.',
        ),
      },
      schemas: {
        Money: closed(['value', 'currency'], {
          value: { type: 'integer', description: 'Minor units of the currency.' },
          currency: { type: 'string', description: 'ISO 4217.' },
        }),
        MerchantStatus: { type: 'string', enum: MERCHANT_STATUSES },
        InternalStatus: { type: 'string', enum: TRANSACTION_STATUSES },
        Me: closed(['userId', 'email', 'kind', 'merchantId', 'roles', 'permissions'], {
          userId: string,
          email: string,
          kind: { type: 'string', enum: ['merchant', 'platform'] },
          merchantId: {
            ...nullableString,
            description: 'The merchant of a merchant user; null for platform users.',
          },
          roles: { type: 'array', items: { type: 'string', enum: ROLE_NAMES } },
          permissions: { type: 'array', items: { type: 'string', enum: PERMISSIONS } },
        }),
        TransactionSummary: closed(TRANSACTION_REQUIRED, {
          ...TRANSACTION_FIELDS,
          internalStatus: {
            ...ref('InternalStatus'),
            description: 'Only with transactions:read_internal.',
          },
        }),
        MerchantTransactionDetail: closed(['view', ...TRANSACTION_REQUIRED], {
          view: { const: 'merchant' },
          ...TRANSACTION_FIELDS,
        }),
        InternalTransactionDetail: closed(['view', ...TRANSACTION_REQUIRED, 'internal'], {
          view: { const: 'internal' },
          ...TRANSACTION_FIELDS,
          internal: closed(
            [
              'status',
              'statusReason',
              'customerCountry',
              'webhookUrl',
              'routingPlan',
              'attempts',
              'callbacks',
            ],
            {
              status: ref('InternalStatus'),
              statusReason: nullableString,
              customerCountry: nullableString,
              webhookUrl: {
                ...nullableString,
                description: 'null: the merchant’s default URL at request time was used.',
              },
              routingPlan: {
                oneOf: [
                  { type: 'null' },
                  closed(['rulesVersion', 'ruleId', 'candidates', 'createdAt'], {
                    rulesVersion: string,
                    ruleId: string,
                    candidates: { type: 'array' },
                    createdAt: dateTime,
                  }),
                ],
              },
              attempts: { type: 'array', items: ref('PaymentAttempt') },
              callbacks: { type: 'array', items: ref('ProviderCallback') },
            },
          ),
        }),
        PaymentAttempt: closed(
          [
            'attemptId',
            'attemptNumber',
            'providerId',
            'subMidId',
            'candidateGroup',
            'state',
            'outcome',
            'failureKind',
            'providerErrorCode',
            'outcomeUnknown',
            'providerReference',
            'startedAt',
            'finishedAt',
          ],
          {
            attemptId: string,
            attemptNumber: integer,
            providerId: string,
            subMidId: string,
            candidateGroup: integer,
            state: string,
            outcome: nullableString,
            failureKind: nullableString,
            providerErrorCode: nullableString,
            outcomeUnknown: { type: 'boolean' },
            providerReference: nullableString,
            startedAt: dateTime,
            finishedAt: nullableDateTime,
          },
        ),
        ProviderCallback: closed(
          [
            'callbackId',
            'providerId',
            'providerReference',
            'notificationId',
            'outcome',
            'providerStatus',
            'state',
            'ignoredReason',
            'attemptId',
            'receivedAt',
            'processedAt',
          ],
          {
            callbackId: string,
            providerId: string,
            providerReference: string,
            notificationId: string,
            outcome: string,
            providerStatus: string,
            state: string,
            ignoredReason: nullableString,
            attemptId: nullableString,
            receivedAt: dateTime,
            processedAt: nullableDateTime,
          },
        ),
        MerchantTimeline: closed(['transactionId', 'view', 'entries'], {
          transactionId: string,
          view: { const: 'merchant' },
          entries: {
            type: 'array',
            items: closed(['type', 'occurredAt', 'details'], {
              type: { type: 'string', enum: [...MERCHANT_ENTRY_TYPES] },
              occurredAt: dateTime,
              details: {
                type: 'object',
                description: 'Allow-listed plain fields only (core/timeline/views.ts).',
                additionalProperties: {
                  type: ['string', 'number', 'boolean', 'null', 'array'],
                  items: { type: ['string', 'number', 'boolean', 'null'] },
                },
              },
            }),
          },
        }),
        InternalTimeline: closed(['transactionId', 'view', 'entries'], {
          transactionId: string,
          view: { const: 'internal' },
          entries: {
            type: 'array',
            items: closed(['id', 'type', 'occurredAt', 'merchantVisible', 'merchantView', 'internal'], {
              id: string,
              type: string,
              occurredAt: dateTime,
              merchantVisible: { type: 'boolean', description: 'Whether merchant users see this entry.' },
              merchantView: { type: ['object', 'null'] },
              internal: { type: 'object' },
            }),
          },
        }),
        MerchantWebhookList: closed(['transactionId', 'view', 'data'], {
          transactionId: string,
          view: { const: 'merchant' },
          data: { type: 'array', items: delivery(false) },
        }),
        InternalWebhookList: closed(['transactionId', 'view', 'data'], {
          transactionId: string,
          view: { const: 'internal' },
          data: { type: 'array', items: delivery(true) },
        }),
        ResendAccepted: closed(['webhookId', 'attemptNumber', 'status'], {
          webhookId: string,
          attemptNumber: { ...integer, description: 'The number the resend attempt will carry.' },
          status: {
            type: 'string',
            enum: ['queued', 'already_queued'],
            description:
              'already_queued: an earlier resend of this webhook is still waiting; attemptNumber is its number.',
          },
        }),
        FailedEvent: closed(
          [
            'id',
            'status',
            'consumerGroup',
            'topic',
            'eventType',
            'eventId',
            'errorClass',
            'errorCode',
            'errorMessage',
            'attempts',
            'firstFailureAt',
            'lastFailureAt',
            'replayCount',
          ],
          {
            id: string,
            status: { type: 'string', enum: ['open', 'replayed', 'purged'] },
            consumerGroup: string,
            topic: string,
            eventType: nullableString,
            eventId: nullableString,
            errorClass: string,
            errorCode: nullableString,
            errorMessage: string,
            attempts: integer,
            firstFailureAt: dateTime,
            lastFailureAt: dateTime,
            replayCount: integer,
          },
        ),
        Problem: problemSchema({
          description: 'Invalid parameters (INVALID_REQUEST).',
          items: closed(['parameter', 'detail'], { parameter: string, detail: string }),
        }),
      },
    },
  };
}

function delivery(internal: boolean): Record<string, unknown> {
  const attempt = {
    attemptNumber: integer,
    trigger: { type: 'string', enum: ['automatic', 'manual_resend'] },
    startedAt: dateTime,
    finishedAt: dateTime,
    durationMs: integer,
    httpStatus: nullableInteger,
    errorClass: nullableString,
    responseBodyExcerpt: {
      ...nullableString,
      description: 'The first bytes of the merchant endpoint’s answer.',
    },
  };
  const merchantHeaders = {
    type: 'object',
    description: `Only ${[...MERCHANT_REQUEST_HEADERS].join(', ')}.`,
    propertyNames: { enum: [...MERCHANT_REQUEST_HEADERS] },
    additionalProperties: { type: 'string' },
  };
  const attemptSchema = internal
    ? closed(
        [
          ...Object.keys(attempt),
          'url',
          'requestHeaders',
          'responseHeaders',
          'errorMessage',
          'requestedBy',
          'requestedByEmail',
        ],
        {
          ...attempt,
          url: string,
          requestHeaders: headers,
          responseHeaders: headers,
          errorMessage: nullableString,
          requestedBy: { ...nullableString, description: 'Back-office user id of a manual resend.' },
          requestedByEmail: nullableString,
        },
      )
    : closed([...Object.keys(attempt), 'requestHeaders'], { ...attempt, requestHeaders: merchantHeaders });
  const properties = {
    webhookId: { ...string, description: 'The Standard Webhooks `webhook-id`, the same on every attempt.' },
    type: string,
    state: { type: 'string', enum: ['pending', 'delivered', 'exhausted', 'skipped'] },
    requestedAt: dateTime,
    deliveredAt: nullableDateTime,
    nextAttemptAt: nullableDateTime,
    attemptCount: integer,
    attempts: { type: 'array', items: attemptSchema },
  };
  return internal
    ? closed([...Object.keys(properties), 'url'], { ...properties, url: nullableString })
    : closed(Object.keys(properties), properties);
}
