/*
 * Cleanup on the way out: whatever a benchmark started is stopped however it ends (normal end,
 * failure, SIGINT/SIGTERM/SIGHUP, its own deadline).
 */

/** Teardowns still to run; a benchmark adds one per started case and deletes it after running it. */
export const cleanups = new Set<() => Promise<void>>();

async function runCleanups(): Promise<void> {
  const pending = [...cleanups];
  cleanups.clear();
  await Promise.allSettled(pending.map((cleanup) => cleanup()));
}

let exiting = false;
let forcedExitMs = 15_000;

/** Whether the benchmark is on its way out (a signal or exitAfterCleanup). */
export function isExiting(): boolean {
  return exiting;
}

/** Runs the cleanups (at most the forced-exit time given to installSignalHandlers), then exits with `code`. */
export async function exitAfterCleanup(code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    const forced = setTimeout(() => process.exit(code), forcedExitMs);
    forced.unref();
    await runCleanups();
  }
  process.exit(code);
}

/**
 * On SIGINT/SIGTERM/SIGHUP: prints `bench: <signal>, stopping <what>`, cleans up and exits 130.
 * `forcedMs`: exit anyway after this long, whether or not the cleanups are done.
 */
export function installSignalHandlers(what: string, forcedMs: number): void {
  forcedExitMs = forcedMs;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping ${what}`);
      void exitAfterCleanup(130);
    });
  }
}

/** Gives up (exit 2, after the cleanups) when the benchmark is still running after `budgetMs`. */
export function startDeadline(budgetMs: number): void {
  const deadline = setTimeout(() => {
    console.error(`bench: still running after ${Math.round(budgetMs / 1000)} s, giving up`);
    void exitAfterCleanup(2);
  }, budgetMs);
  deadline.unref();
}
