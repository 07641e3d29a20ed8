import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { configTable } from '../../scripts/config-table.js';

describe('README configuration table', () => {
  it('matches the variables loadConfig reads (regenerate with npx tsx scripts/config-table.ts)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = /<!-- config-table:start -->\n([\s\S]*?)<!-- config-table:end -->/.exec(readme)?.[1];
    expect(section?.trim()).to.equal(configTable().trim());
  });
});
