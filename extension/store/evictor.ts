// The store's cap: drops the oldest calls, each whole with its descendants, until enough are gone.
// The unit dropped is the oldest ended call whose parent is still open (or that has none): a
// finished top-level call, or, under a top-level call still running (a script's <module>), its
// oldest finished children. Calls still open are never dropped. Deletes the rows of the dropped
// calls and of their exception and probe events, trims the in-memory tracks and forgets the
// per-line marks that pointed at them. A thread whose calls are split over asyncio task lanes has
// its lanes' calls interleaved by id, so their rows are deleted by id, not by id range.
// Runs inside the store worker.

import type initSqlJs from 'sql.js';
import type { Ingestor } from './ingestor';
import { loadProbes } from './probeIndex';
import type { Track } from './trackIndex';

type Database = initSqlJs.Database;

export interface Eviction {
  calls: number;
  /** The latest end among the dropped calls (ns, trace time). */
  beforeNs: number;
}

interface Cursor {
  track: Track;
  at: number;
  pinned: number[];
  /** Dropped index ranges [from, to), in order. */
  ranges: [number, number][];
}

/** Drops at least `count` calls (fewer if only open calls remain). */
export function evictOldest(db: Database, ingestor: Ingestor, count: number): Eviction {
  const cursors: Cursor[] = [];
  for (const track of ingestor.tracks.tracks.values()) {
    if (track.n > 0) cursors.push({ track, at: 0, pinned: [], ranges: [] });
  }
  let dropped = 0;
  let beforeNs = 0;
  while (dropped < count) {
    // The track whose next droppable call started first.
    let best: Cursor | undefined;
    for (const c of cursors) {
      const t = c.track;
      while (c.at < t.n && t.end[c.at] !== t.end[c.at]) c.pinned.push(c.at++);
      if (c.at < t.n && (!best || t.start[c.at] < best.track.start[best.at])) best = c;
    }
    if (!best) break;
    const t = best.track;
    const to = t.subtreeEnd(best.at);
    const last = best.ranges[best.ranges.length - 1];
    if (last && last[1] === best.at) last[1] = to;
    else best.ranges.push([best.at, to]);
    dropped += to - best.at;
    beforeNs = Math.max(beforeNs, t.end[best.at]);
    best.at = to;
  }
  if (dropped === 0) return { calls: 0, beforeNs: 0 };

  /** Per lane touched: the id ranges it dropped (a range may hold other lanes' ids). */
  const idRanges = new Map<Track, [number, number][]>();
  const lanes = ingestor.tracks;
  db.exec('BEGIN');
  try {
    const calls = db.prepare('DELETE FROM calls WHERE id BETWEEN ? AND ? AND thread = ?');
    const byId = (ids: number[]): void => {
      for (let k = 0; k < ids.length; k += 500) {
        const chunk = ids.slice(k, k + 500);
        db.run(`DELETE FROM calls WHERE id IN (${chunk.map(() => '?').join(',')})`, chunk);
      }
    };
    const exceptions = db.prepare(
      'DELETE FROM exceptions WHERE call BETWEEN ? AND ? AND call NOT IN (SELECT id FROM calls WHERE id BETWEEN ? AND ?)',
    );
    const probes = db.prepare(
      'DELETE FROM probes WHERE call BETWEEN ? AND ? AND call NOT IN (SELECT id FROM calls WHERE id BETWEEN ? AND ?)',
    );
    const loose = db.prepare('DELETE FROM probes WHERE thread = ? AND call IS NULL AND ts_ns < ?');
    try {
      for (const c of cursors) {
        if (c.ranges.length === 0) continue;
        const t = c.track;
        const ids: [number, number][] = c.ranges.map(([a, b]) => [t.id[a], t.id[b - 1]]);
        idRanges.set(t, ids);
        const split = lanes.hasTasks(t.thread);
        for (const [a, b] of c.ranges) if (split) byId(Array.from(t.id.subarray(a, b)));
        for (const [lo, hi] of ids) {
          if (!split) calls.run([lo, hi, t.thread]);
          exceptions.run([lo, hi, lo, hi]);
          probes.run([lo, hi, lo, hi]);
        }
        loose.run([t.thread, t.end[c.ranges[c.ranges.length - 1][0]]]);
        t.keep(c.pinned, c.at);
      }
    } finally {
      calls.free();
      exceptions.free();
      probes.free();
      loose.free();
    }
    db.exec('COMMIT');
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
  // Open calls moved within their tracks.
  for (const rec of ingestor.openCalls()) {
    if (idRanges.has(rec.track)) rec.slot = rec.track.find(rec.id);
  }
  const touched = new Set([...idRanges.keys()].map((t) => t.thread));
  // A call is gone when none of its thread's lanes holds it any more.
  const gone = (thread: number, id: number): boolean =>
    touched.has(thread) && lanes.laneOf(thread, id) === undefined;
  for (const m of ingestor.lastReturns) {
    if (m) for (const [line, rec] of m) if (gone(rec.thread, rec.id)) m.delete(line);
  }
  for (const m of ingestor.lastRaises) {
    if (m) for (const [line, mark] of m) if (gone(mark.thread, mark.call)) m.delete(line);
  }
  ingestor.calls -= dropped;
  if (ingestor.probes.size > 0) loadProbes(db, ingestor.probes, (id) => ingestor.text(id));
  return { calls: dropped, beforeNs };
}
