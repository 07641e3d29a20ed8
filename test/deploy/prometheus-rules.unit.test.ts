import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import {
  createMetrics,
  registerConsumerBacklogMetric,
  registerFailedEventMetrics,
  registerOutboxMetrics,
} from '../../core/observability/metrics.js';
import { httpMetrics } from '../../core/http/metrics-middleware.js';
import { processorMetrics } from '../../processor/metrics.js';
import { webhookMetrics } from '../../webhook-dispatcher/metrics.js';

interface Rule {
  alert: string;
  expr: string;
  labels: { severity: string };
  annotations: { summary: string };
}

describe('k8s/prometheus-rules.yaml', () => {
  const doc = parse(readFileSync(new URL('../../k8s/prometheus-rules.yaml', import.meta.url), 'utf8')) as {
    kind: string;
    spec: { groups: Array<{ rules: Rule[] }> };
  };
  const rules = doc.spec.groups.flatMap((g) => g.rules);

  it('is a PrometheusRule whose alerts all have a severity and a summary', () => {
    expect(doc.kind).to.equal('PrometheusRule');
    for (const rule of rules) {
      expect(rule.labels.severity, rule.alert).to.be.oneOf(['warning', 'critical']);
      expect(rule.annotations.summary, rule.alert).to.be.a('string').and.not.equal('');
    }
  });

  it('alerts only on metrics the services really export', async () => {
    const { registry } = createMetrics({ service: 'test', defaultMetrics: false });
    registerOutboxMetrics(registry, async () => ({ pending: 0, oldestAgeSeconds: 0 }));
    registerFailedEventMetrics(registry, async () => []);
    registerConsumerBacklogMetric(registry, async () => []);
    httpMetrics(registry);
    processorMetrics(registry, async () => ({ count: 0, oldestAgeSeconds: 0 }));
    webhookMetrics(registry);
    const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const base = (name: string) => name.replace(/_(count|sum|bucket)$/, '');
    for (const rule of rules) {
      const names = [
        ...rule.expr.matchAll(/\b([a-z_]+_(?:total|seconds|events|messages|count|bucket|sum))\b/g),
      ].map((m) => m[1]!);
      expect(names.length, `${rule.alert} references a metric`).to.be.greaterThan(0);
      for (const name of names)
        expect(exported.has(name) || exported.has(base(name)), `${rule.alert}: ${name}`).to.equal(true);
    }
  });
});
