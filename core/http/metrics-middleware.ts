import type { Middleware } from 'koa';
import { Histogram, type Registry } from 'prom-client';

/**
 * HTTP latency by route template (not raw path, so ids do not explode the label set), method and
 * status. Unmatched paths are reported as route "unmatched".
 */
export function httpMetrics(registry: Registry): Middleware {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      duration.observe(
        { route: String(route), method: ctx.method, status: String(ctx.status) },
        (performance.now() - started) / 1000,
      );
    }
  };
}
