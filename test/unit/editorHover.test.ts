// Unit tests of the editor hovers' Markdown (extension/editor/hoverModel.ts) and the CodeLens
// filter: function figures with recent calls, previous / next / timeline command links with
// their JSON arguments, arguments and propagated exceptions explained.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { functionFilter, functionsOfFile } from '../../extension/editor/fileTraceLoader';
import {
  callLinks,
  codeLensTitle,
  commandUri,
  decorationHover,
  functionSummary,
} from '../../extension/editor/hoverModel';
import type { CallRow, FunctionStats } from '../../extension/store/api';

const row = (id: number, n: string, ret: string | null, exc?: string): CallRow => ({
  id,
  parent: null,
  depth: 0,
  process: 1,
  thread: 1,
  threadName: 'MainThread',
  module: 'm',
  qualname: 'Solver.fib',
  file: '/w/m.py',
  line: 4,
  args: [{ name: 'n', value: n }],
  returnValue: ret,
  returnLine: ret === null ? null : 6,
  exception: exc ? { type: exc, message: 'boom', line: 5 } : null,
  startNs: id,
  endNs: id + 1,
  flags: exc ? 4 : 0,
  childCount: 0,
});

test('function summary: calls, total / own / mean time, the last calls', () => {
  const fn = {
    qualname: 'Solver.fib',
    line: 4,
    calls: 15,
    totalNs: 1_500_000,
    ownNs: 800_000,
    exceptions: 1,
  };
  assert.equal(
    functionSummary(fn, [row(7, '1', '1'), row(8, '0', null, 'KeyError')]),
    '**Solver\\.fib** · 15 calls · total 1.5 ms · own 800 µs · mean 100 µs · 1 raised\n\n' +
      'Last 2 calls:\n\n```python\nfib(n=1) → 1\nfib(n=0) raised KeyError\n```',
  );
  assert.equal(
    functionSummary({ ...fn, calls: 1, exceptions: 0 }, []),
    '**Solver\\.fib** · 1 call · total 1.5 ms · own 800 µs · mean 1.5 ms',
  );
});

test('links: previous / next select a call, show in timeline; ids as JSON arguments', () => {
  const cmds = {
    selectCall: 'tracelens.selectCall',
    showCallInTimeline: 'tracelens.showCallInTimeline',
  };
  assert.equal(commandUri('tracelens.selectCall', [42]), 'command:tracelens.selectCall?%5B42%5D');
  assert.equal(
    callLinks({ call: 8, index: 2, count: 15, previous: 7, next: 9 }, cmds),
    'Call 3 of 15 · [◀ Previous call](command:tracelens.selectCall?%5B7%5D) · ' +
      '[Next call ▶](command:tracelens.selectCall?%5B9%5D) · ' +
      '[Show in timeline](command:tracelens.showCallInTimeline?%5B8%5D)',
  );
  assert.equal(
    callLinks({ call: 8, index: 0, count: 1 }, cmds),
    'Call 1 of 1 · [Show in timeline](command:tracelens.showCallInTimeline?%5B8%5D)',
  );
});

test('hovers of arguments and of an exception passing through', () => {
  const c = row(8, "'x'", '2');
  assert.equal(
    decorationHover({
      kind: 'args',
      call: c,
      fn: { qualname: c.qualname, line: 4, calls: 1, totalNs: 1, ownNs: 1, exceptions: 0 },
    }),
    "**Solver\\.fib** called with (call 8, returned 2)\n\n```python\nn='x'\n```",
  );
  assert.equal(
    decorationHover({
      kind: 'propagated',
      entry: { line: 9, type: 'ValueError', message: 'bad\nvalue', callId: 3, handled: true },
    }),
    '**ValueError** passed through here and was caught further out (call 3)\n\n```text\nbad value\n```',
  );
});

test('the CodeLens filter names the function and the file in the query language', () => {
  assert.equal(codeLensTitle(15, 12_345_678), '15 calls · total 12.3 ms');
  assert.equal(codeLensTitle(1, 999), '1 call · total 999 ns');
  assert.equal(
    functionFilter('Solver.fib', '/w/a "b".py'),
    'function == "Solver.fib" and file == "/w/a \\"b\\".py"',
  );
  const stats = (qualname: string, file: string): FunctionStats => ({
    code: 1,
    module: 'm',
    qualname,
    file,
    line: 1,
    calls: 1,
    totalNs: 1,
    ownNs: 1,
    exceptions: 0,
  });
  assert.deepEqual(
    functionsOfFile(
      [stats('<module>', '/w/m.py'), stats('f', '/w/m.py'), stats('g', '/w/other.py')],
      '/w/m.py',
    ).map((s) => s.qualname),
    ['f'],
  );
});
