// The tracelens.hasTrace context key (extension/traceContextKey.ts) against the real store (the
// bundled worker behind a LazyTraceStore, as the extension wires it): false at start, true once
// calls arrive, false after clear, true after opening a saved trace; set only when it changes.
// And package.json's trace-dependent editor menu items require it.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Commands } from '../../extension/constants';
import { LazyTraceStore } from '../../extension/lazyTraceStore';
import { HAS_TRACE_CONTEXT, TraceContextKey } from '../../extension/traceContextKey';
import { first, hello } from './fixtures/queryStream';
import { buildWorker, keyOf, ROOT, startStore } from './fixtures/storeStreams';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-context-'));
before(() => buildWorker());
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Resolves when `check` holds (polling), or fails after a few seconds. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('hasTrace follows the store: calls arrive, clear, open', async () => {
  const store = new LazyTraceStore(() => startStore({ changeDelayMs: 10 }));
  const set: [string, boolean][] = [];
  const key = new TraceContextKey(store, (k, v) => {
    set.push([k, v]);
    return Promise.resolve();
  });
  try {
    assert.deepEqual(set, [[HAS_TRACE_CONTEXT, false]]);
    store.hello(keyOf(1), hello);
    store.batch(keyOf(1), first);
    await until(() => key.current, 'the key after a batch');
    const file = path.join(tmp, 'saved.db');
    await store.save(file);
    store.batch(keyOf(1), { ...first, seq: 2, strings: [], files: [], codes: [], threads: [] });
    await new Promise((r) => setTimeout(r, 100));
    await store.clear();
    await until(() => !key.current, 'the key after clear');
    await store.open(file);
    await until(() => key.current, 'the key after open');
    assert.deepEqual(set, [
      [HAS_TRACE_CONTEXT, false],
      [HAS_TRACE_CONTEXT, true],
      [HAS_TRACE_CONTEXT, false],
      [HAS_TRACE_CONTEXT, true],
    ]);
    key.dispose();
    await store.clear();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(set.length, 4, 'disposed: no more updates');
  } finally {
    await store.dispose();
  }
});

test('a setter that fails does not throw', () => {
  const store = new LazyTraceStore(() => startStore());
  const key = new TraceContextKey(store, () => Promise.reject(new Error('no window')));
  assert.equal(key.current, false);
  key.dispose();
});

test("package.json: the editor's trace-dependent menu items need a trace", () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    contributes: { menus: Record<string, { command: string; when?: string }[]> };
  };
  const menu = pkg.contributes.menus['editor/context'];
  const show = menu.find((m) => m.command === Commands.ShowCallsInTimeline);
  assert.equal(show?.when, `resourceLangId == python && ${HAS_TRACE_CONTEXT}`);
  // Tracing itself needs no trace.
  for (const m of menu.filter((x) => x.command !== Commands.ShowCallsInTimeline)) {
    assert.ok(!m.when?.includes(HAS_TRACE_CONTEXT), m.command);
  }
});
