/**
 * Runs Debian's `pgbench` with a custom script as a same-run database baseline, and reads its
 * per-transaction log (`-l`) for latency percentiles. Connects with the same URL and search_path
 * (schema) as the code it is compared with; `-M prepared` matches how the platform sends its hot
 * writes (node-postgres named statements, core/db/insert-all.ts: parsed once per connection, then
 * bind/execute per query).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { summarize, type LatencySummary } from './stats.js';

/** `PGBENCH` if set, else the newest /usr/lib/postgresql/<version>/bin/pgbench; null when none. */
export async function findPgbench(): Promise<string | null> {
  if (process.env.PGBENCH) return existsSync(process.env.PGBENCH) ? process.env.PGBENCH : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = (await readdir(root)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const candidate = path.join(root, version, 'bin', 'pgbench');
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

export interface PgbenchRun {
  binary: string;
  url: string;
  /** search_path of every connection. */
  schema: string;
  script: string;
  clients: number;
  threads: number;
  durationSeconds: number;
  /** Transactions per second to schedule (`-R`, open loop); omitted: as fast as possible. */
  rate?: number;
}

export interface PgbenchResult {
  transactions: number;
  /** Transactions completed per second over the run. */
  tps: number;
  /**
   * Per-transaction latency; with `rate`, counted from the transaction's scheduled start (pgbench's
   * schedule lag included), like the open-loop HTTP load.
   */
  latency: LatencySummary;
  /** pgbench's own summary, for the record. */
  summary: string;
}

export async function runPgbench(run: PgbenchRun): Promise<PgbenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-pgbench-'));
  try {
    const scriptFile = path.join(dir, 'script.sql');
    await writeFile(scriptFile, run.script);
    const args = [
      '-n',
      '-M',
      'prepared',
      '-f',
      scriptFile,
      '-c',
      String(run.clients),
      '-j',
      String(run.threads),
      '-T',
      String(run.durationSeconds),
      '-l',
      `--log-prefix=${path.join(dir, 'log')}`,
      ...(run.rate ? ['-R', String(run.rate)] : []),
      run.url,
    ];
    const { code, stdout, stderr } = await spawnCollect(run.binary, args, {
      ...process.env,
      PGOPTIONS: `-c search_path=${run.schema}`,
    });
    if (code !== 0) throw new Error(`pgbench exited with ${code}: ${stderr.slice(-2000)}`);
    const latencies: number[] = [];
    for (const file of (await readdir(dir)).filter((f) => f.startsWith('log'))) {
      for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n')) {
        // client_id transaction_no time script_no time_epoch time_us [schedule_lag]; with -R, `time`
        // already counts from the scheduled start (it includes schedule_lag).
        const fields = line.trim().split(/\s+/);
        if (fields.length < 6) continue;
        latencies.push(Number(fields[2]) / 1000);
      }
    }
    const failed = /number of failed transactions: (\d+)/.exec(stdout)?.[1];
    if (failed && Number(failed) > 0) throw new Error(`pgbench: ${failed} transactions failed\n${stdout}`);
    return {
      transactions: latencies.length,
      tps: latencies.length / run.durationSeconds,
      latency: summarize(latencies),
      summary: stdout.trim(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function spawnCollect(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
