/**
 * The page's static assets (script and stylesheet), read once at startup and served from our own
 * origin so the CSP can forbid everything else. Each URL carries a content hash, so the files can be
 * cached for long while a new release is picked up at once.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PageAssets } from './page-html.js';

export interface Asset {
  body: Buffer;
  contentType: string;
}

export const ASSETS_PREFIX = '/pay/assets';

const FILES: Record<string, string> = {
  'hosted-page.js': 'text/javascript; charset=utf-8',
  'hosted-page.css': 'text/css; charset=utf-8',
};

/** Loads the assets; `paths` are what the HTML references. */
export function loadAssets(): { files: ReadonlyMap<string, Asset>; paths: PageAssets } {
  const files = new Map<string, Asset>();
  const versions: Record<string, string> = {};
  for (const [name, contentType] of Object.entries(FILES)) {
    const body = readFileSync(new URL(`./assets/${name}`, import.meta.url));
    files.set(name, { body, contentType });
    versions[name] = createHash('sha256').update(body).digest('hex').slice(0, 12);
  }
  return {
    files,
    paths: {
      scriptPath: `${ASSETS_PREFIX}/hosted-page.js?v=${versions['hosted-page.js']}`,
      stylePath: `${ASSETS_PREFIX}/hosted-page.css?v=${versions['hosted-page.css']}`,
    },
  };
}
