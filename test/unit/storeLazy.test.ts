// LazyTraceStore (extension/lazyTraceStore.ts) and the new store queries: before the real store
// starts every query answers empty and starts nothing; open() starts it and loads a saved trace;
// exportChrome goes to the real store. Real bundled worker behind it.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { LazyTraceStore } from '../../extension/lazyTraceStore';
import type { StoreClient } from '../../extension/store/storeClient';
import { FILE, first, hello, lines, second } from './fixtures/queryStream';
import { buildWorker, keyOf, startStore } from './fixtures/storeStreams';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-store-lazy-'));
const created: StoreClient[] = [];

function lazyStore(): LazyTraceStore {
  return new LazyTraceStore(() => {
    const s = startStore({ onError: (m) => assert.fail(m) });
    created.push(s);
    return s;
  });
}

before(() => buildWorker());
after(async () => {
  await Promise.all(created.map((c) => c.dispose()));
  rmSync(tmp, { recursive: true, force: true });
});

test('new queries answer empty before the store starts; open() starts it', async () => {
  const lazy = lazyStore();
  assert.deepEqual(await lazy.tracks(), []);
  assert.deepEqual(await lazy.window({ thread: 1, startNs: 0, endNs: 10, minDurationNs: 1 }), {
    boxes: [],
    buckets: [],
  });
  assert.deepEqual(await lazy.functionStats(), []);
  assert.deepEqual(await lazy.functionStats('function == f'), []);
  assert.deepEqual(await lazy.lineStats(FILE), []);
  assert.deepEqual(await lazy.callsOf(FILE, 3), []);
  assert.deepEqual(await lazy.query('function == f'), { total: 0, calls: [] });
  assert.deepEqual(await lazy.names(), {
    functions: [],
    modules: [],
    exceptionTypes: [],
    threads: [],
  });
  assert.equal(lazy.started, false);
  assert.equal(created.length, 0);

  // A trace saved by another store, opened through the lazy one.
  const source = startStore({ onError: (m) => assert.fail(m) });
  created.push(source);
  const key = keyOf(1);
  source.hello(key, hello);
  source.batch(key, first);
  source.batch(key, second);
  source.lines(key, lines[0]);
  source.end(key, { t: 'end', exit_code: 0, reason: 'exit' });
  const file = path.join(tmp, 'saved.tracelens');
  await source.save(file);

  await lazy.open(file);
  assert.equal(lazy.started, true);
  assert.equal((await lazy.summary()).calls, 10);
  assert.deepEqual(
    (await lazy.callsOf(FILE, 3)).map((c) => c.id),
    [2, 4, 5],
  );
  assert.equal((await lazy.lineStats(FILE)).length, 2);
  const json = path.join(tmp, 'lazy.json');
  await lazy.exportChrome(json);
  const events = (JSON.parse(readFileSync(json, 'utf8')) as { traceEvents: { ph: string }[] })
    .traceEvents;
  assert.equal(events.filter((e) => e.ph === 'X').length, 10);
  // Lines reach the real store through the lazy one.
  lazy.hello(keyOf(2), { ...hello, pid: 5 });
  lazy.batch(keyOf(2), { ...first, events: [] });
  lazy.lines(keyOf(2), lines[1]);
  assert.deepEqual(
    (await lazy.lineStats(FILE)).filter((l) => l.line === 3 && !l.sampled).map((l) => l.hits),
    [6],
  );
  await lazy.dispose();
  await assert.rejects(lazy.open(file), /trace store was closed/);
});
