// Trace store benchmark (issue 4), on a recursion workload of N calls (default 1,000,000; depth 20,
// one argument and one return value each, 8192 events per batch, one `lines` message):
// - ingest: the store's Ingestor (events -> rows, in-memory tracks) against a plain prepared
//   multi-row INSERT of the very same rows into an empty sql.js database with the same schema,
//   each in a fresh child process, interleaved, BENCH_REPS times (default 3); ratio of medians;
// - end to end through StoreClient and the bundled worker: wall time, and this thread's event-loop
//   delay meanwhile (monitorEventLoopDelay, 1 ms resolution: p99 and max);
// - bytes per stored call of the saved file;
// - each ITraceStore query on the N calls, as seen from the extension host (median of 5);
// - open of the saved file, Chrome export.
// Run: node --import tsx bench/store.bench.ts [calls]   (last output line: one JSON object)

import { execFileSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import '../test/unit/fixtures/sqlText';
import initSqlJs from 'sql.js';
import type { Batch, Event, Hello, Lines } from '../adapter/protocol/wire';
import { MultiInsert } from '../extension/store/multiInsert';
import { createTraceDb, TraceStore } from '../extension/store/traceStore';
import { buildWorker, startStore } from '../test/unit/fixtures/storeStreams';

const CALLS = Number(process.argv[2] ?? 1_000_000);
const EVENTS_PER_BATCH = 8192;
const DEPTH = 20;
const VALUES = 1000;
const REPEATS = Number(process.env.BENCH_REPS ?? 3);
const FILE = '/bench/bench.py';
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
          files: [[1, FILE]],
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
    if (events.length === EVENTS_PER_BATCH) seal();
  };
  let made = 0;
  while (made < CALLS) {
    const depth = Math.min(DEPTH, CALLS - made);
    for (let d = 0; d < depth; d++) push([1, 1, 1, (ts += 100), ((made + d) % VALUES) + 1]);
    for (let d = depth - 1; d >= 0; d--) {
      push([2, 1, 1, (ts += 100), 3, ((made + d * 7) % VALUES) + 1]);
    }
    made += depth;
  }
  if (events.length) seal();
  return batches;
}

/** Exact per-line figures for 1000 lines of the file. */
const LINES: Lines = {
  t: 'lines',
  sampled: false,
  stats: Array.from({ length: 1000 }, (_, i) => [1, i + 1, 10 + i, 1000 * i, 2000 * i]),
};

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

/** The rows the store writes for the workload (read back once, for the baseline). */
function storedRows(
  SQL: initSqlJs.SqlJsStatic,
  batches: Batch[],
): { strings: initSqlJs.SqlValue[][]; calls: initSqlJs.SqlValue[][]; columns: string[] } {
  const probe = new TraceStore(SQL, { maxCalls: 0 });
  probe.hello(key, hello);
  for (const b of batches) probe.batch(key, b);
  const db = (probe as unknown as { db: initSqlJs.Database }).db;
  const calls = db.exec('SELECT * FROM calls ORDER BY id')[0];
  const out = {
    strings: db.exec('SELECT * FROM strings ORDER BY id')[0].values,
    calls: calls.values,
    columns: calls.columns,
  };
  probe.close();
  return out;
}

/** One measurement in this (fresh) process: prints the milliseconds. */
async function measure(mode: string): Promise<void> {
  const SQL = await initSqlJs();
  const batches = makeBatches();
  if (mode === 'baseline') {
    // The rows the store writes, in the same transactions (one per batch) as the store.
    const { strings, calls, columns } = storedRows(SQL, batches);
    const width = columns.length;
    const perBatch = Math.ceil(calls.length / batches.length);
    const flat = calls.flat();
    calls.length = 0;
    global.gc?.();
    const rows = flat.length / width;
    const db = createTraceDb(SQL);
    const t = timed(() => {
      const callRows = new MultiInsert(db, 'calls', columns, 128);
      const stringRows = new MultiInsert(db, 'strings', ['id', 'text'], 128);
      db.exec('BEGIN');
      for (const r of strings) {
        stringRows.values.push(r[0], r[1]);
        stringRows.added();
      }
      stringRows.flush();
      db.exec('COMMIT');
      for (let i = 0; i < rows; i += perBatch) {
        db.exec('BEGIN');
        const end = Math.min(rows, i + perBatch);
        const v = callRows.values;
        for (let j = i; j < end; j++) {
          for (let k = j * width, e = k + width; k < e; k++) v.push(flat[k]);
          callRows.added();
        }
        callRows.flush();
        db.exec('COMMIT');
      }
    });
    console.log(JSON.stringify(t));
  } else {
    // Warm up the same way (one full ingest, closed), so both measure a grown heap.
    storedRows(SQL, batches);
    global.gc?.();
    const store = new TraceStore(SQL, { maxCalls: 0 });
    const t = timed(() => {
      store.hello(key, hello);
      for (const b of batches) store.batch(key, b);
    });
    if (store.summary().calls !== CALLS) throw new Error(`stored ${store.summary().calls} calls`);
    store.end(key, { t: 'end', exit_code: 0, reason: 'exit' });
    // The store's own time for the heaviest queries (no worker, no message passing): best of 5.
    const [track] = store.tracks();
    const span = track.endNs! - track.startNs;
    const best = (f: () => unknown): number => {
      let b = Infinity;
      for (let i = 0; i < 5; i++) {
        const q0 = process.hrtime.bigint();
        f();
        b = Math.min(b, ms(q0));
      }
      return round(b, 2);
    };
    const inProcess = {
      'window(whole trace, 2000 px)': best(() =>
        store.window({ thread: 1, startNs: 0, endNs: span, minDurationNs: span / 2000 }),
      ),
      'window(1/20 of the trace, 2000 px)': best(() =>
        store.window({
          thread: 1,
          startNs: span / 3,
          endNs: span / 3 + span / 20,
          minDurationNs: span / 20 / 2000,
        }),
      ),
      'functionStats()': best(() => store.functionStats()),
      'query("depth == 19") (match set on the tracks, uncached)': best(() =>
        store.query(`depth == 19 and depth != ${Math.random()}`, 0, 100),
      ),
    };
    console.log(JSON.stringify({ ...t, inProcess }));
  }
}

function child(mode: string): { wall: number; cpu: number; inProcess?: Record<string, number> } {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', __filename, String(CALLS), mode],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as ReturnType<typeof child>;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

async function main(): Promise<void> {
  const log = (s: string): void => console.log(s);
  const base: ReturnType<typeof child>[] = [];
  const ours: ReturnType<typeof child>[] = [];
  for (let rep = 0; rep < REPEATS; rep++) {
    base.push(child('baseline'));
    ours.push(child('ingest'));
  }
  const batches = makeBatches();
  const events = batches.reduce((n, b) => n + b.events.length, 0);
  const rate = (t: number): number => round(CALLS / t / 1000, 2); // M calls/s
  log(`workload: ${CALLS} calls, ${events} events, ${batches.length} batches, depth ${DEPTH}`);
  const ingest: Record<string, unknown> = {};
  for (const k of ['wall', 'cpu'] as const) {
    const b = median(base.map((x) => x[k]));
    const o = median(ours.map((x) => x[k]));
    ingest[k] = {
      baseline_ms: round(b),
      store_ms: round(o),
      baseline_mcalls_s: rate(b),
      store_mcalls_s: rate(o),
      ratio: round(b / o, 3),
      baseline_runs: base.map((x) => round(x[k])),
      store_runs: ours.map((x) => round(x[k])),
    };
    log(
      `[${k}] plain INSERT ${b.toFixed(0)} ms, store ingest ${o.toFixed(0)} ms: ingest rate / baseline rate ${((b / o) * 100).toFixed(1)}% (bar: >= 80%)`,
    );
  }

  // End to end: StoreClient -> bundled worker, with this thread's event-loop delay.
  buildWorker();
  const client = startStore({ maxCalls: 0 });
  await client.summary();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const t0 = process.hrtime.bigint();
  client.hello(key, hello);
  for (const b of batches) {
    client.batch(key, b);
    await new Promise((r) => setImmediate(r));
  }
  client.lines(key, LINES);
  client.end(key, { t: 'end', exit_code: 0, reason: 'exit' });
  const summary = await client.summary();
  const endToEnd = ms(t0);
  delay.disable();
  const p99 = delay.percentile(99) / 1e6;
  log(
    `end to end through the worker: ${endToEnd.toFixed(0)} ms, ${summary.calls} calls; event-loop delay p99 ${p99.toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms (bar: p99 <= 50 ms)`,
  );

  const queries: Record<
    string,
    { first_ms: number; median_ms: number; runs: number[]; result: string }
  > = {};
  const query = async (
    name: string,
    f: () => Promise<unknown>,
    describe: (r: never) => string,
    runs = 5,
  ): Promise<void> => {
    const times: number[] = [];
    let result: unknown;
    for (let i = 0; i < runs; i++) {
      const q0 = process.hrtime.bigint();
      result = await f();
      times.push(ms(q0));
    }
    queries[name] = {
      first_ms: round(times[0], 2),
      median_ms: round(median(times), 2),
      runs: times.map((x) => round(x, 2)),
      result: describe(result as never),
    };
    log(
      `query ${name}: first ${times[0].toFixed(2)} ms, median ${median(times).toFixed(2)} ms (${describe(result as never)})`,
    );
  };
  const [track] = await client.tracks();
  const span = track.endNs! - track.startNs;
  const n = (r: unknown[]): string => `${r.length} rows`;
  const win = (w: { boxes: unknown[]; buckets: unknown[] }): string =>
    `${w.boxes.length} boxes, ${w.buckets.length} buckets`;
  await query('tracks()', () => client.tracks(), n);
  await query(
    'window(whole trace, 2000 px)',
    () =>
      client.window({ thread: track.thread, startNs: 0, endNs: span, minDurationNs: span / 2000 }),
    win,
  );
  await query(
    'window(1/1000 of the trace, 2000 px)',
    () =>
      client.window({
        thread: track.thread,
        startNs: span / 2,
        endNs: span / 2 + span / 1000,
        minDurationNs: span / 1000 / 2000,
      }),
    win,
  );
  await query(
    'window(1/20 of the trace, 2000 px)',
    () =>
      client.window({
        thread: track.thread,
        startNs: span / 3,
        endNs: span / 3 + span / 20,
        minDurationNs: span / 20 / 2000,
      }),
    win,
  );
  await query(
    'window(whole trace, filter "arg.n == \'value 7\'", first: computes the matches)',
    () =>
      client.window({
        thread: track.thread,
        startNs: 0,
        endNs: span,
        minDurationNs: span / 2000,
        filter: "arg.n == 'value 7'",
      }),
    win,
    1,
  );
  await query(
    'window(whole trace, same filter, cached)',
    () =>
      client.window({
        thread: track.thread,
        startNs: 0,
        endNs: span,
        minDurationNs: span / 2000,
        filter: "arg.n == 'value 7'",
      }),
    win,
  );
  await query(
    'window(whole trace, filter "depth < 3", first)',
    () =>
      client.window({
        thread: track.thread,
        startNs: 0,
        endNs: span,
        minDurationNs: span / 2000,
        filter: 'depth < 3',
      }),
    win,
    1,
  );
  await query('functionStats()', () => client.functionStats(), n);
  await query('functionStats("depth > 10", first)', () => client.functionStats('depth > 10'), n, 1);
  await query('functionStats("depth > 10", cached)', () => client.functionStats('depth > 10'), n);
  await query('lineStats(file) [1000 lines]', () => client.lineStats(FILE), n);
  await query(
    'callsOf(file, 1, 0, 100) [1M calls of one function]',
    () => client.callsOf(FILE, 1, 0, 100),
    n,
  );
  await query('callsOf(file, 1, 500000, 100)', () => client.callsOf(FILE, 1, 500_000, 100), n);
  await query('callsOf(file, 1, 999900, 100)', () => client.callsOf(FILE, 1, 999_900, 100), n);
  const total = (r: { total: number; calls: unknown[] }): string =>
    `total ${r.total}, ${r.calls.length} rows`;
  await query(
    'query("function == recurse and depth == 19", 0, 100)',
    () => client.query('function == recurse and depth == 19', 0, 100),
    total,
  );
  for (const f of ["arg contains 'value 5'", "arg.n != 'value 7'", "return ~ '^value 1'"]) {
    await query(`query("${f}", 0, 100), first`, () => client.query(f, 0, 100), total, 1);
    await query(`query("${f}", 0, 100), cached`, () => client.query(f, 0, 100), total);
  }
  await query(
    'query("return == \'value 3\'", 0, 100)',
    () => client.query("return == 'value 3'", 0, 100),
    total,
  );
  await query(
    'query("duration > 3us", 0, 100)',
    () => client.query('duration > 3us', 0, 100),
    total,
  );
  await query(
    'names()',
    () => client.names(),
    (r: { functions: string[] }) => `${r.functions.length} functions`,
  );
  const top = await client.children(null, 0, 100);
  await query('children(null, 0, 100)', () => client.children(null, 0, 100), n);
  await query('children(call)', () => client.children(top[10].id), n);
  await query(
    'call(id)',
    () => client.call(top[50].id + 5),
    () => 'one call',
  );
  await query(
    'fileAnnotations(file)',
    () => client.fileAnnotations(FILE),
    (r: { returns: unknown[] }) => `${r.returns.length} return lines`,
  );

  const file = path.join(os.tmpdir(), `tracelens-bench-${process.pid}.db`);
  const json = path.join(os.tmpdir(), `tracelens-bench-${process.pid}.json`);
  let s0 = process.hrtime.bigint();
  await client.save(file);
  const saveMs = ms(s0);
  const size = statSync(file).size;
  s0 = process.hrtime.bigint();
  await client.open(file);
  const openMs = ms(s0);
  s0 = process.hrtime.bigint();
  await client.exportChrome(json);
  const exportMs = ms(s0);
  const jsonSize = statSync(json).size;
  await client.dispose();
  rmSync(file, { force: true });
  rmSync(json, { force: true });
  const perCall = size / summary.calls;
  log(
    `saved file: ${size} bytes, ${perCall.toFixed(1)} bytes per call (bar: < 120); save ${saveMs.toFixed(0)} ms, open ${openMs.toFixed(0)} ms, Chrome export ${exportMs.toFixed(0)} ms (${jsonSize} bytes)`,
  );
  console.log(
    JSON.stringify({
      calls: CALLS,
      events,
      batches: batches.length,
      repeats: REPEATS,
      ingest,
      ingest_ratio: (ingest.wall as { ratio: number }).ratio,
      end_to_end_ms: round(endToEnd),
      event_loop_delay_p99_ms: round(p99, 2),
      event_loop_delay_max_ms: round(delay.max / 1e6, 2),
      saved_bytes: size,
      bytes_per_call: round(perCall, 1),
      save_ms: round(saveMs),
      open_ms: round(openMs),
      chrome_export_ms: round(exportMs),
      chrome_export_bytes: jsonSize,
      queries,
      store_time_in_process_best_ms: ours[ours.length - 1].inProcess,
      load_average: os.loadavg().map((x) => round(x, 2)),
      cpus: os.cpus().length,
    }),
  );
}

const mode = process.argv[3];
void (mode ? measure(mode) : main());
