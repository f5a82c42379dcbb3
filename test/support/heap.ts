import { setImmediate as nextTurn } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Memory checks for tests that run a server in this process: a forced full GC (without starting
 * node with --expose-gc), the heap it leaves, and the handles the event loop still holds.
 */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** heapUsed after several full collections, with turns of the event loop between them (finalizers, closed sockets). */
export async function settledHeapUsed(rounds = 4): Promise<number> {
  for (let i = 0; i < rounds; i++) {
    gc();
    await nextTurn();
  }
  gc();
  return process.memoryUsage().heapUsed;
}

export const MB = 1024 * 1024;

/** How many of each kind of resource keeps the event loop alive (TCPSocketWrap, Timeout, ...). */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** `process._getActiveHandles()`: sockets, servers, timers lists... (undocumented, but stable for years). */
export function activeHandleCount(): number {
  return (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
}
