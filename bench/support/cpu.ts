/**
 * CPU time spent over a window, machine-wide (/proc/stat: every process, PostgreSQL and the brokers
 * included) and by this process (all its threads), so a benchmark can say what one unit of work costs in
 * CPU and how much of it this machine can complete at most, whatever the latency.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface CpuWindow {
  /** Ends the window: CPU milliseconds used since it started (machine null where /proc/stat is missing). */
  stop(): { machineMs: number | null; processMs: number; cores: number };
}

export function startCpuWindow(): CpuWindow {
  const machineAtStart = machineBusyMs();
  const processAtStart = process.cpuUsage();
  return {
    stop() {
      const machineAtEnd = machineBusyMs();
      const used = process.cpuUsage(processAtStart);
      return {
        machineMs: machineAtStart === null || machineAtEnd === null ? null : machineAtEnd - machineAtStart,
        processMs: (used.user + used.system) / 1000,
        cores: os.availableParallelism(),
      };
    },
  };
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
