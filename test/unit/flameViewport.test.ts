// Unit tests of the flame chart's zoom and pan arithmetic (webview/flame/viewport.ts) and of the
// key and wheel mapping (webview/flame/flameKeys.ts): exact windows for exact inputs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flameAction, wheelZoomFactor } from '../../webview/flame/flameKeys';
import {
  clampWindow,
  covers,
  followEdge,
  MIN_SPAN_NS,
  overscan,
  panBy,
  panByPixels,
  showsEnd,
  timeAt,
  xOf,
  zoomAt,
  zoomTo,
} from '../../webview/flame/viewport';

const bounds = { startNs: 0, endNs: 1_000_000 };

test('zoom keeps the time under the cursor in place', () => {
  const w = { startNs: 100_000, endNs: 500_000 };
  const z = zoomAt(w, 0.5, 0.25, bounds);
  assert.deepEqual(z, { startNs: 150_000, endNs: 350_000 });
  assert.equal(timeAt(0.25 * 800, w, 800), timeAt(0.25 * 800, z, 800));
  // Centre zoom out is clamped to the trace.
  assert.deepEqual(zoomAt(w, 10, 0.5, bounds), bounds);
  // Never narrower than the minimum span.
  const tiny = zoomAt({ startNs: 1000, endNs: 1100 }, 0.01, 0.5, bounds);
  assert.equal(tiny.endNs - tiny.startNs, MIN_SPAN_NS);
  assert.equal(tiny.startNs, 1040);
});

test('pans move by a fraction or by pixels and stop at the trace edges', () => {
  const w = { startNs: 100_000, endNs: 300_000 };
  assert.deepEqual(panBy(w, 0.5, bounds), { startNs: 200_000, endNs: 400_000 });
  assert.deepEqual(panBy(w, -1, bounds), { startNs: 0, endNs: 200_000 });
  assert.deepEqual(panBy({ startNs: 900_000, endNs: 990_000 }, 1, bounds), {
    startNs: 910_000,
    endNs: 1_000_000,
  });
  // Dragging 100 px right on an 800 px chart shows an eighth of the window earlier.
  assert.deepEqual(panByPixels(w, 100, 800, bounds), { startNs: 75_000, endNs: 275_000 });
});

test('pixel and time conversions are inverse', () => {
  const w = { startNs: 1000, endNs: 3000 };
  assert.equal(xOf(2000, w, 400), 200);
  assert.equal(timeAt(200, w, 400), 2000);
});

test('zoom to a call pads it; follow keeps the span at the live edge', () => {
  assert.deepEqual(zoomTo({ startNs: 1000, endNs: 2000 }, bounds), { startNs: 950, endNs: 2050 });
  assert.deepEqual(zoomTo({ startNs: 0, endNs: 2000 }, bounds), { startNs: 0, endNs: 2200 });
  const w = { startNs: 10_000, endNs: 20_000 };
  assert.deepEqual(followEdge(w, bounds), { startNs: 990_000, endNs: 1_000_000 });
  assert.equal(showsEnd(followEdge(w, bounds), bounds, 800), true);
  assert.equal(showsEnd(w, bounds, 800), false);
  // A window wider than the trace becomes the trace.
  assert.deepEqual(clampWindow({ startNs: -5, endNs: 2_000_000 }, bounds), bounds);
});

test('overscan widens within the trace; covers compares windows', () => {
  const w = { startNs: 100_000, endNs: 200_000 };
  const o = overscan(w, 0.5, bounds);
  assert.deepEqual(o, { startNs: 50_000, endNs: 250_000 });
  assert.deepEqual(overscan({ startNs: 0, endNs: 100 }, 1, bounds), { startNs: 0, endNs: 200 });
  assert.equal(covers(o, w), true);
  assert.equal(covers(w, o), false);
});

test('keys map as in Perfetto', () => {
  assert.deepEqual(flameAction('w'), { kind: 'zoom', factor: 0.7 });
  assert.deepEqual(flameAction('W', true), { kind: 'zoom', factor: 0.7 * 0.7 });
  assert.deepEqual(flameAction('s'), { kind: 'zoom', factor: 1 / 0.7 });
  assert.deepEqual(flameAction('a'), { kind: 'pan', fraction: -0.2 });
  assert.deepEqual(flameAction('d'), { kind: 'pan', fraction: 0.2 });
  assert.deepEqual(flameAction('f'), { kind: 'zoomToSelection' });
  assert.deepEqual(flameAction('0'), { kind: 'reset' });
  assert.deepEqual(flameAction('Escape'), { kind: 'reset' });
  assert.deepEqual(flameAction('Enter'), { kind: 'reveal' });
  assert.deepEqual(flameAction('ArrowUp'), { kind: 'navigate', direction: 'parent' });
  assert.deepEqual(flameAction('ArrowDown'), { kind: 'navigate', direction: 'firstChild' });
  assert.deepEqual(flameAction('ArrowLeft'), { kind: 'navigate', direction: 'previousSibling' });
  assert.deepEqual(flameAction('ArrowRight'), { kind: 'navigate', direction: 'nextSibling' });
  assert.equal(flameAction('q'), undefined);
  assert.equal(wheelZoomFactor(0), 1);
  assert.equal(wheelZoomFactor(300), 2);
  assert.equal(wheelZoomFactor(-300), 0.5);
  assert.equal(wheelZoomFactor(10_000), wheelZoomFactor(500));
});
