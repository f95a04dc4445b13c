// Opening a saved trace (the store's own save or `python -m tracelens run --output`): checks that
// the file is a Tracelens trace of a schema this version reads, brings an older file's tables up
// to the schema, then rebuilds what the store keeps in memory: the Ingestor's interned names, the
// tracks (own time, "outermost of its code" flags, asyncio task lanes), the probe marks and
// dropped regions, and the last return and raise per line.
// Runs inside the store worker; reads the file, writes only the in-memory database.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type initSqlJs from 'sql.js';
import schema from '../../adapter/python/tracelens/schema.sql';
import { CallFlags, CallRec, type Ingestor } from './ingestor';
import { loadProbes } from './probeIndex';
import type { DropRegion } from './api';
import type { Track } from './trackIndex';

type Database = initSqlJs.Database;
type SqlValue = initSqlJs.SqlValue;

export const STORE_FORMAT = 'tracelens';
export const SCHEMA_VERSION = 1;

/** Loads and checks a trace file; throws an Error with a message for the user. */
export function readTraceFile(SQL: initSqlJs.SqlJsStatic, file: string): Database {
  const name = path.basename(file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(`Tracelens could not read ${file}: ${(e as Error).message}`);
  }
  const notTrace = new Error(
    `${name} is not a Tracelens trace (save one from the timeline, or write one with \`python -m tracelens run --output FILE\`).`,
  );
  if (bytes.subarray(0, 16).toString('latin1') !== 'SQLite format 3\u0000') throw notTrace;
  let db: Database;
  try {
    db = new SQL.Database(bytes);
  } catch {
    throw notTrace;
  }
  try {
    const meta = new Map<string, string>();
    try {
      for (const r of db.exec('SELECT key, value FROM meta')[0]?.values ?? []) {
        meta.set(String(r[0]), String(r[1]));
      }
    } catch {
      throw notTrace;
    }
    if (meta.get('format') !== STORE_FORMAT) throw notTrace;
    const version = Number(meta.get('schema_version'));
    if (!Number.isInteger(version) || version < 1) throw notTrace;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `${name} was made by a newer Tracelens (schema ${version}); update the extension to open it.`,
      );
    }
    // Tables, columns and indexes a file from an earlier build of this schema may lack.
    db.exec(schema);
    const columns = db.exec('PRAGMA table_info(calls)')[0].values.map((r) => r[1]);
    if (!columns.includes('task')) db.exec('ALTER TABLE calls ADD COLUMN task INTEGER');
    if (db.exec('SELECT 1 FROM codes WHERE file = 0 LIMIT 1').length > 0) {
      db.run("INSERT OR IGNORE INTO files (id, path) VALUES (0, '')");
    }
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Rebuilds the in-memory indexes of an Ingestor created on an opened database. */
export function rebuildIndexes(db: Database, ingestor: Ingestor): void {
  ingestor.adopt();
  rebuildTracks(db, ingestor);
  rebuildLastPerLine(db, ingestor);
  loadProbes(db, ingestor.probes, (id) => ingestor.text(id));
  for (const d of readDrops(db)) ingestor.probes.drop(d.process, d.startNs, d.endNs, d.records);
}

/** meta key of the dropped regions (JSON array of DropRegion), written when the store saves. */
export const DROPS_META = 'dropped_regions';

/** The dropped regions a saved trace holds ([] when it has none or they do not parse). */
function readDrops(db: Database): DropRegion[] {
  const r = db.exec('SELECT value FROM meta WHERE key = ?', [DROPS_META])[0];
  if (!r) return [];
  try {
    const v = JSON.parse(String(r.values[0][0])) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter(
      (d): d is DropRegion =>
        typeof d === 'object' &&
        d !== null &&
        ['process', 'startNs', 'endNs', 'records'].every(
          (k) => typeof (d as Record<string, unknown>)[k] === 'number',
        ),
    );
  } catch {
    return [];
  }
}

function each(db: Database, sql: string, f: (r: SqlValue[]) => void): void {
  const s = db.prepare(sql);
  try {
    while (s.step()) f(s.get());
  } finally {
    s.free();
  }
}

function rebuildTracks(db: Database, ingestor: Ingestor): void {
  const tracks = ingestor.tracks;
  /** Call id -> strings.id of its task, for the calls that ran in one. */
  const tasks = new Map<number, number>();
  const taskThreads = new Set<number>();
  each(db, 'SELECT id, process FROM threads ORDER BY id', ([id, process]) => {
    tracks.track(id as number, process as number);
  });
  each(
    db,
    // (thread, start_ns, id) is the calls_thread_start index's order: no sort.
    'SELECT id, process, thread, parent, depth, code, start_ns, end_ns, flags, args, return_value, exc_type, exc_message, task FROM calls ORDER BY thread, start_ns, id',
    (r) => {
      if (typeof r[13] === 'number') {
        tasks.set(r[0] as number, r[13]);
        taskThreads.add(r[2] as number);
      }
      const t = tracks.track(r[2] as number, r[1] as number);
      const i = t.push(
        r[0] as number,
        (r[3] as number | null) ?? -1,
        r[6] as number,
        r[4] as number,
        r[5] as number,
        r[8] as number,
      );
      if (r[7] !== null)
        t.close(i, r[7] as number, (r[7] as number) - (r[6] as number), r[8] as number);
      const id = (v: unknown): number => (typeof v === 'number' ? v : -1);
      t.values(i, id(r[10]), id(r[11]), id(r[12]));
      if (typeof r[9] === 'string') pushArgs(t, r[9]);
    },
  );
  // Own time: each call's duration minus its children's; "outermost of its code" from the open
  // frames of each code along the track (files written without the flag get it here).
  const set: number[] = [];
  const unset: number[] = [];
  for (const t of tracks.tracks.values()) {
    for (let i = 0; i < t.n; i++) {
      const p = t.parent[i];
      const e = t.end[i];
      if (p < 0 || e !== e) continue;
      const j = t.find(p);
      if (j >= 0) t.own[j] -= e - t.start[i];
    }
    const stack: number[] = [];
    const open: number[] = [];
    for (let i = 0; i < t.n; i++) {
      while (stack.length > 0 && t.depth[stack[stack.length - 1]] >= t.depth[i]) {
        open[t.code[stack.pop()!]]--;
      }
      const code = t.code[i];
      const outermost = !open[code];
      open[code] = (open[code] ?? 0) + 1;
      stack.push(i);
      const f = t.flags[i];
      if (outermost !== ((f & CallFlags.Outermost) !== 0)) {
        t.flags[i] = f ^ CallFlags.Outermost;
        (outermost ? set : unset).push(t.id[i]);
      }
    }
  }
  if (set.length + unset.length > 0) {
    db.exec('BEGIN');
    const update = (ids: number[], change: string): void => {
      for (let k = 0; k < ids.length; k += 500) {
        const chunk = ids.slice(k, k + 500);
        db.run(
          `UPDATE calls SET flags = ${change} WHERE id IN (${chunk.map(() => '?').join(',')})`,
          chunk,
        );
      }
    };
    update(set, `flags | ${CallFlags.Outermost}`);
    update(unset, `flags & ~${CallFlags.Outermost}`);
    db.exec('COMMIT');
  }
  // Threads that ran asyncio tasks: their calls move to the tasks' lanes, as at ingest.
  for (const thread of taskThreads) {
    const t = tracks.get(thread)!;
    tracks.splitTasks(thread, (i) => tasks.get(t.id[i]) ?? -1);
  }
}

function rebuildLastPerLine(db: Database, ingestor: Ingestor): void {
  each(
    db,
    `SELECT co.file, c.return_line, max(c.end_ns), c.id, c.process, c.thread, c.parent, c.depth,
       c.code, c.start_ns, c.args, c.flags, c.return_value
     FROM calls c JOIN codes co ON co.id = c.code
     WHERE c.return_line IS NOT NULL AND c.end_ns IS NOT NULL GROUP BY co.file, c.return_line`,
    (r) => {
      const rec = new CallRec(
        r[3] as number,
        r[4] as number,
        r[5] as number,
        r[6] as number | null,
        r[7] as number,
        r[8] as number,
        0,
        r[9] as number,
        r[10] as string | null,
        r[11] as number,
      );
      rec.end = r[2] as number;
      rec.line = r[1] as number;
      rec.value = r[12] as number | null;
      rec.inserted = true;
      ingestor.lastReturns[r[0] as number]?.set(rec.line, rec);
    },
  );
  each(
    db,
    `SELECT co.file, e.line, max(e.ts_ns), e.id, e.call, c.thread, e.type, e.message
     FROM exceptions e JOIN calls c ON c.id = e.call JOIN codes co ON co.id = c.code
     WHERE e.kind = 3 AND e.line IS NOT NULL GROUP BY co.file, e.line`,
    (r) => {
      ingestor.lastRaises[r[0] as number]?.set(r[1] as number, {
        ts: r[2] as number,
        exception: r[3] as number,
        call: r[4] as number,
        thread: r[5] as number,
        type: r[6] as number,
        message: r[7] as number,
      });
    },
  );
}

/** Appends the ids of a calls.args JSON array of integers and nulls (null: -1) to the last call. */
function pushArgs(t: Track, args: string): void {
  let v = -1;
  let digits = false;
  for (let k = 1; k < args.length; k++) {
    const ch = args.charCodeAt(k);
    if (ch >= 48 && ch <= 57) {
      v = (digits ? v * 10 : 0) + ch - 48;
      digits = true;
    } else if (ch === 44 || ch === 93) {
      if (ch === 93 && !digits && v === -1 && args[k - 1] === '[') return;
      t.pushArg(digits ? v : -1);
      v = -1;
      digits = false;
    }
  }
}
