// Unit tests of how the editor reads a Python file's text (extension/editor/sourceLines.ts) and
// maps traced lines onto an edited file (extension/editor/lineMapping.ts): statements spanning
// lines, strings and comments, decorators, function bodies, unchanged head and tail after edits.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IDENTITY, mapLines, splitLines } from '../../extension/editor/lineMapping';
import {
  analyzeSource,
  defStatement,
  functionRange,
  returnAnchor,
  statementEnd,
} from '../../extension/editor/sourceLines';

const SOURCE = [
  'import functools', // 1
  '', // 2
  '@functools.lru_cache()', // 3
  'def total(', // 4
  '    a,  # first (', // 5
  '    b="):",', // 6
  '):', // 7
  '    text = """return', // 8
  '    (not code)"""', // 9
  '    return (a +', // 10
  '            b)', // 11
  '', // 12
  '    # trailing comment at body depth', // 13
  'x = total(1, \\', // 14
  '          2)', // 15
  'def one(): return 1', // 16
  'class K:', // 17
  '    def m(self):', // 18
  '        yield [', // 19
  '            1]', // 20
  '    y = 2', // 21
];

const info = analyzeSource(SOURCE);

test('statements: brackets, strings with brackets, triple-quoted strings and backslashes', () => {
  const span = (line: number) => [info.stmtStart[line - 1] + 1, info.stmtEnd[line - 1] + 1];
  assert.deepEqual(span(4), [4, 7]);
  assert.deepEqual(span(6), [4, 7]);
  assert.deepEqual(span(8), [8, 9]);
  assert.deepEqual(span(11), [10, 11]);
  assert.deepEqual(span(14), [14, 15]);
  assert.deepEqual(span(16), [16, 16]);
  assert.deepEqual(span(20), [19, 20]);
  assert.equal(statementEnd(info, 10), 10);
  assert.equal(statementEnd(info, 99), undefined);
});

test('return anchors: the last line of a return / yield statement; none for other statements', () => {
  assert.equal(returnAnchor(info, 10), 10); // drawn at the end of line 11 (0-based 10)
  assert.equal(returnAnchor(info, 11), 10);
  assert.equal(returnAnchor(info, 8), undefined); // "return" inside a string
  assert.equal(returnAnchor(info, 13), undefined); // a comment
  assert.equal(returnAnchor(info, 16), 15);
  assert.equal(returnAnchor(info, 19), 19);
  assert.equal(returnAnchor(info, 0), undefined);
});

test('def statements skip decorators and end at the colon line; bodies end at the dedent', () => {
  assert.deepEqual(defStatement(info, 3), { start: 3, end: 6 });
  assert.deepEqual(defStatement(info, 4), { start: 3, end: 6 });
  assert.equal(defStatement(info, 1), undefined);
  assert.deepEqual(functionRange(info, 3), { start: 2, end: 10 }); // comments do not extend it
  assert.deepEqual(functionRange(info, 16), { start: 15, end: 15 });
  assert.deepEqual(functionRange(info, 18), { start: 17, end: 19 });
  assert.deepEqual(functionRange(info, 17), { start: 16, end: 20 });
});

test('an unfinished statement at the end of the file runs to its last line', () => {
  const open = analyzeSource(['def f(', '    x'] as string[]);
  assert.deepEqual([open.stmtStart[1], open.stmtEnd[0]], [0, 1]);
});

test('line mapping: identical files map to themselves', () => {
  assert.equal(mapLines(SOURCE, [...SOURCE]), IDENTITY);
  assert.equal(IDENTITY.map(5), 5);
});

test('line mapping: lines above an edit stay, lines below shift, edited lines have no place', () => {
  const edited = [...SOURCE];
  edited.splice(9, 0, '    print("added")', '    print("another")'); // two lines before line 10
  edited[21] = '            1, 2]'; // old line 20 (0-based 19) changed
  const m = mapLines(SOURCE, edited);
  assert.equal(m.identical, false);
  assert.equal(m.map(0), 0);
  assert.equal(m.map(8), 8);
  assert.equal(m.map(9), undefined); // between the first and last change
  assert.equal(m.map(19), undefined);
  assert.equal(m.map(20), 22);
  assert.equal(m.unmap(22), 20);
  assert.equal(m.unmap(9), undefined);
  assert.equal(m.unmap(3), 3);
  // A statement is placed only when all of its lines are unchanged.
  assert.equal(m.mapSpan(3, 6, 6), 6);
  assert.equal(m.mapSpan(18, 19, 19), undefined);
});

test('line mapping: a statement changed in its middle is not placed even if its ends match', () => {
  const edited = [...SOURCE];
  edited[4] = '    a,  # changed';
  const m = mapLines(SOURCE, edited);
  assert.equal(m.map(3), 3);
  assert.equal(m.map(6), 6);
  assert.equal(m.mapSpan(3, 6, 6), undefined);
  assert.equal(m.mapSpan(9, 10, 10), 10);
});

test('splitLines counts lines as VS Code does', () => {
  assert.deepEqual(splitLines('a\r\nb\n'), ['a', 'b', '']);
  assert.deepEqual(splitLines(''), ['']);
});
