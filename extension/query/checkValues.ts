// Warnings for values that match nothing in the current trace (`function == mian` when the trace
// has `main`), with a "did you mean" from the names the store reports. Used by the language
// server and the filter box; the query still runs. Pure; imports nothing from vscode.

import type { Expr, FieldRef, Query, Value } from './ast';
import { didYouMean } from './didYouMean';
import type { QueryProblem, TraceNames } from './lspProtocol';
import { compileRegExp } from './regexp';
import type { NamesKey } from './vocabulary';

const NOUN: Record<NamesKey, string> = {
  functions: 'function',
  modules: 'module',
  exceptionTypes: 'exception type',
  threads: 'thread',
};

/** One warning per value of a named field (function, module, exception type, thread) that matches no name. */
export function checkValues(query: Query | null, names: TraceNames): QueryProblem[] {
  const problems: QueryProblem[] = [];
  const visit = (e: Expr): void => {
    switch (e.type) {
      case 'and':
      case 'or':
        e.items.forEach(visit);
        return;
      case 'not':
        visit(e.expr);
        return;
      case 'has':
        return;
      case 'in':
        for (const v of e.values) check(e.field, '==', v);
        return;
      case 'compare':
        check(e.field, e.op, e.value);
    }
  };
  const check = (field: FieldRef, op: string, v: Value): void => {
    const key = field.def.names;
    if (!key || v.kind !== 'string') return;
    const list = names[key];
    if (!list.length) return;
    const s = String(v.value);
    const noun = NOUN[key];
    let matches: (n: string) => boolean;
    let candidates: () => Iterable<string>;
    let what: string;
    switch (op) {
      case '==':
      case '!=':
        matches = (n) => n === s;
        candidates = () => list;
        what = `no ${noun} named ${quote(s)} in this trace`;
        break;
      case 'startswith':
        matches = (n) => n.startsWith(s);
        candidates = () => slices(list, s.length, (n, k) => n.slice(0, k));
        what = `no ${noun} in this trace starts with ${quote(s)}`;
        break;
      case 'endswith':
        matches = (n) => n.endsWith(s);
        candidates = () =>
          slices(list, s.length, (n, k) => (k <= n.length ? n.slice(n.length - k) : n));
        what = `no ${noun} in this trace ends with ${quote(s)}`;
        break;
      case 'contains':
        matches = (n) => n.includes(s);
        candidates = () => substrings(list, s.length);
        what = `no ${noun} in this trace contains ${quote(s)}`;
        break;
      case '~':
        matches = (n) => compileRegExp(s).test(n);
        candidates = () => [];
        what = `the pattern ${quote(s)} matches no ${noun} in this trace`;
        break;
      default:
        return; // !~ : matching nothing is what it asks for
    }
    if (list.some(matches)) return;
    const suggestion = didYouMean(s, candidates());
    problems.push({
      severity: 'warning',
      start: v.start,
      end: v.end,
      message: suggestion ? `${what} (did you mean ${quote(suggestion)}?)` : what,
      suggestion,
    });
  };
  if (query?.expr) visit(query.expr);
  return problems;
}

function quote(s: string): string {
  return `'${s}'`;
}

/** Lengths tried for a partial name: one longer first (a missed letter), then equal, then shorter. */
function lengths(n: number): number[] {
  return [n + 1, n, n - 1].filter((k) => k > 0);
}

/** Prefixes or suffixes of the names, of lengths near the written value's. */
function slices(
  list: string[],
  length: number,
  cut: (name: string, k: number) => string,
): Set<string> {
  const out = new Set<string>();
  for (const k of lengths(length)) for (const n of list) out.add(cut(n, k));
  return out;
}

function* substrings(list: string[], length: number): Iterable<string> {
  const seen = new Set<string>();
  for (const k of lengths(length)) {
    for (const n of list.slice(0, 2000)) {
      for (let i = 0; i + k <= n.length; i++) {
        const sub = n.slice(i, i + k);
        if (!seen.has(sub)) {
          seen.add(sub);
          yield sub;
        }
      }
    }
  }
}
