import { type NodeProcess, spawnServer } from './process.js';
import { killOnExit } from './reaper.js';

const STOP_GRACE_MS = 5000;

/** One Wigglypuff server process of a multi-node test. */
export interface WigglypuffNode {
  /** Its NODE_ID. */
  id: string;
  /** `http://127.0.0.1:PORT` */
  http: string;
  /** `ws://127.0.0.1:PORT` */
  ws: string;
  process: NodeProcess;
  /** Sends `signal` (SIGKILL unless told: a crash) and resolves once the process exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (a graceful shutdown), SIGKILL if it has not exited after 5 s; resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * Starts `count` server processes in parallel, `node-0` … `node-<count-1>`, each on its own ephemeral
 * port (PORT=0) with NODE_ID set, plus `env` (e.g. REDIS_URL). If one fails to start, the others are
 * killed and the error is thrown.
 */
export async function startNodes(count: number, env: Record<string, string> = {}): Promise<WigglypuffNode[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, (_, index) => startNode(`node-${index}`, env)));
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((node) => node.kill()));
    throw failed.reason;
  }
  return nodes;
}

/** Starts one server process with NODE_ID=`id` on an ephemeral port, plus `env`: e.g. to replace a killed node. */
export async function startNode(id: string, env: Record<string, string> = {}): Promise<WigglypuffNode> {
  const node = await spawnServer({ ...env, PORT: '0', NODE_ID: id });
  killOnExit(node.child); // a crashed test leaves no server behind
  const hasExited = (): boolean => node.child.exitCode !== null || node.child.signalCode !== null;
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (!hasExited()) node.child.kill(signal);
    await node.exited;
  };
  const stop = async (): Promise<void> => {
    if (hasExited()) return;
    node.child.kill('SIGTERM');
    const timer = setTimeout(() => node.child.kill('SIGKILL'), STOP_GRACE_MS);
    await node.exited;
    clearTimeout(timer);
  };
  return { id, http: node.http, ws: node.http.replace(/^http/, 'ws'), process: node, kill, stop };
}

/** Stops all the nodes in parallel (see `WigglypuffNode.stop`). */
export async function stopNodes(nodes: WigglypuffNode[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.stop()));
}
