/*
 * Soak mode: fixed mode's load for --duration (600 for a 10-minute class), reported per minute
 * (p99, max, loss), with the server processes' resident memory sampled every few seconds during
 * the class and again some seconds after every client closed.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { f0, f1, f2 } from '../../lib/stats.js';
import type { Classroom } from '../classroom.js';
import type { ComparedFigure } from '../report.js';
import { RSS_SAMPLE_MS, RssSampler } from '../rss.js';
import { type LoadRun, type LoadVariant, loadFigures } from './fixed.js';

const MINUTE_SECONDS = 60;
/** How long after the class (every client closed) the memory is read again. */
const AFTER_CLASS_MS = 10_000;
const SERVER_PROCESSES = ['node-0', 'node-1', 'redis'];

/** Memory figure keys: `rss.<process>.<when>`, MiB. */
const PHASES = [
  { when: 'before', label: 'before the load' },
  { when: 'peak', label: 'peak during the load' },
  { when: 'end', label: 'at the end of the load' },
  { when: 'after', label: `${AFTER_CLASS_MS / 1000} s after the class` },
] as const;

function observeMemory(classroom: Classroom) {
  const sampler = new RssSampler(classroom.target.pids);
  sampler.sample('before');
  return {
    tick: () => sampler.tick('load'),
    endOfLoad: () => sampler.sample('end'),
    async afterClass(room: Classroom): Promise<Record<string, number>> {
      const end = sampler.samples.find((s) => s.phase === 'end');
      const deadline = Date.now() + AFTER_CLASS_MS;
      while (Date.now() < deadline) {
        room.target.assertAlive('after the class');
        await delay(Math.min(RSS_SAMPLE_MS, deadline - Date.now()));
        sampler.tick('after');
      }
      const after = sampler.sample('after');
      const before = sampler.samples[0]!;
      const extra: Record<string, number> = {};
      for (const name of classroom.target.pids.keys()) {
        extra[`rss.${name}.before`] = before.mib[name] ?? Number.NaN;
        extra[`rss.${name}.peak`] = sampler.peak(name, ['load', 'end']);
        extra[`rss.${name}.end`] = end?.mib[name] ?? Number.NaN;
        extra[`rss.${name}.after`] = after.mib[name] ?? Number.NaN;
      }
      extra.rssSamples = sampler.samples.length;
      return extra;
    },
  };
}

function soakFigures(): ComparedFigure<LoadRun>[] {
  const memory: ComparedFigure<LoadRun>[] = [];
  for (const name of SERVER_PROCESSES) {
    for (const phase of PHASES) {
      const key = `rss.${name}.${phase.when}`;
      memory.push({ key, label: `RSS ${name} ${phase.label} (MiB)`, format: f1, get: (r) => r.extra[key] ?? Number.NaN });
    }
  }
  return [...loadFigures(), ...memory];
}

function printMinutes(run: LoadRun): void {
  for (const interval of run.step.intervals) {
    console.log(
      `  minute from ${f0(interval.startSeconds)} s: received ${interval.received}/${interval.expected} (lost ${interval.lost}) | ` +
        `latency p50 ${f2(interval.latencyP50)} ms, p99 ${f2(interval.latencyP99)} ms, max ${f2(interval.latencyMax)} ms`,
    );
  }
  const memory = [
    ...new Set(
      Object.keys(run.extra)
        .filter((k) => k.startsWith('rss.'))
        .map((k) => k.split('.')[1]!),
    ),
  ].map((name) => {
    const mib = (when: string): string => f1(run.extra[`rss.${name}.${when}`] ?? Number.NaN);
    return `${name} ${mib('before')} -> peak ${mib('peak')} -> end ${mib('end')} -> after ${mib('after')} MiB`;
  });
  console.log(
    `  RSS (every ${RSS_SAMPLE_MS / 1000} s; after = ${AFTER_CLASS_MS / 1000} s after every client closed): ${memory.join('; ')}`,
  );
}

export const SOAK: LoadVariant = {
  title: 'soak',
  intervalSeconds: MINUTE_SECONDS,
  observe: observeMemory,
  figures: soakFigures,
  printRunDetail: printMinutes,
};
