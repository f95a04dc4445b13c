// The read side of the store: the SQL queries behind ITraceStore (children of a call, one call, a
// file's annotations, the calls of a function, filter queries, line figures, names), answered from
// the sql.js database into the plain rows of api.ts. Runs inside the store worker; never writes.
//
// fileAnnotations (from the Ingestor's in-memory index of the last return and raise per line, so
// it costs the same on a million calls): at each line where a call of the file's code returned
// (or yielded: kind 'yield'), the value of the call that returned there last (greatest end_ns).
// At each line where an exception was raised (kind 3), the last raise there, and whether it was
// handled: follow the exception from the raising call outwards. In each call, the first Handled
// (5) or Unwind (4) event after it decides: Handled means caught there; Unwind means it left the
// call, so look at the parent call's first such event after that unwind (no parent: uncaught).
// With neither event, a call that has ended without an exception caught it (a backend that
// reports no Handled); a call still running has not handled it (yet).

import type initSqlJs from 'sql.js';
import { compileToSql } from '../query/compileToSql';
import { parseQuery } from '../query/parser';
import type {
  CallArg,
  CallRow,
  FileAnnotations,
  LineStats,
  QueryResult,
  TraceNamesResult,
} from './api';
import type { Ingestor } from './ingestor';

type Database = initSqlJs.Database;
type Statement = initSqlJs.Statement;
type SqlValue = initSqlJs.SqlValue;

const CALL_SELECT = `
SELECT c.id, c.parent, c.depth, c.process, c.thread, t.name, co.module, co.qualname, COALESCE(f.path, ''), co.line,
  co.argnames, c.args, rv.text, c.return_line, et.text, em.text, c.exc_line, c.start_ns, c.end_ns,
  c.flags, (SELECT count(*) FROM calls k WHERE k.parent = c.id)
FROM calls c
JOIN codes co ON co.id = c.code
LEFT JOIN files f ON f.id = co.file
LEFT JOIN threads t ON t.id = c.thread
LEFT JOIN strings rv ON rv.id = c.return_value
LEFT JOIN strings et ON et.id = c.exc_type
LEFT JOIN strings em ON em.id = c.exc_message`;

export class TraceQueries {
  private readonly statements: Statement[] = [];
  private readonly topLevel: Statement;
  private readonly childrenOf: Statement;
  private readonly byId: Statement;
  private readonly nextExit: Statement;
  private readonly callEnd: Statement;
  private readonly codesAt_: Statement;
  private readonly lineFigures: Statement;

  constructor(
    private readonly db: Database,
    /** Keeps the strings and the last return / raise per line in memory. */
    private readonly index: Ingestor,
  ) {
    const prepare = (sql: string): Statement => {
      const s = db.prepare(sql);
      this.statements.push(s);
      return s;
    };
    this.topLevel = prepare(
      `${CALL_SELECT} WHERE c.parent IS NULL ORDER BY c.start_ns, c.id LIMIT ? OFFSET ?`,
    );
    this.childrenOf = prepare(
      `${CALL_SELECT} WHERE c.parent = ? ORDER BY c.start_ns, c.id LIMIT ? OFFSET ?`,
    );
    this.byId = prepare(`${CALL_SELECT} WHERE c.id = ?`);
    this.nextExit = prepare(
      'SELECT id, kind FROM exceptions WHERE call = ? AND id > ? AND kind IN (4, 5) ORDER BY id LIMIT 1',
    );
    this.callEnd = prepare('SELECT parent, end_ns, flags FROM calls WHERE id = ?');
    this.codesAt_ = prepare(
      'SELECT co.id FROM codes co JOIN files f ON f.id = co.file WHERE f.path = ? AND co.line = ?',
    );
    this.lineFigures = prepare(
      `SELECT line, sum(hits), sum(own_ns), sum(total_ns), sampled FROM line_stats
       WHERE file = (SELECT id FROM files WHERE path = ?) GROUP BY line, sampled ORDER BY line, sampled`,
    );
  }

  /** Ids of the code objects defined at `line` of `path` (one per process). */
  codesAt(path: string, line: number): number[] {
    return this.all(this.codesAt_, [path, line]).map((r) => r[0] as number);
  }

  /** The given calls, in start order. */
  callsById(ids: number[]): CallRow[] {
    if (ids.length === 0) return [];
    return this.select(
      `${CALL_SELECT} WHERE c.id IN (${ids.map(() => '?').join(',')}) ORDER BY c.start_ns, c.id`,
      ids,
    );
  }

  /** Calls matching a query-language sentence; throws its QueryError (message with the position). */
  query(filter: string, offset: number, limit: number): QueryResult {
    const { where, params } = compileToSql(parseQuery(filter));
    const total = this.once(`SELECT count(*) FROM calls c WHERE ${where}`, params)[0][0] as number;
    const calls =
      limit > 0 && offset < total
        ? this.select(`${CALL_SELECT} WHERE ${where} ORDER BY c.start_ns, c.id LIMIT ? OFFSET ?`, [
            ...params,
            limit,
            offset,
          ])
        : [];
    return { total, calls };
  }

  /** Per-line figures of a file, exact and sampled apart, by line. */
  lineStats(path: string): LineStats[] {
    return this.all(this.lineFigures, [path]).map((r) => ({
      line: r[0] as number,
      hits: r[1] as number,
      ownNs: r[2] as number,
      totalNs: r[3] as number,
      sampled: r[4] === 1,
    }));
  }

  /**
   * Names for completion: readTraceNames's lists, except that exception types come from the
   * exceptions table only (every call that ended by an exception has its Unwind event there),
   * which spares a scan of every call.
   */
  names(): TraceNamesResult {
    const column = (sql: string): string[] =>
      (this.db.exec(`${sql} LIMIT 5000`)[0]?.values ?? []).map((r) => String(r[0]));
    return {
      functions: column('SELECT DISTINCT qualname FROM codes ORDER BY 1'),
      modules: column('SELECT DISTINCT module FROM codes ORDER BY 1'),
      exceptionTypes: column(
        'SELECT DISTINCT s.text FROM strings s WHERE s.id IN (SELECT type FROM exceptions) ORDER BY 1',
      ),
      threads: column('SELECT DISTINCT name FROM threads WHERE name IS NOT NULL ORDER BY 1'),
    };
  }

  children(parent: number | null, offset: number, limit: number): CallRow[] {
    const s = parent === null ? this.topLevel : this.childrenOf;
    return this.rows(s, parent === null ? [limit, offset] : [parent, limit, offset]);
  }

  call(id: number): CallRow | undefined {
    return this.rows(this.byId, [id])[0];
  }

  fileAnnotations(path: string): FileAnnotations {
    const out: FileAnnotations = { returns: [], raises: [] };
    const file = this.index.fileId(path);
    if (file === undefined) return out;
    const text = (id: number | null): string => (id === null ? '' : (this.index.text(id) ?? ''));
    for (const [line, r] of this.index.lastReturns[file]) {
      const code = this.index.codes[r.code];
      out.returns.push({
        line,
        value: text(r.value),
        callId: r.id,
        args: this.args(code.argnames, r.args),
        qualname: code.qualname,
        kind: (r.flags & 2) !== 0 ? 'yield' : 'return',
      });
    }
    for (const [line, r] of this.index.lastRaises[file]) {
      out.raises.push({
        line,
        type: text(r.type),
        message: text(r.message),
        callId: r.call,
        handled: this.handled(r.call, r.exception),
      });
    }
    out.returns.sort((a, b) => a.line - b.line);
    out.raises.sort((a, b) => a.line - b.line);
    return out;
  }

  free(): void {
    for (const s of this.statements) s.free();
  }

  /** Whether the exception event `excId` in call `callId` was caught (see the top of the file). */
  private handled(callId: number, excId: number): boolean {
    let call: number | null = callId;
    let after = excId;
    for (let hops = 0; call !== null && hops < 10_000; hops++) {
      const next = this.all(this.nextExit, [call, after])[0];
      if (next === undefined) {
        const row = this.all(this.callEnd, [call])[0];
        return row !== undefined && row[1] !== null && ((row[2] as number) & 4) === 0;
      }
      if (next[1] === 5) return true;
      after = next[0] as number;
      call = this.all(this.callEnd, [call])[0]?.[0] as number | null;
    }
    return false;
  }

  /** Runs a statement prepared for this call only. */
  private once(sql: string, params: SqlValue[]): SqlValue[][] {
    const s = this.db.prepare(sql);
    try {
      return this.all(s, params);
    } finally {
      s.free();
    }
  }

  private select(sql: string, params: SqlValue[]): CallRow[] {
    const s = this.db.prepare(sql);
    try {
      return this.rows(s, params);
    } finally {
      s.free();
    }
  }

  private all(s: Statement, params: SqlValue[]): SqlValue[][] {
    const out: SqlValue[][] = [];
    try {
      s.bind(params);
      while (s.step()) out.push(s.get());
    } finally {
      s.reset();
    }
    return out;
  }

  private rows(s: Statement, params: SqlValue[]): CallRow[] {
    return this.all(s, params).map((r) => {
      const flags = r[19] as number;
      return {
        id: r[0] as number,
        parent: r[1] as number | null,
        depth: r[2] as number,
        process: r[3] as number,
        thread: r[4] as number,
        threadName: (r[5] as string | null) ?? '',
        module: r[6] as string,
        qualname: r[7] as string,
        file: r[8] as string,
        line: r[9] as number,
        args: this.args(r[10] as string, r[11] as string | null),
        returnValue: r[12] as string | null,
        returnLine: r[13] as number | null,
        exception:
          (flags & 4) !== 0
            ? {
                type: (r[14] as string | null) ?? '',
                message: (r[15] as string | null) ?? '',
                line: r[16] as number | null,
              }
            : null,
        startNs: r[17] as number,
        endNs: r[18] as number | null,
        flags,
        childCount: r[20] as number,
      };
    });
  }

  /** Pairs codes.argnames with the call's argument value ids. */
  private args(argnames: string, args: string | null): CallArg[] {
    if (args === null) return [];
    const names = JSON.parse(argnames) as string[];
    const ids = JSON.parse(args) as (number | null)[];
    return ids.map((id, i) => ({
      name: names[i] ?? `arg${i}`,
      value: id === null ? '' : (this.index.text(id) ?? ''),
    }));
  }
}
