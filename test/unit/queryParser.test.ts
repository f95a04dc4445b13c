// The query parser: the tree it builds (precedence, spans, values, durations, escapes, bare
// words) and every error at its exact place with what was expected and any "did you mean".
// Pure; touches nothing.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Expr } from '../../extension/query/ast';
import { parseQuery } from '../../extension/query/parser';
import { QueryError } from '../../extension/query/queryError';

/** A compact rendering of a tree: (and a b), (not x), field op value. */
function show(e: Expr | null): string {
  if (!e) return '∅';
  switch (e.type) {
    case 'and':
    case 'or':
      return `(${e.type} ${e.items.map(show).join(' ')})`;
    case 'not':
      return `(not ${show(e.expr)})`;
    case 'has':
      return `[${e.field.def.name}${e.field.argName ?? ''}]`;
    case 'in':
      return `[${e.field.def.name}${e.field.argName ?? ''} in ${e.values.map((v) => JSON.stringify(v.value)).join(',')}]`;
    case 'compare':
      return `[${e.field.def.name}${e.field.argName ?? ''} ${e.op} ${JSON.stringify(e.value.value)}]`;
  }
}

const TREES: [string, string][] = [
  ['', '∅'],
  ['   # only a comment', '∅'],
  [
    'module startswith "app." and duration > 5ms and not exception',
    '(and [module startswith "app."] [duration > 5000000] (not [exception]))',
  ],
  ['a.b == 1', 'error'],
  ['exception or depth == 0 and return', '(or [exception] (and [depth == 0] [return]))'],
  ['(exception or depth == 0) and return', '(and (or [exception] [depth == 0]) [return])'],
  ['not not exception', '(not (not [exception]))'],
  ['not exception and return', '(and (not [exception]) [return])'],
  ['NOT exception AND return OR depth==1', '(or (and (not [exception]) [return]) [depth == 1])'],
  ['qualname == main', '[function == "main"]'],
  ['func == "a b"', '[function == "a b"]'],
  ["function == 'it\\'s'", '[function == "it\'s"]'],
  ['function == "tab\\tnl\\nq\\"bs\\\\"', '[function == "tab\\tnl\\nq\\"bs\\\\"]'],
  ['function == "\\u00e9\\u{1F600}"', '[function == "é😀"]'],
  ['function ~ "\\d+\\.x"', '[function ~ "\\\\d+\\\\.x"]'],
  ['thread == worker-1', '[thread == "worker-1"]'],
  ['thread == 77', '[thread == 77]'],
  ['thread contains 77', '[thread contains "77"]'],
  ['module == app.models.', '[module == "app.models."]'],
  ['arg.user_id == 42', '[arg.user_id == "42"]'],
  ['arg.x == -1.5', '[arg.x == "-1.5"]'],
  ['args.x', '[arg.x]'],
  ['depth > -1', '[depth > -1]'],
  ['line in (1, 2,)', '[line in 1,2]'],
  ['duration > 1.5s', '[duration > 1500000000]'],
  [
    'duration < 250us or duration < 250µs or duration < 3ns or duration > 2m',
    '(or [duration < 250000] [duration < 250000] [duration < 3] [duration > 120000000000])',
  ],
  ['duration == 0', '[duration == 0]'],
  ['start > 1ms', '[start > 1000000]'],
  ['function not in (a, "b")', '(not [function in "a","b"])'],
  ['function NOT CONTAINS x', '(not [function contains "x"])'],
  ['exception.type in (KeyError)', '[exception.type in "KeyError"]'],
  ['exc', '[exception]'],
  ['kind in (generator, coroutine)', '[kind in "generator","coroutine"]'],
  ['return == None # trailing comment', '[return == "None"]'],
  ['function == 名前', '[function == "名前"]'],
];

describe('parseQuery trees', () => {
  for (const [query, tree] of TREES) {
    it(`${query || '(empty)'} => ${tree}`, () => {
      if (tree === 'error') {
        assert.throws(() => parseQuery(query), QueryError);
        return;
      }
      assert.equal(show(parseQuery(query).expr), tree);
    });
  }

  it('keeps exact spans of fields, operators and values', () => {
    const q = parseQuery('not (function  startswith "Par" )');
    const not = q.expr!;
    assert.equal(not.type, 'not');
    if (not.type !== 'not') return;
    assert.deepEqual([not.start, not.end], [0, 33]);
    const c = not.expr;
    assert.equal(c.type, 'compare');
    if (c.type !== 'compare') return;
    assert.deepEqual([c.start, c.end], [4, 33]);
    assert.deepEqual(
      [c.field.start, c.field.end, c.opSpan.start, c.opSpan.end, c.value.start, c.value.end],
      [5, 13, 15, 25, 26, 31],
    );
    assert.equal(c.value.text, '"Par"');
    assert.equal(c.value.bare, false);
  });
});

/** [query, offset, end, message (with position), expected, suggestion] */
const ERRORS: [string, number, number, string, string[], string | null][] = [
  ['function ==', 11, 11, "expected a value after '==' at column 12", ['a value'], null],
  [
    'module startswith',
    17,
    17,
    "expected a value after 'startswith' at column 18",
    ['a value'],
    null,
  ],
  ['function == "main', 12, 17, 'unterminated string: add a closing " at column 13', ['"'], null],
  ["function == 'a\\'b", 12, 17, "unterminated string: add a closing ' at column 13", ["'"], null],
  ['and', 0, 3, "expected a field, found 'and' at column 1", ['a field'], null],
  [
    'not',
    3,
    3,
    "expected a field after 'not', e.g. function, module, duration at column 4",
    ['a field'],
    null,
  ],
  [
    '(',
    1,
    1,
    "expected a field after '(', e.g. function, module, duration at column 2",
    ['a field'],
    null,
  ],
  [
    'depth > 1 or',
    12,
    12,
    "expected a field after 'or', e.g. function, module, duration at column 13",
    ['a field'],
    null,
  ],
  ['exception)', 9, 10, "unmatched ')': remove it or add a '(' before at column 10", [], null],
  [
    'depth > 2 and (thread == main',
    29,
    29,
    "expected ')' to close '(' at column 30",
    ["')'"],
    null,
  ],
  [
    'function',
    8,
    8,
    "expected an operator after 'function' (==, !=, ~, !~, contains, startswith, endswith or in) at column 9",
    ['an operator'],
    null,
  ],
  [
    'function main',
    9,
    13,
    "expected an operator after 'function' (==, !=, ~, !~, contains, startswith, endswith or in), found 'main' at column 10",
    ['an operator'],
    null,
  ],
  [
    'function contans x',
    9,
    16,
    "expected an operator after 'function' (==, !=, ~, !~, contains, startswith, endswith or in), found 'contans' (did you mean 'contains'?) at column 10",
    ['an operator'],
    'contains',
  ],
  [
    'function = main',
    9,
    10,
    "'=' is not an operator: use '==' to compare at column 10",
    ["'=='"],
    '==',
  ],
  ['exception && return', 10, 12, "'&&' is written 'and' here at column 11", ["'and'"], 'and'],
  ['exception || return', 10, 12, "'||' is written 'or' here at column 11", ["'or'"], 'or'],
  [
    '!exception',
    0,
    1,
    "'!' is written 'not' here (or use '!=' / '!~') at column 1",
    ["'not'"],
    'not',
  ],
  [
    'duration > 5xs',
    11,
    14,
    "unknown unit 'xs' in '5xs': use ns, us, ms, s or m at column 12",
    ['ns', 'us', 'ms', 's', 'm'],
    null,
  ],
  [
    'duration > 5MS',
    11,
    14,
    "unknown unit 'MS' in '5MS': use ns, us, ms, s or m at column 12",
    ['ns', 'us', 'ms', 's', 'm'],
    'ms',
  ],
  [
    'duration > 5',
    11,
    12,
    'duration needs a unit: write e.g. 5ms (units: ns, us, ms, s, m) at column 12',
    ['a duration'],
    null,
  ],
  [
    'duration > "5ms"',
    11,
    16,
    'duration is a duration: write e.g. duration > 5ms at column 12',
    ['a duration'],
    null,
  ],
  [
    'line == "ten"',
    8,
    13,
    'line is a number: write e.g. line >= 100 at column 9',
    ['a number'],
    null,
  ],
  [
    'line == 5ms',
    8,
    11,
    'line is a number, not a duration: write it without a unit, e.g. line == 5 at column 9',
    ['a number'],
    null,
  ],
  [
    'function < 3',
    9,
    10,
    "'<' compares numbers and durations, and function is text: use ==, !=, ~, !~, contains, startswith, endswith or in at column 10",
    ['an operator'],
    null,
  ],
  [
    'duration contains 1',
    9,
    17,
    "'contains' works on text, and duration is a duration: use ==, !=, <, <=, >, >= or in at column 10",
    ['an operator'],
    null,
  ],
  [
    'depth ~ 1',
    6,
    7,
    "'~' works on text, and depth is a number: use ==, !=, <, <=, >, >= or in at column 7",
    ['an operator'],
    null,
  ],
  [
    'function ~ "[a-"',
    11,
    16,
    'invalid regular expression "[a-": Unterminated character class at column 12',
    ['a regular expression'],
    null,
  ],
  [
    'function ~ "(?x)a"',
    11,
    18,
    'invalid regular expression "(?x)a": the flag \'x\' is not supported: use i, m or s at column 12',
    ['a regular expression'],
    null,
  ],
  [
    'function in main',
    12,
    16,
    "expected '(' after 'in', e.g. in (a, b) at column 13",
    ["'('"],
    null,
  ],
  [
    'function in ()',
    13,
    14,
    "expected a value in the list, found ')' at column 14",
    ['a value'],
    null,
  ],
  [
    'function in (a b)',
    15,
    16,
    "expected ',' or ')' in the list after 'a', found 'b' at column 16",
    ["','", "')'"],
    null,
  ],
  ['function in (a,', 15, 15, 'expected a value in the list at column 16', ['a value'], null],
  [
    'module == a adn b',
    12,
    15,
    "expected 'and', 'or' or the end of the query, found 'adn' (did you mean 'and'?) at column 13",
    ["'and'", "'or'", 'the end'],
    'and',
  ],
  [
    '(module == a) (x)',
    14,
    15,
    "expected 'and', 'or' or the end of the query, found '(' at column 15",
    ["'and'", "'or'", 'the end'],
    null,
  ],
  [
    '(module == a ro x)',
    13,
    15,
    "expected 'and', 'or' or ')', found 'ro' (did you mean 'or'?) at column 14",
    ["'and'", "'or'", "')'"],
    'or',
  ],
  [
    'module == "a" "b"',
    14,
    17,
    "expected 'and', 'or' or the end of the query, found the text \"b\" at column 15",
    ["'and'", "'or'", 'the end'],
    null,
  ],
  [
    'exception.typ == X',
    0,
    13,
    "unknown field 'exception.typ' (did you mean 'exception.type'?) at column 1",
    ['a field'],
    'exception.type',
  ],
  [
    'modul == a',
    0,
    5,
    "unknown field 'modul' (did you mean 'module'?) at column 1",
    ['a field'],
    'module',
  ],
  [
    'Function == a',
    0,
    8,
    "unknown field 'Function' (did you mean 'function'?) at column 1",
    ['a field'],
    'function',
  ],
  [
    'durtaion > 1ms',
    0,
    8,
    "unknown field 'durtaion' (did you mean 'duration'?) at column 1",
    ['a field'],
    'duration',
  ],
  ['zzz == 1', 0, 3, "unknown field 'zzz' at column 1", ['a field'], null],
  [
    'arg. == 1',
    0,
    4,
    "expected an argument name after 'arg.', e.g. arg.user_id at column 1",
    ['an argument name'],
    null,
  ],
  [
    'kind == generater',
    8,
    17,
    "unknown kind generater (did you mean 'generator'?): it is one of function, generator, coroutine, asyncgen at column 9",
    ['function', 'generator', 'coroutine', 'asyncgen'],
    'generator',
  ],
  [
    'function == and',
    12,
    15,
    "expected a value after '==', found 'and' (put it in quotes if you mean the text: \"and\") at column 13",
    ['a value'],
    null,
  ],
  [
    'function == $',
    12,
    13,
    'unexpected character \'$\': put text in quotes, e.g. "$" at column 13',
    [],
    null,
  ],
  [
    'function not == a',
    13,
    15,
    "expected 'in', 'contains', 'startswith' or 'endswith' after 'not' at column 14",
    ["'in'", "'contains'", "'startswith'", "'endswith'"],
    null,
  ],
  [
    'function == "\\u12"',
    13,
    15,
    "'\\u' needs four hex digits or {hex}, e.g. \\u00e9 or \\u{1F600} at column 14",
    [],
    null,
  ],
  [
    'exception\nand fucntion == a',
    14,
    22,
    "unknown field 'fucntion' (did you mean 'function'?) at line 2, column 5",
    ['a field'],
    'function',
  ],
];

describe('parseQuery errors', () => {
  for (const [query, offset, end, message, expected, suggestion] of ERRORS) {
    it(`${JSON.stringify(query)}: ${message}`, () => {
      assert.throws(
        () => parseQuery(query),
        (e: unknown) => {
          assert.ok(e instanceof QueryError);
          assert.deepEqual(
            {
              offset: e.offset,
              end: e.end,
              message: e.message,
              expected: e.expected,
              suggestion: e.suggestion ?? null,
            },
            { offset, end, message, expected, suggestion },
          );
          assert.equal(e.column, offset - query.lastIndexOf('\n', offset - 1));
          assert.ok(e.message.startsWith(e.reason));
          return true;
        },
      );
    });
  }
});
