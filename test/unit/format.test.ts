// Unit tests of extension/format.ts (durations, shortened values, arguments, exceptions, counts)
// and of the webview's row text (webview/callRowText.ts), which is built from them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CallRow } from '../../extension/store/api';
import {
  formatArgs,
  formatCallDuration,
  formatCount,
  formatDuration,
  formatException,
  shortenValue,
} from '../../extension/format';
import { callRowText } from '../../webview/callRowText';

test('formatDuration picks the unit and three significant digits', () => {
  const cases: [number, string][] = [
    [0, '0 ns'],
    [850, '850 ns'],
    [999, '999 ns'],
    [1_000, '1 µs'],
    [1_234, '1.23 µs'],
    [12_345, '12.3 µs'],
    [123_456, '123 µs'],
    [999_499, '999 µs'],
    [999_600, '1 ms'],
    [1_500_000, '1.5 ms'],
    [250_000_000, '250 ms'],
    [2_345_000_000, '2.35 s'],
    [59_000_000_000, '59 s'],
    [61_000_000_000, '1 min 1 s'],
    [3_725_000_000_000, '1 h 2 min'],
  ];
  for (const [ns, text] of cases) assert.equal(formatDuration(ns), text, String(ns));
  assert.equal(formatDuration(-1), '?');
  assert.equal(formatDuration(Number.NaN), '?');
});

test('formatCallDuration says running for a call without an end', () => {
  assert.equal(formatCallDuration(100, null), 'running');
  assert.equal(formatCallDuration(1_000, 4_000), '3 µs');
});

test('shortenValue flattens whitespace and cuts with an ellipsis inside the limit', () => {
  assert.equal(shortenValue('[1, 2,\n   3]'), '[1, 2, 3]');
  assert.equal(shortenValue('x'.repeat(60), 60), 'x'.repeat(60));
  const cut = shortenValue('y'.repeat(61), 60);
  assert.equal(cut, 'y'.repeat(59) + '…');
  assert.equal(cut.length, 60);
  assert.equal(shortenValue('abc', 0), '');
});

test('formatArgs and formatException', () => {
  assert.equal(
    formatArgs([
      { name: 'n', value: '3' },
      { name: 's', value: "'hi'" },
    ]),
    "n=3, s='hi'",
  );
  assert.equal(formatArgs([{ name: 'big', value: 'z'.repeat(50) }], 10), `big=${'z'.repeat(9)}…`);
  assert.equal(formatException('ValueError', 'bad\nvalue'), 'ValueError: bad value');
  assert.equal(formatException('StopIteration', ''), 'StopIteration');
  assert.equal(formatCount(1234567), '1,234,567');
  assert.equal(formatCount(999), '999');
});

function row(over: Partial<CallRow>): CallRow {
  return {
    id: 7,
    parent: null,
    depth: 0,
    process: 1,
    thread: 1,
    threadName: 'MainThread',
    module: '__main__',
    qualname: 'fib',
    file: '/work/demo/fib.py',
    line: 3,
    args: [{ name: 'n', value: '5' }],
    returnValue: '5',
    returnLine: 6,
    exception: null,
    startNs: 1_000,
    endNs: 13_345,
    flags: 0,
    childCount: 2,
    ...over,
  };
}

test('callRowText: returned, raised, running and suspended calls', () => {
  const ret = callRowText(row({}));
  assert.deepEqual(
    [ret.qualname, ret.args, ret.result, ret.resultKind, ret.duration],
    ['fib', '(n=5)', '→ 5', 'return', '12.3 µs'],
  );
  assert.equal(ret.title, 'fib(n=5) → 5\n12.3 µs · __main__ · fib.py:3 · thread MainThread');

  const raised = callRowText(
    row({ exception: { type: 'KeyError', message: "'x'", line: 4 }, returnValue: null, flags: 4 }),
  );
  assert.equal(raised.result, "⚠ KeyError: 'x'");
  assert.equal(raised.resultKind, 'exception');

  const running = callRowText(row({ endNs: null, returnValue: null }));
  assert.deepEqual(
    [running.result, running.resultKind, running.duration],
    ['', 'running', 'running'],
  );

  const suspended = callRowText(row({ flags: 2, returnValue: '1' }));
  assert.deepEqual([suspended.result, suspended.resultKind], ['⏸ 1', 'yield']);

  const none = callRowText(row({ args: [], returnValue: null }));
  assert.deepEqual([none.args, none.result, none.resultKind], ['()', '', 'none']);
});
