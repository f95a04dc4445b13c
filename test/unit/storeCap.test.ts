// The store's cap through StoreClient and the bundled worker (maxCalls 20): the oldest calls go
// first, across threads, each whole with its descendants; a running <module> stays while its
// oldest finished children go; exception, probe and per-line marks of dropped calls go with them;
// the summary says how many and until when; the saved file has no orphans.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Batch, Event } from '../../adapter/protocol/wire';
import type { StoreClient } from '../../extension/store/storeClient';
import { buildWorker, helloOf, keyOf, startStore } from './fixtures/storeStreams';

const FILE = '/cap/prog.py';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-store-cap-'));
const key = keyOf(1);
let client: StoreClient | undefined;

const hello = helloOf(FILE);

// Codes: 1 <module>, 2 f (returns at 4), 3 g (raises at 8 in pair 2 and 10, else returns at 9),
// 4 h (returns at 12; only under f1), 5 w (worker thread), 6 top.
// Pair i (1..15): f_i [100i, 100i+50] with one child (h in pair 1, else g) [100i+10, 100i+30].
// Worker: w_j [100j+60, 100j+70], j = 1..4. Probes in f3 and f12.
function firstBatch(): Batch {
  const ev: Event[] = [[1, 1, 1, 0]];
  for (let i = 1; i <= 15; i++) {
    const t = 100 * i;
    ev.push([1, 1, 2, t]);
    const child = i === 1 ? 4 : 3;
    ev.push([1, 1, child, t + 10]);
    if (i === 2 || i === 10) {
      ev.push([3, 1, 3, t + 20, 8, 2, 3]);
      ev.push([4, 1, 3, t + 30, 8, 2, 3]);
      ev.push([5, 1, 2, t + 35, 3, 2, 3]);
    } else {
      ev.push([2, 1, child, t + 30, child === 4 ? 12 : 9, 1]);
    }
    if (i === 3 || i === 12) ev.push([8, 1, 2, t + 40, 3, 4, 1]);
    ev.push([2, 1, 2, t + 50, 4, 1]);
    if (i <= 4) {
      ev.push([1, 2, 5, t + 60]);
      ev.push([2, 2, 5, t + 70, 20, 1]);
    }
  }
  return {
    t: 'batch',
    seq: 1,
    strings: [
      [1, 'None'],
      [2, 'KeyError'],
      [3, "'k'"],
      [4, 'gc.start'],
    ],
    files: [[1, FILE]],
    codes: [
      [1, 1, '__main__', '<module>', 1, [], 0],
      [2, 1, '__main__', 'f', 2, [], 0],
      [3, 1, '__main__', 'g', 7, [], 0],
      [4, 1, '__main__', 'h', 11, [], 0],
      [5, 1, '__main__', 'w', 19, [], 0],
      [6, 1, '__main__', 'top', 25, [], 0],
    ],
    threads: [
      [1, 1, 'MainThread'],
      [2, 2, 'worker'],
    ],
    events: ev,
    dropped: 0,
  };
}

before(() => buildWorker());
after(async () => {
  await client?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

test('past the cap the oldest calls go whole, across threads, and the rows stay consistent', async () => {
  const s = startStore({ maxCalls: 20, onError: (m) => assert.fail(m) });
  client = s;
  s.hello(key, hello);
  s.batch(key, firstBatch());
  // 35 calls; down to 19: f1 (with h), w1, f2, w2, f3, w3, f4, w4, f5, f6 went (16 calls).
  const summary = await s.summary();
  assert.deepEqual(
    { ...summary, generation: 0 },
    {
      processes: 1,
      calls: 19,
      dropped: 0,
      running: true,
      generation: 0,
      evicted: 16,
      evictedBeforeNs: 650,
    },
  );
  const top = await s.children(null);
  assert.deepEqual(
    top.map((r) => [r.qualname, r.endNs, r.childCount]),
    [['<module>', null, 9]],
  );
  const kids = await s.children(top[0].id);
  assert.deepEqual(
    kids.map((r) => `${r.qualname}@${r.startNs}`),
    [7, 8, 9, 10, 11, 12, 13, 14, 15].map((i) => `f@${i * 100}`),
  );
  assert.deepEqual(
    (await s.children(kids[0].id)).map((r) => r.qualname),
    ['g'],
  );
  const tracks = await s.tracks();
  assert.deepEqual(
    tracks.map((t) => [t.name, t.calls]),
    [
      ['MainThread', 19],
      ['worker', 0],
    ],
  );
  const w = await s.window({ thread: 1, startNs: 0, endNs: 2000, minDurationNs: 0 });
  assert.equal(w.boxes.length, 19);
  assert.deepEqual(
    w.boxes.slice(0, 2).map((b) => [b.qualname, b.startNs]),
    [
      ['<module>', 0],
      ['f', 700],
    ],
  );
  assert.deepEqual(
    (await s.functionStats()).map((f) => [f.qualname, f.calls]),
    // <module> still runs: no total time yet.
    [
      ['f', 9],
      ['g', 9],
      ['<module>', 1],
    ],
  );
  // h's return mark went with f1; g's raise mark is the one of pair 10, which stays.
  const a = await s.fileAnnotations(FILE);
  assert.deepEqual(
    a.returns.map((r) => r.line),
    [4, 9],
  );
  assert.deepEqual(
    a.raises.map((r) => [r.line, r.callId]),
    [[8, kids[3].id + 1]],
  );
  assert.equal((await s.query('exception')).total, 1);

  const file = path.join(tmp, 'capped.db');
  await s.save(file);
  const check = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
one = lambda q: db.execute(q).fetchone()[0]
print(json.dumps({
  'calls': one('SELECT count(*) FROM calls'),
  'orphans': one('SELECT count(*) FROM calls WHERE parent IS NOT NULL AND parent NOT IN (SELECT id FROM calls)'),
  'exceptions': one('SELECT count(*) FROM exceptions'),
  'orphan_exceptions': one('SELECT count(*) FROM exceptions WHERE call NOT IN (SELECT id FROM calls)'),
  'probes': db.execute('SELECT ts_ns FROM probes').fetchall(),
}))`;
  assert.deepEqual(JSON.parse(execFileSync('python3', ['-c', check, file], { encoding: 'utf8' })), {
    calls: 19,
    orphans: 0,
    exceptions: 3,
    orphan_exceptions: 0,
    probes: [[1240]],
  });

  // <module> ends, two more top-level calls: the finished <module> is now the oldest unit.
  s.batch(key, {
    t: 'batch',
    seq: 2,
    strings: [],
    files: [],
    codes: [],
    threads: [],
    events: [
      [2, 1, 1, 2000, 30, 1],
      [1, 1, 6, 2100],
      [2, 1, 6, 2110, 26, 1],
      [1, 1, 6, 2200],
      [2, 1, 6, 2210, 26, 1],
    ],
    dropped: 0,
  });
  const after = await s.summary();
  assert.deepEqual([after.calls, after.evicted, after.evictedBeforeNs], [2, 35, 2000]);
  assert.deepEqual(
    (await s.children(null)).map((r) => `${r.qualname}@${r.startNs}`),
    ['top@2100', 'top@2200'],
  );
  assert.deepEqual(
    (await s.fileAnnotations(FILE)).returns.map((r) => r.line),
    [26],
  );
  assert.equal((await s.query('')).total, 2);
});
