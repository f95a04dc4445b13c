// Tests of extension/lazyTraceStore.ts with the real store behind it (the bundled sql.js worker):
// nothing starts until data or a clear arrives; queries before that answer empty; listeners
// registered early hear of changes once the store runs.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LazyTraceStore } from '../../extension/lazyTraceStore';
import type { StoreSummary } from '../../extension/store/api';
import type { StoreClient } from '../../extension/store/storeClient';
import { buildWorker, readStream, replay, startStore } from './fixtures/storeStreams';

let created: StoreClient[] = [];
before(() => buildWorker());
after(async () => {
  await Promise.all(created.map((c) => c.dispose()));
  created = [];
});

test('starts the real store on first data, not on queries; early listeners are told', async () => {
  const lazy = new LazyTraceStore(() => {
    const s = startStore({ onError: (m) => assert.fail(m), changeDelayMs: 10 });
    created.push(s);
    return s;
  });
  const heard: StoreSummary[] = [];
  lazy.onDidChange((s) => heard.push(s));
  assert.deepEqual(await lazy.summary(), {
    processes: 0,
    calls: 0,
    dropped: 0,
    running: false,
    generation: 0,
  });
  assert.deepEqual(await lazy.children(null), []);
  assert.deepEqual(await lazy.fileAnnotations('/demo/prog.py'), { returns: [], raises: [] });
  assert.equal(await lazy.call(1), undefined);
  assert.equal(lazy.started, false);
  assert.equal(created.length, 0);

  replay(lazy, readStream('handmade.jsonl'));
  assert.equal(lazy.started, true);
  const summary = await lazy.summary();
  assert.equal(summary.calls, 13);
  assert.equal(summary.running, false);
  const deadline = Date.now() + 5000;
  while (!heard.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(heard.at(-1)?.calls, 13);
  assert.equal((await lazy.children(null)).length, 3);
  await lazy.dispose();
  // After dispose, late data from a tracer is dropped, and nothing starts again.
  lazy.batch({ session: 's1', connection: 1 }, readStream('handmade.jsonl')[1].message as never);
  assert.equal(created.length, 1);
  assert.equal((await lazy.summary()).calls, 0);
});
