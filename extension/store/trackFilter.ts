// Evaluates a query-language sentence on the in-memory tracks (trackIndex.ts) instead of SQL when
// it only names what the tracks hold: code (function, module, file, line, kind, `arg.NAME` alone),
// thread, process, depth, duration, start, and `exception` alone. Code, thread and process
// conditions are decided once per code / thread / process row by the SQL the query compiler
// makes (compileToSql, so the meaning is the same), everything else per call from the arrays.
// Sentences naming values (arguments, return values, exception types) give undefined: SQL
// answers them. Runs inside the store worker; reads the database, never writes.

import type initSqlJs from 'sql.js';
import type { Expr, Query, Value } from '../query/ast';
import { compileToSql } from '../query/compileToSql';
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
    throw new NotInMemory();
  }
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
