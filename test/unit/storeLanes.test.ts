// The flame chart's asyncio task lanes and marks in the store (in-process, real sql.js): the
// Python tracer runs test/fixtures/tasks.py and features.py (GC and audit probes); the store
// splits a thread's calls into a lane per task, answers each lane's window from its own top row,
// marks GC spans and audit events on the thread's lane, hatches where records were dropped, and
// keeps all of it through the cap and a save and open. Non-async threads stay one lane.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import './fixtures/sqlText';
import initSqlJs from 'sql.js';
import type { Batch, TracerMessage } from '../../adapter/protocol/wire';
import { TraceStore } from '../../extension/store/traceStore';
import { deliver, helloOf, keyOf, recordTrace, ROOT } from './fixtures/storeStreams';

const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-lanes-'));
let SQL: initSqlJs.SqlJsStatic;
before(async () => {
  SQL = await initSqlJs();
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the tracer (`run --connect` with `tracerArgs`) on a program; returns what it sent. */
async function record(python: string, program: string, tracerArgs: string[] = []) {
  const run = await recordTrace(python, program, [], 30_000, tracerArgs);
  assert.equal(run.exitCode, 0, run.stderr);
  return run.messages;
}

function ingest(messages: TracerMessage[], store = new TraceStore(SQL)): TraceStore {
  for (const m of messages) deliver(store, keyOf(1), m);
  return store;
}

const python = (version: string): string =>
  path.join(os.homedir(), '.pyenv', 'versions', version, 'bin', 'python3');
const PYTHONS = ['3.12', '3.11']
  .map((v) => {
    const dir = path.join(os.homedir(), '.pyenv', 'versions');
    const name = readdirSync(dir).find((n) => n === v || n.startsWith(`${v}.`));
    return name ? python(name) : undefined;
  })
  .filter((p): p is string => p !== undefined);

/** A window's boxes as "qualname dDEPTH" in start order. */
function boxes(store: TraceStore, q: Parameters<TraceStore['window']>[0]): string[] {
  return store
    .window(q)
    .boxes.sort((a, b) => a.startNs - b.startNs)
    .map((b) => `${b.qualname} d${b.depth}${b.flags & 1 ? ' resumed' : ''}`);
}

for (const py of PYTHONS) {
  describe(`task lanes and marks from the real tracer (${path.basename(path.dirname(path.dirname(py)))})`, () => {
    test('tasks.py: a lane per asyncio task under its thread, each from its top row', async () => {
      const store = ingest(await record(py, path.join(FIXTURES, 'tasks.py')));
      const tracks = store.tracks();
      assert.deepEqual(
        tracks.map((t) => [t.name, t.task ?? null, t.calls, t.maxDepth, t.depthBase ?? null]),
        [
          ['MainThread', null, 1, 0, null],
          ['Task-1', 'Task-1', 2, 0, 1],
          ['fetch-1', 'fetch-1', 2, 0, 1],
          ['fetch-2', 'fetch-2', 2, 0, 1],
        ],
      );
      assert.ok(tracks.every((t) => t.thread === tracks[0].thread));
      assert.deepEqual(
        tracks.map((t) => t.lane),
        [undefined, -1, -2, -3],
      );
      const all = { thread: tracks[0].thread, startNs: 0, endNs: 1e12, minDurationNs: 0 };
      assert.deepEqual(boxes(store, all), ['<module> d0']);
      assert.deepEqual(boxes(store, { ...all, lane: -1 }), ['main d0', 'main d0 resumed']);
      assert.deepEqual(boxes(store, { ...all, lane: -2 }), ['fetch d0', 'fetch d0 resumed']);
      assert.deepEqual(boxes(store, { ...all, lane: -3 }), ['fetch d0', 'fetch d0 resumed']);
      // The segments of the two fetches interleave in time, each in its own lane.
      const f1 = store.window({ ...all, lane: -2 }).boxes;
      const f2 = store.window({ ...all, lane: -3 }).boxes;
      assert.ok(f1[0].endNs! <= f2[0].startNs && f2[0].endNs! <= f1[1].startNs);
      // A call in a lane says so; its parent (the <module>) does not.
      const call = store.call(f1[0].id)!;
      assert.deepEqual([call.lane, call.task, call.depth], [-2, 'fetch-1', 1]);
      const parent = store.call(call.parent!)!;
      assert.deepEqual(
        [parent.lane, parent.task, parent.qualname],
        [undefined, undefined, '<module>'],
      );
      // A lane key of another thread answers nothing.
      assert.deepEqual(store.window({ ...all, thread: 999, lane: -2 }).boxes, []);
      // Saved and opened, the lanes are the same.
      const file = path.join(tmp, `tasks-${path.basename(py)}-${Date.now()}.tlt`);
      store.save(file);
      const opened = new TraceStore(SQL);
      opened.open(file);
      assert.deepEqual(opened.tracks(), tracks);
      assert.deepEqual(boxes(opened, { ...all, lane: -3 }), ['fetch d0', 'fetch d0 resumed']);
      store.close();
      opened.close();
    });

    test('features.py: GC spans and audit marks on the thread lane, with details', async () => {
      const store = ingest(
        await record(py, path.join(FIXTURES, 'features.py'), ['--probes', 'gc,audit']),
      );
      const [main] = store.tracks();
      const w = store.window({
        thread: main.thread,
        startNs: 0,
        endNs: 1e12,
        minDurationNs: 0,
        marks: true,
      });
      const marks = w.marks!;
      const gcs = marks.filter((m) => m.kind === 'gc');
      const full = gcs.find((m) => m.generation === 2 && m.line === 40)!;
      assert.ok(full, 'the gc.collect() of line 40 is a generation 2 collection');
      assert.equal(typeof full.collected, 'number');
      assert.ok(full.endNs! >= full.startNs);
      assert.equal(full.file, path.join(FIXTURES, 'features.py'));
      assert.equal(full.count, 1);
      const open = marks.find(
        (m) => m.kind === 'audit' && m.name === 'open' && m.detail.includes('tracelens-probe-'),
      )!;
      assert.match(open.detail, /^open \('.*tracelens-probe-\d+\.txt', 'w', \d+\)$/);
      assert.equal(open.line, 23);
      assert.equal(store.call(open.call!)!.qualname, 'touch');
      assert.ok(marks.some((m) => m.kind === 'audit' && m.name === 'os.remove'));
      assert.deepEqual(w.drops, []);
      // Zoomed out to 1 s a pixel, marks of a kind within a pixel merge and count.
      const merged = store.window({
        thread: main.thread,
        startNs: 0,
        endNs: 1e12,
        minDurationNs: 1e9,
        marks: true,
      }).marks!;
      const sum = (ms: typeof marks, kind: string) =>
        ms.filter((m) => m.kind === kind).reduce((n, m) => n + m.count, 0);
      assert.equal(sum(merged, 'audit'), marks.filter((m) => m.kind === 'audit').length);
      assert.equal(sum(merged, 'gc'), gcs.length);
      assert.equal(merged.filter((m) => m.kind === 'audit').length, 1);
      // Without `marks` a window carries none.
      assert.equal(
        store.window({ thread: main.thread, startNs: 0, endNs: 1e12, minDurationNs: 0 }).marks,
        undefined,
      );
      store.close();
    });
  });
}

// A hand-made stream: thread 1 runs <module>, under it the event loop runs two tasks' coroutines
// (A at depth 1 with a helper below it, B at depth 1) and a plain call; thread 2 runs no task.
const hello = helloOf('/app/a.py', { pid: 77, start_ns: 1_700_000_000_000_000_000 });
function batch(seq: number, events: number[][], more: Partial<Batch> = {}): Batch {
  return {
    t: 'batch',
    seq,
    strings:
      seq === 1
        ? [
            [1, 'task-A'],
            [2, 'task-B'],
            [3, 'gen=0'],
            [4, 'gen=0 collected=5'],
            [5, 'gc.start'],
            [6, 'gc.stop'],
          ]
        : [],
    files: seq === 1 ? [[1, '/app/a.py']] : [],
    codes:
      seq === 1
        ? [
            [1, 1, '__main__', '<module>', 1, [], 0],
            [2, 1, '__main__', 'work', 3, [], 2],
            [3, 1, '__main__', 'helper', 8, [], 0],
            [4, 1, '__main__', 'plain', 12, [], 0],
          ]
        : [],
    threads:
      seq === 1
        ? [
            [1, 11, 'MainThread'],
            [2, 12, 'other'],
          ]
        : [],
    events,
    dropped: 0,
    ...more,
  };
}
function handMade(store: TraceStore, cap = false): void {
  const key = keyOf(1);
  store.hello(key, hello);
  store.batch(
    key,
    batch(1, [
      [1, 1, 1, 0],
      [9, 1, 2, 10, 1],
      [1, 1, 2, 10],
      [1, 1, 3, 20],
      [8, 1, 3, 25, 9, 5, 3],
      [8, 1, 3, 28, 9, 6, 4],
      [2, 1, 3, 30, 9, 0],
      [6, 1, 2, 40, 4, 0],
      [9, 1, 2, 50, 2],
      [1, 1, 2, 50],
      [6, 1, 2, 60, 4, 0],
      [1, 1, 4, 70],
      [2, 1, 4, 80, 13, 0],
      [1, 2, 4, 75],
      [2, 2, 4, 85, 13, 0],
    ]),
  );
  store.batch(
    key,
    batch(
      2,
      [
        [9, 1, 2, 200, 1],
        [7, 1, 2, 200],
        [2, 1, 2, 210, 5, 0],
        ...(cap ? [] : [[2, 1, 1, 300, 20, 0]]),
      ],
      { dropped: 40, dropped_ns: [100, 190] },
    ),
  );
  store.batch(key, batch(3, [], { dropped: 2 }));
}

describe('task lanes on a hand-made stream', () => {
  test('calls under a task go to its lane; plain threads keep one lane', () => {
    const store = new TraceStore(SQL);
    handMade(store);
    assert.deepEqual(
      store.tracks().map((t) => [t.thread, t.name, t.lane ?? null, t.calls, t.maxDepth, t.startNs]),
      [
        [1, 'MainThread', null, 2, 1, 0],
        [1, 'task-A', -1, 3, 1, 10],
        [1, 'task-B', -2, 1, 0, 50],
        [2, 'other', null, 1, 0, 75],
      ],
    );
    const all = { thread: 1, startNs: 0, endNs: 1000, minDurationNs: 0 };
    assert.deepEqual(boxes(store, all), ['<module> d0', 'plain d1']);
    assert.deepEqual(boxes(store, { ...all, lane: -1 }), [
      'work d0',
      'helper d1',
      'work d0 resumed',
    ]);
    // Buckets too count depth from the lane's top row.
    assert.deepEqual(
      store.window({ ...all, lane: -1, minDurationNs: 500 }).buckets.map((b) => [b.depth, b.count]),
      [
        [0, 2],
        [1, 1],
      ],
    );
    // Filters and per-function figures still see every call once.
    assert.equal(store.query('function == work', 0, 10).total, 3);
    assert.deepEqual(
      store.functionStats().map((f) => [f.qualname, f.calls]),
      [
        ['<module>', 1],
        ['work', 3],
        ['plain', 2],
        ['helper', 1],
      ],
    );
    store.close();
  });

  test('marks: a GC span with generation and count; dropped regions with their records', () => {
    const store = new TraceStore(SQL);
    handMade(store);
    const w = store.window({ thread: 1, startNs: 0, endNs: 1000, minDurationNs: 0, marks: true });
    assert.deepEqual(w.marks, [
      {
        id: 1,
        kind: 'gc',
        name: 'gc',
        startNs: 25,
        endNs: 28,
        detail: 'gen=0 collected=5',
        file: '/app/a.py',
        line: 9,
        call: 3,
        generation: 0,
        collected: 5,
        count: 1,
      },
    ]);
    // The exact range the tracer reported, and a report without one at its batch's last event.
    assert.deepEqual(w.drops, [
      { process: 1, startNs: 100, endNs: 190, records: 40 },
      { process: 1, startNs: 300, endNs: 300, records: 2 },
    ]);
    // Task lanes get the dropped regions but not the thread's probe marks.
    const lane = store.window({
      thread: 1,
      lane: -1,
      startNs: 0,
      endNs: 150,
      minDurationNs: 0,
      marks: true,
    });
    assert.deepEqual([lane.marks, lane.drops?.length], [[], 1]);
    // A GC running across the window's start is found.
    assert.equal(
      store.window({ thread: 1, startNs: 26, endNs: 27, minDurationNs: 0, marks: true }).marks
        ?.length,
      1,
    );
    // Saved and opened: the marks and the dropped regions come back.
    const file = path.join(tmp, 'hand.tlt');
    store.save(file);
    const opened = new TraceStore(SQL);
    opened.open(file);
    assert.deepEqual(
      opened.window({ thread: 1, startNs: 0, endNs: 1000, minDurationNs: 0, marks: true }),
      store.window({ thread: 1, startNs: 0, endNs: 1000, minDurationNs: 0, marks: true }),
    );
    store.close();
    opened.close();
  });

  test("the cap drops a task lane's oldest calls by id, leaving the other lanes whole", () => {
    // <module> stays open; 2 of 7 calls over the cap of 5 (down to 95%: 5 - 0 = 5 kept).
    const store = new TraceStore(SQL, { maxCalls: 5 });
    handMade(store, true);
    const s = store.summary();
    assert.equal(s.calls, 5);
    assert.equal(s.evicted, 2);
    // The oldest droppable call started first: work in task-A (with its helper).
    assert.deepEqual(
      store.tracks().map((t) => [t.name, t.calls]),
      [
        ['MainThread', 2],
        ['task-A', 1],
        ['task-B', 1],
        ['other', 1],
      ],
    );
    const db = (store as unknown as { db: initSqlJs.Database }).db;
    assert.deepEqual(db.exec('SELECT id FROM calls ORDER BY id')[0].values.flat(), [1, 4, 5, 6, 7]);
    // The GC happened in the dropped helper: its mark goes with it.
    assert.deepEqual(
      store.window({ thread: 1, startNs: 0, endNs: 1000, minDurationNs: 0, marks: true }).marks,
      [],
    );
    store.close();
  });
});
