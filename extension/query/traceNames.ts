// Reads the names the query language completes and checks (functions, modules, exception types,
// threads) from a trace database with the store's schema. For the store to answer the language
// server's tracelens/names request; runs on a sql.js Database (or anything with exec).

import type { TraceNames } from './lspProtocol';

/** The part of a sql.js Database this needs. */
export interface SqlExec {
  exec(sql: string): { values: unknown[][] }[];
}

/** Distinct names, sorted, at most `limit` of each kind. */
export function readTraceNames(db: SqlExec, limit = 5000): TraceNames {
  const column = (sql: string): string[] => {
    const res = db.exec(`${sql} LIMIT ${Math.max(0, Math.floor(limit))}`);
    return res.length ? res[0].values.map((r) => String(r[0])) : [];
  };
  return {
    functions: column('SELECT DISTINCT qualname FROM codes ORDER BY 1'),
    modules: column('SELECT DISTINCT module FROM codes ORDER BY 1'),
    exceptionTypes: column(
      'SELECT DISTINCT s.text FROM strings s WHERE s.id IN (SELECT exc_type FROM calls UNION SELECT type FROM exceptions) ORDER BY 1',
    ),
    threads: column('SELECT DISTINCT name FROM threads WHERE name IS NOT NULL ORDER BY 1'),
  };
}
