import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dominantTones, goertzelPower, meanSquare } from '../support/goertzel.js';

const RATE = 48_000;
const TONES = [440, 660, 880, 1100, 1320];
/** Every tone AudioParticipant listens for by default: 110 Hz apart. */
const CLOSE_TONES = [440, 550, 660, 770, 880, 990, 1100, 1210, 1320];

/** Sines of the given frequencies and amplitudes (fractions of full scale), as 16-bit PCM. */
function sines(ms: number, tones: { hz: number; amplitude: number; phase?: number }[], offset = 0): Int16Array {
  const n = Math.round((RATE * ms) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let x = 0;
    for (const tone of tones) x += tone.amplitude * Math.sin((2 * Math.PI * tone.hz * (i + offset)) / RATE + (tone.phase ?? 0));
    out[i] = Math.max(-32768, Math.min(32767, Math.round(x * 32767)));
  }
  return out;
}

/** Deterministic white noise (uniform), amplitude as a fraction of full scale. */
function noise(ms: number, amplitude: number, seed = 1): Float32Array {
  const n = Math.round((RATE * ms) / 1000);
  const out = new Float32Array(n);
  let state = seed;
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = amplitude * ((state / 2 ** 32) * 2 - 1);
  }
  return out;
}

function mix(a: ArrayLike<number>, b: ArrayLike<number>, scaleA: number, scaleB: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * scaleA + b[i]! * scaleB;
  return out;
}

test('goertzelPower: a sine of amplitude A gives ~A^2 at its frequency, ~0 elsewhere', () => {
  for (const ms of [10, 100]) {
    for (const hz of TONES) {
      const full = sines(ms, [{ hz, amplitude: 1 }]);
      assert.ok(Math.abs(goertzelPower(full, RATE, hz) - 1) < 0.08, `full-scale ${hz} Hz on ${ms} ms: ${goertzelPower(full, RATE, hz)}`);
      const quiet = sines(ms, [{ hz, amplitude: 0.3 }]);
      assert.ok(Math.abs(goertzelPower(quiet, RATE, hz) - 0.09) < 0.01, `0.3 ${hz} Hz on ${ms} ms`);
      for (const other of TONES.filter((o) => o !== hz)) {
        assert.ok(
          goertzelPower(full, RATE, other) < 0.02,
          `${hz} Hz leaks into ${other} Hz on ${ms} ms: ${goertzelPower(full, RATE, other)}`,
        );
      }
    }
  }
  // Float32 samples are read with full scale 1.0; a full-scale sine's mean square is 0.5.
  const float = Float32Array.from(sines(100, [{ hz: 660, amplitude: 0.5 }]), (x) => x / 32767);
  assert.ok(Math.abs(goertzelPower(float, RATE, 660) - 0.25) < 0.01);
  assert.ok(Math.abs(meanSquare(sines(100, [{ hz: 660, amplitude: 1 }])) - 0.5) < 0.01);
});

test('dominantTones: one tone, on 10 ms and 100 ms blocks, any phase', () => {
  for (const ms of [10, 100]) {
    for (const hz of CLOSE_TONES) {
      for (const phase of [0, 1, 2.5]) {
        for (const amplitude of [1, 0.3, 0.01]) {
          const block = sines(ms, [{ hz, amplitude, phase }]);
          assert.deepEqual(dominantTones(block, RATE, CLOSE_TONES), [hz], `${hz} Hz at ${amplitude}, phase ${phase}, ${ms} ms`);
        }
      }
    }
  }
});

test('dominantTones: two tones mixed, three tones mixed', () => {
  for (const ms of [10, 100]) {
    for (const a of TONES) {
      for (const b of TONES.filter((hz) => hz > a)) {
        const block = sines(ms, [
          { hz: a, amplitude: 0.3 },
          { hz: b, amplitude: 0.3, phase: 1 },
        ]);
        assert.deepEqual(dominantTones(block, RATE, TONES), [a, b], `${a} + ${b} Hz on ${ms} ms`);
        assert.deepEqual(dominantTones(block, RATE, CLOSE_TONES), [a, b], `${a} + ${b} Hz on ${ms} ms among 110 Hz spaced candidates`);
      }
    }
    const three = sines(ms, [
      { hz: 550, amplitude: 0.25 },
      { hz: 660, amplitude: 0.25, phase: 2 },
      { hz: 1210, amplitude: 0.25, phase: 4 },
    ]);
    assert.deepEqual(dominantTones(three, RATE, CLOSE_TONES), [550, 660, 1210], `three tones on ${ms} ms`);
  }
  // A tone at a tenth of the other's amplitude carries 1% of the energy: not reported.
  const unequal = sines(100, [
    { hz: 440, amplitude: 0.5 },
    { hz: 880, amplitude: 0.05 },
  ]);
  assert.deepEqual(dominantTones(unequal, RATE, TONES), [440]);
  // ...unless the threshold is lowered.
  assert.deepEqual(dominantTones(unequal, RATE, TONES, 0.005), [440, 880]);
});

test('dominantTones: silence, near-silence, empty block', () => {
  for (const ms of [10, 100]) {
    assert.deepEqual(dominantTones(new Int16Array((RATE * ms) / 1000), RATE, TONES), []);
    // One LSB of dither is not a tone, even though it is all the block has.
    assert.deepEqual(dominantTones(sines(ms, [{ hz: 660, amplitude: 1 / 32767 }]), RATE, TONES), []);
    assert.deepEqual(dominantTones(noise(ms, 0.0005), RATE, TONES), []);
  }
  assert.deepEqual(dominantTones(new Int16Array(0), RATE, TONES), []);
});

test('dominantTones: noise alone is no tone; a tone in noise is found', () => {
  for (const ms of [10, 100]) {
    for (const seed of [1, 2, 3]) {
      assert.deepEqual(dominantTones(noise(ms, 0.5, seed), RATE, CLOSE_TONES), [], `noise, seed ${seed}, ${ms} ms`);
      // Same power as the noise (0 dB SNR: a 0.3 sine has mean square 0.045, uniform noise of 0.37 as well).
      const noisy = mix(
        Float32Array.from(sines(ms, [{ hz: 880, amplitude: 0.3 }]), (x) => x / 32767),
        noise(ms, 0.37, seed),
        1,
        1,
      );
      assert.deepEqual(dominantTones(noisy, RATE, CLOSE_TONES), [880], `880 Hz in noise, seed ${seed}, ${ms} ms`);
    }
  }
});

test('dominantTones: a phase jump inside a long block does not cancel the tone', () => {
  // Two halves of 50 ms in opposite phase: one 100 ms DFT sees nothing, 20 ms segments see the tone.
  const first = sines(50, [{ hz: 660, amplitude: 0.3 }]);
  const second = sines(50, [{ hz: 660, amplitude: 0.3, phase: Math.PI }], first.length);
  const jumped = new Int16Array(first.length + second.length);
  jumped.set(first);
  jumped.set(second, first.length);
  assert.ok(goertzelPower(jumped, RATE, 660) < 0.01, 'whole-block power cancels');
  assert.deepEqual(dominantTones(jumped, RATE, TONES), [660]);
});

test('dominantTones: a tone switching mid-block is heard as both', () => {
  const before = sines(50, [{ hz: 660, amplitude: 0.3 }]);
  const after = sines(50, [{ hz: 880, amplitude: 0.3 }], before.length);
  const block = new Int16Array(before.length + after.length);
  block.set(before);
  block.set(after, before.length);
  assert.deepEqual(dominantTones(block, RATE, TONES), [660, 880]);
});
