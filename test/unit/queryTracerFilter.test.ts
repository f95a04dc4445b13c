// Queries compiled to the tracer's include/exclude module globs, checked against Python's own
// fnmatchcase (the tracer's matcher, adapter/python/tracelens/scope.py) on a set of module names:
// the globs must select exactly the modules the query selects. Runs python3; touches no files.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { compileToTracerFilter, escapeGlob } from '../../extension/query/compileToTracerFilter';
import { parseQuery } from '../../extension/query/parser';

const MODULES = [
  'app',
  'app.models',
  'app.views',
  'app.tests.test_models',
  'apple',
  'json',
  'json.decoder',
  'tests.conftest',
  'we*ird[1]?',
];

/** Which modules the tracer would record with these globs (include [] is not used here). */
function pythonSelects(include: string[], exclude: string[]): string[] {
  const script = `
import json, sys
from fnmatch import fnmatchcase
inc, exc, mods = json.loads(sys.argv[1])
print(json.dumps([m for m in mods if any(fnmatchcase(m, g) for g in inc) and not any(fnmatchcase(m, g) for g in exc)]))
`;
  return JSON.parse(
    execFileSync('python3', ['-c', script, JSON.stringify([include, exclude, MODULES])], {
      encoding: 'utf8',
    }),
  );
}

const EXACT: [string, string[], string[], string[]][] = [
  ['module == app.models', ['app.models'], [], ['app.models']],
  ['module startswith "app."', ['app.*'], [], ['app.models', 'app.views', 'app.tests.test_models']],
  ['module endswith ".conftest"', ['*.conftest'], [], ['tests.conftest']],
  ['module contains "test"', ['*test*'], [], ['app.tests.test_models', 'tests.conftest']],
  ['module in (app, json)', ['app', 'json'], [], ['app', 'json']],
  [
    'module == app or module startswith "app."',
    ['app', 'app.*'],
    [],
    ['app', 'app.models', 'app.views', 'app.tests.test_models'],
  ],
  [
    'module startswith app and not module contains test',
    ['app*'],
    ['*test*'],
    ['app', 'app.models', 'app.views', 'apple'],
  ],
  [
    'not module startswith "json"',
    ['*'],
    ['json*'],
    [
      'app',
      'app.models',
      'app.views',
      'app.tests.test_models',
      'apple',
      'tests.conftest',
      'we*ird[1]?',
    ],
  ],
  [
    'module != json and module not startswith "app"',
    ['*'],
    ['json', 'app*'],
    ['json.decoder', 'tests.conftest', 'we*ird[1]?'],
  ],
  [
    'module not in (app, apple)',
    ['*'],
    ['app', 'apple'],
    [
      'app.models',
      'app.views',
      'app.tests.test_models',
      'json',
      'json.decoder',
      'tests.conftest',
      'we*ird[1]?',
    ],
  ],
  [
    'not (module == json or module == app)',
    ['*'],
    ['json', 'app'],
    [
      'app.models',
      'app.views',
      'app.tests.test_models',
      'apple',
      'json.decoder',
      'tests.conftest',
      'we*ird[1]?',
    ],
  ],
  [
    'not (not module startswith "app.")',
    ['app.*'],
    [],
    ['app.models', 'app.views', 'app.tests.test_models'],
  ],
  ['module == "we*ird[1]?"', ['we[*]ird[[]1][?]'], [], ['we*ird[1]?']],
  [
    '(module startswith app. or module == json) and not module contains tests',
    ['app.*', 'json'],
    ['*tests*'],
    ['app.models', 'app.views', 'json'],
  ],
];

describe('compileToTracerFilter', () => {
  for (const [query, include, exclude, selected] of EXACT) {
    it(`${query} -> include ${JSON.stringify(include)} exclude ${JSON.stringify(exclude)}`, () => {
      const r = compileToTracerFilter(parseQuery(query));
      assert.deepEqual(r, { ok: true, include, exclude });
      assert.deepEqual(pythonSelects(include, exclude), selected);
    });
  }

  it('gives the default scope for an empty query', () => {
    assert.deepEqual(compileToTracerFilter(parseQuery('  # nothing')), {
      ok: true,
      include: [],
      exclude: [],
    });
  });

  it('escapes glob characters', () => {
    assert.equal(escapeGlob('a*b?c[d]'), 'a[*]b[?]c[[]d]');
  });

  const REFUSED: [string, RegExp, number][] = [
    [
      'function == main',
      /selects modules only, so 'function' can filter the recorded calls but not what is recorded/,
      0,
    ],
    ['module == app and file endswith "x.py"', /selects modules only, so 'file'/, 18],
    ['duration > 5ms', /'duration' is known only as a call runs/, 0],
    ['module ~ "^app"', /a regular expression \('~'\) cannot be turned into one exactly/, 7],
    [
      'module startswith app and module endswith models',
      /two module conditions joined by 'and'/,
      0,
    ],
    ['module == app or not module == json', /'or' with a condition that leaves modules out/, 0],
    [
      'not (module startswith app and not module == app.views)',
      /'not' around both included and excluded modules/,
      0,
    ],
    ['exception', /'exception' is known only as a call runs/, 0],
  ];
  for (const [query, reason, offset] of REFUSED) {
    it(`refuses ${query}, saying why`, () => {
      const r = compileToTracerFilter(parseQuery(query));
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.match(r.reason, reason);
      assert.equal(r.span?.start, offset);
    });
  }
});
