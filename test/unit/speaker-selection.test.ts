import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignSlots, LevelMeter, selectVoices } from '../../src/media/speaker-selection.js';

const voices = (levels: Record<string, number>) => Object.entries(levels).map(([uuid, level]) => ({ uuid, level }));

test('everyone is forwarded when everyone fits', () => {
  assert.deepEqual(selectVoices(voices({ a: 127, t: 127, b: 20 }), 't', 4, []), ['b', 'a', 't']);
});

test('with more voices than capacity: the master first when speaking, then the loudest speakers', () => {
  const levels = voices({ t: 40, a: 10, b: 20, c: 30, d: 45, quiet: 127 });
  assert.deepEqual(selectVoices(levels, 't', 4, []), ['t', 'a', 'b', 'c']);
  assert.deepEqual(selectVoices(voices({ t: 127, a: 10, b: 20, c: 30, d: 45 }), 't', 3, []), ['a', 'b', 'c'], 'a silent master waits');
});

test('a voice on a slot keeps it against one only slightly louder', () => {
  const levels = voices({ a: 10, b: 20, c: 23 });
  assert.deepEqual(selectVoices(levels, 't', 2, ['a', 'c']), ['a', 'c']);
  assert.deepEqual(selectVoices(voices({ a: 10, b: 12, c: 23 }), 't', 2, ['a', 'c']), ['a', 'b'], 'much louder wins');
});

test('slots change only for the voices that come or go', () => {
  assert.deepEqual(assignSlots([null, null, null], ['a', 'b']), ['a', 'b', null]);
  assert.deepEqual(assignSlots(['a', 'b', null], ['b', 'c']), ['c', 'b', null]);
  assert.deepEqual(assignSlots(['a', 'b'], ['c', 'd', 'e']), ['c', 'd'], 'never more than the slots');
});

test('a level meter smooths and falls silent when packets stop', () => {
  const meter = new LevelMeter();
  for (let t = 0; t < 200; t += 20) meter.update(10, t);
  assert.ok(meter.current(200) < 20);
  assert.equal(meter.current(600), 127);
});
