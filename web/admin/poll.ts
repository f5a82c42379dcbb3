/** A refresh every few seconds: the next one is scheduled when the last has settled, so they never overlap. */

export interface Poller {
  /** Refreshes now (and restarts the interval). */
  now(): void;
  stop(): void;
}

export function every(intervalMs: number, refresh: () => Promise<void>): Poller {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  const run = (): void => {
    clearTimeout(timer);
    if (stopped) return;
    if (running) {
      again = true; // a refresh asked for during one runs right after it
      return;
    }
    running = refresh()
      .catch(() => undefined) // each view shows its own failures
      .finally(() => {
        running = null;
        if (stopped) return;
        if (again) {
          again = false;
          run();
        } else {
          timer = setTimeout(run, intervalMs);
        }
      });
  };
  run();
  return {
    now: run,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
