// Filters and the Chrome export treat a structured value (`values: "structured"`, wire.ts
// STRUCTURED_PREFIX + JSON) as its repr, exactly as the same value recorded as a plain repr. Real
// sql.js stores (in-process) fed by the real tracer: its value code (make_repr) for a hand-made
// live stream, and `python -m tracelens run --values structured|repr --output` on one fixture for
// opened trace files. Every filter is asked of the in-memory tracks and of SQL, in both twins.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import './fixtures/sqlText';
import initSqlJs from 'sql.js';
import type { Batch, Event } from '../../adapter/protocol/wire';
import { STRUCTURED_PREFIX } from '../../adapter/protocol/wire';
import { valueTextSql } from '../../extension/query/compileToSql';
import type { QueryResult } from '../../extension/store/api';
import type { TraceQueries } from '../../extension/store/queries';
import { TraceStore } from '../../extension/store/traceStore';
import { valueText } from '../../extension/valueSnapshot';
import { effectiveFilter } from '../../webview/flame/filterQuery';
import { helloOf, keyOf, ROOT } from './fixtures/storeStreams';

const TRACER_DIR = path.join(ROOT, 'adapter', 'python');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'structured_values.py');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-structured-'));
let SQL: initSqlJs.SqlJsStatic;

before(async () => {
  SQL = await initSqlJs();
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const python = (script: string): string =>
  execFileSync('python3', ['-c', script], {
    env: { ...process.env, PYTHONPATH: TRACER_DIR },
    encoding: 'utf8',
  });

const sqlOf = (store: TraceStore): TraceQueries =>
  (store as unknown as { queries: TraceQueries }).queries;
const dbOf = (store: TraceStore): initSqlJs.Database =>
  (store as unknown as { db: initSqlJs.Database }).db;

/** Matches of a filter in the tracks and in SQL (asserted equal): [total, ids]. */
function matches(store: TraceStore, filter: string): [number, number[]] {
  const brief = (r: QueryResult): [number, number[]] => [r.total, r.calls.map((c) => c.id)];
  const mem = brief(store.query(filter, 0, 1000));
  assert.deepEqual(brief(sqlOf(store).query(filter, 0, 1000)), mem, `tracks = SQL: ${filter}`);
  return mem;
}

/** functionStats under a filter: calls per function, by name (the order follows times). */
const perFunction = (store: TraceStore, filter: string): string[] =>
  store
    .functionStats(filter)
    .map((s) => `${s.qualname} ${s.calls}`)
    .sort();

describe('the SQL value text', () => {
  test('equals valueText() for snapshots of the real tracer and for odd strings', () => {
    const made = JSON.parse(
      python(`
import collections, dataclasses, json, sys
from tracelens.values import make_repr
@dataclasses.dataclass
class P:
    x: int
    s: str
N = collections.namedtuple("N", "a b")
rep = make_repr(structured=True, depth=2, width=3)
vals = [P(1, 'é "q" \\\\ \\n ✓'), N(1, [2]), {"k": (1,)}, list(range(50)), {4}, 7, "text",
        [[["\\u2026"]]], [{"k%d" % i: list(range(40)) for i in range(8)} for _ in range(8)]]
json.dump([rep(v) for v in vals], sys.stdout)
`),
    ) as string[];
    assert.ok(made.filter((t) => t.startsWith(STRUCTURED_PREFIX)).length >= 6);
    const P = STRUCTURED_PREFIX;
    const odd = [
      '',
      'plain',
      P,
      `${P}not json`,
      `${P}[1, 2]`,
      `${P}{"t":"x","r":5}`,
      `${P}{"t":"x"}`,
      `${P}"just a string"`,
      `${P}{"r":"a\\u00e9\\"b"}`,
      `${P}{"r":null}`,
      `x${P}{"r":"y"}`,
    ];
    const db = new SQL.Database();
    db.exec('CREATE TABLE s (text TEXT NOT NULL)');
    for (const t of [...made, ...odd]) db.run('INSERT INTO s VALUES (?)', [t]);
    const got = db.exec(`SELECT text, ${valueTextSql('text')} FROM s ORDER BY rowid`)[0].values;
    assert.deepEqual(
      got.map((r) => r[1]),
      [...made, ...odd].map(valueText),
    );
    assert.equal(got[0][1], 'P(x=1, s=\'é "q" \\\\ \\n ✓\')');
    db.close();
  });
});

describe('a live stream of the tracer value code', () => {
  // f(v) returns v for each value; g(a, b) with two values; the strings come from make_repr in
  // repr mode for one store and in structured mode for its twin, on the same events.
  let twins: { structured: string[]; repr: string[] };
  const stores: TraceStore[] = [];
  after(() => stores.forEach((s) => s.close()));

  before(() => {
    twins = JSON.parse(
      python(`
import collections, dataclasses, json, sys
from tracelens.values import make_repr
@dataclasses.dataclass
class Point:
    x: int
    y: int
Pair = collections.namedtuple("Pair", "left right")
vals = [[0, 1], [], {"w": 1, "list": [2]}, Point(3, 4), Pair((5,), "s"), (6, 7), {8},
        frozenset(), list(range(30)), 42, "str", None, [["deep", ["er"]]], {"t": "r"}]
json.dump({"structured": [make_repr(structured=True)(v) for v in vals],
           "repr": [make_repr()(v) for v in vals]}, sys.stdout)
`),
    ) as { structured: string[]; repr: string[] };
  });

  const hello = helloOf('/s/prog.py');

  function feed(values: string[]): TraceStore {
    const n = values.length;
    const events: Event[] = [[1, 1, 1, 0]];
    let t = 10;
    for (let i = 0; i < n; i++) {
      events.push([1, 1, 2, (t += 10), i + 1]);
      events.push([2, 1, 2, (t += 10), 4, i + 1]);
      const j = (i * 5 + 3) % n;
      events.push([1, 1, 3, (t += 10), i + 1, j + 1]);
      events.push([2, 1, 3, (t += 10), 9, j + 1]);
    }
    const batch: Batch = {
      t: 'batch',
      seq: 1,
      strings: values.map((v, i): [number, string] => [i + 1, v]),
      files: [[1, '/s/prog.py']],
      codes: [
        [1, 1, '__main__', '<module>', 1, [], 0],
        [2, 1, '__main__', 'f', 3, ['v'], 0],
        [3, 1, '__main__', 'g', 8, ['a', 'b'], 0],
      ],
      threads: [[1, 11, 'MainThread']],
      events,
      dropped: 0,
    };
    const store = new TraceStore(SQL);
    stores.push(store);
    store.hello(keyOf(1), hello);
    store.batch(keyOf(1), batch);
    return store;
  }

  const FILTERS = [
    'return == "[0, 1]"',
    'arg.v == "Point(x=3, y=4)"',
    'arg.v != "[]"',
    'arg.v in ("(6, 7)", "{8}", "frozenset()")',
    'arg.v contains "list"',
    'arg contains "list"',
    'return contains "\\"t\\""',
    'return contains "\\"r\\""',
    'arg.a startswith "["',
    'arg.b endswith "]"',
    'return ~ "^Pair\\(left="',
    'return !~ "^[\\[{(]"',
    'arg.v == 42',
    'arg.v in (42, "None")',
    "arg == \"{'t': 'r'}\"",
    'arg != "None"',
    'function == g and arg.a contains "deep"',
    effectiveFilter('list', 'text'),
    effectiveFilter('Pair(left=(5,)', 'text'),
    effectiveFilter('"i":', 'text'),
  ];

  test('every value filter matches the same calls as on the plain reprs', () => {
    const structured = feed(twins.structured);
    const repr = feed(twins.repr);
    const db = dbOf(structured);
    const raw = db.exec(`SELECT count(*) FROM strings WHERE unicode(text) = 30`)[0].values[0][0];
    assert.ok((raw as number) >= 10, `structured strings stored (${raw})`);
    let total = 0;
    for (const f of FILTERS) {
      const r = matches(repr, f);
      assert.deepEqual(matches(structured, f), r, f);
      total += r[0];
      assert.deepEqual(perFunction(structured, f), perFunction(repr, f), `functionStats: ${f}`);
    }
    assert.ok(total > 50, `the filters match calls (${total})`);
    // Exact: the words of the snapshots' JSON match nothing; the repr's text does.
    // {'w': 1, 'list': [2]}: f's argument (i = 2), g's first (i = 2) and second (i = 11).
    assert.equal(matches(structured, 'arg contains "list"')[0], 3);
    assert.equal(matches(structured, 'return contains "\\"t\\""')[0], 0);
    assert.deepEqual(matches(structured, 'arg.v == "Point(x=3, y=4)"'), [1, [8]]); // f, the 4th value
    assert.equal(matches(structured, effectiveFilter('"i":', 'text'))[0], 0);
  });
});

describe('trace files of the real tracer, structured and repr', () => {
  const stores: Record<'structured' | 'repr', TraceStore> = {} as never;
  /** Call id -> position in start order, per store. */
  const order: Record<string, Map<number, number>> = {};
  before(() => {
    for (const mode of ['structured', 'repr'] as const) {
      const file = path.join(tmp, `${mode}.db`);
      execFileSync(
        'python3',
        ['-m', 'tracelens', 'run', '--values', mode, '--output', file, '--', FIXTURE],
        { env: { ...process.env, PYTHONPATH: TRACER_DIR, PYTHONHASHSEED: '0' }, stdio: 'pipe' },
      );
      const store = new TraceStore(SQL);
      store.open(file);
      stores[mode] = store;
      order[mode] = new Map(store.query('', 0, 10_000).calls.map((c, i) => [c.id, i]));
    }
  });
  after(() => Object.values(stores).forEach((s) => s.close()));

  /** Positions and functions of the matching calls, the same in the tracks and in SQL. */
  const found = (mode: 'structured' | 'repr', filter: string): string[] => {
    const [, ids] = matches(stores[mode], filter);
    const rows = stores[mode].query(filter, 0, 1000).calls;
    return ids.map((id, i) => `${order[mode].get(id)}:${rows[i].qualname}`);
  };

  const FILTERS = [
    "return == \"{'w': 1, 'h': 2, 'a': 2}\"",
    'arg.p == "Point(x=2, y=3)"',
    'arg.items startswith "[0, 1"',
    'arg.items == "[]"',
    'arg.items != "[]"',
    'arg.b in ("{\'n\': 0}", "{\'n\': 3}")',
    'arg.box == "<Box object>"',
    'arg.box contains "label"',
    'arg.tags contains "\'int\'"',
    "return == \"('b1', ['int', 't1'])\"",
    'return ~ "^Pair\\("',
    'return endswith "…"',
    'return contains "list"',
    'arg contains "list"',
    'arg contains "\\"t\\":"',
    'arg.d contains "key2"',
    'function == pair and arg.a == "(1,)"',
    'not return contains "k"',
    'exception.type == KeyError and exception.message contains "missing"',
    effectiveFilter('Point', 'text'),
    effectiveFilter('"n":', 'text'),
  ];

  test('every value filter matches the same calls as on the plain reprs', () => {
    const raw = dbOf(stores.structured).exec(
      'SELECT count(*) FROM strings WHERE unicode(text) = 30',
    )[0].values[0][0] as number;
    assert.ok(raw >= 20, `the tracer stored structured values (${raw})`);
    assert.equal(order.structured.size, order.repr.size);
    for (const f of FILTERS) {
      assert.deepEqual(found('structured', f), found('repr', f), f);
      assert.deepEqual(perFunction(stores.structured, f), perFunction(stores.repr, f), f);
    }
    assert.deepEqual(found('structured', "return == \"{'w': 1, 'h': 2, 'a': 2}\"").length, 1);
    assert.deepEqual(
      found('structured', 'return contains "list"').map((s) => s.split(':')[1]),
      ['steps', 'steps'], // the yielded [i, 'list']
    );
    assert.equal(found('structured', 'arg contains "\\"t\\":"').length, 0);
    assert.deepEqual(
      found('structured', effectiveFilter('Point', 'text')).map((s) => s.split(':')[1]),
      ['Point', 'area', 'area', 'area', 'area'], // the class body, then area(Point(...))
    );
  });

  test('the Chrome export writes the repr of a structured value, as the repr twin does', () => {
    const events = (mode: 'structured' | 'repr'): unknown[] => {
      const out = path.join(tmp, `${mode}.json`);
      stores[mode].exportChrome(out);
      const data = JSON.parse(readFileSync(out, 'utf8')) as {
        traceEvents: { ph: string; name: string; args: Record<string, unknown> }[];
      };
      return data.traceEvents
        .filter((e) => e.ph === 'X')
        .map((e) => [e.name, e.args.args, e.args.return, e.args.yielded, e.args.exception]);
    };
    const structured = events('structured');
    assert.deepEqual(structured, events('repr'));
    assert.ok(!JSON.stringify(structured).includes(STRUCTURED_PREFIX));
    assert.deepEqual(
      structured.find((e) => (e as unknown[])[0] === 'area'),
      ['area', { p: 'Point(x=0, y=1)' }, "{'w': 0, 'h': 1, 'a': 0}", undefined, undefined],
    );
  });
});
