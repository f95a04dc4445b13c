// The query language compiled to SQL and run by real sql.js over a hand-written trace with the
// store's schema: exact rows for every field and operator, two-valued logic, injection attempts
// that stay values. Touches only its own in-memory databases.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Database } from 'sql.js';
import { compileToSql, selectCalls } from '../../extension/query/compileToSql';
import { parseQuery } from '../../extension/query/parser';
import { registerSqlFunctions } from '../../extension/query/sqlFunctions';
import { openTrace } from './queryTrace';

let db: Database;

function ids(query: string): number[] {
  const filter = compileToSql(parseQuery(query));
  const { sql, params } = selectCalls(filter, { orderBy: 'c.id' });
  const res = db.exec(sql, params);
  const got = res.length ? res[0].values.map((r) => Number(r[0])) : [];
  // The condition is two-valued: never NULL for any row.
  const nulls = db.exec(
    `SELECT count(*) FROM calls c WHERE (${filter.where}) IS NULL`,
    filter.params,
  );
  assert.equal(nulls[0].values[0][0], 0, `NULL rows for ${query}`);
  return got;
}

const CASES: [string, number[]][] = [
  ['', [1, 2, 3, 4, 5, 6, 7]],
  // function / qualname
  ['function == "User.load"', [2, 7]],
  ['function == User.load', [2, 7]],
  ["qualname == 'index'", [1]],
  ['function != "User.load"', [1, 3, 4, 5, 6]],
  ['function ~ "^User\\."', [2, 4, 7]],
  ['function ~ "(?i)^user\\.LOAD$"', [2, 7]],
  ['function !~ "^User"', [1, 3, 5, 6]],
  ['function contains "<locals>"', [6]],
  ['function startswith "User."', [2, 4, 7]],
  ['function endswith ".helper"', [6]],
  ['function endswith ""', [1, 2, 3, 4, 5, 6, 7]],
  ['function in (index, "dumps", nothing)', [1, 3]],
  ['function not in (index, dumps)', [2, 4, 5, 6, 7]],
  ['function not contains "User"', [1, 3, 5, 6]],
  ['function not startswith "User"', [1, 3, 5, 6]],
  ['function not endswith "load"', [1, 3, 4, 5, 6]],
  // module, file, line, kind
  ['module startswith "app." and not module == app.views', [2, 4, 6, 7]],
  ['module == json', [3]],
  ['file endswith "/views.py"', [1, 5]],
  ['filename contains "python3.12"', [3]],
  ['line == 10', [2, 7]],
  ['line != 10', [1, 3, 4, 5, 6]],
  ['line < 30', [1, 2, 7]],
  ['line <= 30', [1, 2, 4, 7]],
  ['line > 40', [3, 6]],
  ['line >= 40', [3, 5, 6]],
  ['line in (5, 183)', [1, 3]],
  ['kind == generator', [4]],
  ['kind == coroutine', [5]],
  ['kind == function', [1, 2, 3, 6, 7]],
  ['kind != function', [4, 5]],
  // thread and process
  ['thread == MainThread', [1, 2, 3, 6]],
  ['thread == "worker-1"', [4, 7]],
  ['thread != MainThread', [4, 5, 7]],
  ['thread == 101', [4, 7]],
  ['thread in (200, MainThread)', [1, 2, 3, 5, 6]],
  ['thread startswith "work"', [4, 7]],
  ['process == 5151', [5]],
  ['pid != 5151', [1, 2, 3, 4, 6, 7]],
  // depth, duration, start
  ['depth == 0', [1, 4, 5, 7]],
  ['depth >= 1', [2, 3, 6]],
  ['depth in (2)', [6]],
  ['duration > 5ms', [1, 2]],
  ['duration >= 6ms', [1, 2]],
  ['duration < 500us', [4, 6]],
  ['duration <= 0.5ms', [3, 4, 6]],
  ['duration == 500ns', [4]],
  ['duration != 500ns', [1, 2, 3, 5, 6, 7]],
  ['duration > 0', [1, 2, 3, 4, 6, 7]],
  ['duration', [1, 2, 3, 4, 6, 7]],
  ['not duration', [5]],
  ['time > 0.001s', [1, 2]],
  ['duration < 1m', [1, 2, 3, 4, 6, 7]],
  ['duration in (1ms, 100µs)', [6, 7]],
  ['start >= 7.5ms', [3, 7]],
  ['start < 2ms', [1, 2, 6]],
  // arguments
  ['arg.user_id == 42', [2]],
  ['arg.user_id == "3"', [7]],
  ['arg.user_id != 42', [1, 3, 4, 5, 6, 7]],
  ['arg.user_id', [2, 7]],
  ['not arg.user_id', [1, 3, 4, 5, 6]],
  ['arg.url contains "tmp"', [5]],
  ['arg.self == "<User>" and not exception', [4]],
  ['arg.request ~ "GET"', [1]],
  ['arg.request in ("\'GET /\'", x)', [1]],
  ['arg == "<User>"', [2, 4, 7]],
  ['arg contains "2"', [2, 3]],
  ['arg != "<User>"', [1, 3, 5, 6]],
  ['arg', [1, 2, 3, 4, 5, 7]],
  ['not arg', [6]],
  ['arg.nope == 1', []],
  // return values
  ['return == None', [1]],
  ['return', [1, 3, 4, 6]],
  ['not return', [2, 5, 7]],
  ['return != None', [2, 3, 4, 5, 6, 7]],
  ['return == 3', [4]],
  ['return contains "[1, 2]"', [3]],
  ["return startswith '\"'", [6]],
  ['return startswith "\'"', [3]],
  ['return endswith "--\\""', [6]],
  ['return ~ "^\\\\d+$"', [4]],
  ['return !~ "None"', [2, 3, 4, 5, 6, 7]],
  // exceptions
  ['exception', [2, 7]],
  ['not exception', [1, 3, 4, 5, 6]],
  ['exception == ValueError', [2]],
  ['exception.type == KeyError', [7]],
  ['exc.type in (KeyError, ValueError)', [2, 7]],
  ['exception.type != KeyError', [1, 2, 3, 4, 5, 6]],
  ['not exception.type == KeyError', [1, 2, 3, 4, 5, 6]],
  ['exception.message contains "bad"', [2]],
  ['exception.message', [2, 7]],
  // logic and grouping
  ['module startswith "app." and duration > 5ms and not exception', [1]],
  ['exception or duration < 1us', [2, 4, 7]],
  ['depth == 0 and (exception or kind == coroutine)', [5, 7]],
  ['depth == 0 and exception or kind == coroutine', [5, 7]],
  ['depth == 1 or depth == 2 and thread == MainThread', [2, 3, 6]],
  ['not (module == app.models or module == json)', [1, 5]],
  ['not not exception', [2, 7]],
  ['module == app.models AND line == 10 Or kind == coroutine', [2, 5, 7]],
  ['(module == app.models and thread == worker-1) or (process == 5151 and line == 40)', [4, 5, 7]],
  ['line == 10 and function == User.load and thread == MainThread and depth == 1', [2]],
  ['# a comment only', [1, 2, 3, 4, 5, 6, 7]],
  ['exception # calls that raised', [2, 7]],
];

describe('compileToSql over real sql.js', () => {
  before(async () => {
    db = await openTrace();
    registerSqlFunctions(db);
  });

  for (const [query, expected] of CASES) {
    it(`${query || '(empty)'} -> [${expected.join(', ')}]`, () => {
      assert.deepEqual(ids(query), expected);
    });
  }

  it('passes every value as a parameter, never in the SQL text', () => {
    const f = compileToSql(
      parseQuery('function == "zz_secret" and duration > 7ms and arg.q == "yy_value"'),
    );
    assert.ok(
      !f.where.includes('zz_secret') &&
        !f.where.includes('yy_value') &&
        !f.where.includes('7000000'),
    );
    assert.deepEqual(f.params, ['zz_secret', 7000000, 'q', 'q', 'yy_value']);
  });

  it('keeps SQL injection attempts as values', () => {
    assert.deepEqual(ids(`function == "x' OR 1=1 --"`), []);
    assert.deepEqual(ids(`function == 'x" OR 1=1 --'`), []);
    assert.deepEqual(ids(`module == "app'); DROP TABLE calls; --"`), []);
    assert.deepEqual(ids(`arg.user_id == "42' OR '1'='1"`), []);
    assert.deepEqual(ids(`arg.user_id in ("1); DELETE FROM calls; --", 2)`), []);
    assert.deepEqual(ids(`function ~ ".*' OR 1=1 --"`), []);
    // The one value that really is that text is found, and only it.
    assert.deepEqual(ids(`return == "\\"'x' OR 1=1 --\\""`), [6]);
    assert.equal(db.exec('SELECT count(*) FROM calls')[0].values[0][0], 7);
  });

  it('compiles conditions on code, threads and processes to sub-selects the indexes can use', () => {
    const f = compileToSql(
      parseQuery('module == a and function == b and duration > 1ms and thread == t'),
    );
    assert.equal(
      f.where,
      '(c.code IN (SELECT k.id FROM codes k JOIN files f ON f.id = k.file WHERE (k.module = ? AND k.qualname = ?)) AND COALESCE((c.end_ns - c.start_ns) > ?, 0) AND c.thread IN (SELECT t.id FROM threads t WHERE COALESCE(t.name = ?, 0)))',
    );
    assert.deepEqual(f.params, ['a', 'b', 1000000, 't']);
    const plan = db.exec(
      `EXPLAIN QUERY PLAN SELECT c.id FROM calls c WHERE ${compileToSql(parseQuery('function == index')).where}`,
      ['index'],
    );
    assert.match(JSON.stringify(plan[0].values), /calls_code/);
  });

  it('selectCalls pages with parameters', () => {
    const { sql, params } = selectCalls(compileToSql(parseQuery('depth == 0')), {
      limit: 2,
      offset: 1,
    });
    assert.equal(
      sql,
      'SELECT c.id FROM calls c WHERE c.depth = ? ORDER BY c.start_ns, c.id LIMIT ? OFFSET ?',
    );
    assert.deepEqual(db.exec(sql, params)[0].values, [[4], [5]]);
  });
});
