/**
 * The merchant API's OpenAPI 3.1 document, served at `GET /api/v2/openapi.json`. Written as code so the
 * limits, enums and ISO code lists come from the same constants the validator uses (deposit-request.ts,
 * core/reference-data): the document cannot promise what the server does not do. A test checks that
 * every route is documented (and nothing else) and that real responses match it.
 */
import {
  bearerSecurityScheme,
  jsonContent as json,
  openApiDocumentPath,
  pickResponses as pick,
  problemResponse as problem,
  problemSchema,
  schemaRef as ref,
} from '../../core/http/openapi-fragments.js';
import { COUNTRY_CODES, CURRENCY_CODES } from '../../core/reference-data/index.js';
import {
  CUSTOMER_FIELDS,
  MAX_AMOUNT_MINOR,
  MERCHANT_TRANSACTION_ID,
  METADATA,
  PAYMENT_METHODS,
} from './deposit-request.js';
import { MAX_URL_LENGTH } from './url-policy.js';

const URL_SCHEMA = {
  type: 'string',
  format: 'uri',
  maxLength: MAX_URL_LENGTH,
  description:
    'Absolute https URL without credentials (http://localhost only where the operator enabled it for development).',
};

const COMMON_PROBLEMS = {
  '401': problem('Missing, malformed, unknown or revoked API key.', ['UNAUTHORIZED']),
  '403': problem('The merchant account is disabled.', ['MERCHANT_DISABLED']),
  '500': problem('An unexpected error; nothing internal is revealed. Safe to retry.', ['INTERNAL_ERROR']),
  '503': problem('The database is unavailable or too slow; retry later (see Retry-After).', [
    'SERVICE_UNAVAILABLE',
  ]),
};

export function openApiDocument(options: { serverUrl: string }): Record<string, unknown> {
  const customerProperties = Object.fromEntries(
    Object.entries(CUSTOMER_FIELDS).map(([name, rules]) => [
      name,
      name === 'country'
        ? { type: 'string', enum: COUNTRY_CODES, description: 'ISO 3166-1 alpha-2 (case-insensitive).' }
        : {
            type: 'string',
            minLength: 1,
            maxLength: rules.maxLength,
            ...('pattern' in rules ? { pattern: rules.pattern.source } : {}),
          },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Merchant API',
      version: '2.0.0',
      description:
        'Create deposits and follow their status. A deposit is durably accepted before the answer: the answer carries the hosted payment page URL to send the customer to. Errors are RFC 9457 problem details with a stable `code`.',
    },
    servers: [{ url: options.serverUrl }],
    security: [{ apiKey: [] }],
    paths: {
      '/deposit': {
        post: {
          operationId: 'createDeposit',
          summary: 'Create a deposit and its hosted payment session',
          description:
            'Idempotent on merchantTransactionId: repeating the same request answers 200 with the original transaction and the same hostedPaymentUrl; the same merchantTransactionId with a different request answers 409.',
          requestBody: { required: true, content: json(ref('DepositRequest')) },
          responses: {
            '201': {
              description: 'Accepted: the transaction and its payment session are stored.',
              headers: { Location: { schema: { type: 'string' }, description: 'The transaction resource.' } },
              content: json(ref('Deposit')),
            },
            '200': {
              description:
                'Idempotent replay of an earlier identical request (header Idempotent-Replayed: true); status is current.',
              content: json(ref('Deposit')),
            },
            '400': problem('Invalid body; `errors` lists each invalid field with a JSON pointer.', [
              'INVALID_REQUEST',
              'MALFORMED_JSON',
              'BODY_ABORTED',
            ]),
            ...pick(COMMON_PROBLEMS, '401', '403'),
            '408': problem('The body was not received in time.', ['BODY_TIMEOUT']),
            '409': problem('merchantTransactionId was already used for a different request.', [
              'MERCHANT_TRANSACTION_ID_REUSED',
            ]),
            '413': problem('The body is larger than the limit.', ['PAYLOAD_TOO_LARGE']),
            '415': problem('The body is not application/json (UTF-8, identity encoding).', [
              'UNSUPPORTED_MEDIA_TYPE',
            ]),
            ...pick(COMMON_PROBLEMS, '500', '503'),
          },
        },
      },
      '/transactions/{transactionId}': {
        get: {
          operationId: 'getTransaction',
          summary: "One of the merchant's transactions",
          parameters: [
            { name: 'transactionId', in: 'path', required: true, schema: { type: 'string', maxLength: 100 } },
          ],
          responses: {
            '200': { description: 'The transaction.', content: json(ref('Transaction')) },
            ...pick(COMMON_PROBLEMS, '401', '403'),
            '404': problem("No such transaction among this merchant's.", ['NOT_FOUND']),
            ...pick(COMMON_PROBLEMS, '500', '503'),
          },
        },
      },
      '/transactions': {
        get: {
          operationId: 'findTransactions',
          summary: 'Find a transaction by the merchant’s own id',
          parameters: [
            {
              name: 'merchantTransactionId',
              in: 'query',
              required: true,
              schema: ref('MerchantTransactionId'),
            },
          ],
          responses: {
            '200': {
              description: 'The matching transactions (none or one).',
              content: json({
                type: 'object',
                required: ['data'],
                properties: { data: { type: 'array', maxItems: 1, items: ref('Transaction') } },
              }),
            },
            '400': problem('Missing or invalid query parameters.', ['INVALID_REQUEST']),
            ...COMMON_PROBLEMS,
          },
        },
      },
      '/openapi.json': openApiDocumentPath(),
    },
    components: {
      securitySchemes: {
        apiKey: bearerSecurityScheme(
          'The merchant API key, e.g. `Authorization: Bearer psk_live_<key id>_<secret>`.',
        ),
      },
      schemas: {
        MerchantTransactionId: {
          type: 'string',
          minLength: 1,
          maxLength: MERCHANT_TRANSACTION_ID.maxLength,
          pattern: MERCHANT_TRANSACTION_ID.pattern.source,
          description: "The merchant's own unique id of the transaction (the idempotency key).",
        },
        Money: {
          type: 'object',
          additionalProperties: false,
          required: ['value', 'currency'],
          properties: {
            value: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_AMOUNT_MINOR,
              description:
                'Amount in minor units of the currency (cents for EUR, yen for JPY, fils for KWD).',
            },
            currency: {
              type: 'string',
              enum: CURRENCY_CODES,
              description: 'ISO 4217 code (case-insensitive in requests).',
            },
          },
        },
        Customer: {
          type: 'object',
          additionalProperties: false,
          description:
            'What the merchant knows about the customer; the hosted page asks for anything missing.',
          properties: customerProperties,
        },
        ReturnUrls: {
          type: 'object',
          additionalProperties: false,
          required: ['success', 'failure'],
          properties: { success: URL_SCHEMA, failure: URL_SCHEMA, cancel: URL_SCHEMA },
        },
        DepositRequest: {
          type: 'object',
          additionalProperties: false,
          required: ['merchantTransactionId', 'amount', 'paymentMethod', 'returnUrls'],
          properties: {
            merchantTransactionId: ref('MerchantTransactionId'),
            amount: ref('Money'),
            paymentMethod: { type: 'string', enum: PAYMENT_METHODS },
            customer: ref('Customer'),
            webhookUrl: {
              ...URL_SCHEMA,
              description: `${URL_SCHEMA.description} Defaults to the merchant's configured webhook URL.`,
            },
            returnUrls: ref('ReturnUrls'),
            metadata: {
              type: 'object',
              maxProperties: METADATA.maxKeys,
              propertyNames: { pattern: METADATA.keyPattern.source },
              additionalProperties: { type: 'string', maxLength: METADATA.maxValueLength },
              description: 'Free-form strings kept with the transaction.',
            },
          },
        },
        MerchantStatus: {
          type: 'string',
          enum: ['pending', 'approved', 'declined', 'rejected', 'expired'],
          description: 'pending until the payment has a final outcome.',
        },
        Deposit: {
          type: 'object',
          additionalProperties: false,
          required: ['transactionId', 'merchantTransactionId', 'status', 'hostedPaymentUrl', 'expiresAt'],
          properties: {
            transactionId: { type: 'string' },
            merchantTransactionId: ref('MerchantTransactionId'),
            status: ref('MerchantStatus'),
            hostedPaymentUrl: { type: 'string', format: 'uri', description: 'Send the customer here.' },
            expiresAt: { type: 'string', format: 'date-time', description: 'When the payment page expires.' },
          },
        },
        Transaction: {
          type: 'object',
          additionalProperties: false,
          required: [
            'transactionId',
            'merchantTransactionId',
            'status',
            'amount',
            'paymentMethod',
            'createdAt',
            'updatedAt',
          ],
          properties: {
            transactionId: { type: 'string' },
            merchantTransactionId: ref('MerchantTransactionId'),
            status: ref('MerchantStatus'),
            amount: ref('Money'),
            paymentMethod: { type: 'string' },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
          },
        },
        Problem: problemSchema({
          description: 'Field errors (INVALID_REQUEST).',
          items: {
            type: 'object',
            required: ['detail'],
            properties: {
              pointer: { type: 'string', description: 'JSON pointer into the body, e.g. #/amount/value.' },
              parameter: { type: 'string', description: 'Name of the query parameter.' },
              detail: { type: 'string' },
            },
          },
        }),
      },
    },
  };
}
