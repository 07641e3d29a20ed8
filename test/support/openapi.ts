/**
 * Checks real HTTP responses against an OpenAPI 3.1 document: the status must be documented for the
 * operation, and a JSON body must match the documented schema of that status and media type (Ajv,
 * JSON Schema 2020-12, which OpenAPI 3.1 uses). Used by API tests on every response they receive.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

type Operation = { responses: Record<string, { content?: Record<string, { schema: object }> }> };
type Document = { paths: Record<string, Record<string, Operation>>; components?: object };

export interface OpenApiChecker {
  /** Throws with a readable message when the response is not what the document promises. */
  check(
    request: { method: string; path: string },
    response: { status: number; contentType: string; body: unknown },
  ): void;
  /** `METHOD /template` of every documented operation. */
  operations(): string[];
}

export function openApiChecker(document: Document, options: { basePath: string }): OpenApiChecker {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  const validators = new Map<string, ValidateFunction>();
  const templates = Object.keys(document.paths).map((template) => ({
    template,
    regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));

  const validator = (key: string, schema: object): ValidateFunction => {
    let validate = validators.get(key);
    if (!validate) {
      // The components ride along so `#/components/schemas/...` references resolve.
      validate = ajv.compile({ ...schema, components: document.components });
      validators.set(key, validate);
    }
    return validate;
  };

  return {
    operations: () =>
      Object.entries(document.paths).flatMap(([template, item]) =>
        Object.keys(item).map((method) => `${method.toUpperCase()} ${template}`),
      ),
    check(request, response) {
      const path = request.path.split('?')[0]!;
      if (!path.startsWith(options.basePath)) throw new Error(`${path} is outside ${options.basePath}`);
      const relative = path.slice(options.basePath.length);
      const template = templates.find((t) => t.regex.test(relative))?.template;
      const where = `${request.method} ${path} -> ${response.status}`;
      if (!template) throw new Error(`${where}: path not documented`);
      const operation = document.paths[template]![request.method.toLowerCase()];
      if (!operation) throw new Error(`${where}: method not documented for ${template}`);
      const documented = operation.responses[String(response.status)];
      if (!documented) throw new Error(`${where}: status not documented for ${template}`);
      if (!documented.content) return;
      const media = response.contentType.split(';')[0]!.trim();
      const content = documented.content[media];
      if (!content) throw new Error(`${where}: content type ${media} not documented`);
      const validate = validator(`${template} ${request.method} ${response.status} ${media}`, content.schema);
      if (!validate(response.body))
        throw new Error(`${where}: body does not match the document: ${ajv.errorsText(validate.errors)}`);
    },
  };
}
