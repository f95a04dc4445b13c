// What "Tracelens: Change What Is Recorded…" sends to the tracer for a query sentence: module
// conditions become include/exclude globs; other fields and bad sentences get a message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordingScope } from '../../extension/query/recordingScope';

test('module conditions become the tracer filter', () => {
  assert.deepEqual(recordingScope('module startswith "app."'), {
    ok: true,
    filter: { include: ['app.*'], exclude: [] },
  });
  assert.deepEqual(recordingScope('module startswith "app." and not module == "app.vendor"'), {
    ok: true,
    filter: { include: ['app.*'], exclude: ['app.vendor'] },
  });
});

test('an empty sentence goes back to the default scope', () => {
  assert.deepEqual(recordingScope('   '), { ok: true, filter: { include: [], exclude: [] } });
});

test('what the tracer cannot filter on, and bad sentences, get a message', () => {
  const other = recordingScope('duration > 5ms');
  assert.equal(other.ok, false);
  assert.match(other.ok ? '' : other.message, /^The tracer can narrow recording by module only: /);
  const bad = recordingScope('module ==');
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.message, /expected a value/);
});
