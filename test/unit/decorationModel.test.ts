// Unit tests of what the editor draws where (extension/editor/decorationModel.ts): end-of-line
// text per line for recorded FileAnnotations, precedence of exceptions, lines past the end of an
// edited file, and the hover's Markdown (extension/editor/hoverModel.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FileAnnotations } from '../../extension/store/api';
import {
  buildDecorations,
  groupByKind,
  isReturnLine,
  latestPerLine,
  valuesMatchFile,
} from '../../extension/editor/decorationModel';
import { decorationHover, escapeMarkdown, joinSections } from '../../extension/editor/hoverModel';

/** The old hover of a line: the raise there, then the value returned there. */
function hoverMarkdown(a: FileAnnotations, line: number): string | undefined {
  const raise = latestPerLine(a.raises).get(line);
  const ret = latestPerLine(a.returns).get(line);
  return joinSections([
    raise && decorationHover({ kind: 'raise', entry: raise }),
    ret && decorationHover({ kind: 'return', entry: ret }),
  ]);
}

const ann: FileAnnotations = {
  returns: [
    { line: 4, value: '1', callId: 3, args: [{ name: 'n', value: '1' }], qualname: 'fib' },
    { line: 4, value: '0', callId: 2, args: [{ name: 'n', value: '0' }], qualname: 'fib' },
    { line: 5, value: '2', callId: 1, args: [{ name: 'n', value: '3' }], qualname: 'fib' },
    { line: 12, value: "'" + 'a'.repeat(100) + "'", callId: 9, args: [], qualname: 'Greeter.long' },
    { line: 15, value: '7', callId: 11, args: [], qualname: 'gen', kind: 'yield' },
    { line: 9, value: 'None', callId: 8, args: [], qualname: 'shadowed' },
    { line: 40, value: 'stale', callId: 12, args: [], qualname: 'gone' },
  ],
  raises: [
    { line: 9, type: 'ValueError', message: 'bad input', callId: 10, handled: false },
    { line: 20, type: 'KeyError', message: "'k'", callId: 13, handled: true },
    { line: 0, type: 'Weird', message: 'no line', callId: 14, handled: false },
  ],
};

test('buildDecorations: one decoration per line, newest call wins, exceptions before values', () => {
  const decorations = buildDecorations(ann, { maxValueLength: 25, lineCount: 30 });
  assert.deepEqual(decorations, [
    { line: 3, kind: 'return', text: '→ 1' },
    { line: 4, kind: 'return', text: '→ 2' },
    { line: 8, kind: 'raise', text: '⚠ ValueError: bad input' },
    { line: 11, kind: 'return', text: `→ '${'a'.repeat(23)}…` },
    { line: 14, kind: 'return', text: '⤴ 7' },
    { line: 19, kind: 'handled', text: "⚠ KeyError: 'k' (caught)" },
  ]);
});

test('buildDecorations: exception text is cut to the limit, suffix kept', () => {
  const long: FileAnnotations = {
    returns: [],
    raises: [{ line: 1, type: 'RuntimeError', message: 'x'.repeat(200), callId: 1, handled: true }],
  };
  const [d] = buildDecorations(long, { maxValueLength: 30, lineCount: 1 });
  assert.equal(d.text, '⚠ RuntimeError: xxxxxx… (caught)');
  assert.equal(d.text.length, 2 + 30);
});

test('groupByKind keeps every kind, so an empty kind clears its ranges', () => {
  const groups = groupByKind(
    buildDecorations({ returns: [], raises: [] }, { maxValueLength: 60, lineCount: 10 }),
  );
  assert.deepEqual(groups, {
    return: [],
    args: [],
    raise: [],
    handled: [],
    propagated: [],
    propagatedCaught: [],
  });
  const g = groupByKind(buildDecorations(ann, { maxValueLength: 60, lineCount: 30 }));
  assert.deepEqual(
    g.return.map((d) => d.line),
    [3, 4, 11, 14],
  );
  assert.deepEqual(
    g.raise.map((d) => d.line),
    [8],
  );
  assert.deepEqual(
    g.handled.map((d) => d.line),
    [19],
  );
});

test('hoverMarkdown: full value, arguments and qualname; exception and value on one line', () => {
  assert.equal(
    hoverMarkdown(ann, 4),
    '**fib** returned (call 3)\n\n```python\n1\n```\n\nArguments:\n\n```python\nn=1\n```',
  );
  assert.equal(
    hoverMarkdown(ann, 9),
    '**ValueError** raised here and was not caught (call 10)\n\n```text\nbad input\n```' +
      '\n\n---\n\n**shadowed** returned (call 8)\n\n```python\nNone\n```\n\nNo arguments.',
  );
  assert.ok(hoverMarkdown(ann, 12)!.includes("'" + 'a'.repeat(100) + "'"));
  assert.ok(hoverMarkdown(ann, 15)!.startsWith('**gen** yielded (call 11)'));
  assert.equal(hoverMarkdown(ann, 2), undefined);
});

test('hoverMarkdown: values with backticks cannot break the code fence; names are escaped', () => {
  const tricky: FileAnnotations = {
    returns: [{ line: 1, value: '"```"', callId: 1, args: [], qualname: 'A.__init__' }],
    raises: [],
  };
  assert.equal(
    hoverMarkdown(tricky, 1),
    '**A\\.\\_\\_init\\_\\_** returned (call 1)\n\n````python\n"```"\n````\n\nNo arguments.',
  );
  assert.equal(escapeMarkdown('f<x>[0]'), 'f\\<x\\>\\[0\\]');
});

test('with the document text, values go only on return / yield / lambda lines', () => {
  const source = [
    'def f(x):', // 1
    '    print(x)  # return later', // 2: falls off the end here, returns None
    'def g():', // 3
    '    return 1', // 4
    'h = lambda: 2', // 5
    'def gen():', // 6
    '    yield 3', // 7
  ];
  const value = (line: number, v: string) => ({
    line,
    value: v,
    callId: line,
    args: [],
    qualname: 'q',
  });
  const decorations = buildDecorations(
    { returns: [value(2, 'None'), value(4, '1'), value(5, '2'), value(7, '3')], raises: [] },
    { maxValueLength: 60, lineCount: source.length, lineText: (n) => source[n - 1] },
  );
  assert.deepEqual(
    decorations.map((d) => `${d.line + 1} ${d.text}`),
    ['4 → 1', '5 → 2', '7 → 3'],
  );
  assert.equal(isReturnLine('    return'), true);
  assert.equal(isReturnLine('    returned = 1'), false);
  assert.equal(isReturnLine('    x = 1  # return'), false);
});

test('values match the file only when it is saved and unchanged since the trace started', () => {
  assert.equal(valuesMatchFile(false, 1_000, 2_000), true);
  assert.equal(valuesMatchFile(false, 2_000, 2_000), true);
  assert.equal(valuesMatchFile(false, 2_001, 2_000), false);
  assert.equal(valuesMatchFile(true, 1_000, 2_000), false);
  assert.equal(valuesMatchFile(false, undefined, 2_000), true);
  assert.equal(valuesMatchFile(false, 5_000, undefined), true);
});
