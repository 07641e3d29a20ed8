/** Latency summaries for benchmarks: nearest-rank percentiles over every sample (no sampling, no HDR buckets). Pure. */

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, v) => total + v, 0);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
    mean: round(sorted.length ? sum / sorted.length : Number.NaN),
  };
}

/** "p50 3.1 ms, p99 12 ms (n=8000)" for a table note. */
export function describeLatency(summary: LatencySummary): string {
  return `p50 ${summary.p50} ms, p99 ${summary.p99} ms, max ${summary.max} ms (n=${summary.count})`;
}
