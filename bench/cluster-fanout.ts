/*
 * Cluster fan-out benchmark (not a test): `npm run bench:cluster [-- --flags]`, issue 10.
 *
 * Wigglypuff against a Socket.IO 4.8 anchor (bench/fanout/socketio-server.ts: rooms, broadcast to
 * the room except the sender), each in two topologies: one node, and two nodes sharing one
 * throwaway redis-server with every delivery crossing Redis (a room's master on node r % 2, its
 * students on the other). R rooms of one master and S students; the masters send ClickAya, the
 * students receive it. The clients speak each server's protocol over plain `ws` from separate
 * client processes (bench/fanout/client-worker.ts), so the client side costs the same for both.
 *
 * Modes (--mode): fixed (the load of the issue, figures per run, medians and ratios per topology),
 * capacity (the rate raised step by step until the pass rule fails), joins (1000 joins at 50 at a
 * time) and soak (fixed mode's load for longer: per-minute latency and loss, the servers' memory).
 * The servers take turns W, S, S, W within one invocation. docs/benchmarks.md says what every figure
 * means.
 *
 * Exit code 1 when a delivery was lost or anything else went wrong (a LOSS or PROBLEM banner says
 * what), 2 on a fatal error. Only 127.0.0.1 is used; every child process is stopped when the
 * benchmark ends, fails, is interrupted, or (through watchdog shells) is killed itself.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { runCapacity } from './fanout/modes/capacity.js';
import { FIXED, runLoadMode } from './fanout/modes/fixed.js';
import { runJoins } from './fanout/modes/joins.js';
import { SOAK } from './fanout/modes/soak.js';
import { OPTION_HELP, type Options, offeredLoad, parseOptions } from './fanout/options.js';
import { installSignalHandlers, startDeadline } from './lib/cleanup.js';
import { describeMachine } from './lib/cpu.js';
import { runBenchmark } from './lib/options.js';
import { assertBuilt, ROOT, SERVER_ENTRY } from './lib/processes.js';
import { describeCommit } from './lib/report.js';

installSignalHandlers('the servers, redis and the client processes', 15_000);

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return '?';
  }
}

function redisVersion(): string {
  try {
    return /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    return 'not found';
  }
}

/** A generous bound on the whole invocation: every run's own bounds, plus start-up and teardown. */
function budgetSeconds(options: Options): number {
  const members = options.rooms * (options.students + 1);
  const setup = 60 + members / 20;
  const cases = options.topologies.length * options.servers.length * options.runs;
  switch (options.mode) {
    case 'fixed':
    case 'soak':
      return cases * (setup + options.warmup + options.duration + options.drainTimeout + 60 + 30);
    case 'capacity':
      return cases * (setup + options.maxSteps * (options.stepWarmup + options.stepDuration + options.drainTimeout + 10));
    case 'joins':
      return cases * setup;
  }
}

function describeShape(options: Options): string {
  const load = `R=${options.rooms} rooms x (1 master + S=${options.students} students), ${options.rooms * (options.students + 1)} clients in ${options.clientProcesses} client processes`;
  switch (options.mode) {
    case 'fixed':
    case 'soak':
      return `${load}; F=${options.rate} ClickAya/s per master (${offeredLoad(options)} deliveries/s), W=${options.warmup} s warm-up, D=${options.duration} s measured`;
    case 'capacity':
      return `${load}; from F=${options.rate}/s per master (${offeredLoad(options)} deliveries/s) x${options.stepFactor} per step, ${options.stepWarmup} s warm-up + ${options.stepDuration} s measured each, at most ${options.maxSteps} steps`;
    case 'joins':
      return `${load}; ${options.concurrency} joins at a time`;
  }
}

async function main(): Promise<number> {
  const options = parseOptions();
  if (options.servers.includes('wigglypuff')) assertBuilt(options.serverEntry, 'bench:cluster');
  startDeadline(budgetSeconds(options) * 1000);

  const entry =
    options.serverEntry === resolvePath(ROOT, SERVER_ENTRY) ? SERVER_ENTRY : `${options.serverEntry} (not the repository's build)`;
  console.log(
    `cluster fan-out bench, mode ${options.mode}: ${options.servers.join(' vs ')} on ${options.topologies.join(' and ')} node(s), ${options.runs} runs each, alternating`,
  );
  console.log(describeShape(options));
  console.log(`code: ${describeCommit()}; Wigglypuff: node ${entry}${options.cpuProf ? ` --cpu-prof (into ${options.cpuProf})` : ''}`);
  console.log(
    `machine: ${describeMachine()}; socket.io ${packageVersion('socket.io')}, @socket.io/redis-adapter ${packageVersion('@socket.io/redis-adapter')}, ` +
      `ws ${packageVersion('ws')}, redis-server ${redisVersion()}`,
  );
  switch (options.mode) {
    case 'fixed':
      return runLoadMode(options, FIXED);
    case 'soak':
      return runLoadMode(options, SOAK);
    case 'capacity':
      return runCapacity(options);
    case 'joins':
      return runJoins(options);
  }
}

runBenchmark(main, OPTION_HELP);
