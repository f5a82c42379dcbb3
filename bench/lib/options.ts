/* Command-line options: --flag, else BENCH_* environment variable, else the default. */
import { exitAfterCleanup } from './cleanup.js';

/** A bad flag or value: the message is printed with the usage text, exit code 2. */
export class UsageError extends Error {}

/** `flag` if given, else the environment variable `env`. */
export function pick(flag: string | undefined, env: string): string | undefined {
  return flag ?? process.env[env];
}

/** A number option in min..max (an integer when `integer`); `fallback` when absent or empty. */
export function numberOption(name: string, raw: string | undefined, fallback: number, integer: boolean, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new UsageError(`${name} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, not "${raw}"`);
  }
  return value;
}

/** A comma-separated list of names, each one of `allowed`, deduplicated; `what` names one (scenario, kind). */
export function namesOption<T extends string>(raw: string, allowed: readonly T[], what: string): T[] {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(allowed as readonly string[]).includes(name)) throw new UsageError(`unknown ${what} "${name}" (${allowed.join(', ')})`);
  }
  if (names.length === 0) throw new UsageError(`no ${what} given`);
  return [...new Set(names)] as T[];
}

/** Parses the command line with `parse`, turning its errors into UsageErrors; --help prints `help` and exits 0. */
export function parseFlags<V extends { help?: boolean | undefined }>(parse: () => { values: V }, help: string): V {
  let values: V;
  try {
    values = parse().values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(help);
    process.exit(0);
  }
  return values;
}

/** Runs `main` and exits (after the cleanups) with its code; 2 on a usage error (with `help`) or any failure. */
export function runBenchmark(main: () => Promise<number>, help: string): void {
  main().then(
    (code) => exitAfterCleanup(code),
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(`bench: ${error.message}\n\n${help}`);
      } else {
        console.error('bench: failed:', error);
      }
      return exitAfterCleanup(2);
    },
  );
}
