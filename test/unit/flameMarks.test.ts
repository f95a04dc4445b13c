// The flame chart's task lanes and marks as pure layout: lanes for asyncio tasks right under their
// thread (keys, labels, their top row's depth), where probe marks and dropped regions are drawn,
// which mark is under the pointer, what their tooltips say, and that marks cross the webview
// boundary in a packed window unchanged.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DropRegion, FlameMark, TrackInfo } from '../../extension/store/api';
import {
  LANE_GAP,
  LANE_HEADER,
  laneKey,
  layoutLanes,
  ROW_HEIGHT,
} from '../../webview/flame/flameLayout';
import {
  dropLabel,
  dropRects,
  dropText,
  hitDrop,
  hitMark,
  markRects,
  markText,
  TICK,
} from '../../webview/flame/markLayout';
import { packWindow, unpackWindow } from '../../webview/flame/packedWindow';

const thread: TrackInfo = {
  thread: 1,
  process: 1,
  pid: 42,
  name: 'MainThread',
  startNs: 0,
  endNs: 1000,
  calls: 1,
  maxDepth: 0,
};
const task: TrackInfo = {
  ...thread,
  name: 'fetch-1',
  calls: 2,
  maxDepth: 2,
  lane: -1,
  task: 'fetch-1',
  depthBase: 1,
};

const gc: FlameMark = {
  id: 7,
  kind: 'gc',
  name: 'gc',
  startNs: 200,
  endNs: 300,
  detail: 'gen=2 collected=178',
  file: '/app/features.py',
  line: 40,
  call: 3,
  generation: 2,
  collected: 178,
  count: 1,
};
const audit: FlameMark = {
  id: 9,
  kind: 'audit',
  name: 'open',
  startNs: 250,
  endNs: 250,
  detail: "open ('/tmp/x', 'w', 524865)",
  file: '/app/features.py',
  line: 23,
  call: 4,
  count: 1,
};

test('a task lane sits under its thread with its own key, label and top-row depth', () => {
  const layout = layoutLanes([thread, task]);
  assert.deepEqual(
    layout.lanes.map((l) => [l.thread, l.key, l.label, l.task, l.depthBase, l.top, l.height]),
    [
      [1, undefined, 'MainThread (pid 42)', undefined, undefined, 0, LANE_HEADER + ROW_HEIGHT],
      [
        1,
        -1,
        '↳ task fetch-1',
        'fetch-1',
        1,
        LANE_HEADER + ROW_HEIGHT + LANE_GAP,
        LANE_HEADER + 3 * ROW_HEIGHT,
      ],
    ],
  );
  assert.deepEqual([laneKey(thread), laneKey(task)], [1, -1]);
});

test('marks: a GC bar from start to end, an instant as a tick, both in the header strip', () => {
  const w = { startNs: 0, endNs: 1000 };
  const rects = markRects([gc, audit], w, 1000, 50, 1000);
  assert.deepEqual(
    rects.map((r) => [r.mark.id, r.x, r.y, r.w, r.h]),
    [
      [7, 200, 50, 100, LANE_HEADER - 2],
      [9, 250 - TICK, 50, 2 * TICK, LANE_HEADER - 2],
    ],
  );
  // The tick on the bar wins (the narrower); beside it, the bar; below the header, nothing.
  assert.equal(hitMark(rects, 251, 55)?.mark.id, 9);
  assert.equal(hitMark(rects, 210, 55)?.mark.id, 7);
  assert.equal(hitMark(rects, 210, 50 + LANE_HEADER), undefined);
  // Out of view: none; a GC without an end reaches the live edge; a tiny GC is still a tick wide.
  assert.deepEqual(markRects([gc], { startNs: 400, endNs: 500 }, 100, 0, 1000), []);
  const open = markRects([{ ...gc, endNs: null }], w, 1000, 0, 800)[0];
  assert.deepEqual([open.x, open.w], [200, 600]);
  const tiny = markRects([{ ...gc, endNs: 200.5 }], w, 1000, 0, 1000)[0];
  assert.deepEqual([tiny.x, tiny.w], [200, 2 * TICK]);
});

test('dropped regions: hatched over the rows, at least 3 px wide, hit by the pointer', () => {
  const drops: DropRegion[] = [
    { process: 1, startNs: 100, endNs: 400, records: 1234 },
    { process: 1, startNs: 900, endNs: 900, records: 1 },
  ];
  const rects = dropRects(drops, { startNs: 0, endNs: 1000 }, 1000, 70, 36);
  assert.deepEqual(
    rects.map((r) => [r.x, r.y, r.w, r.h, r.drop.records]),
    [
      [100, 70, 300, 36, 1234],
      [899, 70, 3, 36, 1],
    ],
  );
  assert.equal(hitDrop(rects, 300, 80)?.drop.records, 1234);
  assert.equal(hitDrop(rects, 300, 110), undefined);
  assert.equal(dropLabel(drops[0]), '1,234 lost');
  assert.equal(
    dropText(drops[0]),
    "1,234 records lost over 300 ns: the tracer's buffer was full, so calls here may be missing or cut short",
  );
  assert.equal(
    dropText(drops[1]),
    "1 record lost: the tracer's buffer was full, so calls here may be missing or cut short",
  );
});

test('tooltips say what a mark is, where, and how many merged into it', () => {
  assert.equal(
    markText(gc),
    'Garbage collection · generation 2 · 178 collected · 100 ns · features.py:40',
  );
  assert.equal(
    markText({ ...gc, endNs: null, collected: undefined, count: 3 }),
    'Garbage collection · generation 2 · end not recorded · features.py:40 (+2 more within a pixel)',
  );
  assert.equal(markText(audit), "Audit event open ('/tmp/x', 'w', 524865) · features.py:23");
  assert.equal(
    markText({ ...audit, kind: 'probe', name: 'custom', detail: '', file: undefined }),
    'Probe custom',
  );
});

test('marks and dropped regions cross the webview boundary unchanged', () => {
  const drops = [{ process: 1, startNs: 5, endNs: 6, records: 2 }];
  const w = unpackWindow(
    packWindow({ boxes: [], buckets: [], marks: [gc, audit], drops }, 0, false),
  );
  assert.deepEqual(w, { boxes: [], buckets: [], marks: [gc, audit], drops });
  assert.deepEqual(unpackWindow(packWindow({ boxes: [], buckets: [] }, 0, false)), {
    boxes: [],
    buckets: [],
  });
});
