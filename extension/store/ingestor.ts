// Turns the tracer's wire messages (hello, batch, error, end) into rows of the store schema:
// maps each connection's wire ids to store ids, pairs call/return events into calls rows with a
// per-thread stack held in memory, and writes each batch in one transaction through multi-row
// prepared INSERTs. Runs inside the store worker; never reads rows back on the hot path.
//
// A call row is written when the batch that opened it ends, complete if it also ended in that
// batch, else with end_ns NULL (so running calls are visible); a later batch that ends it updates
// that row. Events for a frame that is not on its thread's stack (it started before tracing, or
// its call was dropped) are ignored; an ending event for a frame below the top also ends the
// frames above it, at the same time, with no return value.

import type initSqlJs from 'sql.js';
import type { ProcessKey } from '../../adapter/protocol/dap';
import type { Batch, End, Event, Hello, TracerError } from '../../adapter/protocol/wire';
import { MultiInsert } from './multiInsert';

type Database = initSqlJs.Database;
type Statement = initSqlJs.Statement;

/** Bits of calls.flags (schema.sql). */
export const enum CallFlags {
  Resumed = 1,
  Suspended = 2,
  Raised = 4,
}

/** The latest raise at one line of a file. */
export interface RaiseMark {
  exception: number;
  call: number;
  ts: number;
  type: number;
  message: number;
}

/** What fileAnnotations needs from one code object. */
export interface CodeInfo {
  file: number;
  qualname: string;
  /** JSON array, as in codes.argnames. */
  argnames: string;
}

export class CallRec {
  end: number | null = null;
  value: number | null = null;
  line: number | null = null;
  excType: number | null = null;
  excMessage: number | null = null;
  excLine: number | null = null;
  inserted = false;
  constructor(
    readonly id: number,
    readonly process: number,
    readonly thread: number,
    readonly parent: number | null,
    readonly depth: number,
    readonly code: number,
    readonly wireCode: number,
    readonly start: number,
    readonly args: string | null,
    public flags: number,
  ) {}
}

class Connection {
  readonly strings: number[] = [];
  readonly files: number[] = [];
  readonly codes: number[] = [];
  readonly threads: number[] = [];
  /** Open calls per wire thread id, innermost last. */
  stacks: CallRec[][] = [];
  lastTs: number;
  ended = false;
  constructor(
    readonly process: number,
    /** Added to the tracer's timestamps to make them trace time. */
    readonly offset: number,
  ) {
    this.lastTs = offset;
  }
}

const CALL_COLUMNS = [
  'id',
  'process',
  'thread',
  'parent',
  'depth',
  'code',
  'start_ns',
  'end_ns',
  'args',
  'return_value',
  'return_line',
  'exc_type',
  'exc_message',
  'exc_line',
  'flags',
];

export function keyOf(key: ProcessKey): string {
  return `${key.session}\u0000${key.connection}`;
}

export class Ingestor {
  /** Calls stored. */
  calls = 0;
  /** Events dropped by tracers (their reports summed). */
  dropped = 0;
  /** Events that did not fit the protocol (unknown ids, wrong shape) and were skipped. */
  badEvents = 0;
  /** Text of each string id, shared by the queries. */
  readonly texts: string[] = [''];
  private readonly stringIds = new Map<string, number>();
  private readonly fileIds = new Map<string, number>();
  private readonly conns = new Map<string, Connection>();
  private origin: number | null = null;
  private processCount = 0;
  private nextCall = 0;
  private nextException = 0;
  private nextCode = 0;
  private nextThread = 0;
  private nextFile = 0;
  /** Per store file id: the call that returned (or yielded) last at each line. */
  readonly lastReturns: Map<number, CallRec>[] = [];
  /** Per store file id: the last raise at each line. */
  readonly lastRaises: Map<number, RaiseMark>[] = [];
  /** Per store code id. */
  readonly codes: CodeInfo[] = [];
  private pending: CallRec[] = [];
  private updates: CallRec[] = [];
  private readonly callRows: MultiInsert;
  private readonly exceptionRows: MultiInsert;
  private readonly stringRows: MultiInsert;
  private readonly statements: Statement[] = [];
  private readonly insertProcess: Statement;
  private readonly insertThread: Statement;
  private readonly insertCode: Statement;
  private readonly insertFile: Statement;
  private readonly insertMeta: Statement;
  private readonly updateCall: Statement;
  private readonly endProcess: Statement;
  private readonly errorProcess: Statement;
  private readonly dropProcess: Statement;

  constructor(private readonly db: Database) {
    this.callRows = new MultiInsert(db, 'calls', CALL_COLUMNS, 128);
    this.exceptionRows = new MultiInsert(
      db,
      'exceptions',
      ['id', 'call', 'kind', 'ts_ns', 'line', 'type', 'message'],
      128,
    );
    this.stringRows = new MultiInsert(db, 'strings', ['id', 'text'], 128);
    const prepare = (sql: string): Statement => {
      const s = db.prepare(sql);
      this.statements.push(s);
      return s;
    };
    this.insertProcess = prepare(
      'INSERT INTO processes (id, pid, ppid, python, backend, argv, cwd, start_ns) VALUES (?,?,?,?,?,?,?,?)',
    );
    this.insertThread = prepare(
      'INSERT INTO threads (id, process, native_id, name) VALUES (?,?,?,?)',
    );
    this.insertCode = prepare(
      'INSERT INTO codes (id, process, file, module, qualname, line, argnames, flags) VALUES (?,?,?,?,?,?,?,?)',
    );
    this.insertFile = prepare('INSERT INTO files (id, path) VALUES (?,?)');
    this.insertMeta = prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?,?)');
    this.updateCall = prepare(
      'UPDATE calls SET end_ns=?, return_value=?, return_line=?, exc_type=?, exc_message=?, exc_line=?, flags=? WHERE id=?',
    );
    this.endProcess = prepare(
      'UPDATE processes SET end_ns=?, exit_code=?, end_reason=? WHERE id=?',
    );
    this.errorProcess = prepare('UPDATE processes SET error=? WHERE id=?');
    this.dropProcess = prepare('UPDATE processes SET dropped = dropped + ? WHERE id=?');
  }

  get processes(): number {
    return this.processCount;
  }

  /** true while some process said hello and has not ended. */
  get running(): boolean {
    for (const c of this.conns.values()) if (!c.ended) return true;
    return false;
  }

  /** Text of a string id, or undefined. */
  text(id: number): string | undefined {
    return this.texts[id];
  }

  /** The store id of a file path, or undefined. */
  fileId(path: string): number | undefined {
    return this.fileIds.get(path);
  }

  /** Returns false when the message changed nothing (a repeated hello). */
  hello(key: ProcessKey, hello: Hello): boolean {
    const k = keyOf(key);
    if (this.conns.has(k)) return false;
    if (this.origin === null) {
      this.origin = hello.start_ns;
      this.insertMeta.run(['origin_ns', BigInt(Math.round(hello.start_ns)).toString()]);
    }
    const offset = hello.start_ns - this.origin;
    const id = ++this.processCount;
    this.insertProcess.run([
      id,
      hello.pid,
      hello.ppid ?? null,
      hello.python ?? null,
      hello.backend ?? null,
      JSON.stringify(hello.argv ?? []),
      hello.cwd ?? null,
      offset,
    ]);
    this.conns.set(k, new Connection(id, offset));
    return true;
  }

  /** Stores one batch in one transaction. Returns false when its connection is unknown or ended. */
  batch(key: ProcessKey, batch: Batch): boolean {
    const c = this.conns.get(keyOf(key));
    if (!c || c.ended) return false;
    this.db.exec('BEGIN');
    try {
      this.definitions(c, batch);
      const events = batch.events ?? [];
      const n = events.length;
      for (let i = 0; i < n; i++) {
        try {
          this.event(c, events[i]);
        } catch {
          this.badEvents++;
        }
      }
      if (n > 0) {
        const ts = events[n - 1][3];
        if (typeof ts === 'number') c.lastTs = Math.max(c.lastTs, ts + c.offset);
      }
      this.flush();
      if (batch.dropped > 0) {
        this.dropped += batch.dropped;
        this.dropProcess.run([batch.dropped, c.process]);
      }
      this.db.exec('COMMIT');
    } catch (e) {
      this.pending = [];
      this.updates = [];
      this.callRows.discard();
      this.exceptionRows.discard();
      this.stringRows.discard();
      this.db.exec('ROLLBACK');
      throw e;
    }
    return true;
  }

  error(key: ProcessKey, error: TracerError): boolean {
    const c = this.conns.get(keyOf(key));
    if (!c) return false;
    this.errorProcess.run([String(error.message), c.process]);
    return true;
  }

  /** The process ended: its end is its last event's time; calls still open keep end_ns NULL. */
  end(key: ProcessKey, end: End): boolean {
    const c = this.conns.get(keyOf(key));
    if (!c || c.ended) return false;
    c.ended = true;
    c.stacks = [];
    this.endProcess.run([c.lastTs, end.exit_code ?? null, end.reason ?? null, c.process]);
    return true;
  }

  /** Frees the prepared statements (before the database is closed). */
  free(): void {
    for (const s of this.statements) s.free();
    this.callRows.free();
    this.exceptionRows.free();
    this.stringRows.free();
  }

  private definitions(c: Connection, batch: Batch): void {
    for (const [id, text] of batch.strings ?? []) c.strings[id] = this.intern(text);
    for (const [id, path] of batch.files ?? []) c.files[id] = this.file(path);
    for (const [id, file, module, qualname, line, argnames, flags] of batch.codes ?? []) {
      const storeId = ++this.nextCode;
      const fileId = c.files[file] ?? this.file('<unknown>');
      const names = JSON.stringify(argnames);
      this.insertCode.run([storeId, c.process, fileId, module, qualname, line, names, flags]);
      this.codes[storeId] = { file: fileId, qualname, argnames: names };
      c.codes[id] = storeId;
    }
    for (const [id, nativeId, name] of batch.threads ?? []) {
      const storeId = ++this.nextThread;
      this.insertThread.run([storeId, c.process, nativeId, name]);
      c.threads[id] = storeId;
      c.stacks[id] = [];
    }
  }

  private event(c: Connection, ev: Event): void {
    switch (ev[0]) {
      case 1: {
        const stack = c.stacks[ev[1]];
        const code = c.codes[ev[2]];
        if (stack === undefined || code === undefined) {
          this.badEvents++;
          return;
        }
        let args = '[]';
        const n = ev.length;
        if (n > 4) {
          let s = '[';
          for (let i = 4; i < n; i++) {
            if (i > 4) s += ',';
            const id = c.strings[ev[i]];
            s += id === undefined ? 'null' : id;
          }
          args = s + ']';
        }
        this.open(c, stack, ev, code, args, 0);
        return;
      }
      case 2: {
        const rec = this.close(c, ev);
        if (rec) {
          rec.line = ev[4];
          rec.value = c.strings[ev[5]] ?? null;
          this.returned(rec);
        }
        return;
      }
      case 3:
      case 5: {
        const stack = c.stacks[ev[1]];
        const i = stack === undefined ? -1 : frameOf(stack, ev[2]);
        if (i >= 0) {
          const id = this.exception(c, stack[i].id, ev);
          if (ev[0] === 3 && typeof ev[4] === 'number') {
            const m = this.lastRaises[this.codes[stack[i].code].file];
            const prev = m.get(ev[4]);
            const ts = ev[3] + c.offset;
            if (prev === undefined || prev.ts <= ts) {
              const type = this.stringOf(c, ev[5]);
              const message = this.stringOf(c, ev[6]);
              m.set(ev[4], { exception: id, call: stack[i].id, ts, type, message });
            }
          }
        }
        return;
      }
      case 4: {
        const rec = this.close(c, ev);
        if (rec) {
          rec.flags |= CallFlags.Raised;
          rec.excLine = ev[4];
          rec.excType = this.stringOf(c, ev[5]);
          rec.excMessage = this.stringOf(c, ev[6]);
          this.exception(c, rec.id, ev);
        }
        return;
      }
      case 6: {
        const rec = this.close(c, ev);
        if (rec) {
          rec.flags |= CallFlags.Suspended;
          rec.line = ev[4];
          rec.value = c.strings[ev[5]] ?? null;
          this.returned(rec);
        }
        return;
      }
      case 7: {
        const stack = c.stacks[ev[1]];
        const code = c.codes[ev[2]];
        if (stack === undefined || code === undefined) {
          this.badEvents++;
          return;
        }
        this.open(c, stack, ev, code, null, CallFlags.Resumed);
        return;
      }
      default:
        this.badEvents++;
    }
  }

  private open(
    c: Connection,
    stack: CallRec[],
    ev: Event,
    code: number,
    args: string | null,
    flags: number,
  ): void {
    const top = stack.length > 0 ? stack[stack.length - 1] : undefined;
    const rec = new CallRec(
      ++this.nextCall,
      c.process,
      c.threads[ev[1]],
      top === undefined ? null : top.id,
      top === undefined ? 0 : top.depth + 1,
      code,
      ev[2],
      ev[3] + c.offset,
      args,
      flags,
    );
    stack.push(rec);
    this.pending.push(rec);
    this.calls++;
  }

  /** Ends the frame of the event's code on its thread (and any above it); undefined if absent. */
  private close(c: Connection, ev: Event): CallRec | undefined {
    const stack = c.stacks[ev[1]];
    if (stack === undefined || stack.length === 0) return undefined;
    const i = frameOf(stack, ev[2]);
    if (i < 0) return undefined;
    const ts = ev[3] + c.offset;
    let rec: CallRec;
    do {
      rec = stack.pop()!;
      rec.end = ts;
      if (rec.inserted) this.updates.push(rec);
    } while (stack.length > i);
    return rec;
  }

  /** Notes the call as the last to return at its line, unless a later one did already. */
  private returned(rec: CallRec): void {
    const m = this.lastReturns[this.codes[rec.code].file];
    const prev = m.get(rec.line!);
    if (prev === undefined || prev.end! <= rec.end!) m.set(rec.line!, rec);
  }

  private exception(c: Connection, call: number, ev: Event): number {
    const v = this.exceptionRows.values;
    const id = ++this.nextException;
    v.push(
      id,
      call,
      ev[0],
      ev[3] + c.offset,
      ev[4] ?? null,
      this.stringOf(c, ev[5]),
      this.stringOf(c, ev[6]),
    );
    this.exceptionRows.added();
    return id;
  }

  private stringOf(c: Connection, wireId: number): number {
    return c.strings[wireId] ?? this.intern('');
  }

  private intern(text: string): number {
    let id = this.stringIds.get(text);
    if (id === undefined) {
      id = this.texts.length;
      this.texts.push(text);
      this.stringIds.set(text, id);
      this.stringRows.values.push(id, text);
      this.stringRows.added();
    }
    return id;
  }

  private file(path: string): number {
    let id = this.fileIds.get(path);
    if (id === undefined) {
      id = ++this.nextFile;
      this.insertFile.run([id, path]);
      this.fileIds.set(path, id);
      this.lastReturns[id] = new Map();
      this.lastRaises[id] = new Map();
    }
    return id;
  }

  private flush(): void {
    const rows = this.callRows;
    const v = rows.values;
    for (const r of this.pending) {
      v.push(
        r.id,
        r.process,
        r.thread,
        r.parent,
        r.depth,
        r.code,
        r.start,
        r.end,
        r.args,
        r.value,
        r.line,
        r.excType,
        r.excMessage,
        r.excLine,
        r.flags,
      );
      r.inserted = true;
      rows.added();
    }
    this.pending = [];
    rows.flush();
    for (const r of this.updates) {
      this.updateCall.run([
        r.end,
        r.value,
        r.line,
        r.excType,
        r.excMessage,
        r.excLine,
        r.flags,
        r.id,
      ]);
    }
    this.updates = [];
    this.exceptionRows.flush();
    this.stringRows.flush();
  }
}

/** Index of the innermost frame of `wireCode` on the stack, or -1. */
function frameOf(stack: CallRec[], wireCode: number): number {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i].wireCode === wireCode) return i;
  return -1;
}
