// The store's in-memory index of what the flame chart marks besides calls: probe events per thread
// (a garbage collection as a span from gc.start to gc.stop with its generation and collected
// count; audit and other probes as instants) and, per process, the regions where the tracer's
// buffer was full and records were dropped. Written by the Ingestor, reloaded from the probes
// table when a trace file is opened or the cap deletes rows. Runs inside the store worker; knows
// nothing of the wire and reads SQL only in loadProbes.

import type initSqlJs from 'sql.js';
import type { DropRegion, FlameMark } from './api';

/** One probe event as stored (a GC is one entry from its start to its stop). */
export interface ProbeEntry {
  /** probes.id (of gc.start for a GC). */
  id: number;
  process: number;
  ts: number;
  /** NaN: a GC whose stop was not seen; ts for an instant. */
  end: number;
  kind: 'gc' | 'audit' | 'probe';
  name: string;
  detail: string;
  /** files.id, or -1. */
  file: number;
  line: number;
  /** calls.id, or -1. */
  call: number;
  generation?: number;
  collected?: number;
}

/** What a probe row or event carries. */
export interface ProbeEvent {
  id: number;
  process: number;
  thread: number;
  call: number | null;
  ts: number;
  name: string;
  detail: string;
  file: number | null;
  line: number | null;
}

/** Most marks one window answer holds per lane; past it they merge per pixel anyway. */
export const MAX_MARKS = 5000;

class ThreadProbes {
  readonly items: ProbeEntry[] = [];
  openGc: ProbeEntry | undefined;

  insert(e: ProbeEntry): void {
    const a = this.items;
    // Events of one thread arrive in time order; a late one is put in place.
    let i = a.length;
    while (i > 0 && a[i - 1].ts > e.ts) i--;
    if (i === a.length) a.push(e);
    else a.splice(i, 0, e);
  }

  /** First index whose ts >= t. */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid].ts < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const GEN = /\bgen=(\d+)/;
const COLLECTED = /\bcollected=(\d+)/;

export class ProbeIndex {
  private readonly threads = new Map<number, ThreadProbes>();
  /** Per process: dropped regions in time order (touching ones merged). */
  private readonly drops = new Map<number, DropRegion[]>();

  /** Probe events held (a GC counts once). */
  get size(): number {
    let n = 0;
    for (const t of this.threads.values()) n += t.items.length;
    return n;
  }

  add(p: ProbeEvent): void {
    let t = this.threads.get(p.thread);
    if (!t) this.threads.set(p.thread, (t = new ThreadProbes()));
    const file = p.file ?? -1;
    const line = p.line ?? 0;
    const call = p.call ?? -1;
    if (p.name === 'gc.stop' && t.openGc) {
      const g = t.openGc;
      t.openGc = undefined;
      g.end = Math.max(g.ts, p.ts);
      g.detail = p.detail || g.detail;
      const c = COLLECTED.exec(p.detail);
      if (c) g.collected = Number(c[1]);
      return;
    }
    if (p.name === 'gc.start' || p.name === 'gc.stop') {
      const gen = GEN.exec(p.detail);
      const e: ProbeEntry = {
        id: p.id,
        process: p.process,
        ts: p.ts,
        end: p.name === 'gc.start' ? NaN : p.ts,
        kind: 'gc',
        name: 'gc',
        detail: p.detail,
        file,
        line,
        call,
      };
      if (gen) e.generation = Number(gen[1]);
      const c = COLLECTED.exec(p.detail);
      if (c) e.collected = Number(c[1]);
      if (p.name === 'gc.start') t.openGc = e;
      t.insert(e);
      return;
    }
    const audit = p.name === 'audit';
    const space = p.detail.indexOf(' ');
    t.insert({
      id: p.id,
      process: p.process,
      ts: p.ts,
      end: p.ts,
      kind: audit ? 'audit' : 'probe',
      // An audit event's detail starts with its name: "open ('/tmp/x', 'w', 524865)".
      name: audit ? (space < 0 ? p.detail : p.detail.slice(0, space)) || 'audit' : p.name,
      detail: p.detail,
      file,
      line,
      call,
    });
  }

  /** Notes `records` dropped by a process's tracer between two times (trace ns). */
  drop(process: number, startNs: number, endNs: number, records: number): void {
    let list = this.drops.get(process);
    if (!list) this.drops.set(process, (list = []));
    const last = list[list.length - 1];
    if (last && startNs <= last.endNs) {
      last.endNs = Math.max(last.endNs, endNs);
      last.records += records;
      return;
    }
    list.push({ process, startNs, endNs: Math.max(startNs, endNs), records });
  }

  /** Every dropped region, for saving. */
  allDrops(): DropRegion[] {
    return [...this.drops.values()].flat();
  }

  /** Forgets the probe events (the dropped regions stay). */
  clearProbes(): void {
    this.threads.clear();
  }

  /**
   * The marks of a thread overlapping [S, E]; marks of one kind closer than `minDurationNs` (about
   * a pixel) merge into the first, which counts them.
   */
  marks(
    thread: number,
    S: number,
    E: number,
    minDurationNs: number,
    paths: readonly (string | undefined)[],
  ): FlameMark[] {
    const t = this.threads.get(thread);
    const out: FlameMark[] = [];
    if (!t || !(E > S)) return out;
    const a = t.items;
    let i = t.lowerBound(S);
    // A GC started before S may still be running at S (collections do not nest on a thread).
    if (i > 0) {
      const p = a[i - 1];
      if (p.kind === 'gc' && (p.end !== p.end || p.end >= S)) i--;
    }
    const w = minDurationNs > 0 ? minDurationNs : 0;
    const last: Partial<Record<FlameMark['kind'], FlameMark>> = {};
    for (; i < a.length && a[i].ts <= E; i++) {
      const e = a[i];
      const prev = last[e.kind];
      const end = e.end !== e.end ? null : e.end;
      if (prev && w > 0 && e.ts - (prev.endNs ?? prev.startNs) < w) {
        prev.count++;
        if (prev.endNs !== null) prev.endNs = end === null ? null : Math.max(prev.endNs, end);
        continue;
      }
      if (out.length >= MAX_MARKS) break;
      const m: FlameMark = {
        id: e.id,
        kind: e.kind,
        name: e.name,
        startNs: e.ts,
        endNs: end,
        detail: e.detail,
        call: e.call >= 0 ? e.call : null,
        count: 1,
      };
      if (e.file >= 0 && paths[e.file]) m.file = paths[e.file];
      if (e.line > 0) m.line = e.line;
      if (e.generation !== undefined) m.generation = e.generation;
      if (e.collected !== undefined) m.collected = e.collected;
      out.push(m);
      last[e.kind] = m;
    }
    return out;
  }

  /** The dropped regions of a process overlapping [S, E]. */
  dropsIn(process: number, S: number, E: number): DropRegion[] {
    return (this.drops.get(process) ?? [])
      .filter((d) => d.startNs <= E && d.endNs >= S)
      .map((d) => ({ ...d }));
  }
}

/** Reads the probes table into an index (its dropped regions are kept). */
export function loadProbes(
  db: initSqlJs.Database,
  index: ProbeIndex,
  text: (id: number) => string | undefined,
): void {
  index.clearProbes();
  const s = db.prepare(
    'SELECT id, process, thread, call, ts_ns, name, detail, file, line FROM probes ORDER BY thread, ts_ns, id',
  );
  try {
    while (s.step()) {
      const r = s.get();
      index.add({
        id: r[0] as number,
        process: r[1] as number,
        thread: r[2] as number,
        call: r[3] as number | null,
        ts: r[4] as number,
        name: r[5] as string,
        detail: r[6] === null ? '' : (text(r[6] as number) ?? ''),
        file: r[7] as number | null,
        line: r[8] as number | null,
      });
    }
  } finally {
    s.free();
  }
}
