// "Did you mean": edit distance, the closest name, and warnings for values that match nothing
// in a trace, with names read from a real sql.js trace by readTraceNames. Touches only an
// in-memory database.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeQuery } from '../../extension/query/analyzeQuery';
import { didYouMean, editDistance } from '../../extension/query/didYouMean';
import type { TraceNames } from '../../extension/query/lspProtocol';
import { readTraceNames } from '../../extension/query/traceNames';
import { openTrace } from './queryTrace';

describe('editDistance and didYouMean', () => {
  it('counts insertions, deletions, substitutions and neighbour swaps as one each', () => {
    assert.equal(editDistance('', ''), 0);
    assert.equal(editDistance('abc', ''), 3);
    assert.equal(editDistance('module', 'modul'), 1);
    assert.equal(editDistance('module', 'modules'), 1);
    assert.equal(editDistance('module', 'modole'), 1);
    assert.equal(editDistance('fucntion', 'function'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('suggests the closest candidate within reach, preferring a case-only difference', () => {
    assert.equal(didYouMean('fucntion', ['file', 'function', 'module']), 'function');
    assert.equal(didYouMean('MODULE', ['modules', 'module']), 'module');
    assert.equal(didYouMean('ValueEror', ['KeyError', 'ValueError']), 'ValueError');
    assert.equal(didYouMean('zzzz', ['file', 'function']), undefined);
    assert.equal(didYouMean('ab', ['xy']), undefined);
    assert.equal(didYouMean('main', ['main']), undefined); // the same word is no suggestion
  });
});

describe('values that match nothing in the trace', () => {
  let names: TraceNames;

  it('reads the names from a trace database', async () => {
    const db = await openTrace();
    names = readTraceNames(db);
    assert.deepEqual(names, {
      functions: ['User.items', 'User.load', 'dumps', 'fetch', 'index', 'main.<locals>.helper'],
      modules: ['app.models', 'app.views', 'json'],
      exceptionTypes: ['KeyError', 'ValueError'],
      threads: ['MainThread', 'worker-1'],
    });
    assert.deepEqual(readTraceNames(db, 2).functions, ['User.items', 'User.load']);
  });

  const CASES: [string, [number, number, string, string | null][]][] = [
    ['function == User.load', []],
    [
      'function == User.lod',
      [
        [
          12,
          20,
          "no function named 'User.lod' in this trace (did you mean 'User.load'?)",
          'User.load',
        ],
      ],
    ],
    [
      'function != indx',
      [[12, 16, "no function named 'indx' in this trace (did you mean 'index'?)", 'index']],
    ],
    [
      'module in (app.models, app.veiws, zzz)',
      [
        [
          23,
          32,
          "no module named 'app.veiws' in this trace (did you mean 'app.views'?)",
          'app.views',
        ],
        [34, 37, "no module named 'zzz' in this trace", null],
      ],
    ],
    [
      'module startswith "ap."',
      [[18, 23, "no module in this trace starts with 'ap.' (did you mean 'app.'?)", 'app.']],
    ],
    ['module startswith "app."', []],
    [
      'function endswith ".lod"',
      [[18, 24, "no function in this trace ends with '.lod' (did you mean '.load'?)", '.load']],
    ],
    [
      'function contains "Usr"',
      [[18, 23, "no function in this trace contains 'Usr' (did you mean 'User'?)", 'User']],
    ],
    [
      'exception == ValueEror',
      [
        [
          13,
          22,
          "no exception type named 'ValueEror' in this trace (did you mean 'ValueError'?)",
          'ValueError',
        ],
      ],
    ],
    [
      'exception.type == KeyError or thread == worker-2',
      [[40, 48, "no thread named 'worker-2' in this trace (did you mean 'worker-1'?)", 'worker-1']],
    ],
    ['function ~ "^zz"', [[11, 16, "the pattern '^zz' matches no function in this trace", null]]],
    ['function !~ "^zz"', []],
    ['thread == 12345', []],
    ['return == nothing_like_it', []],
  ];
  for (const [query, expected] of CASES) {
    it(`${query}`, () => {
      const { query: parsed, problems } = analyzeQuery(query, names);
      assert.ok(parsed);
      assert.deepEqual(
        problems.map((p) => [p.start, p.end, p.message, p.suggestion ?? null]),
        expected,
      );
      assert.ok(problems.every((p) => p.severity === 'warning'));
    });
  }

  it('gives a parse error as the only problem, without the position in the message', () => {
    assert.deepEqual(analyzeQuery('fucntion == x', names).problems, [
      {
        severity: 'error',
        start: 0,
        end: 8,
        message: "unknown field 'fucntion' (did you mean 'function'?)",
        suggestion: 'function',
      },
    ]);
  });

  it('does not warn when the trace has no names yet', () => {
    assert.deepEqual(
      analyzeQuery('function == anything', {
        functions: [],
        modules: [],
        exceptionTypes: [],
        threads: [],
      }).problems,
      [],
    );
  });
});
