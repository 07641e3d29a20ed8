/**
 * CPU time spent over a window, machine-wide (/proc/stat: every process, PostgreSQL and the brokers
 * included) and by this process (all its threads), so a benchmark can say what one unit of work costs in
 * CPU and how much of it this machine can complete at most, whatever the latency.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface CpuUsed {
  /** Every process on the machine (null where /proc/stat is missing). */
  machineMs: number | null;
  /** This process, all its threads. */
  processMs: number;
  /** Each named child process (those that ran through the whole window and could be read). */
  children: Record<string, number>;
  cores: number;
}

export interface CpuWindow {
  /** Ends the window: CPU milliseconds used since it started. */
  stop(): CpuUsed;
}

/** `children`: other processes to account for by name (e.g. the platform's services). */
export function startCpuWindow(
  children: ReadonlyArray<{ name: string; pid: number | undefined }> = [],
): CpuWindow {
  const machineAtStart = machineBusyMs();
  const processAtStart = process.cpuUsage();
  const childrenAtStart = children.map((child) => ({ ...child, ms: processCpuMs(child.pid) }));
  return {
    stop() {
      const machineAtEnd = machineBusyMs();
      const used = process.cpuUsage(processAtStart);
      const childMs: Record<string, number> = {};
      for (const child of childrenAtStart) {
        const end = processCpuMs(child.pid);
        if (child.ms !== null && end !== null && end >= child.ms) childMs[child.name] = end - child.ms;
      }
      return {
        machineMs: machineAtStart === null || machineAtEnd === null ? null : machineAtEnd - machineAtStart,
        processMs: (used.user + used.system) / 1000,
        children: childMs,
        cores: os.availableParallelism(),
      };
    },
  };
}

/** User + system CPU of one process (/proc/<pid>/stat fields 14 and 15), in milliseconds. */
function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [utime, stime] = [Number(fields[11]), Number(fields[12])];
  return Number.isFinite(utime) && Number.isFinite(stime)
    ? ((utime + stime) * 1000) / TICKS_PER_SECOND
    : null;
}

/** Busy CPU time of all cores since boot (everything but idle and iowait), in milliseconds. */
function machineBusyMs(): number | null {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return null;
  }
  if (!line?.startsWith('cpu ')) return null;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const ticks = user! + nice! + system! + irq! + softirq! + (steal ?? 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;
