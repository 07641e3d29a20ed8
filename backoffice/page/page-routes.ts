/**
 * The back-office web page: `GET /backoffice` (a static HTML shell) and its script and stylesheet under
 * `/backoffice/assets/`. The page asks for an access token and calls the API with it (Authorization
 * header, never a cookie: no CSRF surface). Served with a strict CSP — only our own script, style and
 * fetches, no inline code, no CDN, never framed — and never cached, since the page shows payment data.
 */
import { readFileSync } from 'node:fs';
import type { Context } from 'koa';
import { writeProblem } from '../../core/http/problem.js';
import { problems } from '../problems.js';

export const PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const FILES: Record<string, { file: string; contentType: string }> = {
  '/backoffice': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/backoffice/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/backoffice/assets/backoffice.js': {
    file: 'backoffice.js',
    contentType: 'text/javascript; charset=utf-8',
  },
  '/backoffice/assets/backoffice.css': { file: 'backoffice.css', contentType: 'text/css; charset=utf-8' },
};

/** Serves the page's files (read once); anything else under /backoffice is a 404 problem, like the API's. */
export function backofficePage(): (ctx: Context) => Promise<void> {
  const bodies = new Map(
    Object.entries(FILES).map(([path, { file, contentType }]) => [
      path,
      { body: readFileSync(new URL(`./assets/${file}`, import.meta.url)), contentType },
    ]),
  );
  return async (ctx) => {
    ctx.set('Content-Security-Policy', PAGE_CONTENT_SECURITY_POLICY);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
    ctx.set('Cache-Control', 'no-store');
    const asset = bodies.get(ctx.path);
    if (!asset) return writeProblem(ctx, problems.notFound());
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      return writeProblem(ctx, problems.methodNotAllowed());
    }
    ctx.type = asset.contentType;
    ctx.body = asset.body;
  };
}
