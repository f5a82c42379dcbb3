/*
 * What a run measures: a server (Wigglypuff or the Socket.IO anchor) in a topology (one node; two
 * nodes sharing one throwaway redis-server), its processes started fresh on 127.0.0.1 with
 * ephemeral ports, guarded so that none outlives the benchmark.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { RedisServer } from '../../test/support/redis.js';
import { ManagedChild } from '../lib/child.js';
import { MAX_PROBLEMS_KEPT, pollReady, ROOT, serverEnv } from '../lib/processes.js';
import type { Options, Topology } from './options.js';
import type { Endpoint, ServerKind } from './wire.js';

const START_TIMEOUT_MS = 15_000;
const READY_TIMEOUT_MS = 10_000;
/** A profiled node writes its profile on the way out. */
const STOP_GRACE_PROFILING_MS = 20_000;
const SOCKETIO_ENTRY = 'bench/fanout/socketio-server.ts';

/**
 * LOG_LEVEL=info only to read the "wigglypuff listening" line; at info the server logs nothing per
 * message (room created, at setup, is the only info line before the measurement). The bench is one
 * client address sending fast on purpose: the abuse limits and the room and size limits are raised
 * so that they do not measure it.
 */
const WIGGLYPUFF_SETTINGS: Record<string, string> = {
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'info',
  MEDIA_PORT: '0',
  STUN_ADDRESS: 'stun:127.0.0.1:3478',
  WS_RATE_LIMIT_PER_SEC: '1000000',
  WS_RATE_LIMIT_BURST: '1000000',
  HTTP_RATE_LIMIT_PER_MIN: '1000000',
  MAX_CONNECTIONS_PER_ADDRESS: '1000000',
  MAX_USERS_PER_ROOM: '1000000',
  MAX_ROOMS: '1000000',
};

export const SERVER_TITLE: Record<ServerKind, string> = { wigglypuff: 'Wigglypuff', socketio: 'Socket.IO' };
export const TOPOLOGY_TITLE: Record<Topology, string> = { one: '1 node', two: '2 nodes + Redis' };

export interface ServerNode extends Endpoint {
  name: string;
  pid: number;
  process: ManagedChild;
}

export interface Target {
  server: ServerKind;
  topology: Topology;
  nodes: ServerNode[];
  /** The processes whose CPU is the server side's, by name: node-0, node-1, redis. */
  pids: Map<string, number>;
  /** Throws when a server process or redis has died. */
  assertAlive(when: string): void;
  /** Problem lines of the server processes (Wigglypuff: warn/error log lines; anything on stderr). */
  problemLines(): string[];
  problemCount(): number;
  stop(): Promise<void>;
}

export async function startTarget(server: ServerKind, topology: Topology, options: Options): Promise<Target> {
  const nodes: ServerNode[] = [];
  let redis: RedisServer | undefined;
  const target: Target = {
    server,
    topology,
    nodes,
    pids: new Map(),
    assertAlive(when) {
      for (const node of nodes) node.process.assertAlive(when);
      if (redis && !redis.isRunning) {
        throw new Error(`redis-server died ${when}; its last output:\n${redis.output.slice(-MAX_PROBLEMS_KEPT).join('\n')}`);
      }
    },
    problemLines: () => nodes.flatMap((node) => node.process.log.problems.map((line) => `${node.name}: ${line}`)),
    problemCount: () => nodes.reduce((sum, node) => sum + node.process.log.problemCount, 0),
    async stop() {
      await Promise.allSettled(nodes.map((node) => node.process.stop()));
      await redis?.stop().catch(() => undefined);
    },
  };
  try {
    const names = topology === 'one' ? ['node-0'] : ['node-0', 'node-1'];
    let env: Record<string, string> = {};
    if (topology === 'two') {
      redis = await RedisServer.start();
      env = { REDIS_URL: redis.url };
    }
    const start = server === 'wigglypuff' ? startWigglypuffNode : startSocketIoNode;
    const started = await Promise.allSettled(names.map((name) => start(name, env, options, topology)));
    for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    for (const node of nodes) target.pids.set(node.name, node.pid);
    if (redis) target.pids.set('redis', redis.pid!);
    return target;
  } catch (error) {
    await target.stop();
    throw error;
  }
}

/** Waits for the line `listening` picks out (it returns the node's HTTP base); rejects on exit or timeout. */
function listeningOn(name: string, child: ManagedChild, listening: (line: string) => string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      void child.stop();
      reject(new Error(`${name} did not start in ${START_TIMEOUT_MS} ms:\n${child.log.recent.join('\n')}`));
    }, START_TIMEOUT_MS);
    child.onLine((line, stream) => {
      if (done || stream !== 'stdout') return;
      const http = listening(line);
      if (!http) return;
      done = true;
      clearTimeout(timer);
      if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(http)) {
        void child.stop();
        reject(new Error(`${name} listens on ${http}, not on 127.0.0.1`));
      } else {
        resolve(http);
      }
    });
    void child.exited.then(() => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${name} ${child.exitDescription()} before listening:\n${child.log.recent.join('\n')}`));
    });
  });
}

function asNode(name: string, child: ManagedChild, http: string): ServerNode {
  return { name, pid: child.pid, process: child, http, ws: http.replace(/^http/, 'ws') };
}

async function startWigglypuffNode(name: string, extra: Record<string, string>, options: Options, topology: Topology): Promise<ServerNode> {
  const args = [options.serverEntry];
  if (options.cpuProf) {
    const dir = resolvePath(ROOT, options.cpuProf);
    mkdirSync(dir, { recursive: true });
    args.unshift('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=fanout-${topology}-${name}-${Date.now()}.cpuprofile`);
  }
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: serverEnv({ ...WIGGLYPUFF_SETTINGS, NODE_ID: name, ...extra }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let started = false;
  // After the listening line: anything on stderr, and any stdout line that is not an info-or-lower JSON log line.
  const process_ = new ManagedChild(
    name,
    child,
    (line, stream) => started && (stream === 'stderr' || !((logLevel(line) ?? 99) < 40)),
    options.cpuProf ? STOP_GRACE_PROFILING_MS : undefined,
  );
  const http = await listeningOn(name, process_, (line) => {
    const entry = parseJson(line) as { msg?: string; address?: string } | undefined;
    return entry?.msg === 'wigglypuff listening' ? entry.address : undefined;
  });
  started = true;
  const { ready, last } = await pollReady(http, Date.now() + READY_TIMEOUT_MS, () => process_.assertAlive('at start'));
  if (!ready) {
    await process_.stop();
    throw new Error(`${name} not ready after ${READY_TIMEOUT_MS} ms: ${last}`);
  }
  return asNode(name, process_, http);
}

async function startSocketIoNode(name: string, extra: Record<string, string>): Promise<ServerNode> {
  const child = spawn(process.execPath, ['--import', 'tsx', SOCKETIO_ENTRY], {
    cwd: ROOT,
    env: serverEnv({ HOST: '127.0.0.1', PORT: '0', ...extra }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let started = false;
  // It prints its listening line and nothing else: any later line is a problem.
  const process_ = new ManagedChild(name, child, () => started);
  const port = await listeningOn(name, process_, (line) => {
    const entry = parseJson(line) as { listening?: number } | undefined;
    return typeof entry?.listening === 'number' ? `http://127.0.0.1:${entry.listening}` : undefined;
  });
  started = true;
  return asNode(name, process_, port);
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function logLevel(line: string): number | undefined {
  const entry = parseJson(line) as { level?: unknown } | undefined;
  return typeof entry?.level === 'number' ? entry.level : undefined;
}
