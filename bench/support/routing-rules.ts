/**
 * The demo routing rules (config/routing-rules.json) with every velocity limit raised out of reach, for
 * benchmarks that send thousands of payments in seconds. The limits are still checked (same queries),
 * they just never trip, so every payment takes the normal route instead of being rejected.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export async function unlimitedRoutingRules(): Promise<{ file: string; remove: () => Promise<void> }> {
  const source = new URL('../../config/routing-rules.json', import.meta.url);
  const rules = JSON.parse(await readFile(source, 'utf8')) as {
    subMids: Array<{ velocity?: Array<Record<string, number>> }>;
  };
  for (const subMid of rules.subMids) {
    for (const limit of subMid.velocity ?? []) {
      if ('maxCount' in limit) limit.maxCount = 1_000_000_000;
      if ('maxAmountMinor' in limit) limit.maxAmountMinor = 1_000_000_000_000_000;
    }
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-routing-'));
  const file = path.join(dir, 'routing-rules.json');
  await writeFile(file, JSON.stringify(rules, null, 2));
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}
