// Unit tests of the flame chart's layout (webview/flame/flameLayout.ts) and keyboard navigation
// model (webview/flame/callNavigation.ts) on the boxes of a small recorded trace shape.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FlameBox, TrackInfo } from '../../extension/store/api';
import { NavIndex } from '../../webview/flame/callNavigation';
import {
  boxRects,
  bucketRects,
  fitLabel,
  hitTest,
  laneAt,
  layoutLanes,
} from '../../webview/flame/flameLayout';

function box(
  id: number,
  depth: number,
  startNs: number,
  endNs: number | null,
  qualname = `f${id}`,
): FlameBox {
  return { id, depth, startNs, endNs, qualname, module: '__main__', flags: 0, exception: false };
}

// <module> 0..1000 { a 100..400 { a1 150..200, a2 250..300 }, b 500..600, c 700..(running) }
const boxes = [
  box(1, 0, 0, 1000),
  box(2, 1, 100, 400),
  box(3, 2, 150, 200),
  box(4, 2, 250, 300),
  box(5, 1, 500, 600),
  box(6, 1, 700, null),
  box(7, 0, 1000, 1200),
];

const track = (thread: number, maxDepth: number): TrackInfo => ({
  thread,
  process: 1,
  pid: 42,
  name: thread === 1 ? 'MainThread' : `worker-${thread}`,
  startNs: 0,
  endNs: null,
  calls: 1,
  maxDepth,
});

test('lanes stack with a header and a row per depth', () => {
  const layout = layoutLanes([track(1, 2), track(2, 0)]);
  assert.deepEqual(layout.lanes, [
    { thread: 1, label: 'MainThread (pid 42)', top: 0, rowsTop: 18, height: 72 },
    { thread: 2, label: 'worker-2 (pid 42)', top: 78, rowsTop: 96, height: 36 },
  ]);
  assert.equal(layout.height, 114);
  assert.equal(laneAt(layout, 80)?.thread, 2);
  assert.equal(laneAt(layout, 75), undefined);
});

test('boxes map to pixels; running calls reach the live edge; outside boxes are skipped', () => {
  const rects = boxRects(boxes, { startNs: 0, endNs: 1000 }, 1000, 18, 900);
  assert.deepEqual(
    rects.map((r) => [r.box.id, r.x, r.y, r.w, r.h]),
    [
      [1, 0, 18, 1000, 17],
      [2, 100, 36, 300, 17],
      [3, 150, 54, 50, 17],
      [4, 250, 54, 50, 17],
      [5, 500, 36, 100, 17],
      [6, 700, 36, 200, 17],
      [7, 1000, 18, 2, 17],
    ],
  );
  const zoomed = boxRects(boxes, { startNs: 200, endNs: 300 }, 1000, 0, 900);
  assert.deepEqual(
    zoomed.map((r) => [r.box.id, r.x, r.w]),
    [
      [1, -2, 1004],
      [2, -2, 1004],
      [3, -2, 2],
      [4, 500, 500],
    ],
  );
  const buckets = bucketRects(
    [{ depth: 3, startNs: 10, endNs: 12, count: 5, module: 'm' }],
    { startNs: 0, endNs: 1000 },
    1000,
    0,
  );
  assert.deepEqual(
    buckets.map((r) => [r.x, r.y, r.w]),
    [[10, 54, 2]],
  );
});

test('labels are clipped to their box with an ellipsis', () => {
  assert.equal(fitLabel('compute_total', 200, 7), 'compute_total');
  assert.equal(fitLabel('compute_total', 60, 7), 'comput…');
  assert.equal(fitLabel('compute_total', 20, 7), '');
});

test('hit testing finds the box under the pointer, thin boxes within two pixels', () => {
  const rects = boxRects(boxes, { startNs: 0, endNs: 1000 }, 1000, 0, 900);
  assert.equal(hitTest(rects, 160, 40)?.box.id, 3);
  assert.equal(hitTest(rects, 120, 20)?.box.id, 2);
  assert.equal(hitTest(rects, 450, 40), undefined);
  assert.equal(hitTest(rects, 1001, 5)?.box.id, 7);
});

test('arrow keys move to parent, first child and siblings', () => {
  const nav = new NavIndex(boxes);
  const to = (id: number, d: Parameters<NavIndex['move']>[1]) => nav.move(id, d)?.id;
  assert.equal(to(3, 'parent'), 2);
  assert.equal(to(2, 'parent'), 1);
  assert.equal(to(1, 'parent'), undefined);
  assert.equal(to(1, 'firstChild'), 2);
  assert.equal(to(2, 'firstChild'), 3);
  assert.equal(to(5, 'firstChild'), undefined);
  assert.equal(to(3, 'nextSibling'), 4);
  assert.equal(to(4, 'nextSibling'), undefined, 'a2 is the last child of a');
  assert.equal(to(4, 'previousSibling'), 3);
  assert.equal(to(2, 'nextSibling'), 5);
  assert.equal(to(5, 'nextSibling'), 6);
  assert.equal(to(6, 'nextSibling'), undefined, 'the running call is the last child');
  assert.equal(to(6, 'parent'), 1);
  assert.equal(to(1, 'nextSibling'), 7);
  assert.equal(to(7, 'previousSibling'), 1);
  assert.equal(to(99, 'parent'), undefined);
});
