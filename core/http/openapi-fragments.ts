/**
 * The pieces every OpenAPI 3.1 document of the platform's public APIs is built from, so that all APIs
 * describe their problem responses (RFC 9457, see problem.ts), their bearer credential and their own
 * document the same way. Each API keeps its own document (backoffice/openapi.ts,
 * gateway/merchant/openapi.ts): what it serves, its wording and its problem codes. Pure.
 */
import { PROBLEM_CONTENT_TYPE } from './problem.js';

export const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const jsonContent = (schema: object) => ({ 'application/json': { schema } });

/** A problem response; the description ends with the problem codes it can carry. */
export const problemResponse = (description: string, codes: string[]) => ({
  description: `${description} Problem codes: ${codes.join(', ')}.`,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: schemaRef('Problem') } },
});

/** The named responses of a table of responses shared by several operations, e.g. `'401', '503'`. */
export function pickResponses<T extends Record<string, unknown>>(
  responses: T,
  ...statuses: Array<keyof T>
): Partial<T> {
  return Object.fromEntries(statuses.map((status) => [status, responses[status]])) as Partial<T>;
}

/** The `Problem` component schema (writeProblem's members); `errors` is how this API lists invalid input. */
export function problemSchema(errors: { description: string; items: object }): Record<string, unknown> {
  return {
    type: 'object',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string', description: 'Stable error code to program against.' },
      errors: { type: 'array', description: errors.description, items: errors.items },
    },
  };
}

/** A bearer credential; `description` shows what the token looks like. */
export const bearerSecurityScheme = (description: string) => ({
  type: 'http',
  scheme: 'bearer',
  description,
});

/** The path item of `/openapi.json`: the document itself, served without credentials. */
export const openApiDocumentPath = () => ({
  get: {
    operationId: 'getOpenApiDocument',
    summary: 'This document',
    security: [],
    responses: {
      '200': { description: 'OpenAPI 3.1 document.', content: jsonContent({ type: 'object' }) },
    },
  },
});
