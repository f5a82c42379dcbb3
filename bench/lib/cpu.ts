/* CPU accounting from /proc: processes, threads and the whole machine. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Other processes' CPU (% of one core) above which a run is flagged as noisy. */
export const OTHER_LOAD_WARN = 20;

/** Clock ticks per second, the unit of /proc's CPU times. */
export const CLK_TCK = (() => {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
})();

/** The command name (field 2) of a /proc/<pid>[/task/<tid>]/stat text. */
export function statName(stat: string): string {
  return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
}

/** utime + stime of a /proc/<pid>[/task/<tid>]/stat text, in seconds. */
export function statCpuSeconds(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** utime + stime of a process (all its threads), in seconds. */
export function processCpuSeconds(pid: number): number {
  return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

export interface MachineCpu {
  busy: number;
  steal: number;
}

/** The machine's busy and steal time over all cores, in seconds (from /proc/stat). */
export function machineCpuSeconds(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  return { busy: (user! + nice! + system! + irq! + softirq! + steal!) / CLK_TCK, steal: steal! / CLK_TCK };
}

/** CPU seconds of a named set of processes, of this process and of the machine, at one instant. */
export interface CpuSnapshot {
  wall: number;
  processes: Map<string, number>;
  self: NodeJS.CpuUsage;
  machine: MachineCpu;
}

export function cpuSnapshot(pids: Map<string, number>): CpuSnapshot {
  const processes = new Map<string, number>();
  for (const [name, pid] of pids) processes.set(name, processCpuSeconds(pid));
  return { wall: performance.now(), processes, self: process.cpuUsage(), machine: machineCpuSeconds() };
}

/** CPU used between two snapshots, in seconds. */
export interface CpuWindow {
  seconds: number;
  /** CPU seconds per process name over the window. */
  used: Map<string, number>;
  self: number;
  machineBusy: number;
  machineSteal: number;
}

export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): CpuWindow {
  const used = new Map<string, number>();
  for (const [name, start] of before.processes) used.set(name, after.processes.get(name)! - start);
  return {
    seconds: (after.wall - before.wall) / 1000,
    used,
    self: (after.self.user - before.self.user + after.self.system - before.self.system) / 1e6,
    machineBusy: after.machine.busy - before.machine.busy,
    machineSteal: after.machine.steal - before.machine.steal,
  };
}

/** `N CPUs (model), node vX`: the machine line of a benchmark's header. */
export function describeMachine(): string {
  return `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}`;
}

/** 100 x the number of cores: the machine's busy figures are % of this. */
export const MACHINE_PERCENT = cpus().length * 100;

/** A process's resident set size (VmRSS of /proc/<pid>/status) in bytes; NaN when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
