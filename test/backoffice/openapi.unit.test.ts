import { expect } from 'chai';
import type { Knex } from 'knex';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { backofficeRoutes, BACKOFFICE_API_PREFIX, openApiDocument } from '../../backoffice/index.js';
import { silentLogger } from '../../core/logger.js';
import { openApiChecker } from '../support/openapi.js';

describe('back-office OpenAPI document', () => {
  const document = openApiDocument({ serverUrl: BACKOFFICE_API_PREFIX }) as {
    paths: Record<string, Record<string, unknown>>;
    components: { schemas: Record<string, object> };
  };

  it('documents every route, and nothing the server does not serve', () => {
    // Building the routes touches no database.
    const { router } = backofficeRoutes({ knex: {} as Knex, logger: silentLogger });
    const served = router.stack
      .flatMap((layer) =>
        layer.methods
          .filter((method) => method !== 'HEAD')
          .map(
            (method) =>
              `${method} ${String(layer.path)
                .slice(BACKOFFICE_API_PREFIX.length)
                .replace(/:(\w+)/g, '{$1}')}`,
          ),
      )
      .sort();
    const documented = openApiChecker(document as never, { basePath: BACKOFFICE_API_PREFIX })
      .operations()
      .sort();
    expect(served).to.deep.equal(documented);
  });

  it('has schemas a JSON Schema 2020-12 validator compiles', () => {
    const ajv = new Ajv2020({ strict: false });
    for (const [name, schema] of Object.entries(document.components.schemas))
      expect(() => ajv.compile({ ...schema, components: document.components }), name).not.to.throw();
  });
});
