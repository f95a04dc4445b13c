// Filters on values (return, exception type and message, one argument, any argument) run on the
// store's in-memory columns (trackFilter.ts, trackIndex.ts). This ingests a generated two-thread
// stream in batches into a store with a cap (real sql.js, in-process), so calls are dropped while
// an outer call keeps running, and checks after every batch, and after save and open, that the
// in-memory answers equal the SQL ones for value filters, and for the calls through a line.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import './fixtures/sqlText';
import initSqlJs from 'sql.js';
import type { Batch, Event, Hello } from '../../adapter/protocol/wire';
import type { QueryResult } from '../../extension/store/api';
import type { TraceQueries } from '../../extension/store/queries';
import { TraceStore } from '../../extension/store/traceStore';
import { keyOf } from './fixtures/storeStreams';

const FILE = '/vals/prog.py';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-store-values-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const hello: Hello = {
  t: 'hello',
  version: 1,
  token: '',
  pid: 9,
  ppid: 1,
  python: '3.12.1',
  backend: 'monitoring',
  argv: [FILE],
  cwd: '/vals',
  start_ns: 1_000,
};

// Strings 1..8 are 'v0'..'v7', 9 'ValueError', 10 'bad 3', 11 'None'.
// Codes: 1 <module> (line 1, runs to the end), 2 f(a, b) (line 3), 3 g(x) (line 8), on thread 1;
// 4 w(a) (line 12) on thread 2. Call k of f: a = v(k%8), b = v((k*3)%8), returns v(k%5), except
// every 7th, which raises ValueError('bad 3'); g under every f with x = v(k%3), returning None.
function batches(): Batch[] {
  const out: Batch[] = [];
  let t = 10;
  for (let b = 0; b < 6; b++) {
    const ev: Event[] = b === 0 ? [[1, 1, 1, 0]] : [];
    for (let j = 0; j < 8; j++) {
      const k = b * 8 + j;
      ev.push([1, 1, 2, (t += 10), 1 + (k % 8), 1 + ((k * 3) % 8)]);
      ev.push([1, 1, 3, (t += 10), 1 + (k % 3)]);
      ev.push([2, 1, 3, (t += 10), 9, 11]);
      if (k % 7 === 6) ev.push([4, 1, 2, (t += 10), 5, 9, 10]);
      else ev.push([2, 1, 2, (t += 10), 6, 1 + (k % 5)]);
      if (k % 2 === 0) {
        ev.push([1, 2, 4, (t += 5), 1 + (k % 4)]);
        ev.push([2, 2, 4, (t += 5), 13, 1 + (k % 6)]);
      }
    }
    out.push({
      t: 'batch',
      seq: b + 1,
      strings:
        b === 0
          ? [
              ...Array.from({ length: 8 }, (_, i): [number, string] => [i + 1, `v${i}`]),
              [9, 'ValueError'],
              [10, 'bad 3'],
              [11, 'None'],
            ]
          : [],
      files: b === 0 ? [[1, FILE]] : [],
      codes:
        b === 0
          ? [
              [1, 1, '__main__', '<module>', 1, [], 0],
              [2, 1, '__main__', 'f', 3, ['a', 'b'], 0],
              [3, 1, '__main__', 'g', 8, ['x'], 0],
              [4, 1, '__main__', 'w', 12, ['a'], 0],
            ]
          : [],
      threads:
        b === 0
          ? [
              [1, 101, 'MainThread'],
              [2, 102, 'worker'],
            ]
          : [],
      events: ev,
      dropped: 0,
    });
  }
  return out;
}

const FILTERS = [
  'arg.a == v3',
  'arg.a != v3',
  'arg.b in (v1, v6)',
  'arg.x ~ "[12]$"',
  'arg.a contains "5" or arg.x == v0',
  'return == v2',
  'return != v2',
  'return startswith "v" and not return endswith "4"',
  'exception.type == ValueError',
  'exception.message contains "bad"',
  'exception != ValueError',
  'arg == v7',
  'arg != v0',
  'arg !~ "[0-3]"',
  'return',
  'not arg',
  'function == f and arg.b == v0',
];

const ids = (r: QueryResult): unknown => [r.total, r.calls.map((c) => c.id)];

function sameAsSql(store: TraceStore, when: string): number {
  const queries = (store as unknown as { queries: TraceQueries }).queries;
  let matched = 0;
  for (const f of FILTERS) {
    const mem = store.query(f, 0, 1000);
    assert.deepEqual(ids(mem), ids(queries.query(f, 0, 1000)), `${when}: ${f}`);
    assert.deepEqual(ids(store.query(f, 3, 4)), ids(queries.query(f, 3, 4)), `${when}: ${f} page`);
    matched += mem.total;
  }
  const db = (store as unknown as { db: import('sql.js').Database }).db;
  for (const line of [1, 3, 8, 12]) {
    const sql = (
      db.exec(
        `SELECT c.id FROM calls c JOIN codes co ON co.id = c.code WHERE co.line = ?
         ORDER BY c.start_ns, c.id`,
        [line],
      )[0]?.values ?? []
    ).map((r) => r[0] as number);
    for (const offset of [0, 1, 5, sql.length - 1]) {
      assert.deepEqual(
        store.callsOf(FILE, line, offset, 3).map((c) => c.id),
        sql.slice(offset, offset + 3),
        `${when}: callsOf line ${line} offset ${offset}`,
      );
    }
  }
  return matched;
}

test('value filters on the tracks equal SQL through the cap, and after save and open', async () => {
  const SQL = await initSqlJs();
  const store = new TraceStore(SQL, { maxCalls: 40 });
  store.hello(keyOf(1), hello);
  let matched = 0;
  for (const [n, b] of batches().entries()) {
    store.batch(keyOf(1), b);
    matched += sameAsSql(store, `after batch ${n + 1}`);
  }
  assert.ok((store.summary().evicted ?? 0) > 0, 'the cap dropped calls');
  assert.ok(matched > 100, `filters match calls (${matched})`);
  // Exact: the calls of f kept with a == v3: k = 35 (b = v1, returns v0) and k = 43 (v1, v3).
  const last = store.query('arg.a == v3 and function == f', 0, 100);
  assert.deepEqual(
    last.calls.map((c) => [c.args.map((a) => a.value).join(), c.returnValue]),
    [
      ['v3,v1', 'v0'],
      ['v3,v1', 'v3'],
    ],
  );
  assert.deepEqual(
    store.query('exception.type == ValueError', 0, 100).calls.map((c) => c.args[0].value),
    ['v2', 'v1'], // k = 34 and 41 (every 7th call of f raises); k = 27 and before were dropped
  );
  const file = path.join(tmp, 'values.sqlite');
  store.save(file);
  const opened = new TraceStore(SQL, { maxCalls: 0 });
  opened.open(file);
  sameAsSql(opened, 'opened');
  assert.deepEqual(
    ids(opened.query('arg.a == v3 and function == f', 0, 100)),
    ids(store.query('arg.a == v3 and function == f', 0, 100)),
  );
  store.close();
  opened.close();
});
