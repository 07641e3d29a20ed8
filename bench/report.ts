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
  note?: string;
}

export interface BenchReport {
  name: string;
  title: string;
  ranAt: string;
  machine: { cpus: number; memoryGiB: number; node: string };
  parameters: Record<string, unknown>;
  rows: BenchRow[];
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
    },
    parameters,
    rows: [],
  };
}

export function markdownTable(report: BenchReport): string {
  const lines = [
    `### ${report.title}`,
    '',
    `Ran ${report.ranAt} on ${report.machine.cpus} CPUs / ${report.machine.memoryGiB} GiB, Node ${report.machine.node}. Parameters: \`${JSON.stringify(report.parameters)}\`.`,
    '',
    '| target | metric | value | ratio (same run) | note |',
    '| --- | --- | ---: | --- | --- |',
    ...report.rows.map(
      (r) =>
        `| ${r.target} | ${r.metric} | ${format(r.value)} ${r.unit} | ${r.ratio ? `${r.ratio.value.toFixed(2)} × ${r.ratio.against}` : ''} | ${r.note ?? ''} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

function format(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

/** Saves the JSON and replaces this benchmark's section in docs/benchmarks.md. */
export async function saveReport(report: BenchReport): Promise<void> {
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
