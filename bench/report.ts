/** Writes benchmark results as JSON (bench/results/<name>.json) and a markdown table in docs/benchmarks.md. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';

export interface BenchRow {
  target: string;
  metric: string;
  value: number;
  unit: string;
  /** Same-run comparison, e.g. relay throughput / raw publish throughput. */
  ratio?: { value: number; against: string };
  /** The goal this row is held to, and whether this run met it (`goal()` builds it). */
  goal?: Goal;
  note?: string;
  /** Raw numbers behind the row (latency percentiles, counts, status codes), kept in the JSON only. */
  detail?: Record<string, unknown>;
}

/** A target such as "ratio >= 0.6" or "p99 <= 50 ms", checked against a measured value. */
export interface Goal {
  /** What is compared: 'value' (the row's value) or 'ratio' (the row's same-run ratio). */
  on: 'value' | 'ratio';
  op: '>=' | '<=';
  threshold: number;
  unit: string;
  met: boolean;
}

/** Checks `measured` against `op threshold` (for the row's value or its ratio). */
export function goal(on: Goal['on'], measured: number, op: Goal['op'], threshold: number, unit = ''): Goal {
  const met = op === '>=' ? measured >= threshold : measured <= threshold;
  return { on, op, threshold, unit, met };
}

export interface BenchReport {
  name: string;
  title: string;
  ranAt: string;
  machine: {
    cpus: number;
    memoryGiB: number;
    node: string;
    /** 1-minute load average when the run started and when it was saved: how busy the shared machine was. */
    loadAverage?: { start: number; end?: number };
  };
  parameters: Record<string, unknown>;
  rows: BenchRow[];
  /** How to read the section (rendered under the table), and why targets were missed or skipped. */
  notes?: string[];
}

export function newReport(name: string, title: string, parameters: Record<string, unknown>): BenchReport {
  return {
    name,
    title,
    ranAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      loadAverage: { start: round1(os.loadavg()[0]!) },
    },
    parameters,
    rows: [],
  };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export function markdownTable(report: BenchReport): string {
  const load = report.machine.loadAverage;
  const busy = load ? ` (load average ${load.start}${load.end === undefined ? '' : ` -> ${load.end}`})` : '';
  const lines = [
    `### ${report.title}`,
    '',
    `Ran ${report.ranAt} on ${report.machine.cpus} CPUs${busy} / ${report.machine.memoryGiB} GiB, Node ${report.machine.node}. Parameters: \`${JSON.stringify(report.parameters)}\`.`,
    '',
    '| target | metric | value | ratio (same run) | goal | note |',
    '| --- | --- | ---: | --- | --- | --- |',
    ...report.rows.map(
      (r) =>
        `| ${r.target} | ${r.metric} | ${format(r.value)} ${r.unit} | ${r.ratio ? `${r.ratio.value.toFixed(2)} × ${r.ratio.against}` : ''} | ${r.goal ? formatGoal(r.goal) : ''} | ${r.note ?? ''} |`,
    ),
    '',
    ...(report.notes ?? []).map((note) => `- ${note}`),
    ...(report.notes?.length ? [''] : []),
  ];
  return lines.join('\n');
}

function formatGoal(g: Goal): string {
  const subject = g.on === 'ratio' ? 'ratio ' : '';
  return `${subject}${g.op} ${g.threshold}${g.unit ? ` ${g.unit}` : ''}: **${g.met ? 'met' : 'missed'}**`;
}

function format(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

/** Saves the JSON and replaces this benchmark's section in docs/benchmarks.md. */
export async function saveReport(report: BenchReport): Promise<void> {
  if (report.machine.loadAverage) report.machine.loadAverage.end = round1(os.loadavg()[0]!);
  const root = new URL('../', import.meta.url);
  await mkdir(new URL('bench/results/', root), { recursive: true });
  await writeFile(new URL(`bench/results/${report.name}.json`, root), `${JSON.stringify(report, null, 2)}\n`);
  const docUrl = new URL('docs/benchmarks.md', root);
  let doc: string;
  try {
    doc = await readFile(docUrl, 'utf8');
  } catch {
    doc =
      '# Benchmarks\n\nProduced by `npm run bench` on the machine named in each section; raw JSON in `bench/results/`.\nThese machines are noisy: read the same-run ratios, not the absolute numbers.\n\n';
  }
  const start = `<!-- bench:${report.name}:start -->`;
  const end = `<!-- bench:${report.name}:end -->`;
  const section = `${start}\n${markdownTable(report)}${end}`;
  const pattern = new RegExp(`${start}[\\s\\S]*?${end}`);
  doc = pattern.test(doc) ? doc.replace(pattern, section) : `${doc.trimEnd()}\n\n${section}\n`;
  await mkdir(new URL('docs/', root), { recursive: true });
  await writeFile(docUrl, doc);
  process.stdout.write(`${markdownTable(report)}\n`);
}

/** A benchmark that cannot run here (a backend is missing): says why and keeps its last saved results. */
export function skipReport(name: string, reason: string): void {
  process.stderr.write(`${name}: SKIPPED (${reason}); docs/benchmarks.md keeps its last results\n`);
}
