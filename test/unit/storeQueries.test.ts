// Store query tests on a hand-made stream (fixtures/queryStream.ts) through StoreClient and the
// bundled worker (real sql.js): tracks, flame windows (boxes, buckets, filters, calls running
// across the window's start, live), per-function and per-line figures, calls of a function,
// filter queries and their errors, names, and what the new events (probe, task, C call) store.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FlameWindow } from '../../extension/store/api';
import type { StoreClient } from '../../extension/store/storeClient';
import { FILE, first, hello, lines, second } from './fixtures/queryStream';
import { buildWorker, keyOf, startStore } from './fixtures/storeStreams';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-store-q-'));
const clients: StoreClient[] = [];
const key = keyOf(1);

function store(): StoreClient {
  const s = startStore({ onError: (m) => assert.fail(m) });
  clients.push(s);
  return s;
}

function full(): StoreClient {
  const s = store();
  s.hello(key, hello);
  s.batch(key, first);
  s.batch(key, second);
  for (const l of lines) s.lines(key, l);
  s.end(key, { t: 'end', exit_code: 0, reason: 'exit' });
  return s;
}

/** Boxes as "id dDEPTH qualname [start,end] flags", buckets as "dDEPTH [start,end) count module". */
function draw(w: FlameWindow): { boxes: string[]; buckets: string[] } {
  return {
    boxes: w.boxes.map(
      (b) =>
        `${b.id} d${b.depth} ${b.qualname} [${b.startNs},${b.endNs}] f${b.flags}${b.exception ? ' !' : ''}${b.match === undefined ? '' : b.match ? ' match' : ' -'}`,
    ),
    buckets: w.buckets.map(
      (b) =>
        `d${b.depth} [${b.startNs},${b.endNs}) ${b.count} ${b.module}${b.matches === undefined ? '' : ` matches ${b.matches}`}`,
    ),
  };
}

before(() => buildWorker());
after(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('store queries on a hand-made stream', () => {
  test('tracks: one lane per thread, open while the process runs', async () => {
    const s = store();
    s.hello(key, hello);
    s.batch(key, first);
    assert.deepEqual(await s.tracks(), [
      {
        thread: 1,
        process: 1,
        pid: 4242,
        name: 'MainThread',
        startNs: 0,
        endNs: null,
        calls: 6,
        maxDepth: 3,
      },
      {
        thread: 2,
        process: 1,
        pid: 4242,
        name: 'worker',
        startNs: 150,
        endNs: null,
        calls: 1,
        maxDepth: 0,
      },
    ]);
    // While running, the window shows the open <module> without an end.
    assert.deepEqual(
      draw(await s.window({ thread: 1, startNs: 650, endNs: 800, minDurationNs: 0 })).boxes,
      ['1 d0 <module> [0,null] f16', '6 d1 leaf [700,750] f16', '7 d2 len [710,720] f24'],
    );
    s.batch(key, second);
    s.end(key, { t: 'end', exit_code: 0, reason: 'exit' });
    const tracks = await s.tracks();
    assert.deepEqual(
      tracks.map((t) => [t.name, t.startNs, t.endNs, t.calls, t.maxDepth]),
      [
        ['MainThread', 0, 2000, 8, 3],
        // The asyncio task's coroutine has its own lane under its thread (its resume came
        // without a task event, so it stays on the thread's lane).
        ['Task-1', 1000, 1100, 1, 0],
        ['worker', 150, 160, 1, 0],
      ],
    );
    assert.deepEqual(
      tracks.map((t) => [t.thread, t.lane, t.task, t.depthBase]),
      [
        [1, undefined, undefined, undefined],
        [1, -1, 'Task-1', 1],
        [2, undefined, undefined, undefined],
      ],
    );
  });

  test('window: every call as a box when the slot is 0', async () => {
    const s = full();
    assert.deepEqual(
      draw(await s.window({ thread: 1, startNs: 0, endNs: 2000, minDurationNs: 0 })),
      {
        boxes: [
          '1 d0 <module> [0,2000] f16',
          '2 d1 fact [100,600] f16',
          '4 d2 fact [200,500] f0',
          '5 d3 fact [300,400] f0',
          '6 d1 leaf [700,750] f16',
          '7 d2 len [710,720] f24',
          '8 d1 fail [800,900] f20 !',
          '10 d1 job [1500,1600] f17',
        ],
        buckets: [],
      },
    );
    // The task's call, in its lane from its top row.
    assert.deepEqual(
      draw(await s.window({ thread: 1, lane: -1, startNs: 0, endNs: 2000, minDurationNs: 0 })),
      { boxes: ['9 d0 job [1000,1100] f18'], buckets: [] },
    );
    assert.deepEqual(
      draw(await s.window({ thread: 2, startNs: 0, endNs: 2000, minDurationNs: 0 })).boxes,
      ['3 d0 leaf [150,160] f16'],
    );
  });

  test('window: calls running across the window start are found through their descendants', async () => {
    const s = full();
    // At 450: fact(1) has ended (400), fact(2) and fact(3) and <module> still run.
    assert.deepEqual(
      draw(await s.window({ thread: 1, startNs: 450, endNs: 1050, minDurationNs: 0 })).boxes,
      [
        '1 d0 <module> [0,2000] f16',
        '2 d1 fact [100,600] f16',
        '4 d2 fact [200,500] f0',
        '6 d1 leaf [700,750] f16',
        '7 d2 len [710,720] f24',
        '8 d1 fail [800,900] f20 !',
      ],
    );
    // A call ending exactly at the window start does not overlap it; one starting at its end neither.
    assert.deepEqual(
      draw(await s.window({ thread: 1, startNs: 600, endNs: 700, minDurationNs: 0 })).boxes,
      ['1 d0 <module> [0,2000] f16'],
    );
    assert.deepEqual(await s.window({ thread: 99, startNs: 0, endNs: 10, minDurationNs: 0 }), {
      boxes: [],
      buckets: [],
    });
  });

  test('window: short calls merge into per-depth buckets with their main module', async () => {
    const s = full();
    assert.deepEqual(
      draw(await s.window({ thread: 1, startNs: 0, endNs: 2000, minDurationNs: 400 })),
      {
        boxes: ['1 d0 <module> [0,2000] f16', '2 d1 fact [100,600] f16'],
        buckets: [
          'd1 [400,800) 1 __main__',
          'd1 [800,1200) 1 __main__',
          'd1 [1200,1600) 1 app.jobs',
          'd2 [0,400) 1 __main__',
          'd2 [400,800) 1 builtins',
          'd3 [0,400) 1 __main__',
        ],
      },
    );
  });

  test('window: past maxBoxes the longest (then shallowest) stay boxes, the rest are counted', async () => {
    const s = full();
    assert.deepEqual(
      draw(await s.window({ thread: 1, startNs: 0, endNs: 2000, minDurationNs: 50, maxBoxes: 3 })),
      {
        boxes: ['1 d0 <module> [0,2000] f16', '2 d1 fact [100,600] f16', '4 d2 fact [200,500] f0'],
        buckets: [
          'd1 [700,750) 1 __main__',
          'd1 [800,850) 1 __main__',
          'd1 [1500,1550) 1 app.jobs',
          'd2 [700,750) 1 builtins',
          'd3 [300,350) 1 __main__',
        ],
      },
    );
  });

  test('window: ties at the maxBoxes cut go to the shallowest, then the earliest', async () => {
    const s = full();
    // Calls of 100 ns compete for the last place: fail, job (depth 1), fact(1) (depth 3); the
    // other job is in its task's lane.
    const w = draw(
      await s.window({ thread: 1, startNs: 0, endNs: 2000, minDurationNs: 50, maxBoxes: 4 }),
    );
    assert.deepEqual(w.boxes, [
      '1 d0 <module> [0,2000] f16',
      '2 d1 fact [100,600] f16',
      '4 d2 fact [200,500] f0',
      '8 d1 fail [800,900] f20 !',
    ]);
    assert.equal(w.buckets.length, 4);
  });

  test('window: a filter marks matching boxes and counts matches per bucket', async () => {
    const s = full();
    assert.deepEqual(
      draw(
        await s.window({
          thread: 1,
          startNs: 0,
          endNs: 2000,
          minDurationNs: 400,
          filter: 'function == fact or exception',
        }),
      ),
      {
        boxes: ['1 d0 <module> [0,2000] f16 -', '2 d1 fact [100,600] f16 match'],
        buckets: [
          'd1 [400,800) 1 __main__ matches 0',
          'd1 [800,1200) 1 __main__ matches 1',
          'd1 [1200,1600) 1 app.jobs matches 0',
          'd2 [0,400) 1 __main__ matches 1',
          'd2 [400,800) 1 builtins matches 0',
          'd3 [0,400) 1 __main__ matches 1',
        ],
      },
    );
    await assert.rejects(
      s.window({ thread: 1, startNs: 0, endNs: 2000, minDurationNs: 0, filter: 'function ==' }),
      { message: "expected a value after '==' at column 12" },
    );
  });

  test('functionStats: recursion counted once in total, own time, exceptions, filters', async () => {
    const s = full();
    const stats = await s.functionStats();
    assert.deepEqual(
      stats.map((f) => [
        f.qualname,
        f.module,
        f.file,
        f.line,
        f.calls,
        f.totalNs,
        f.ownNs,
        f.exceptions,
      ]),
      [
        ['<module>', '__main__', FILE, 1, 1, 2000, 1150, 0],
        ['fact', '__main__', FILE, 3, 3, 500, 500, 0],
        ['job', 'app.jobs', FILE, 12, 2, 200, 200, 0],
        ['fail', '__main__', FILE, 6, 1, 100, 100, 1],
        ['leaf', '__main__', FILE, 10, 2, 60, 50, 0],
        ['len', 'builtins', '', 0, 1, 10, 10, 0],
      ],
    );
    assert.deepEqual(
      stats.map((f) => f.code),
      [1, 2, 6, 3, 4, 5],
    );
    // Only the inner recursive calls: no outermost among them, so no total; own time still adds.
    assert.deepEqual(
      (await s.functionStats('function == fact and depth > 1')).map((f) => [
        f.qualname,
        f.calls,
        f.totalNs,
        f.ownNs,
      ]),
      [['fact', 2, 0, 300]],
    );
    assert.deepEqual(
      (await s.functionStats('thread == worker')).map((f) => [f.qualname, f.calls, f.totalNs]),
      [['leaf', 1, 10]],
    );
    await assert.rejects(s.functionStats('fnction == x'), {
      message: "unknown field 'fnction' (did you mean 'function'?) at column 1",
    });
  });

  test('lineStats: deltas summed per line, exact and sampled apart', async () => {
    const s = full();
    assert.deepEqual(await s.lineStats(FILE), [
      { line: 3, hits: 6, ownNs: 110, totalNs: 320, sampled: false },
      { line: 3, hits: 7, ownNs: 700, totalNs: 700, sampled: true },
      { line: 4, hits: 2, ownNs: 50, totalNs: 50, sampled: false },
    ]);
    assert.deepEqual(await s.lineStats('/elsewhere.py'), []);
  });

  test('callsOf: the calls of the function defined at a line, in start order, paged', async () => {
    const s = full();
    const brief = (r: { id: number; args: { value: string }[]; returnValue: string | null }) =>
      `${r.id}(${r.args.map((a) => a.value).join()})->${r.returnValue}`;
    assert.deepEqual((await s.callsOf(FILE, 3)).map(brief), ['2(3)->6', '4(2)->2', '5(1)->1']);
    assert.deepEqual((await s.callsOf(FILE, 3, 1, 1)).map(brief), ['4(2)->2']);
    assert.deepEqual(
      (await s.callsOf(FILE, 10)).map((r) => [r.id, r.threadName]),
      [
        [3, 'worker'],
        [6, 'MainThread'],
      ],
    );
    assert.deepEqual(await s.callsOf(FILE, 99), []);
    assert.deepEqual(await s.callsOf('/elsewhere.py', 3), []);
  });

  test('query: total and a page of matching calls; parse errors say where and what', async () => {
    const s = full();
    const q = await s.query('function == fact and arg.n != "1"');
    assert.equal(q.total, 2);
    assert.deepEqual(
      q.calls.map((c) => c.id),
      [2, 4],
    );
    const page = await s.query('function == fact', 1, 1);
    assert.deepEqual([page.total, page.calls.map((c) => c.id)], [3, [4]]);
    const exc = await s.query('exception.type == ValueError');
    assert.deepEqual(
      [exc.total, exc.calls.map((c) => [c.qualname, c.exception])],
      [1, [['fail', { type: 'ValueError', message: 'bad', line: 7 }]]],
    );
    const c = (await s.query('function == len')).calls[0];
    assert.deepEqual(
      [c.file, c.line, c.module, c.flags, c.parent, c.depth],
      ['', 0, 'builtins', 24, 6, 2],
    );
    assert.equal((await s.query('')).total, 10);
    assert.deepEqual((await s.query('function == fact', 5)).calls, []);
    // A value that tries to break out of its string stays a value.
    assert.equal((await s.query('function == "x\') OR 1=1 --"')).total, 0);
    await assert.rejects(s.query('function == fact and'), {
      message: "expected a field after 'and', e.g. function, module, duration at column 21",
    });
  });

  test('names: what the trace holds, for completion', async () => {
    const s = full();
    assert.deepEqual(await s.names(), {
      functions: ['<module>', 'fact', 'fail', 'job', 'leaf', 'len'],
      modules: ['__main__', 'app.jobs', 'builtins'],
      exceptionTypes: ['ValueError'],
      threads: ['MainThread', 'worker'],
    });
  });

  test('probes, tasks and C calls are stored as rows', async () => {
    const s = full();
    const file = path.join(tmp, 'events.db');
    await s.save(file);
    const out = execFileSync(
      'python3',
      [
        '-c',
        `import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(json.dumps({
  'probes': db.execute('SELECT id, process, thread, call, ts_ns, name, (SELECT text FROM strings WHERE id = detail), file, line FROM probes').fetchall(),
  'tasks': db.execute('SELECT c.id, s.text FROM calls c LEFT JOIN strings s ON s.id = c.task WHERE c.code = 6 ORDER BY c.id').fetchall(),
  'nofile': db.execute('SELECT id, path FROM files ORDER BY id').fetchall(),
  'len': db.execute('SELECT parent, depth, flags, args FROM calls WHERE id = 7').fetchall(),
}))`,
        file,
      ],
      { encoding: 'utf8' },
    );
    assert.deepEqual(JSON.parse(out), {
      probes: [[1, 1, 1, 1, 760, 'gc.start', 'gen=0 collected=3', 1, 2]],
      tasks: [
        [9, 'Task-1'],
        [10, null],
      ],
      nofile: [
        [0, ''],
        [1, FILE],
      ],
      len: [[6, 2, 24, null]],
    });
  });

  test('live: generation moves with each batch and line figures; queries see new data', async () => {
    const s = store();
    s.hello(key, hello);
    const g0 = (await s.summary()).generation;
    s.batch(key, first);
    assert.equal((await s.summary()).generation, g0 + 1);
    assert.equal((await s.query('function == job')).total, 0);
    s.batch(key, second);
    assert.equal((await s.query('function == job')).total, 2);
    s.lines(key, lines[0]);
    assert.equal((await s.summary()).generation, g0 + 3);
    assert.equal((await s.lineStats(FILE)).length, 2);
  });
});
