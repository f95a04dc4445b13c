// Writes the store as Chrome trace JSON (the Trace Event Format that Perfetto and chrome://tracing
// open): process and thread names as metadata events, each call as a complete event ('X', times
// in microseconds) with its arguments, return value or exception in args, each probe as an
// instant event ('i'). Streams the file in chunks: a million calls never become one string.
// Values are written as the text the user sees: a structured snapshot as its repr (valueText).
// Runs inside the store worker; reads the database, writes only the given file.

import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type initSqlJs from 'sql.js';
import { isStructured, valueText } from '../valueSnapshot';

type Database = initSqlJs.Database;
type SqlValue = initSqlJs.SqlValue;

const CHUNK = 1 << 20;

/** Microseconds from integer nanoseconds, as JSON (exact; integer formatting is the fast one). */
function us(ns: number): string {
  if (ns < 0) return `-${us(-ns)}`;
  const q = Math.floor(ns / 1000);
  const r = ns - q * 1000;
  if (r === 0) return String(q);
  return `${q}.${r < 10 ? '00' : r < 100 ? '0' : ''}${r}`;
}

/** `text` with structured snapshots read as their repr (each snapshot parsed once). */
function shownText(text: (id: number) => string): (id: number) => string {
  const reprs = new Map<number, string>();
  return (id) => {
    const t = text(id);
    if (!isStructured(t)) return t;
    let r = reprs.get(id);
    if (r === undefined) {
      r = valueText(t);
      reprs.set(id, r);
    }
    return r;
  };
}

export function exportChrome(db: Database, file: string, stringText: (id: number) => string): void {
  const text = shownText(stringText);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  let closed = false;
  let buf = '';
  let first = true;
  const emit = (event: string): void => {
    buf += first ? event : `,\n${event}`;
    first = false;
    if (buf.length >= CHUNK) {
      writeSync(fd, buf);
      buf = '';
    }
  };
  const each = (_db: Database, sql: string, f: (r: SqlValue[]) => void): void => {
    const s = db.prepare(sql);
    try {
      while (s.step()) f(s.get());
    } finally {
      s.free();
    }
  };
  try {
    buf = '{"displayTimeUnit":"ns","otherData":{"producer":"Tracelens"},"traceEvents":[\n';
    const pids = new Map<number, number>();
    /** Per process: its end, or its last call's end (for calls that never ended). */
    const ends = new Map<number, number>();
    each(
      db,
      `SELECT p.id, p.pid, p.argv, COALESCE(p.end_ns, (SELECT max(COALESCE(c.end_ns, c.start_ns))
         FROM calls c WHERE c.process = p.id), p.start_ns) FROM processes p ORDER BY p.id`,
      ([id, pid, argv, end]) => {
        pids.set(id as number, pid as number);
        ends.set(id as number, end as number);
        let name = `python (pid ${pid})`;
        try {
          const a = JSON.parse(String(argv)) as string[];
          if (a.length > 0) name = `python ${a.join(' ')}`;
        } catch {
          // keep the plain name
        }
        emit(
          `{"name":"process_name","ph":"M","pid":${pid},"tid":0,"args":{"name":${JSON.stringify(name)}}}`,
        );
      },
    );
    each(db, 'SELECT id, process, name FROM threads ORDER BY id', ([id, process, name]) => {
      emit(
        `{"name":"thread_name","ph":"M","pid":${pids.get(process as number) ?? 0},"tid":${id},"args":{"name":${JSON.stringify(String(name ?? `thread ${id}`))}}}`,
      );
    });
    each(
      db,
      `SELECT c.id, c.process, c.thread, c.start_ns, c.end_ns, co.qualname, co.module, f.path, co.line,
         co.argnames, c.args, c.return_value, c.exc_type, c.exc_message, c.flags, c.parent
       FROM calls c JOIN codes co ON co.id = c.code LEFT JOIN files f ON f.id = co.file
       ORDER BY c.thread, c.start_ns, c.id`,
      (r) => {
        const start = r[3] as number;
        const end = (r[4] as number | null) ?? Math.max(start, ends.get(r[1] as number) ?? start);
        const flags = r[14] as number;
        let args = `"id":${r[0]}`;
        if (r[15] !== null) args += `,"parent":${r[15]}`;
        if (r[7]) args += `,"file":${JSON.stringify(r[7])},"line":${r[8]}`;
        if (r[10] !== null) {
          const names = JSON.parse(r[9] as string) as string[];
          const ids = JSON.parse(r[10] as string) as (number | null)[];
          const pairs = ids.map(
            (v, i) =>
              `${JSON.stringify(names[i] ?? `arg${i}`)}:${JSON.stringify(v === null ? '' : text(v))}`,
          );
          args += `,"args":{${pairs.join(',')}}`;
        }
        if (flags & 4) {
          args += `,"exception":${JSON.stringify(`${text(r[12] as number)}: ${text(r[13] as number)}`)}`;
        } else if (r[11] !== null) {
          args += `,${(flags & 2) !== 0 ? '"yielded"' : '"return"'}:${JSON.stringify(text(r[11] as number))}`;
        }
        if (r[4] === null) args += ',"unfinished":true';
        emit(
          `{"name":${JSON.stringify(r[5])},"cat":${JSON.stringify(r[6])},"ph":"X","ts":${us(start)},"dur":${us(end - start)},"pid":${pids.get(r[1] as number) ?? 0},"tid":${r[2]},"args":{${args}}}`,
        );
      },
    );
    each(
      db,
      'SELECT p.process, p.thread, p.ts_ns, p.name, p.detail, p.call FROM probes p ORDER BY p.ts_ns, p.id',
      (r) => {
        let args = r[4] === null ? '' : `"detail":${JSON.stringify(text(r[4] as number))}`;
        if (r[5] !== null) args += `${args ? ',' : ''}"call":${r[5]}`;
        emit(
          `{"name":${JSON.stringify(r[3])},"cat":"probe","ph":"i","s":"t","ts":${us(r[2] as number)},"pid":${pids.get(r[0] as number) ?? 0},"tid":${r[1]},"args":{${args}}}`,
        );
      },
    );
    buf += '\n]}\n';
    writeSync(fd, buf);
    closed = true;
    closeSync(fd);
    renameSync(tmp, file);
  } catch (e) {
    if (!closed) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}
