// Completion and hover for a query being typed (what the language server and the filter box
// offer): fields, operators that fit the field, values from the trace, keywords; the range a
// choice replaces; hover texts. Pure; touches nothing.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completeAt, writeValue } from '../../extension/query/complete';
import { hoverAt } from '../../extension/query/hover';
import type { TraceNames } from '../../extension/query/lspProtocol';
import { FIELDS } from '../../extension/query/vocabulary';

const names: TraceNames = {
  functions: ['main', 'Parser.parse', 'and'],
  modules: ['app', 'app.parser'],
  exceptionTypes: ['ValueError'],
  threads: ['MainThread', 'Thread-1 (worker)'],
};

/** Completes at the `|` in the text. */
function complete(marked: string) {
  const offset = marked.indexOf('|');
  const text = marked.replace('|', '');
  const r = completeAt(text, offset, names);
  return {
    from: r.from,
    to: r.to,
    labels: r.items.map((i) => i.label),
    inserts: r.items.map((i) => i.insertText),
  };
}

const FIELD_LABELS = [...FIELDS.map((f) => (f.name === 'arg.' ? 'arg.NAME' : f.name)), 'not'];
const TEXT_OPS = [
  '==',
  '!=',
  '~',
  '!~',
  'contains',
  'startswith',
  'endswith',
  'in',
  'not in',
  'not contains',
  'not startswith',
  'not endswith',
];

describe('completeAt', () => {
  it('offers fields (and not) where a condition starts', () => {
    for (const q of ['|', 'exception and |', 'not |', '(|', 'exception or (depth > 1 and |']) {
      assert.deepEqual(complete(q).labels, FIELD_LABELS, q);
    }
  });

  it('replaces the whole word being typed', () => {
    assert.deepEqual(complete('exception and mod|ule == app'), {
      ...complete('exception and mod|ule == app'),
      from: 14,
      to: 20,
    });
    const r = complete('dur|');
    assert.equal(r.from, 0);
    assert.equal(r.to, 3);
    assert.ok(r.labels.includes('duration'));
  });

  it('offers the operators that fit the field', () => {
    assert.deepEqual(complete('function |').labels, TEXT_OPS);
    assert.deepEqual(complete('line |').labels, ['==', '!=', 'in', '<', '<=', '>', '>=', 'not in']);
    assert.deepEqual(complete('exception |').labels, [...TEXT_OPS, 'and', 'or']);
    assert.deepEqual(complete('(exception |').labels, [...TEXT_OPS, 'and', 'or', ')']);
    assert.deepEqual(complete('function in|').labels, TEXT_OPS); // still typing the operator word
    assert.equal(complete('function |').inserts[7], 'in (');
    assert.deepEqual(complete('function not |').labels, [
      'in',
      'contains',
      'startswith',
      'endswith',
    ]);
    assert.deepEqual(complete('depth not |').labels, ['in']);
  });

  it('offers values from the trace, written bare or quoted as needed', () => {
    assert.deepEqual(complete('function == |'), {
      from: 12,
      to: 12,
      labels: ['Parser.parse', 'and', 'main'],
      inserts: ['Parser.parse', '"and"', 'main'],
    });
    assert.deepEqual(complete('thread == Ma|').inserts, ['MainThread', '"Thread-1 (worker)"']);
    assert.deepEqual(complete('module startswith "ap|'), {
      from: 18,
      to: 21,
      labels: ['app', 'app.parser'],
      inserts: ['"app"', '"app.parser"'],
    });
    assert.deepEqual(complete('exception.type in (|').labels, ['ValueError']);
    assert.deepEqual(complete('exc in (KeyError, |').labels, ['ValueError']);
    assert.deepEqual(complete('kind == |').labels, [
      'function',
      'generator',
      'coroutine',
      'asyncgen',
    ]);
    assert.deepEqual(complete('duration > |').labels, ['1ms', '10ms', '100ms', '1s']);
    assert.deepEqual(complete('return == |').labels, []);
  });

  it('offers what may follow a value or a list', () => {
    assert.deepEqual(complete('module == app |').labels, ['and', 'or']);
    assert.deepEqual(complete('(module == app |').labels, ['and', 'or', ')']);
    assert.deepEqual(complete('module in (app |').labels, [',', ')']);
    assert.deepEqual(complete('module in |').labels, ['(']);
    assert.deepEqual(complete('(depth > 1) |').labels, ['and', 'or']);
  });

  it('offers nothing where the query is already wrong', () => {
    assert.deepEqual(complete('zzz |').labels, []);
    assert.deepEqual(complete('module == app app |').labels, []);
  });

  it('writes values bare only when they read back the same', () => {
    assert.equal(writeValue('app.models'), 'app.models');
    assert.equal(writeValue('worker-1'), 'worker-1');
    assert.equal(writeValue('main.<locals>.f'), '"main.<locals>.f"');
    assert.equal(writeValue('not'), '"not"');
    assert.equal(writeValue('a "b"\\'), '"a \\"b\\"\\\\"');
  });
});

describe('hoverAt', () => {
  it('documents fields, with aliases, bare meaning and example', () => {
    const h = hoverAt('exc and arg.user_id == 1', 1)!;
    assert.deepEqual([h.start, h.end], [0, 3]);
    assert.equal(
      h.markdown,
      '**exception** — text (also written exc)\n\nAlone: the call ended by an exception. Compared: the type of that exception (the same as `exception.type`).\n\nAlone, `exc` means: the call ended by an exception.\n\nExample: `exception == ValueError`',
    );
    assert.match(
      hoverAt('exc and arg.user_id == 1', 10)!.markdown,
      /^\*\*arg\.user_id\*\* — text\n\nThe recorded value/,
    );
    assert.match(
      hoverAt('kind == generator', 0)!.markdown,
      /Values: function, generator, coroutine, asyncgen\./,
    );
  });

  it('documents operators and keywords, and sizes durations', () => {
    assert.match(
      hoverAt('module startswith app', 9)!.markdown,
      /^\*\*startswith\*\* \(text\)\n\nThe text starts with this/,
    );
    assert.match(hoverAt('depth <= 2', 7)!.markdown, /^\*\*<=\*\* \(number, duration\)/);
    assert.match(
      hoverAt('exception or return', 10)!.markdown,
      /^\*\*or\*\*\n\nEither side may hold/,
    );
    assert.equal(hoverAt('duration > 2m', 12)!.markdown, '**2m** = 120,000,000,000 ns');
  });

  it('says nothing on values, strings and blanks, and still works before an error', () => {
    assert.equal(hoverAt('function == module', 14), null);
    assert.equal(hoverAt('module in (depth)', 12), null);
    assert.equal(hoverAt('function == "module"', 14), null);
    assert.equal(hoverAt('exception  or', 10), null);
    assert.match(hoverAt('depth > 1 and $', 1)!.markdown, /^\*\*depth\*\*/);
  });
});
