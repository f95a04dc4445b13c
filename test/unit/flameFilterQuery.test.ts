// Unit tests of the filter box's query (webview/flame/filterQuery.ts): text searches become
// queries that the real parser accepts, with quotes and backslashes escaped.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseQuery } from '../../extension/query/index';
import { effectiveFilter, quote } from '../../webview/flame/filterQuery';

test('query mode passes the sentence through as typed (error columns match the box)', () => {
  assert.equal(effectiveFilter('  function == fact ', 'query'), '  function == fact ');
  assert.equal(effectiveFilter('  ', 'query'), '');
  assert.equal(effectiveFilter('   ', 'text'), '');
});

test('text mode searches names, arguments, returns and exception messages', () => {
  assert.equal(
    effectiveFilter('bad', 'text'),
    'function contains "bad" or arg contains "bad" or return contains "bad" or exception.message contains "bad"',
  );
  const tricky = effectiveFilter('say "hi"\\n', 'text');
  assert.ok(tricky.startsWith('function contains "say \\"hi\\"\\\\n" or'));
  assert.doesNotThrow(() => parseQuery(tricky));
  assert.equal(quote('a\tb'), '"a\\tb"');
});
