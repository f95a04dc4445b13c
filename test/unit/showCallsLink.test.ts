// Unit tests of how the editor asks the timeline for one function's calls: the filter sentence
// (extension/editor/fileTraceLoader.ts functionFilter, parsed by the real query parser) and the
// hover's "All calls in timeline" command link (extension/editor/hoverModel.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { functionFilter } from '../../extension/editor/fileTraceLoader';
import { functionCallsLink } from '../../extension/editor/hoverModel';
import { parseQuery } from '../../extension/query/index';

test('the filter names the function and its file, quoted so any path parses', () => {
  const filter = functionFilter('Shape.area', '/w/my "app"/shapes.py');
  assert.equal(filter, 'function == "Shape.area" and file == "/w/my \\"app\\"/shapes.py"');
  assert.doesNotThrow(() => parseQuery(filter));
});

test('the hover link passes the document URI and the 0-based line as JSON', () => {
  const link = functionCallsLink('tracelens.showCallsInTimeline', 'file:///w/a%20b.py', 11);
  assert.equal(
    link,
    '[All calls in timeline](command:tracelens.showCallsInTimeline?' +
      encodeURIComponent('["file:///w/a%20b.py",11]') +
      ')',
  );
  const args = JSON.parse(decodeURIComponent(link.slice(link.indexOf('?') + 1, -1)));
  assert.deepEqual(args, ['file:///w/a%20b.py', 11]);
});
