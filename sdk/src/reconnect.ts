import type { Clock } from './clock.js';
import { type CloseReason, SERVICE_RESTART_CLOSE, TERMINAL_CLOSE_CODES } from './errors.js';

/** The reconnect policy's numbers. */
export interface BackoffOptions {
  /** The first retry's delay (before jitter). Default 250 ms. */
  initialDelayMs: number;
  /** The delay stops growing here while the page is visible. Default 10 s. */
  maxDelayMs: number;
  /** ... and here while it is hidden (slower, but never giving up). Default 60 s. */
  hiddenMaxDelayMs: number;
  /** Each failed attempt multiplies the delay by this. Default 2. */
  factor: number;
  /** The share of the delay that is random: 0.5 waits between half and all of it. Default 0.5. */
  jitter: number;
  /** A connection that stayed up this long starts the backoff over after it drops. Default 5 s. */
  stableAfterMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  hiddenMaxDelayMs: 60_000,
  factor: 2,
  jitter: 0.5,
  stableAfterMs: 5000,
});

/**
 * The wait before retry number `attempt` (0 for the first): exponential, capped, and jittered so
 * that a class whose node died does not come back all in the same millisecond.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number, hidden = false): number {
  const cap = hidden ? options.hiddenMaxDelayMs : options.maxDelayMs;
  const base = Math.min(cap, options.initialDelayMs * options.factor ** Math.max(0, attempt));
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(base * (1 - jitter + jitter * Math.min(1, Math.max(0, random()))));
}

/** What a close code means for the reconnect policy. */
export type CloseVerdict =
  | { kind: 'terminal'; reason: CloseReason }
  /** Resume with last_seq; `immediate`: at once (the node is shutting down), otherwise after the backoff. */
  | { kind: 'resume'; immediate: boolean };

export function closeVerdict(code: number): CloseVerdict {
  const reason = TERMINAL_CLOSE_CODES[code];
  if (reason) return { kind: 'terminal', reason };
  return { kind: 'resume', immediate: code === SERVICE_RESTART_CLOSE };
}

/**
 * Where the SDK learns that retrying now is worth it: the network came back, the page became
 * visible; and whether the page is hidden (retry slower). In a browser these are the window's
 * `online` event and the document's visibility; elsewhere none (pass your own, e.g. from a mobile
 * app's lifecycle).
 */
export interface Environment {
  /** Calls `callback` when the network comes back; returns the function that stops it. */
  onOnline?(callback: () => void): () => void;
  /** Calls `callback` when the page (app) becomes visible; returns the function that stops it. */
  onVisible?(callback: () => void): () => void;
  isHidden?(): boolean;
}

interface BrowserLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/** The browser's environment when there is one (window `online`, document visibility), else an empty one. */
export function defaultEnvironment(): Environment {
  const scope = globalThis as { window?: BrowserLike; document?: BrowserLike & { visibilityState?: string } };
  const environment: Environment = {};
  const win = scope.window;
  if (win && typeof win.addEventListener === 'function') {
    environment.onOnline = (callback) => {
      win.addEventListener('online', callback);
      return () => win.removeEventListener('online', callback);
    };
  }
  const doc = scope.document;
  if (doc && typeof doc.addEventListener === 'function') {
    environment.isHidden = () => doc.visibilityState === 'hidden';
    environment.onVisible = (callback) => {
      const listener = () => {
        if (doc.visibilityState !== 'hidden') callback();
      };
      doc.addEventListener('visibilitychange', listener);
      return () => doc.removeEventListener('visibilitychange', listener);
    };
  }
  return environment;
}

/**
 * Runs the next connection attempt when its time comes: after a delay, or at once when the network
 * comes back or the page becomes visible while it waits. One attempt is scheduled at a time.
 */
export class RetryTimer {
  private timer: unknown;
  private due: (() => void) | undefined;
  private readonly stops: (() => void)[] = [];

  constructor(
    private readonly clock: Clock,
    environment: Environment,
  ) {
    if (environment.onOnline) this.stops.push(environment.onOnline(() => this.wake()));
    if (environment.onVisible) this.stops.push(environment.onVisible(() => this.wake()));
  }

  /** Runs `run` after `delayMs` (replacing whatever was scheduled). */
  schedule(delayMs: number, run: () => void): void {
    this.cancel();
    this.due = run;
    this.timer = this.clock.setTimeout(() => this.fire(), delayMs);
  }

  get scheduled(): boolean {
    return this.due !== undefined;
  }

  /** Runs the scheduled attempt now, if one is waiting. */
  wake(): void {
    if (this.due) this.fire();
  }

  cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.due = undefined;
  }

  dispose(): void {
    this.cancel();
    for (const stop of this.stops.splice(0)) stop();
  }

  private fire(): void {
    const run = this.due;
    this.cancel();
    run?.();
  }
}
