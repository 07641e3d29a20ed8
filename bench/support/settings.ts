/** Benchmark sizes from the environment, so CI can run small and a quiet machine can run long. */

/** A positive number from `name`, else `fallback`; a bad value fails loudly (a typo must not go unnoticed). */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** A comma list of positive rates (e.g. BENCH_FLOW_RATES=200,30). */
export function envRates(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const rates = raw.split(',').map((part) => Number(part.trim()));
  if (rates.some((rate) => !Number.isFinite(rate) || rate <= 0))
    throw new Error(`${name} must be a comma list of positive numbers, got "${raw}"`);
  return rates;
}

/** Seconds each measured phase runs (BENCH_PHASE_SECONDS, default 6). */
export function phaseSeconds(): number {
  return envNumber('BENCH_PHASE_SECONDS', 6);
}

/**
 * The rate for an open-loop phase: `requested` if the measured maximum is at least 10% above it, else
 * 70% of the maximum (in tens): above capacity an open loop only measures how fast the queue grows.
 */
export function reachableRate(requested: number, measuredMax: number): number {
  if (measuredMax >= requested * 1.1) return requested;
  return Math.max(10, Math.floor((measuredMax * 0.7) / 10) * 10);
}
