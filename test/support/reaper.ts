import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/**
 * Makes a temp dir `<tmpdir>/<prefix>XXXXXX` (removed on exit) and resolves to what `use` resolves to; if
 * `use` rejects, the dir is removed at once and the error passed on.
 */
export async function withTempDir<T>(prefix: string, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  removeOnExit(dir);
  try {
    return await use(dir);
  } catch (error) {
    forgetDir(dir);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Removes `dir` now (and no longer on exit). */
export async function removeDir(dir: string): Promise<void> {
  forgetDir(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
