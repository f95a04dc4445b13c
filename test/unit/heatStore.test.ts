// Line heat from the real store (sql.js in its worker) to what the editor draws: a stream with a
// call and `lines` messages (exact, then sampled, in deltas) goes through StoreClient; then
// loadFileTrace and buildFileView must give each line its figures and level, exact before sampled.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildFileView } from '../../extension/editor/decorationModel';
import { loadFileTrace } from '../../extension/editor/fileTraceLoader';
import { heatHoverText } from '../../extension/editor/heatModel';
import { analyzeSource } from '../../extension/editor/sourceLines';
import type { StoreClient } from '../../extension/store/storeClient';
import { buildWorker, keyOf, startStore } from './fixtures/storeStreams';

const FILE = '/demo/hot_loop.py';
const SOURCE = [
  '# hot loop',
  '',
  '',
  '',
  'def setup(n):',
  '    return list(range(n))',
  '',
  '',
  'def hot(values):',
  '    total = 0',
  '    for v in values:',
  '        total += v * v',
  '    return total',
];
let store: StoreClient;

before(() => {
  buildWorker();
  store = startStore({ onError: (m) => assert.fail(m) });
});
after(() => store.dispose());

async function load() {
  return loadFileTrace(store, FILE, {
    functionStats: await store.functionStats(),
    selectedId: null,
    heat: true,
  });
}

test('exact line figures: summed over messages, the loop body at the top level', async () => {
  await store.clear();
  const key = keyOf(1);
  store.hello(key, {
    t: 'hello',
    version: 1,
    token: 't',
    pid: 10,
    ppid: 1,
    python: '3.12.1',
    backend: 'monitoring',
    argv: [FILE],
    cwd: '/demo',
    start_ns: 1_700_000_000_000_000_000,
  });
  store.batch(key, {
    t: 'batch',
    seq: 1,
    strings: [[1, '[0, 1, 2]']],
    files: [[1, FILE]],
    codes: [[1, 1, '__main__', 'hot', 9, ['values'], 0]],
    threads: [[1, 100, 'MainThread']],
    events: [
      [1, 1, 1, 1000, 1],
      [2, 1, 1, 9_000_000, 13, 1],
    ],
    dropped: 0,
  });
  store.lines(key, {
    t: 'lines',
    sampled: false,
    stats: [
      [1, 10, 1, 1_000, 1_000],
      [1, 11, 50_000, 2_000_000, 2_000_000],
      [1, 12, 40_000, 3_000_000, 3_000_000],
    ],
  });
  store.lines(key, {
    t: 'lines',
    sampled: false,
    stats: [
      [1, 11, 50_001, 1_000_000, 1_000_000],
      [1, 12, 60_000, 4_000_000, 4_500_000],
      [1, 13, 1, 500, 500],
    ],
  });
  store.lines(key, { t: 'lines', sampled: true, stats: [[1, 5, 3, 3_000_000, 3_000_000]] });
  store.end(key, { t: 'end', exit_code: 0, reason: 'exit' });
  const trace = await load();
  assert.equal(trace.heat.sampled, false);
  assert.deepEqual(
    trace.heat.lines.map((l) => [l.line, l.stats.hits, l.stats.ownNs, l.level]),
    [
      [10, 1, 1_000, 1],
      [11, 100_001, 3_000_000, 4],
      [12, 100_000, 7_000_000, 5],
      [13, 1, 500, 1],
    ],
  );
  const view = buildFileView(trace, {
    maxValueLength: 60,
    lineCount: SOURCE.length,
    source: analyzeSource(SOURCE),
  });
  assert.deepEqual(
    view.heat.map((h) => [h.line + 1, h.level]),
    [
      [10, 1],
      [11, 4],
      [12, 5],
      [13, 1],
    ],
  );
  assert.equal(
    heatHoverText(trace.heat, trace.heat.lines[2]),
    'Line heat (exact): level 5 of 5 · 100,000 hits · own 7 ms (70% of the file) · total 7.5 ms',
  );
  // The call's argument on the def line and its return value are drawn beside the heat.
  assert.deepEqual(
    view.decorations.map((d) => `${d.line + 1} ${d.text}`),
    ['9 ▸ values=[0, 1, 2]', '13 → [0, 1, 2]'],
  );
});

test('sampled figures alone are labelled sampled', async () => {
  await store.clear();
  const key = keyOf(1, 's2');
  store.hello(key, {
    t: 'hello',
    version: 1,
    token: 't',
    pid: 11,
    ppid: 1,
    python: '3.12.1',
    backend: 'monitoring',
    argv: [FILE],
    cwd: '/demo',
    start_ns: 1_700_000_000_000_000_000,
  });
  store.batch(key, {
    t: 'batch',
    seq: 1,
    strings: [],
    files: [[1, FILE]],
    codes: [],
    threads: [[1, 100, 'MainThread']],
    events: [],
    dropped: 0,
  });
  store.lines(key, {
    t: 'lines',
    sampled: true,
    stats: [
      [1, 12, 90, 9_000_000, 9_000_000],
      [1, 11, 10, 1_000_000, 1_000_000],
    ],
  });
  store.end(key, { t: 'end', exit_code: 0, reason: 'exit' });
  const trace = await load();
  assert.equal(trace.heat.sampled, true);
  assert.deepEqual(
    trace.heat.lines.map((l) => [l.line, l.level]),
    [
      [11, 2],
      [12, 5],
    ],
  );
  assert.equal(
    heatHoverText(trace.heat, trace.heat.lines[1]),
    'Line heat (sampled): level 5 of 5 · 90 samples · own ≈ 9 ms (90% of the file) · total ≈ 9 ms',
  );
});
