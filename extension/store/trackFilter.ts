// Evaluates a query-language sentence on the in-memory tracks (trackIndex.ts) instead of SQL: code
// (function, module, file, line, kind, `arg.NAME` alone), thread, process, depth, duration, start,
// `exception` alone, and values (`return`, `exception`, `exception.type`, `exception.message`,
// `arg.NAME`, `arg`). Code, thread and process conditions are decided once per code / thread /
// process row, value conditions once per row of the strings table, by the SQL the query compiler
// makes (compileToSql, so the meaning is the same); everything else per call from the arrays.
// Sentences it cannot answer give undefined: SQL answers them. Runs inside the store worker;
// reads the database, never writes.

import type initSqlJs from 'sql.js';
import type { Expr, Query, Value } from '../query/ast';
import { compileToSql } from '../query/compileToSql';
import { lookupField } from '../query/vocabulary';
import type { Track } from './trackIndex';

type Database = initSqlJs.Database;

/** Whether the call at index i of a track matches. */
export type TrackPredicate = (t: Track, i: number) => boolean;

type Domain = 'code' | 'thread' | 'process';

/** Table and column standing for `calls c` when only one domain is asked. */
const DOMAIN_ROWS: Record<Domain, string> = {
  code: 'SELECT id AS code FROM codes',
  thread: 'SELECT id AS thread FROM threads',
  process: 'SELECT id AS process FROM processes',
};

function domainOf(e: Expr): Domain | 'call' | undefined {
  switch (e.type) {
    case 'and':
    case 'or':
    case 'not':
      return undefined;
    default: {
      const def = e.field.def;
      if (def.code || (def.name === 'arg.' && e.type === 'has')) return 'code';
      if (def.name === 'thread') return 'thread';
      if (def.name === 'process') return 'process';
      return 'call';
    }
  }
}

/** The predicate for a parsed query, or undefined when SQL has to answer it. */
export function compileToTrackFilter(db: Database, query: Query): TrackPredicate | undefined {
  if (!query.expr) return () => true;
  try {
    return compile(db, query.expr);
  } catch (e) {
    if (e instanceof NotInMemory) return undefined;
    throw e;
  }
}

class NotInMemory extends Error {}

function compile(db: Database, e: Expr): TrackPredicate {
  switch (e.type) {
    case 'and': {
      const parts = e.items.map((x) => compile(db, x));
      return (t, i) => parts.every((p) => p(t, i));
    }
    case 'or': {
      const parts = e.items.map((x) => compile(db, x));
      return (t, i) => parts.some((p) => p(t, i));
    }
    case 'not': {
      const inner = compile(db, e.expr);
      return (t, i) => !inner(t, i);
    }
    default:
      break;
  }
  const domain = domainOf(e)!;
  if (domain !== 'call') {
    const ids = rowsMatching(db, domain, e);
    const column = domain === 'code' ? 'code' : domain;
    if (column === 'code') return (t, i) => ids.has(t.code[i]);
    if (column === 'thread') return (t) => ids.has(t.thread);
    return (t) => ids.has(t.process);
  }
  const name = e.field.def.name;
  if (e.type === 'has') {
    if (name === 'duration') return (t, i) => t.end[i] === t.end[i];
    if (name === 'exception') return (t, i) => (t.flags[i] & 4) !== 0;
    if (name === 'return') return (t, i) => t.ret[i] !== -1;
    if (name === 'exception.type') return (t, i) => t.excType[i] !== -1;
    if (name === 'exception.message') return (t, i) => t.excMessage[i] !== -1;
    if (name === 'arg') return (t, i) => t.argOff[i + 1] > t.argOff[i];
    throw new NotInMemory();
  }
  if (name in VALUE_COLUMNS || name === 'arg.' || name === 'arg') return valueFilter(db, e);
  let value: (t: Track, i: number) => number;
  switch (name) {
    case 'depth':
      value = (t, i) => t.depth[i];
      break;
    case 'start':
      value = (t, i) => t.start[i];
      break;
    case 'duration':
      value = (t, i) => t.end[i] - t.start[i]; // NaN while running
      break;
    default:
      throw new NotInMemory();
  }
  const num = (v: Value): number => {
    if (typeof v.value !== 'number') throw new NotInMemory();
    return v.value;
  };
  if (e.type === 'in') {
    const set = new Set(e.values.map(num));
    return (t, i) => set.has(value(t, i));
  }
  const v = num(e.value);
  // NaN (no value) fails every comparison, and `!=` is exactly not `==` (as in compileToSql).
  switch (e.op) {
    case '==':
      return (t, i) => value(t, i) === v;
    case '!=':
      return (t, i) => !(value(t, i) === v);
    case '<':
      return (t, i) => value(t, i) < v;
    case '<=':
      return (t, i) => value(t, i) <= v;
    case '>':
      return (t, i) => value(t, i) > v;
    case '>=':
      return (t, i) => value(t, i) >= v;
    default:
      throw new NotInMemory();
  }
}

/** The calls column holding each value field's strings id (as in compileToSql). */
const VALUE_COLUMNS: Record<string, 'ret' | 'excType' | 'excMessage'> = {
  return: 'ret',
  exception: 'excType',
  'exception.type': 'excType',
  'exception.message': 'excMessage',
};

const RETURN_FIELD = lookupField('return')!;

/**
 * Which strings a value condition holds for, and whether it holds for no value (NULL): the
 * condition is asked as if of `return`, through compileToSql, of every row of the strings table
 * and of a NULL, so `==`, `~`, `contains`, `in`, comparisons and the two-valued `!=` / `!~` mean
 * exactly what they mean in SQL. The arg.NAME and `return` conditions give the same answer for
 * a given text or NULL (compileToSql wraps both in COALESCE(..., 0)).
 */
function stringsMatching(
  db: Database,
  e: Exclude<Expr, { type: 'and' | 'or' | 'not' | 'has' }>,
): { ids: Uint8Array; none: boolean } {
  const asReturn = { ...e, field: { ...e.field, def: RETURN_FIELD, argName: undefined } } as Expr;
  const { where, params } = compileToSql(asReturn);
  const max = db.exec('SELECT max(id) FROM strings')[0]?.values[0][0];
  const ids = new Uint8Array((typeof max === 'number' ? max : 0) + 1);
  const s = db.prepare(
    `SELECT c.return_value FROM (SELECT id AS return_value FROM strings) c WHERE ${where}`,
  );
  try {
    s.bind(params);
    while (s.step()) ids[s.get()[0] as number] = 1;
  } finally {
    s.free();
  }
  const n = db.prepare(`SELECT count(*) FROM (SELECT NULL AS return_value) c WHERE ${where}`);
  let none = false;
  try {
    n.bind(params);
    n.step();
    none = (n.get()[0] as number) > 0;
  } finally {
    n.free();
  }
  return { ids, none };
}

/** A condition on a value (return, exception type or message, one argument, any argument). */
function valueFilter(
  db: Database,
  e: Exclude<Expr, { type: 'and' | 'or' | 'not' | 'has' }>,
): TrackPredicate {
  const name = e.field.def.name;
  const column = VALUE_COLUMNS[name];
  if (column) {
    const { ids, none } = stringsMatching(db, e);
    return (t, i) => {
      const v = t[column][i];
      return v === -1 ? none : ids[v] === 1;
    };
  }
  if (name === 'arg') {
    // Some argument's value matches the positive condition; `!=` / `!~`: none does.
    const negated = e.type === 'compare' && (e.op === '!=' || e.op === '!~');
    const positive = negated ? ({ ...e, op: e.op === '!=' ? '==' : '~' } as typeof e) : e;
    const { ids } = stringsMatching(db, positive);
    return (t, i) => {
      const a = t.argIds;
      for (let k = t.argOff[i], end = t.argOff[i + 1]; k < end; k++) {
        const v = a[k];
        if (v !== -1 && ids[v] === 1) return !negated;
      }
      return negated;
    };
  }
  // arg.NAME: the argument at that parameter's position in the call's code (first one named so).
  const at = new Map<number, number>();
  const s = db.prepare(
    'SELECT k.id, min(an.key) FROM codes k JOIN json_each(k.argnames) an WHERE an.value = ? GROUP BY k.id',
  );
  try {
    s.bind([e.field.argName!]);
    while (s.step()) {
      const r = s.get();
      at.set(r[0] as number, r[1] as number);
    }
  } finally {
    s.free();
  }
  let maxCode = 0;
  for (const code of at.keys()) if (code > maxCode) maxCode = code;
  const index = new Int32Array(maxCode + 2).fill(-1);
  for (const [code, k] of at) index[code] = k;
  const { ids, none } = stringsMatching(db, e);
  return (t, i) => {
    const code = t.code[i];
    const k = code <= maxCode ? index[code] : -1;
    if (k < 0) return none;
    const p = t.argOff[i] + k;
    const v = p < t.argOff[i + 1] ? t.argIds[p] : -1;
    return v === -1 ? none : ids[v] === 1;
  };
}

/** Ids of the codes / threads / processes a condition holds for, through the compiled SQL. */
function rowsMatching(db: Database, domain: Domain, e: Expr): Set<number> {
  const { where, params } = compileToSql(e);
  const s = db.prepare(`SELECT c.${domain} FROM (${DOMAIN_ROWS[domain]}) c WHERE ${where}`);
  const out = new Set<number>();
  try {
    s.bind(params);
    while (s.step()) out.add(s.get()[0] as number);
  } finally {
    s.free();
  }
  return out;
}
