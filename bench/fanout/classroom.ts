/*
 * A class ready for load: a target's processes started, the client processes started, and every
 * room's master and students joined (Wigglypuff: the room created first on the master's node). In
 * the two-node topologies room r's master is on node r mod 2 and its students on the other node, so
 * every delivery crosses Redis.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { cleanups } from '../lib/cleanup.js';
import { cpuBetween, cpuSnapshot } from '../lib/cpu.js';
import { maximum, percentile } from '../lib/stats.js';
import { ClientPool } from './client-pool.js';
import type { Options, Topology } from './options.js';
import { startTarget, type Target } from './targets.js';
import type { ProblemCounts, RoomPlan, ServerKind } from './wire.js';

const JOIN_TIMEOUT_MS = 15_000;
const SETTLE_TIMEOUT_MS = 15_000;
/** After the joins, so that no join traffic overlaps the load. */
const QUIET_AFTER_JOINS_MS = 200;

/** How the joins went (the setup of every run; the figures of the joins mode). */
export interface JoinFigures {
  joins: number;
  /** First RoomState to last RoomState, over all client processes (ms). */
  totalMs: number;
  /** Per join: WebSocket opened -> RoomState (ms). */
  p50: number;
  p99: number;
  max: number;
  /** Wigglypuff: creating the rooms over HTTP, before the joins (ms). */
  createMs: number;
  /** Last RoomState -> every master has seen every NewUser (ms). */
  settleMs: number;
  /** CPU of the server processes from the first room creation to the settled class (ms), and per join (µs). */
  serverCpuMs: number;
  serverCpuPerJoinMicros: number;
  problems: ProblemCounts;
  problemLines: string[];
}

export interface Classroom {
  target: Target;
  pool: ClientPool;
  joins: JoinFigures;
  /** Stops the clients, then the servers and redis; once only, whoever asks first. */
  teardown(): Promise<void>;
}

export function planRooms(options: Options, target: Target): RoomPlan[] {
  // Only the addresses: the plans go over IPC.
  const nodes = target.nodes.map(({ http, ws }) => ({ http, ws }));
  return Array.from({ length: options.rooms }, (_, r) => ({
    index: r,
    name: `bench-${r}`,
    master: `teacher-${r}`,
    students: Array.from({ length: options.students }, (_, i) => `student-${r}-${i}`),
    masterNode: nodes[r % nodes.length]!,
    studentNode: nodes[(r + 1) % nodes.length]!,
  }));
}

export async function openClassroom(server: ServerKind, topology: Topology, options: Options): Promise<Classroom> {
  let target: Target | undefined;
  let pool: ClientPool | undefined;
  let stopping: Promise<void> | undefined;
  const teardown = (): Promise<void> =>
    (stopping ??= (async () => {
      cleanups.delete(teardown);
      await pool?.stop();
      await target?.stop();
    })());
  cleanups.add(teardown);
  try {
    [target, pool] = await Promise.all([startTarget(server, topology, options), ClientPool.start(options.clientProcesses)]);
    const rooms = planRooms(options, target);
    const members = options.rooms * (options.students + 1);
    const before = cpuSnapshot(target.pids);
    const setup = await pool.setup(server, rooms, options.concurrency, {
      joinMs: JOIN_TIMEOUT_MS,
      settleMs: SETTLE_TIMEOUT_MS,
      // Every join may take its whole timeout, `concurrency` of them at a time.
      totalMs: 30_000 + SETTLE_TIMEOUT_MS + Math.ceil(members / options.concurrency) * JOIN_TIMEOUT_MS,
    });
    const serverCpu = [...cpuBetween(before, cpuSnapshot(target.pids)).used.values()].reduce((sum, s) => sum + s, 0);
    target.assertAlive('during the joins');
    const latencies = setup.joinLatencies.sort();
    await delay(QUIET_AFTER_JOINS_MS);
    return {
      target,
      pool,
      teardown,
      joins: {
        joins: latencies.length,
        totalMs: setup.lastRoomState - setup.firstRoomState,
        p50: percentile(latencies, 0.5),
        p99: percentile(latencies, 0.99),
        max: maximum(latencies),
        createMs: server === 'wigglypuff' ? setup.createMs : Number.NaN,
        settleMs: setup.settleMs,
        serverCpuMs: serverCpu * 1000,
        serverCpuPerJoinMicros: latencies.length ? (serverCpu * 1e6) / latencies.length : Number.NaN,
        problems: setup.problems,
        problemLines: setup.problemLines,
      },
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}
