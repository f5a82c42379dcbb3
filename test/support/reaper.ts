import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Processes and temp dirs the test helpers started, so that nothing outlives the test process: whatever
 * is still registered when it exits (a failed assertion before a `stop()`, an uncaught exception,
 * `process.exit()`) is SIGKILLed and removed on `process.on('exit')`.
 */
const children = new Set<ChildProcess>();
const dirs = new Set<string>();

process.on('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // best effort
    }
  }
});

/** Kills `child` with SIGKILL if it is still running when the test process exits. */
export function killOnExit(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Removes `dir` when the test process exits, unless `forgetDir` was called first. */
export function removeOnExit(dir: string): void {
  dirs.add(dir);
}

export function forgetDir(dir: string): void {
  dirs.delete(dir);
}
