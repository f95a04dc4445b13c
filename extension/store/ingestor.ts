// Turns the tracer's wire messages (hello, batch, lines, error, end) into rows of the store schema:
// maps each connection's wire ids to store ids, pairs call/return events into calls rows with a
// per-thread stack held in memory, and writes each batch in one transaction through multi-row
// prepared INSERTs. Runs inside the store worker; never reads rows back on the hot path. It also
// keeps the in-memory tracks (trackIndex.ts): each call's times, depth, own time and flags, among
// them "outermost of its code" (16), from a per-thread count of the open frames of each code.
//
// A call row is written when the batch that opened it ends, complete if it also ended in that
// batch, else with end_ns NULL (so running calls are visible); a later batch that ends it updates
// that row. Events for a frame that is not on its thread's stack (it started before tracing, or
// its call was dropped) are ignored; an ending event for a frame below the top also ends the
// frames above it, at the same time, with no return value.

import type initSqlJs from 'sql.js';
import type { ProcessKey } from '../../adapter/protocol/dap';
import type { Batch, End, Event, Hello, Lines, TracerError } from '../../adapter/protocol/wire';
import { MultiInsert } from './multiInsert';
import { ProbeIndex } from './probeIndex';
import { TrackIndex, type Track } from './trackIndex';

type Database = initSqlJs.Database;
type Statement = initSqlJs.Statement;

/** Bits of calls.flags (schema.sql). */
export const enum CallFlags {
  Resumed = 1,
  Suspended = 2,
  Raised = 4,
  CCall = 8,
  /** No call of the same code is open below it on its thread (recursion counted once). */
  Outermost = 16,
}

/** The latest raise at one line of a file. */
export interface RaiseMark {
  exception: number;
  call: number;
  /** The call's thread (store id). */
  thread: number;
  ts: number;
  type: number;
  message: number;
}

/** What fileAnnotations needs from one code object. */
export interface CodeInfo {
  file: number;
  module: string;
  qualname: string;
  line: number;
  /** JSON array, as in codes.argnames. */
  argnames: string;
  /** Index into Ingestor.modules. */
  moduleId: number;
}

export class CallRec {
  end: number | null = null;
  value: number | null = null;
  line: number | null = null;
  excType: number | null = null;
  excMessage: number | null = null;
  excLine: number | null = null;
  inserted = false;
  /** Index in its track (trackIndex.ts); refreshed when the cap trims the track. */
  slot = 0;
  /** Its lane: its thread's, or the asyncio task's it runs in (set when it opens). */
  track!: Track;
  /** Summed durations of its ended children. */
  childNs = 0;
  /** strings.id of the asyncio task it runs in. */
  task: number | null = null;
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
  /** Per wire thread id: open frames per store code id. */
  active: number[][] = [];
  /** Task of the next call or resume, by `${wire thread} ${wire code}`. */
  readonly tasks = new Map<string, number>();
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
  'task',
];

export function keyOf(key: ProcessKey): string {
  return `${key.session}\u0000${key.connection}`;
}

export class Ingestor {
  /** Calls stored (after the cap's evictions). */
  calls = 0;
  /** Events dropped by tracers (their reports summed). */
  dropped = 0;
  /** Events that did not fit the protocol (unknown ids, wrong shape) and were skipped. */
  badEvents = 0;
  /** Text of each string id, shared by the queries. */
  readonly texts: string[] = [''];
  /** Distinct module names; CodeInfo.moduleId indexes it. */
  readonly modules: string[] = [];
  /** The calls of each thread and asyncio task, in memory (trackIndex.ts). */
  readonly tracks = new TrackIndex();
  /** Probe marks (GC, audit) per thread and dropped regions per process (probeIndex.ts). */
  readonly probes = new ProbeIndex();
  /** Per store file id: the call that returned (or yielded) last at each line. */
  readonly lastReturns: Map<number, CallRec>[] = [];
  /** Per store file id: the last raise at each line. */
  readonly lastRaises: Map<number, RaiseMark>[] = [];
  /** Per store code id. */
  readonly codes: CodeInfo[] = [];
  /** Per store file id: its path. */
  readonly paths: string[] = [];
  private readonly stringIds = new Map<string, number>();
  private readonly fileIds = new Map<string, number>();
  private readonly moduleIds = new Map<string, number>();
  private readonly conns = new Map<string, Connection>();
  private origin: number | null = null;
  private processCount = 0;
  private nextCall = 0;
  private nextException = 0;
  private nextCode = 0;
  private nextThread = 0;
  private nextFile = 0;
  private nextProbe = 0;

  /** The greatest call id given so far. */
  get lastCallId(): number {
    return this.nextCall;
  }
  private pending: CallRec[] = [];
  private updates: CallRec[] = [];
  private readonly callRows: MultiInsert;
  private readonly exceptionRows: MultiInsert;
  private readonly stringRows: MultiInsert;
  private readonly probeRows: MultiInsert;
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
  private readonly addLine: Statement;

  constructor(private readonly db: Database) {
    this.callRows = new MultiInsert(db, 'calls', CALL_COLUMNS, 128);
    this.exceptionRows = new MultiInsert(
      db,
      'exceptions',
      ['id', 'call', 'kind', 'ts_ns', 'line', 'type', 'message'],
      128,
    );
    this.stringRows = new MultiInsert(db, 'strings', ['id', 'text'], 128);
    this.probeRows = new MultiInsert(
      db,
      'probes',
      ['id', 'process', 'thread', 'call', 'ts_ns', 'name', 'detail', 'file', 'line'],
      64,
    );
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
    this.addLine = prepare(
      `INSERT INTO line_stats (process, file, line, hits, own_ns, total_ns, sampled) VALUES (?,?,?,?,?,?,?)
       ON CONFLICT (process, file, line, sampled) DO UPDATE SET hits = hits + excluded.hits,
         own_ns = own_ns + excluded.own_ns, total_ns = total_ns + excluded.total_ns`,
    );
  }

  get processes(): number {
    return this.processCount;
  }

  /** true while some process said hello and has not ended. */
  get running(): boolean {
    for (const c of this.conns.values()) if (!c.ended) return true;
    return false;
  }

  /** Store ids of the processes still running. */
  runningProcesses(): Set<number> {
    const out = new Set<number>();
    for (const c of this.conns.values()) if (!c.ended) out.add(c.process);
    return out;
  }

  /** The open calls of every thread (never evicted by the cap). */
  *openCalls(): Iterable<CallRec> {
    for (const c of this.conns.values()) for (const s of c.stacks) if (s) yield* s;
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
        // Where: the tracer's times of the first and last record dropped, when it says; else
        // the batch's last event (the records dropped were newer than the ones it kept).
        const range = batch.dropped_ns;
        if (
          Array.isArray(range) &&
          typeof range[0] === 'number' &&
          typeof range[1] === 'number' &&
          range[1] >= range[0]
        ) {
          this.probes.drop(c.process, range[0] + c.offset, range[1] + c.offset, batch.dropped);
        } else {
          this.probes.drop(c.process, c.lastTs, c.lastTs, batch.dropped);
        }
      }
      this.db.exec('COMMIT');
    } catch (e) {
      this.pending = [];
      this.updates = [];
      this.callRows.discard();
      this.exceptionRows.discard();
      this.stringRows.discard();
      this.probeRows.discard();
      this.db.exec('ROLLBACK');
      throw e;
    }
    return true;
  }

  /** Adds per-line figures (deltas) to line_stats. Returns false when the connection is unknown. */
  lines(key: ProcessKey, lines: Lines): boolean {
    const c = this.conns.get(keyOf(key));
    if (!c) return false;
    const sampled = lines.sampled ? 1 : 0;
    this.db.exec('BEGIN');
    try {
      for (const s of lines.stats ?? []) {
        const file = c.files[s[0]];
        if (file === undefined || !Array.isArray(s) || s.length < 5) {
          this.badEvents++;
          continue;
        }
        this.addLine.run([c.process, file, s[1], s[2], s[3], s[4], sampled]);
      }
      this.db.exec('COMMIT');
    } catch (e) {
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
    c.active = [];
    this.endProcess.run([c.lastTs, end.exit_code ?? null, end.reason ?? null, c.process]);
    return true;
  }

  /**
   * Takes over the contents of a database opened from a trace file: the interned strings, files,
   * codes and counters, so queries and later ingest go on from there. Its processes count as
   * ended. The tracks and per-line indexes are rebuilt by traceFile.ts.
   */
  adopt(): void {
    const each = (sql: string, f: (r: initSqlJs.SqlValue[]) => void): void => {
      const s = this.db.prepare(sql);
      try {
        while (s.step()) f(s.get());
      } finally {
        s.free();
      }
    };
    each('SELECT id, text FROM strings', ([id, text]) => {
      this.texts[id as number] = text as string;
      this.stringIds.set(text as string, id as number);
    });
    each('SELECT id, path FROM files', ([id, path]) => {
      this.fileIds.set(path as string, id as number);
      this.paths[id as number] = path as string;
      this.lastReturns[id as number] = new Map();
      this.lastRaises[id as number] = new Map();
    });
    each('SELECT id, file, module, qualname, line, argnames FROM codes', (r) => {
      const file = r[1] as number;
      if (!this.lastReturns[file]) {
        this.lastReturns[file] = new Map();
        this.lastRaises[file] = new Map();
      }
      this.codes[r[0] as number] = {
        file,
        module: r[2] as string,
        qualname: r[3] as string,
        line: r[4] as number,
        argnames: r[5] as string,
        moduleId: this.moduleId(r[2] as string),
      };
    });
    const max = (sql: string): number => (this.db.exec(sql)[0]?.values[0][0] as number | null) ?? 0;
    this.nextCall = max('SELECT max(id) FROM calls');
    this.nextException = max('SELECT max(id) FROM exceptions');
    this.nextCode = max('SELECT max(id) FROM codes');
    this.nextThread = max('SELECT max(id) FROM threads');
    this.nextFile = max('SELECT max(id) FROM files');
    this.nextProbe = max('SELECT max(id) FROM probes');
    this.processCount = max('SELECT count(*) FROM processes');
    this.dropped = max('SELECT sum(dropped) FROM processes');
    this.calls = max('SELECT count(*) FROM calls');
    const origin = this.db.exec("SELECT value FROM meta WHERE key = 'origin_ns'")[0];
    if (origin) this.origin = Number(origin.values[0][0]);
  }

  /** Frees the prepared statements (before the database is closed). */
  free(): void {
    for (const s of this.statements) s.free();
    this.callRows.free();
    this.exceptionRows.free();
    this.stringRows.free();
    this.probeRows.free();
  }

  private definitions(c: Connection, batch: Batch): void {
    for (const [id, text] of batch.strings ?? []) c.strings[id] = this.intern(text);
    for (const [id, path] of batch.files ?? []) c.files[id] = this.file(path);
    for (const [id, file, module, qualname, line, argnames, flags] of batch.codes ?? []) {
      const storeId = ++this.nextCode;
      // File 0: no file (a C function).
      const fileId = file === 0 ? this.noFile() : (c.files[file] ?? this.file('<unknown>'));
      const names = JSON.stringify(argnames);
      this.insertCode.run([storeId, c.process, fileId, module, qualname, line, names, flags]);
      this.codes[storeId] = {
        file: fileId,
        module,
        qualname,
        line,
        argnames: names,
        moduleId: this.moduleId(module),
      };
      c.codes[id] = storeId;
    }
    for (const [id, nativeId, name] of batch.threads ?? []) {
      const storeId = ++this.nextThread;
      this.insertThread.run([storeId, c.process, nativeId, name]);
      this.tracks.track(storeId, c.process);
      c.threads[id] = storeId;
      c.stacks[id] = [];
      c.active[id] = [];
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
        const rec = this.open(c, stack, ev, code, args, 0);
        if (n > 4) {
          const t = rec.track;
          for (let i = 4; i < n; i++) t.pushArg(c.strings[ev[i]] ?? -1);
        }
        return;
      }
      case 2:
      case 6: {
        // A return ends the call; a yield (or await) suspends it with the value it gave.
        const rec = this.close(c, ev, ev[0] === 6 ? CallFlags.Suspended : 0);
        if (rec) {
          rec.line = ev[4];
          rec.value = c.strings[ev[5]] ?? null;
          rec.track.values(rec.slot, rec.value ?? -1, -1, -1);
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
              m.set(ev[4], {
                exception: id,
                call: stack[i].id,
                thread: stack[i].thread,
                ts,
                type,
                message,
              });
            }
          }
        }
        return;
      }
      case 4: {
        const rec = this.close(c, ev, CallFlags.Raised);
        if (rec) {
          rec.excLine = ev[4];
          rec.excType = this.stringOf(c, ev[5]);
          rec.excMessage = this.stringOf(c, ev[6]);
          rec.track.values(rec.slot, -1, rec.excType, rec.excMessage);
          this.exception(c, rec.id, ev);
        }
        return;
      }
      case 7:
      case 10: {
        const stack = c.stacks[ev[1]];
        const code = c.codes[ev[2]];
        if (stack === undefined || code === undefined) {
          this.badEvents++;
          return;
        }
        this.open(c, stack, ev, code, null, ev[0] === 7 ? CallFlags.Resumed : CallFlags.CCall);
        return;
      }
      case 11:
        this.close(c, ev, 0);
        return;
      case 8:
        this.probe(c, ev);
        return;
      case 9: {
        if (c.stacks[ev[1]] === undefined || c.codes[ev[2]] === undefined) {
          this.badEvents++;
          return;
        }
        c.tasks.set(`${ev[1]} ${ev[2]}`, this.stringOf(c, ev[4]));
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
  ): CallRec {
    const top = stack.length > 0 ? stack[stack.length - 1] : undefined;
    const active = c.active[ev[1]];
    const open = active[code] ?? 0;
    active[code] = open + 1;
    if (open === 0) flags |= CallFlags.Outermost;
    const thread = c.threads[ev[1]];
    const rec = new CallRec(
      ++this.nextCall,
      c.process,
      thread,
      top === undefined ? null : top.id,
      top === undefined ? 0 : top.depth + 1,
      code,
      ev[2],
      ev[3] + c.offset,
      args,
      flags,
    );
    if (c.tasks.size > 0) {
      const k = `${ev[1]} ${ev[2]}`;
      const task = c.tasks.get(k);
      if (task !== undefined) {
        rec.task = task;
        c.tasks.delete(k);
      }
    }
    // Its lane: the task it runs in, else its caller's (a call under a task's coroutine is part
    // of that task), else its thread's. A lane's first call under another lane has no parent in it.
    const track =
      rec.task !== null
        ? this.tracks.taskLane(thread, c.process, rec.task)
        : top !== undefined
          ? top.track
          : this.tracks.track(thread, c.process);
    rec.track = track;
    rec.slot = track.push(
      rec.id,
      top === undefined || top.track !== track ? -1 : top.id,
      rec.start,
      rec.depth,
      code,
      flags,
    );
    stack.push(rec);
    this.pending.push(rec);
    this.calls++;
    return rec;
  }

  /**
   * Ends the frame of the event's code on its thread (and any above it, at the same time),
   * adding `flags` to it; undefined if it is not on the stack.
   */
  private close(c: Connection, ev: Event, flags: number): CallRec | undefined {
    const stack = c.stacks[ev[1]];
    if (stack === undefined || stack.length === 0) return undefined;
    const i = frameOf(stack, ev[2]);
    if (i < 0) return undefined;
    const ts = ev[3] + c.offset;
    const active = c.active[ev[1]];
    let rec: CallRec;
    do {
      rec = stack.pop()!;
      rec.end = ts;
      if (stack.length === i) rec.flags |= flags;
      const duration = ts - rec.start;
      rec.track.close(rec.slot, ts, duration - rec.childNs, rec.flags);
      if (stack.length > 0) stack[stack.length - 1].childNs += duration;
      active[rec.code]--;
      if (rec.inserted) this.updates.push(rec);
    } while (stack.length > i);
    return rec;
  }

  private probe(c: Connection, ev: Event): void {
    const thread = c.threads[ev[1]];
    if (thread === undefined) {
      this.badEvents++;
      return;
    }
    const stack = c.stacks[ev[1]] ?? [];
    const code = c.codes[ev[2]];
    const i = ev[2] === 0 || code === undefined ? -1 : frameOf(stack, ev[2]);
    const name = typeof ev[5] === 'string' ? (ev[5] as string) : this.stringText(c, ev[5]);
    const v = this.probeRows.values;
    const detail = ev[6] === undefined ? null : this.stringOf(c, ev[6]);
    const p = {
      id: ++this.nextProbe,
      process: c.process,
      thread,
      call: i >= 0 ? stack[i].id : null,
      ts: ev[3] + c.offset,
      name,
      detail: detail === null ? '' : this.texts[detail],
      file: code === undefined ? null : this.codes[code].file,
      line: ev[4] || null,
    };
    v.push(p.id, p.process, thread, p.call, p.ts, name, detail, p.file, p.line);
    this.probeRows.added();
    this.probes.add(p);
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

  private stringText(c: Connection, wireId: number): string {
    return this.texts[this.stringOf(c, wireId)];
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

  private moduleId(module: string): number {
    let id = this.moduleIds.get(module);
    if (id === undefined) {
      id = this.modules.length;
      this.modules.push(module);
      this.moduleIds.set(module, id);
    }
    return id;
  }

  private file(path: string): number {
    let id = this.fileIds.get(path);
    if (id === undefined) {
      id = ++this.nextFile;
      this.insertFile.run([id, path]);
      this.fileIds.set(path, id);
      this.paths[id] = path;
      this.lastReturns[id] = new Map();
      this.lastRaises[id] = new Map();
    }
    return id;
  }

  /** files row 0 (path ''): the file of code that has none (C functions). */
  private noFile(): number {
    if (this.paths[0] === undefined) {
      this.db.run("INSERT OR IGNORE INTO files (id, path) VALUES (0, '')");
      this.paths[0] = '';
      this.lastReturns[0] = new Map();
      this.lastRaises[0] = new Map();
    }
    return 0;
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
        r.task,
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
    this.probeRows.flush();
  }
}

/** Index of the innermost frame of `wireCode` on the stack, or -1. */
function frameOf(stack: CallRec[], wireCode: number): number {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i].wireCode === wireCode) return i;
  return -1;
}
