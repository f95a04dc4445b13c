// Unit tests of extension/throttle.ts, the limiter behind the editor's and the timeline's live
// refresh: at most one run per interval, always a final run after the last request, no overlap.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Throttle } from '../../extension/throttle';

test('a burst of requests runs the task once now-ish and once after the interval', async () => {
  const runs: number[] = [];
  const start = Date.now();
  const t = new Throttle(() => {
    runs.push(Date.now() - start);
  }, 100);
  for (let i = 0; i < 50; i++) t.schedule();
  await sleep(30);
  assert.equal(runs.length, 1);
  for (let i = 0; i < 50; i++) t.schedule();
  await sleep(30);
  assert.equal(runs.length, 1, 'the second burst waits for the interval');
  await sleep(120);
  assert.equal(runs.length, 2);
  assert.ok(runs[1] - runs[0] >= 95, `runs ${runs.join(', ')} ms`);
  t.dispose();
});

test('requests during a slow run cause exactly one more run after it, never overlapping', async () => {
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  const t = new Throttle(async () => {
    active++;
    maxActive = Math.max(maxActive, active);
    runs++;
    await sleep(50);
    active--;
  }, 10);
  t.schedule();
  await sleep(20);
  t.schedule();
  t.schedule();
  await sleep(150);
  assert.equal(runs, 2);
  assert.equal(maxActive, 1);
  t.dispose();
});

test('a failing task does not stop later runs; dispose stops pending ones', async () => {
  let runs = 0;
  const t = new Throttle(() => {
    runs++;
    throw new Error('boom');
  }, 10);
  t.schedule();
  await sleep(20);
  t.schedule();
  await sleep(30);
  assert.equal(runs, 2);
  t.schedule();
  t.dispose();
  await sleep(30);
  assert.equal(runs, 2);
});
