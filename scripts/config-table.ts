/**
 * The README configuration table from `CONFIG_VARIABLES`, so the docs cannot drift from the code.
 * `npx tsx scripts/config-table.ts` prints it; `--write` replaces it in README.md between the markers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIG_VARIABLES } from '../core/config/index.js';

export const TABLE_START = '<!-- config-table:start -->';
export const TABLE_END = '<!-- config-table:end -->';

export function configTable(): string {
  const rows = CONFIG_VARIABLES.map(
    (v) => `| \`${v.name}\` | ${v.default.replace(/\|/g, '\\|')} | ${v.description} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

function writeReadme(file: string): void {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(TABLE_START);
  const end = text.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`${file} has no ${TABLE_START} ... ${TABLE_END} section`);
  writeFileSync(file, `${text.slice(0, start + TABLE_START.length)}\n${configTable()}\n${text.slice(end)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--write')) writeReadme('README.md');
  else process.stdout.write(`${configTable()}\n`);
}
