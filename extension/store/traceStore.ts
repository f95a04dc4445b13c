// The store proper, as it lives inside the worker: one sql.js database created from schema.sql,
// the Ingestor that writes it (and the in-memory tracks), the TraceQueries that read it, the cap,
// and the summary, clear, save, open and export. Synchronous and single-threaded; worker.ts feeds
// it messages. No vscode imports.

import { renameSync, writeFileSync } from 'node:fs';
import type initSqlJs from 'sql.js';
import type { ProcessKey } from '../../adapter/protocol/dap';
import type { Batch, End, Hello, Lines, TracerError } from '../../adapter/protocol/wire';
import schema from '../../adapter/python/tracelens/schema.sql';
import { compileToSql } from '../query/compileToSql';
import { parseQuery } from '../query/parser';
import { registerSqlFunctions } from '../query/sqlFunctions';
import type {
  CallRow,
  FileAnnotations,
  FlameWindow,
  FunctionStats,
  LineStats,
  QueryResult,
  StoreSummary,
  TraceNamesResult,
  TrackInfo,
  WindowQuery,
} from './api';
import { exportChrome } from './chromeExport';
import { evictOldest } from './evictor';
import { flameWindow, type Matcher } from './flameWindow';
import { functionStats } from './functionStats';
import { Ingestor } from './ingestor';
import { TraceQueries } from './queries';
import { compileToTrackFilter, type TrackPredicate } from './trackFilter';
import type { Track } from './trackIndex';
import {
  DROPS_META,
  rebuildIndexes,
  readTraceFile,
  SCHEMA_VERSION,
  STORE_FORMAT,
} from './traceFile';

export { SCHEMA_VERSION, STORE_FORMAT } from './traceFile';

/**
 * Default cap: a stored call costs about 95 bytes in the database (bench/store.bench.ts) and 41 in
 * the in-memory tracks, so 7 million calls keep the store under about 1 GB.
 */
export const DEFAULT_MAX_CALLS = 7_000_000;

export interface TraceStoreOptions {
  /** Calls kept; past it the oldest go (evictor.ts). 0: no cap. */
  maxCalls?: number;
}

/**
 * sql.js keeps the database as a file in Emscripten's in-memory file system; a rollback journal
 * there is a second file written and dropped at every transaction. Kept in SQLite's own memory
 * instead, ingest is about a third faster; ROLLBACK still works.
 */
export const STORE_PRAGMAS = 'PRAGMA journal_mode = MEMORY;';

/** A new, empty trace database: the schema and its meta rows. */
export function createTraceDb(SQL: initSqlJs.SqlJsStatic): initSqlJs.Database {
  const db = new SQL.Database();
  db.exec(STORE_PRAGMAS);
  db.exec(schema);
  db.run('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?), (?, ?)', [
    'format',
    STORE_FORMAT,
    'schema_version',
    String(SCHEMA_VERSION),
  ]);
  return db;
}

/** The calls a filter sentence matches (bit per call id) and how many, as of a generation. */
interface MatchSet {
  generation: number;
  bits: Uint8Array;
  total: number;
}

export class TraceStore {
  private db!: initSqlJs.Database;
  private ingestor!: Ingestor;
  private queries!: TraceQueries;
  private generation = 0;
  private evicted = 0;
  private evictedBeforeNs = 0;
  private readonly maxCalls: number;
  /** Filter sentence -> the call ids it matches, as of a generation. */
  private matches = new Map<string, MatchSet>();
  private marking: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly SQL: initSqlJs.SqlJsStatic,
    options: TraceStoreOptions = {},
  ) {
    this.maxCalls = options.maxCalls ?? DEFAULT_MAX_CALLS;
    this.use(createTraceDb(SQL));
  }

  hello(key: ProcessKey, hello: Hello): void {
    if (this.ingestor.hello(key, hello)) this.generation++;
  }

  /** Returns a warning when some events did not fit the protocol and were skipped. */
  batch(key: ProcessKey, batch: Batch): string | undefined {
    const bad = this.ingestor.badEvents;
    if (this.ingestor.batch(key, batch)) {
      this.generation++;
      this.cap();
    }
    const skipped = this.ingestor.badEvents - bad;
    return skipped > 0
      ? `${skipped} event(s) of batch ${batch.seq} did not fit the wire protocol and were skipped.`
      : undefined;
  }

  /** Returns a warning when some figures named unknown files and were skipped. */
  lines(key: ProcessKey, lines: Lines): string | undefined {
    const bad = this.ingestor.badEvents;
    if (this.ingestor.lines(key, lines)) this.generation++;
    const skipped = this.ingestor.badEvents - bad;
    return skipped > 0
      ? `${skipped} line figure(s) did not fit the wire protocol and were skipped.`
      : undefined;
  }

  error(key: ProcessKey, error: TracerError): void {
    if (this.ingestor.error(key, error)) this.generation++;
  }

  end(key: ProcessKey, end: End): void {
    if (this.ingestor.end(key, end)) this.generation++;
  }

  summary(): StoreSummary {
    const i = this.ingestor;
    const s: StoreSummary = {
      processes: i.processes,
      calls: i.calls,
      dropped: i.dropped,
      running: i.running,
      generation: this.generation,
    };
    if (this.evicted > 0) {
      s.evicted = this.evicted;
      s.evictedBeforeNs = this.evictedBeforeNs;
    }
    return s;
  }

  children(parent: number | null, offset: number, limit: number): CallRow[] {
    return this.queries.children(parent, offset, limit);
  }

  call(id: number): CallRow | undefined {
    const row = this.queries.call(id);
    if (row && this.ingestor.tracks.hasTasks(row.thread)) {
      const lane = this.ingestor.tracks.laneOf(row.thread, row.id);
      if (lane && lane.task >= 0) {
        row.lane = lane.key;
        row.task = this.ingestor.text(lane.task) ?? '';
      }
    }
    return row;
  }

  fileAnnotations(path: string): FileAnnotations {
    return this.queries.fileAnnotations(path);
  }

  tracks(): TrackInfo[] {
    const running = this.ingestor.runningProcesses();
    const out: TrackInfo[] = [];
    const s = this.db.prepare(
      `SELECT t.id, t.process, p.pid, t.name, p.start_ns, p.end_ns FROM threads t
       JOIN processes p ON p.id = t.process ORDER BY t.process, t.id`,
    );
    try {
      while (s.step()) {
        const r = s.get();
        const thread = r[0] as number;
        const t = this.ingestor.tracks.get(thread);
        const n = t?.n ?? 0;
        const start = r[4] as number;
        const processEnd = (r[5] as number | null) ?? start;
        const live = running.has(r[1] as number);
        const info: TrackInfo = {
          thread,
          process: r[1] as number,
          pid: r[2] as number,
          name: (r[3] as string | null) ?? '',
          startNs: t && n > 0 ? t.start[0] : start,
          // A lane ends with its last call (or its process, when it has none).
          endNs: live ? null : t && n > 0 ? Math.max(t.maxEnd, t.start[n - 1]) : processEnd,
          calls: n,
          maxDepth: t?.maxDepth ?? 0,
        };
        out.push(info);
        // Its asyncio tasks' lanes, in the order they first ran.
        for (const lane of this.ingestor.tracks.tasksOf(thread)) {
          if (lane.n === 0) continue;
          const task = this.ingestor.text(lane.task) ?? '';
          out.push({
            thread,
            process: info.process,
            pid: info.pid,
            name: task,
            startNs: lane.start[0],
            endNs: live ? null : Math.max(lane.maxEnd, lane.start[lane.n - 1]),
            calls: lane.n,
            maxDepth: lane.rows,
            lane: lane.key,
            task,
            depthBase: lane.minDepth,
          });
        }
      }
    } finally {
      s.free();
    }
    return out;
  }

  window(q: WindowQuery): FlameWindow {
    const i = this.ingestor;
    const track = i.tracks.get(q.lane ?? q.thread);
    // A lane key must belong to the thread asked for.
    const lane = track && track.thread === q.thread ? track : undefined;
    const w = flameWindow(lane, q, i.codes, i.modules, this.matcher(q.filter));
    if (q.marks) {
      const process = lane?.process ?? i.tracks.get(q.thread)?.process;
      w.marks =
        q.lane === undefined
          ? i.probes.marks(q.thread, q.startNs, q.endNs, q.minDurationNs, i.paths)
          : [];
      w.drops = process === undefined ? [] : i.probes.dropsIn(process, q.startNs, q.endNs);
    }
    return w;
  }

  functionStats(filter?: string): FunctionStats[] {
    const i = this.ingestor;
    return functionStats(
      i.tracks,
      (code) => {
        const c = i.codes[code];
        return (
          c && { module: c.module, qualname: c.qualname, path: i.paths[c.file] ?? '', line: c.line }
        );
      },
      this.matcher(filter),
    );
  }

  lineStats(path: string): LineStats[] {
    return this.queries.lineStats(path);
  }

  /**
   * Calls of the code objects defined at `line` of `path` (one per process), in (start, id) order:
   * the page's ids come from the in-memory tracks (a scan of their code column), the rows from SQL.
   */
  callsOf(path: string, line: number, offset: number, limit: number): CallRow[] {
    const codes = this.queries.codesAt(path, line);
    if (codes.length === 0 || limit <= 0) return [];
    const one = codes[0];
    const set = new Set(codes);
    const has: TrackPredicate =
      codes.length === 1 ? (t, i) => t.code[i] === one : (t, i) => set.has(t.code[i]);
    return this.queries.callsById(this.page(has, offset, limit));
  }

  /** Total and one page of the matching calls, from the cached match set (see matchSet). */
  query(filter: string, offset: number, limit: number): QueryResult {
    const m = this.matchSet(filter);
    const total = m ? m.total : this.ingestor.calls;
    if (limit <= 0 || offset >= total) return { total, calls: [] };
    const bits = m?.bits;
    const has: TrackPredicate = bits
      ? (t, i) => {
          const id = t.id[i];
          return (bits[id >>> 3] & (1 << (id & 7))) !== 0;
        }
      : () => true;
    return { total, calls: this.queries.callsById(this.page(has, offset, limit)) };
  }

  names(): TraceNamesResult {
    return this.queries.names();
  }

  /** Empties the store. Processes still sending are forgotten: their later messages are ignored. */
  clear(): void {
    this.close();
    this.use(createTraceDb(this.SQL));
    this.generation++;
  }

  /** Writes the database as a SQLite file (through a temporary file, so a reader never sees half). */
  save(path: string): void {
    const drops = this.ingestor.probes.allDrops();
    if (drops.length > 0) {
      this.db.run('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', [
        DROPS_META,
        JSON.stringify(drops),
      ]);
    }
    const bytes = this.db.export();
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  }

  /** Replaces the contents with a saved trace file; throws a message for the user. */
  open(path: string): void {
    const db = readTraceFile(this.SQL, path);
    this.close();
    this.use(db, true);
    this.evicted = 0;
    this.evictedBeforeNs = 0;
    this.generation++;
  }

  exportChrome(path: string): void {
    exportChrome(this.db, path, (id) => this.ingestor.text(id) ?? '');
  }

  close(): void {
    this.queries.free();
    this.ingestor.free();
    this.db.close();
    this.matches.clear();
  }

  private use(db: initSqlJs.Database, opened = false): void {
    this.db = db;
    db.exec(STORE_PRAGMAS);
    registerSqlFunctions(db);
    db.create_function('tl_mark', (id: number) => {
      this.marking[id >>> 3] |= 1 << (id & 7);
      return 1;
    });
    this.ingestor = new Ingestor(db);
    if (opened) rebuildIndexes(db, this.ingestor);
    this.queries = new TraceQueries(db, this.ingestor);
    this.evicted = 0;
    this.evictedBeforeNs = 0;
  }

  /** Past the cap, drops the oldest calls down to 95% of it. */
  private cap(): void {
    const max = this.maxCalls;
    if (max <= 0 || this.ingestor.calls <= max) return;
    const target = max - Math.floor(max / 20);
    const e = evictOldest(this.db, this.ingestor, this.ingestor.calls - target);
    if (e.calls > 0) {
      this.evicted += e.calls;
      this.evictedBeforeNs = Math.max(this.evictedBeforeNs, e.beforeNs);
      this.matches.clear();
    }
  }

  /** Which calls match a filter sentence (cached per generation); undefined for no filter. */
  private matcher(filter: string | undefined): Matcher | undefined {
    if (filter === undefined || filter.trim() === '') return undefined;
    const m = this.matchSet(filter);
    if (!m) return undefined;
    const bits = m.bits;
    return (id) => (bits[id >>> 3] & (1 << (id & 7))) !== 0;
  }

  /**
   * The ids matching a sentence, as a bit set over call ids, and how many: from the in-memory
   * tracks when the sentence names only what they hold (trackFilter.ts), else from SQL. Cached
   * per generation (a few sentences). undefined: the sentence is empty (every call).
   */
  private matchSet(filter: string): MatchSet | undefined {
    const cached = this.matches.get(filter);
    if (cached && cached.generation === this.generation) return cached;
    const query = parseQuery(filter);
    if (!query.expr) return undefined;
    const bits = new Uint8Array((this.ingestor.lastCallId >>> 3) + 1);
    let total = 0;
    const pred = compileToTrackFilter(this.db, query);
    if (pred) {
      for (const t of this.ingestor.tracks.tracks.values()) {
        const ids = t.id;
        for (let i = 0, n = t.n; i < n; i++) {
          if (pred(t, i)) {
            const id = ids[i];
            bits[id >>> 3] |= 1 << (id & 7);
            total++;
          }
        }
      }
    } else {
      const { where, params } = compileToSql(query);
      this.marking = bits;
      const s = this.db.prepare(`SELECT count(tl_mark(c.id)) FROM calls c WHERE ${where}`);
      try {
        s.bind(params);
        s.step();
        total = s.get()[0] as number;
      } finally {
        s.free();
        this.marking = new Uint8Array(0);
      }
    }
    const m: MatchSet = { generation: this.generation, bits, total };
    if (this.matches.size >= 8) this.matches.delete(this.matches.keys().next().value!);
    this.matches.set(filter, m);
    return m;
  }

  /** One page of the calls `has` holds for, in (start, id) order across every track. */
  private page(has: TrackPredicate, offset: number, limit: number): number[] {
    const cursors: { t: Track; i: number }[] = [];
    for (const t of this.ingestor.tracks.tracks.values()) {
      let i = 0;
      while (i < t.n && !has(t, i)) i++;
      if (i < t.n) cursors.push({ t, i });
    }
    const ids: number[] = [];
    if (cursors.length === 1) {
      // One track: its order is start order, so skip without comparing.
      const c = cursors[0];
      const t = c.t;
      let skipped = 0;
      for (let i = c.i; i < t.n && ids.length < limit; i++) {
        if (!has(t, i)) continue;
        if (skipped < offset) skipped++;
        else ids.push(t.id[i]);
      }
      return ids;
    }
    let skipped = 0;
    while (ids.length < limit) {
      let best: { t: Track; i: number } | undefined;
      for (const c of cursors) {
        if (c.i >= c.t.n) continue;
        if (
          !best ||
          c.t.start[c.i] < best.t.start[best.i] ||
          (c.t.start[c.i] === best.t.start[best.i] && c.t.id[c.i] < best.t.id[best.i])
        ) {
          best = c;
        }
      }
      if (!best) break;
      if (skipped < offset) skipped++;
      else ids.push(best.t.id[best.i]);
      best.i++;
      while (best.i < best.t.n && !has(best.t, best.i)) best.i++;
    }
    return ids;
  }
}
