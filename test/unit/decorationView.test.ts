// Unit tests of what the editor draws where for a whole recorded file (buildFileView in
// extension/editor/decorationModel.ts): arguments on def lines (decorators, multi-line
// signatures), multi-line return statements, the selected call versus each function's last call,
// generators, raised / propagated / caught exceptions, heat lines, and files edited after the trace.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildFileView,
  EMPTY_TRACE,
  type FileTrace,
  type FunctionInfo,
  type ViewOptions,
} from '../../extension/editor/decorationModel';
import { buildHeat } from '../../extension/editor/heatModel';
import { mapLines } from '../../extension/editor/lineMapping';
import { analyzeSource } from '../../extension/editor/sourceLines';
import type { CallArg, CallRow } from '../../extension/store/api';

const FILE = '/w/app.py';
const SOURCE = [
  'import functools', // 1
  '', // 2
  '@functools.cache', // 3
  'def area(', // 4
  '    w,', // 5
  '    h,', // 6
  '):', // 7
  '    if w < 0:', // 8
  '        raise ValueError("negative")', // 9
  '    return (w *', // 10
  '            h)', // 11
  '', // 12
  'def count(n):', // 13
  '    while n:', // 14
  '        yield n', // 15
  '        n -= 1', // 16
  '', // 17
  'def main():', // 18
  '    try:', // 19
  '        area(-1, 2)', // 20
  '    except ValueError:', // 21
  '        pass', // 22
  '    return area(2, 3)', // 23
];

function call(
  id: number,
  qualname: string,
  line: number,
  args: CallArg[],
  end: Partial<CallRow> = {},
): CallRow {
  return {
    id,
    parent: null,
    depth: 0,
    process: 1,
    thread: 1,
    threadName: 'MainThread',
    module: 'app',
    qualname,
    file: FILE,
    line,
    args,
    returnValue: null,
    returnLine: null,
    exception: null,
    startNs: id * 100,
    endNs: id * 100 + 50,
    flags: 0,
    childCount: 0,
    ...end,
  };
}

const a = (name: string, value: string): CallArg => ({ name, value });

// main (1) -> area(-1, 2) (2, raised at 9, caught in main) ; area(2, 3) (3, returned 6 at 10)
// count(3) yields 3 (4), resumed yields 2 (5)
const area2 = call(2, 'area', 3, [a('w', '-1'), a('h', '2')], {
  exception: { type: 'ValueError', message: 'negative', line: 9 },
  flags: 4,
});
const area3 = call(3, 'area', 3, [a('w', '2'), a('h', '3')], {
  returnValue: '6',
  returnLine: 10,
});
const count5 = call(5, 'count', 13, [a('n', '2')], { returnValue: '2', returnLine: 15, flags: 3 });
const main1 = call(1, 'main', 18, [], { returnValue: '6', returnLine: 23 });

const fn = (qualname: string, line: number, calls: number, lastCall: CallRow): FunctionInfo => ({
  qualname,
  line,
  calls,
  totalNs: 1000,
  ownNs: 500,
  exceptions: 0,
  lastCall,
});

const trace: FileTrace = {
  annotations: {
    returns: [
      { line: 10, value: '6', callId: 3, args: area3.args, qualname: 'area' },
      { line: 15, value: '3', callId: 4, args: [a('n', '3')], qualname: 'count', kind: 'yield' },
      { line: 15, value: '2', callId: 5, args: [a('n', '2')], qualname: 'count', kind: 'yield' },
      { line: 23, value: '6', callId: 1, args: [], qualname: 'main' },
    ],
    raises: [{ line: 9, type: 'ValueError', message: 'negative', callId: 2, handled: true }],
  },
  functions: [fn('area', 3, 2, area3), fn('count', 13, 2, count5), fn('main', 18, 1, main1)],
  propagations: [],
  heat: buildHeat([
    { line: 14, hits: 3, ownNs: 300, totalNs: 300, sampled: false },
    { line: 15, hits: 2, ownNs: 1200, totalNs: 1200, sampled: false },
  ]),
};

const source = analyzeSource(SOURCE);
const opts: ViewOptions = { maxValueLength: 40, lineCount: SOURCE.length, source };
const drawn = (t: FileTrace, o = opts) =>
  buildFileView(t, o).decorations.map((d) => `${d.line + 1} ${d.kind} ${d.text}`);

test('by default: each function\u2019s last call, arguments at the end of the def statement', () => {
  assert.deepEqual(drawn(trace), [
    '7 args ▸ w=2, h=3', // the multi-line def ends at line 7; decorator line 3 is the code's first line
    '9 handled ⚠ ValueError: negative (caught)',
    '11 return → 6', // a return statement over lines 10-11 is drawn at its end
    '13 args ▸ n=2',
    '15 return ⤴ 2', // the generator's latest yield
    '23 return → 6', // main has no arguments: nothing on its def line
  ]);
  const view = buildFileView(trace, opts);
  assert.deepEqual(
    view.heat.map((h) => [h.line + 1, h.level]),
    [
      [14, 3],
      [15, 5],
    ],
  );
  assert.equal(view.hidden, 0);
});

test('a selected call replaces its function\u2019s values; other functions keep their last call', () => {
  assert.deepEqual(drawn({ ...trace, selected: area2 }), [
    '7 args ▸ w=-1, h=2',
    '9 handled ⚠ ValueError: negative (caught)', // raised by the selected call itself
    '13 args ▸ n=2',
    '15 return ⤴ 2',
    '23 return → 6',
  ]);
  // Selecting the call that returned: its raise line is empty (another call raised there).
  assert.deepEqual(drawn({ ...trace, selected: area3 }), [
    '7 args ▸ w=2, h=3',
    '11 return → 6',
    '13 args ▸ n=2',
    '15 return ⤴ 2',
    '23 return → 6',
  ]);
  const first = call(4, 'count', 13, [a('n', '3')], { returnValue: '3', returnLine: 15, flags: 2 });
  const view = buildFileView({ ...trace, selected: first }, opts);
  assert.deepEqual(
    view.decorations.filter((d) => d.selected).map((d) => `${d.line + 1} ${d.text}`),
    ['13 ▸ n=3', '15 ⤴ 3'],
  );
});

test('exceptions: raised, passed through and caught, passed through and not caught', () => {
  const t: FileTrace = {
    ...trace,
    annotations: {
      returns: [],
      raises: [{ line: 9, type: 'ValueError', message: 'negative', callId: 2, handled: false }],
    },
    propagations: [
      { line: 20, type: 'ValueError', message: 'negative', callId: 1, handled: false },
      { line: 23, type: 'KeyError', message: "'k'", callId: 7, handled: true },
      { line: 9, type: 'ValueError', message: 'shadowed by the raise', callId: 8, handled: false },
    ],
  };
  assert.deepEqual(drawn(t), [
    '7 args ▸ w=2, h=3',
    '9 raise ⚠ ValueError: negative',
    '13 args ▸ n=2',
    '20 propagated ⇡ ValueError: negative',
    "23 propagatedCaught ⇡ KeyError: 'k' (caught)",
  ]);
});

test('a selected call that ended by an exception from a callee marks where it passed', () => {
  const main9 = call(9, 'main', 18, [], {
    exception: { type: 'ValueError', message: 'negative', line: 20 },
    flags: 4,
  });
  const t: FileTrace = { ...trace, functions: [...trace.functions], selected: main9 };
  t.functions[2] = fn('main', 18, 2, main1);
  assert.deepEqual(drawn(t).slice(-1), ['20 propagated ⇡ ValueError: negative']);
});

test('edited file: values stay on unchanged lines, shift below an insertion, vanish where edited', () => {
  const edited = [...SOURCE];
  edited.splice(12, 0, '# a new comment', '# and another'); // two lines before `def count`
  edited[24] = '    return area(2, 4)  # edited'; // old line 23
  const view = buildFileView(trace, {
    ...opts,
    lineCount: edited.length,
    mapping: mapLines(SOURCE, edited),
  });
  assert.deepEqual(
    view.decorations.map((d) => `${d.line + 1} ${d.text}`),
    ['7 ▸ w=2, h=3', '9 ⚠ ValueError: negative (caught)', '11 → 6'],
  );
  // count's def and yield (old 13, 15) sit between the two edits: hidden, as is its heat.
  assert.deepEqual(view.heat, []);
  assert.equal(view.hidden, 5);
  // An edit below everything leaves every value in place.
  const tail = [...SOURCE, 'print(main())'];
  assert.deepEqual(
    buildFileView(trace, { ...opts, lineCount: tail.length, mapping: mapLines(SOURCE, tail) })
      .decorations.length,
    6,
  );
});

test('a file shorter than the trace: nothing drawn past its end; no source: recorded lines as is', () => {
  assert.deepEqual(drawn(trace, { ...opts, lineCount: 12 }), [
    '7 args ▸ w=2, h=3',
    '9 handled ⚠ ValueError: negative (caught)',
    '11 return → 6',
  ]);
  assert.deepEqual(drawn(trace, { maxValueLength: 40, lineCount: 30, source: undefined }), [
    '9 handled ⚠ ValueError: negative (caught)',
    '10 return → 6',
    '15 return ⤴ 2',
    '23 return → 6',
  ]);
  assert.deepEqual(drawn(EMPTY_TRACE), []);
});

test('long arguments are cut to the value width', () => {
  const big = call(3, 'area', 3, [a('w', 'x'.repeat(100)), a('h', '1')], {
    returnValue: '6',
    returnLine: 10,
  });
  const t = { ...trace, functions: [fn('area', 3, 1, big)] };
  const [args] = buildFileView(t, { ...opts, maxValueLength: 20 }).decorations;
  assert.equal(args.text, '▸ w=' + 'x'.repeat(17) + '…');
  assert.equal(args.text.length, 2 + 20);
});
