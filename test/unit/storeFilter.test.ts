// The store answers filter sentences two ways: on the in-memory tracks (trackFilter.ts: code,
// thread, process, depth, duration, start, `exception`, and values: return, exception type and
// message, arg.NAME, any arg) and in SQL (compileToSql). This runs the store in-process (real
// sql.js) on the hand-made stream plus a second process with a running call, and checks that both
// ways give exactly the same calls for every kind of sentence, including the two-valued logic of
// calls without a value, and that the calls through a line page like SQL's (start, id) order.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import './fixtures/sqlText';
import initSqlJs from 'sql.js';
import type { QueryResult } from '../../extension/store/api';
import { TraceQueries } from '../../extension/store/queries';
import { TraceStore } from '../../extension/store/traceStore';
import { compileToTrackFilter } from '../../extension/store/trackFilter';
import { parseQuery } from '../../extension/query/parser';
import { FILE, first, hello, second } from './fixtures/queryStream';
import { keyOf } from './fixtures/storeStreams';

let store: TraceStore;

before(async () => {
  store = new TraceStore(await initSqlJs());
  store.hello(keyOf(1), hello);
  store.batch(keyOf(1), first);
  store.batch(keyOf(1), second);
  store.end(keyOf(1), { t: 'end', exit_code: 0, reason: 'exit' });
  // A second process whose call never ends (no duration).
  store.hello(keyOf(2), { ...hello, pid: 5151, start_ns: hello.start_ns + 5000 });
  store.batch(keyOf(2), {
    ...first,
    events: [
      [1, 1, 1, 0],
      [1, 1, 2, 10, 1],
      [2, 1, 2, 20, 4, 4],
    ],
  });
});

const internals = (): { db: never; queries: TraceQueries } =>
  store as unknown as { db: never; queries: TraceQueries };

const brief = (r: QueryResult): unknown => [r.total, r.calls.map((c) => c.id)];

const MEMORY = [
  '',
  'function == fact',
  'function in (fact, leaf) and depth >= 2',
  'module startswith "app." or function ~ "^l"',
  'file endswith "main.py" and line == 3',
  'kind == coroutine',
  'arg.n',
  'not arg.n',
  'thread == worker',
  'thread != MainThread',
  'process == 5151',
  'depth == 0',
  'depth in (1, 3)',
  'duration > 100ns',
  'duration >= 100ns and duration <= 300ns',
  'duration != 10ns',
  'not duration < 1us',
  'duration',
  'not duration',
  'start < 500ns',
  'exception',
  'not exception and depth > 0',
  '(function == fact or exception) and not thread == worker',
];

const VALUES = [
  'arg.n == 3',
  'arg.n != 3',
  'arg.n in (1, 2)',
  'arg.n ~ "^[12]$"',
  'arg.n !~ "1"',
  'arg.x contains "6"',
  'arg.x startswith "6" or arg.n endswith "3"',
  'arg.nope == 3',
  'arg.nope != 3',
  'not arg.n == 3',
  'return == "6"',
  'return != "6"',
  'return in ("1", "2", "None")',
  'return contains "leaf"',
  'return startswith "\'"',
  'return endswith "y\'"',
  'return ~ "^[0-9]+$"',
  'return !~ "^[0-9]+$"',
  'return',
  'not return',
  'exception == ValueError',
  'exception.type == ValueError',
  'exception.type != ValueError',
  'exception.message contains "ba"',
  'exception.message',
  'exception.type',
  'arg contains "3"',
  'arg == "6"',
  'arg != "6"',
  'arg !~ "[0-9]"',
  'arg in ("1", "3")',
  'arg',
  'not arg',
  'function == fact and return != "1"',
  '(return == "6" or exception.type == ValueError) and depth < 2',
  'thread == worker or arg.n == 2',
  'arg.n == 3 and not (arg.n != 3)',
];

test('sentences on code, threads, depth and times run on the tracks, with the same answers as SQL', () => {
  const { db, queries } = internals();
  for (const f of MEMORY) {
    assert.ok(compileToTrackFilter(db, parseQuery(f)), `in memory: ${f}`);
    assert.deepEqual(brief(store.query(f, 0, 100)), brief(queries.query(f, 0, 100)), f);
    assert.deepEqual(brief(store.query(f, 1, 2)), brief(queries.query(f, 1, 2)), `${f} (page)`);
  }
});

test('sentences on values run on the tracks too, with the same answers as SQL', () => {
  const { db, queries } = internals();
  for (const f of VALUES) {
    assert.ok(compileToTrackFilter(db, parseQuery(f)), `in memory: ${f}`);
    assert.deepEqual(brief(store.query(f, 0, 100)), brief(queries.query(f, 0, 100)), f);
    assert.deepEqual(brief(store.query(f, 1, 2)), brief(queries.query(f, 1, 2)), `${f} (page)`);
  }
});

test('exact answers for value sentences', () => {
  assert.deepEqual(brief(store.query('arg.n == 3', 0, 100)), [2, [2, 12]]);
  assert.deepEqual(brief(store.query('return == "6"', 0, 100)), [2, [2, 12]]);
  assert.deepEqual(brief(store.query('exception.type == ValueError', 0, 100)), [1, [8]]);
  assert.deepEqual(brief(store.query('arg contains "6"', 0, 100)), [1, [8]]);
});

test('exact answers for a few sentences', () => {
  // Calls of 10 ns: the worker's leaf (3), len (7), the second process's fact (12); the running
  // <module> of the second process (11) has no duration, so `!=` holds for it.
  assert.deepEqual(brief(store.query('duration != 10ns', 0, 100)), [
    9,
    [1, 2, 4, 5, 6, 8, 9, 10, 11],
  ]);
  assert.deepEqual(brief(store.query('not duration', 0, 100)), [1, [11]]);
  assert.deepEqual(brief(store.query('process == 5151', 0, 100)), [2, [11, 12]]);
  assert.deepEqual(brief(store.query('depth in (1, 3)', 1, 3)), [7, [5, 6, 8]]);
});

test('callsOf pages from the tracks equal the SQL order (start, id) at every offset', () => {
  const db = (store as unknown as { db: import('sql.js').Database }).db;
  const lines = db
    .exec('SELECT DISTINCT line FROM codes ORDER BY line')[0]
    .values.map((r) => r[0] as number);
  assert.ok(lines.length >= 3);
  let checked = 0;
  for (const line of lines) {
    const sql = (offset: number, limit: number): number[] =>
      (
        db.exec(
          `SELECT c.id FROM calls c JOIN codes co ON co.id = c.code JOIN files f ON f.id = co.file
           WHERE f.path = ? AND co.line = ? ORDER BY c.start_ns, c.id LIMIT ? OFFSET ?`,
          [FILE, line, limit, offset],
        )[0]?.values ?? []
      ).map((r) => r[0] as number);
    const all = sql(0, 1000);
    for (let offset = 0; offset <= all.length; offset++) {
      for (const limit of [1, 2, 100]) {
        assert.deepEqual(
          store.callsOf(FILE, line, offset, limit).map((c) => c.id),
          sql(offset, limit),
          `line ${line} offset ${offset} limit ${limit}`,
        );
        checked++;
      }
    }
  }
  assert.ok(checked > 20);
  // Exact: fact (line 3) in the first process, then in the second (which starts later).
  assert.deepEqual(
    store.callsOf(FILE, 3, 0, 100).map((c) => c.id),
    [2, 4, 5, 12],
  );
  assert.deepEqual(
    store.callsOf(FILE, 3, 2, 100).map((c) => c.id),
    [5, 12],
  );
  assert.deepEqual(store.callsOf(FILE, 99, 0, 100), []);
  assert.deepEqual(store.callsOf(FILE, 3, 0, 0), []);
});

test('callsOf across threads: leaf (line 10) on the worker thread, then on the main thread', () => {
  assert.deepEqual(
    store.callsOf(FILE, 10, 0, 100).map((c) => [c.id, c.threadName]),
    [
      [3, 'worker'],
      [6, 'MainThread'],
    ],
  );
  assert.deepEqual(
    store.callsOf(FILE, 10, 1, 100).map((c) => c.id),
    [6],
  );
});
