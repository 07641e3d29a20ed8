/** Prints the README configuration table from `CONFIG_VARIABLES`, so the docs cannot drift from the code. */
import { CONFIG_VARIABLES } from '../core/config/index.js';

export function configTable(): string {
  const rows = CONFIG_VARIABLES.map(
    (v) => `| \`${v.name}\` | ${v.default.replace(/\|/g, '\\|')} | ${v.description} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${configTable()}\n`);
