// SQL functions the compiled queries call, for sql.js (which has no REGEXP of its own). The store
// must call registerSqlFunctions(db) once on every database it opens before running a compiled
// query. Compiled patterns are cached. Imports nothing from vscode.

import { compileRegExp } from './regexp';

/** The part of a sql.js Database this needs. */
export interface SqlFunctionHost {
  create_function(name: string, fn: (...args: never[]) => unknown): unknown;
}

const CACHE_LIMIT = 256;
const cache = new Map<string, RegExp | null>();

/** regexp(pattern, text): 1 when the pattern is found in the text, 0 if not, NULL when text is NULL. */
export function sqlRegexp(pattern: unknown, text: unknown): number | null {
  if (text === null || text === undefined || pattern === null || pattern === undefined) return null;
  const source = String(pattern);
  let re = cache.get(source);
  if (re === undefined) {
    try {
      re = compileRegExp(source);
    } catch {
      re = null; // the parser reports bad patterns; here they simply match nothing
    }
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(source, re);
  }
  if (!re) return 0;
  re.lastIndex = 0;
  return re.test(String(text)) ? 1 : 0;
}

/** Registers regexp(pattern, text) (also what `text REGEXP pattern` calls) on a sql.js database. */
export function registerSqlFunctions(db: SqlFunctionHost): void {
  db.create_function('regexp', sqlRegexp as (...args: never[]) => unknown);
}
