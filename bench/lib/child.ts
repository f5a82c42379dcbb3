/*
 * A guarded child process of a benchmark: killed with the benchmark however it ends (guardChild),
 * its output lines kept (recent ones, and the problem lines a caller's rule picks), its exit known,
 * and, when it has an IPC channel, its messages waited for by type with a bound.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { guardChild, OutputLog, STOP_GRACE_MS } from './processes.js';

/** Decides whether an output line is a problem (it is remembered either way). */
export type ProblemRule = (line: string, stream: 'stdout' | 'stderr') => boolean;

export class ManagedChild<In = never, Out extends { type: string } = never> {
  readonly pid: number;
  readonly log = new OutputLog();
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;
  private readonly inbox: Out[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly lineListeners = new Set<(line: string, stream: 'stdout' | 'stderr') => void>();

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    isProblem: ProblemRule,
    private readonly stopGraceMs = STOP_GRACE_MS,
  ) {
    this.pid = child.pid ?? -1;
    guardChild(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        this.wake();
        resolve();
      }),
    );
    for (const stream of ['stdout', 'stderr'] as const) {
      const input = child[stream];
      if (!input) continue;
      createInterface({ input }).on('line', (line) => {
        this.log.remember(`[${stream}] ${line}`);
        for (const listener of this.lineListeners) listener(line, stream);
        if (isProblem(line, stream)) this.log.problem(line);
      });
    }
    child.on('message', (message) => {
      this.inbox.push(message as Out);
      this.wake();
    });
    child.on('error', (error) => this.log.problem(`${name}: ${error.message}`));
  }

  /** Calls `listener` with every further output line (before the problem rule sees it). */
  onLine(listener: (line: string, stream: 'stdout' | 'stderr') => void): void {
    this.lineListeners.add(listener);
  }

  hasExited(): boolean {
    return this.exit !== undefined;
  }

  exitDescription(): string | undefined {
    return this.exit ? `exited (${this.exit.signal ?? this.exit.code})` : undefined;
  }

  /** Throws when the process has exited, with its last output. */
  assertAlive(when: string): void {
    if (this.exit) {
      throw new Error(`${this.name} (pid ${this.pid}) ${this.exitDescription()} ${when}; its last output:\n${this.log.recent.join('\n')}`);
    }
  }

  post(message: In): void {
    if (!this.exit && this.child.connected) this.child.send(message as object);
  }

  /** The first message of `type` (already received or to come); rejects on an `error` message, an exit or the timeout. */
  next<T extends Out['type']>(type: T, timeoutMs: number, what: string): Promise<Extract<Out, { type: T }>> {
    return new Promise((resolve, reject) => {
      const look = (): boolean => {
        const failed = this.inbox.findIndex((m) => m.type === 'error');
        if (failed >= 0) {
          const [message] = this.inbox.splice(failed, 1);
          done();
          reject(new Error(`${this.name}: ${what}: ${(message as unknown as { message: string }).message}`));
          return true;
        }
        const index = this.inbox.findIndex((m) => m.type === type);
        if (index >= 0) {
          const [message] = this.inbox.splice(index, 1);
          done();
          resolve(message as Extract<Out, { type: T }>);
          return true;
        }
        if (this.exit) {
          done();
          reject(
            new Error(
              `${this.name} (pid ${this.pid}) ${this.exitDescription()} while waiting for ${what}; its last output:\n${this.log.recent.join('\n')}`,
            ),
          );
          return true;
        }
        return false;
      };
      const wake = (): void => {
        look();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${what} after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      if (!look()) this.waiters.add(wake);
    });
  }

  /** Posts `message` (if given) and waits 2 s for the exit; then SIGTERM, and SIGKILL after the grace time. */
  async stop(message?: In): Promise<void> {
    if (this.exit) return;
    if (message !== undefined) {
      try {
        this.post(message);
      } catch {
        // the channel is gone; the signal below still works
      }
      await Promise.race([this.exited, delay(2000)]);
      if (this.exit) return;
    }
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), this.stopGraceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private wake(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
