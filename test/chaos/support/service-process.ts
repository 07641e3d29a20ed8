/**
 * One platform service as its own OS process (`bin/platform.ts` with SERVICES=<name>), the way
 * production runs it, so a test can SIGKILL it at any instruction and start it again. Node runs the
 * entry point directly (not through npx/npm, whose wrapper process would take the signal instead).
 * Every start appends to one log file per service, kept for the post-mortem when a check fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../../..');

export interface ServiceProcessOptions {
  name: string;
  /** The whole environment of the process (loadConfig reads it). */
  env: Record<string, string>;
  port: number;
  logDir: string;
  /** How long a start may take until /readyz answers 200. */
  readyTimeoutMs?: number;
}

export class ServiceProcess {
  readonly name: string;
  readonly url: string;
  readonly logFile: string;
  kills = 0;
  starts = 0;
  /** Exits nobody asked for (a crash): each one fails the suite. */
  readonly unexpectedExits: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private log: WriteStream;
  private expectingExit = false;

  constructor(private readonly options: ServiceProcessOptions) {
    this.name = options.name;
    this.url = `http://127.0.0.1:${options.port}`;
    this.logFile = path.join(options.logDir, `${options.name}.log`);
    this.log = createWriteStream(this.logFile, { flags: 'a' });
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The running process's id (for CPU accounting), undefined while it is down. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the process and waits until it is ready; throws (with its log tail) if it exits or hangs. */
  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.name} is already running`);
    this.starts++;
    this.expectingExit = false;
    this.log.write(`\n===== start #${this.starts} at ${new Date().toISOString()} =====\n`);
    // SERVICE_NODE_ARGS: extra Node flags for every service, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
    // to profile each service of a benchmark or chaos run (written when the service stops).
    const nodeArgs = (process.env.SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'bin/platform.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    let exitInfo: string | undefined;
    this.exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        exitInfo = `exit code ${code} signal ${signal}`;
        this.log.write(`\n===== ${this.name} exited: ${exitInfo} at ${new Date().toISOString()} =====\n`);
        if (!this.expectingExit) this.unexpectedExits.push(`${this.name}: ${exitInfo}`);
        if (this.child === child) this.child = undefined;
        resolve();
      }),
    );
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 90_000);
    for (;;) {
      if (exitInfo) throw new Error(`${this.name} exited while starting (${exitInfo})\n${this.tail(30)}`);
      if (await this.ready()) return;
      if (Date.now() > deadline) throw new Error(`${this.name} not ready in time\n${this.tail(30)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGKILL: no drain, no cleanup, sockets reset, in-flight work lost mid-instruction. */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.kills++;
    this.expectingExit = true;
    this.log.write(`\n===== SIGKILL at ${new Date().toISOString()} =====\n`);
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful drain), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  async ready(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return response.status === 200;
    } catch {
      return false;
    }
  }

  /** The Prometheus text of the running process, or null when it is down. */
  async metrics(): Promise<string | null> {
    try {
      const response = await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(5_000) });
      return response.ok ? await response.text() : null;
    } catch {
      return null;
    }
  }

  /** The last `lines` lines of this service's log (all its runs). */
  tail(lines = 40): string {
    let text = '';
    try {
      text = readFileSync(this.logFile, 'utf8');
    } catch {
      return `(no log at ${this.logFile})`;
    }
    const all = text.trimEnd().split('\n');
    return [
      `--- ${this.name}: last ${lines} of ${all.length} lines (${this.logFile}) ---`,
      ...all.slice(-lines),
    ].join('\n');
  }
}
