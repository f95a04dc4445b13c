// Benchmark of the store's ingest (issue 4): N synthetic calls (call + return events, recursion
// shaped) through the store's Ingestor, against a plain prepared multi-row INSERT of the very same
// rows into an empty sql.js database with the same schema, in the same run; then the same stream
// end to end through StoreClient and the bundled worker (event-loop delay of this thread measured
// meanwhile), and bytes per call of the saved file. Run: node --import tsx test/unit/storeIngest.bench.ts [calls]

import { execFileSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import './fixtures/sqlText';
import initSqlJs from 'sql.js';
import type { Batch, Event, Hello } from '../../adapter/protocol/wire';
import { MultiInsert } from '../../extension/store/multiInsert';
import { createTraceDb, TraceStore } from '../../extension/store/traceStore';
import { buildWorker, startStore } from './fixtures/storeStreams';

const CALLS = Number(process.argv[2] ?? 1_000_000);
const EVENTS_PER_BATCH = 8192;
const DEPTH = 20;
const VALUES = 1000;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const key = { session: 'bench', connection: 1 };

const hello: Hello = {
  t: 'hello',
  version: 1,
  token: 'x',
  pid: 1,
  ppid: 0,
  python: '3.12.0',
  backend: 'monitoring',
  argv: ['bench.py'],
  cwd: '/bench',
  start_ns: 1_700_000_000_000_000_000,
};

/** Recursion to DEPTH, repeated: every call has one argument and returns one of VALUES strings. */
function makeBatches(): Batch[] {
  const batches: Batch[] = [];
  let events: Event[] = [];
  let seq = 0;
  let ts = 0;
  const first = (): Partial<Batch> =>
    seq > 0
      ? {}
      : {
          strings: Array.from(
            { length: VALUES },
            (_, i) => [i + 1, `value ${i}`] as [number, string],
          ),
          files: [[1, '/bench/bench.py']],
          codes: [[1, 1, '__main__', 'recurse', 1, ['n'], 0]],
          threads: [[1, 1, 'MainThread']],
        };
  const seal = (): void => {
    const defs = first();
    batches.push({
      t: 'batch',
      seq: ++seq,
      strings: [],
      files: [],
      codes: [],
      threads: [],
      dropped: 0,
      ...defs,
      events,
    });
    events = [];
  };
  const push = (ev: Event): void => {
    events.push(ev);
    if (events.length === EVENTS_PER_BATCH) {
      seal();
    }
  };
  let made = 0;
  while (made < CALLS) {
    const depth = Math.min(DEPTH, CALLS - made);
    for (let d = 0; d < depth; d++) push([1, 1, 1, (ts += 100), ((made + d) % VALUES) + 1]);
    for (let d = depth - 1; d >= 0; d--)
      push([2, 1, 1, (ts += 100), 3, ((made + d * 7) % VALUES) + 1]);
    made += depth;
  }
  if (events.length) seal();
  return batches;
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Wall and CPU (user + system, this process) milliseconds of `f`. */
function timed(f: () => void): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  f();
  const wall = ms(t0);
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

/** The call rows the store writes for the workload (read back once, for the baseline). */
function storedRows(SQL: initSqlJs.SqlJsStatic, batches: Batch[]): initSqlJs.SqlValue[][][] {
  const probe = new TraceStore(SQL);
  probe.hello(key, hello);
  for (const b of batches) probe.batch(key, b);
  const db = (probe as unknown as { db: initSqlJs.Database }).db;
  const rows = [
    db.exec('SELECT * FROM strings ORDER BY id')[0].values,
    db.exec('SELECT * FROM calls ORDER BY id')[0].values,
  ];
  probe.close();
  return rows;
}

/** One measurement in this (fresh) process: prints the milliseconds. */
async function measure(mode: string): Promise<void> {
  const SQL = await initSqlJs();
  const batches = makeBatches();
  if (mode === 'baseline') {
    // The rows the store writes, in the same transactions (one per batch) as the store.
    const [stringRows, callRows] = storedRows(SQL, batches);
    const perBatch = Math.ceil(callRows.length / batches.length);
    const flat = callRows.flat();
    callRows.length = 0;
    global.gc?.();
    const rows = flat.length / 15;
    const db = createTraceDb(SQL);
    const t = timed(() => {
      const calls = new MultiInsert(db, 'calls', CALL_COLUMNS, 128);
      const strings = new MultiInsert(db, 'strings', ['id', 'text'], 128);
      db.exec('BEGIN');
      for (const r of stringRows) {
        strings.values.push(r[0], r[1]);
        strings.added();
      }
      strings.flush();
      db.exec('COMMIT');
      for (let i = 0; i < rows; i += perBatch) {
        db.exec('BEGIN');
        const end = Math.min(rows, i + perBatch);
        const v = calls.values;
        for (let j = i; j < end; j++) {
          for (let k = j * 15, e = k + 15; k < e; k++) v.push(flat[k]);
          calls.added();
        }
        calls.flush();
        db.exec('COMMIT');
      }
    });
    console.log(JSON.stringify(t));
  } else {
    // Warm up the same way (one full ingest, closed), so both measure a grown heap.
    storedRows(SQL, batches);
    global.gc?.();
    const store = new TraceStore(SQL);
    const t = timed(() => {
      store.hello(key, hello);
      for (const b of batches) store.batch(key, b);
    });
    if (store.summary().calls !== CALLS) throw new Error(`stored ${store.summary().calls} calls`);
    console.log(JSON.stringify(t));
  }
}

function child(mode: string): { wall: number; cpu: number } {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', __filename, String(CALLS), mode],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as { wall: number; cpu: number };
}

async function main(): Promise<void> {
  const base: { wall: number; cpu: number }[] = [];
  const ours: { wall: number; cpu: number }[] = [];
  for (let rep = 0; rep < REPEATS; rep++) {
    base.push(child('baseline'));
    ours.push(child('ingest'));
  }
  const batches = makeBatches();
  const events = batches.reduce((n, b) => n + b.events.length, 0);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rate = (t: number): string => `${(((CALLS / t) * 1000) / 1e6).toFixed(2)} M calls/s`;
  const runs = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(' ');
  console.log(
    `workload: ${CALLS} calls, ${events} events, ${batches.length} batches, depth ${DEPTH}`,
  );
  for (const k of ['wall', 'cpu'] as const) {
    const b = base.map((x) => x[k]);
    const o = ours.map((x) => x[k]);
    console.log(
      `[${k}] plain multi-row INSERT of the same rows: median ${median(b).toFixed(0)} ms (${rate(median(b))}), runs ${runs(b)}`,
    );
    console.log(
      `[${k}] store ingest (events -> rows):           median ${median(o).toFixed(0)} ms (${rate(median(o))}), runs ${runs(o)}`,
    );
    console.log(
      `[${k}] ingest rate / baseline rate: ${((median(b) / median(o)) * 100).toFixed(1)}% (bar: >= 80%)`,
    );
  }

  // End to end: StoreClient -> bundled worker, with this thread's event-loop delay.
  buildWorker();
  const client = startStore();
  await client.summary();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const t0 = process.hrtime.bigint();
  client.hello(key, hello);
  for (const b of batches) {
    client.batch(key, b);
    await new Promise((r) => setImmediate(r));
  }
  const summary = await client.summary();
  const total = ms(t0);
  delay.disable();
  const query = async (name: string, f: () => Promise<unknown>): Promise<void> => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const q0 = process.hrtime.bigint();
      await f();
      times.push(ms(q0));
    }
    console.log(`query ${name}: median ${median(times).toFixed(1)} ms (runs ${runs(times)})`);
  };
  const top = await client.children(null, 0, 100);
  await query('children(null, 0, 100) [top level]', () => client.children(null, 0, 100));
  await query('children(null, 40000, 100) [top level, deep page]', () =>
    client.children(null, 40000, 100),
  );
  await query('children(call) [one child]', () => client.children(top[0].id));
  await query('call(id)', () => client.call(top[50].id + 5));
  await query('fileAnnotations [1 file, all calls in it]', () =>
    client.fileAnnotations('/bench/bench.py'),
  );
  const file = path.join(os.tmpdir(), `tracelens-bench-${process.pid}.db`);
  await client.save(file);
  const size = statSync(file).size;
  await client.dispose();
  rmSync(file, { force: true });
  console.log(
    `end to end through the worker: ${total.toFixed(0)} ms (${rate(total)}), ${summary.calls} calls stored`,
  );
  console.log(
    `event-loop delay while posting: p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`,
  );
  console.log(`saved file: ${size} bytes, ${(size / summary.calls).toFixed(1)} bytes per call`);
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

const mode = process.argv[3];
void (mode ? measure(mode) : main());
