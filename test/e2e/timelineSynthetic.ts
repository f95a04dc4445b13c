// A synthetic trace for the timeline's frame-time test: a deterministic forest of calls on two
// threads (six modules, ten functions, trees up to depth 14, durations from tens of ns to ms, one
// call in 50 ending by an exception), delivered to a TraceSink batch by batch as a tracer would.
// Test-only; no I/O.

import type { ProcessKey, TraceSink } from '../../adapter/protocol/dap';
import type { Batch, Event, Hello } from '../../adapter/protocol/wire';

const EVENTS_PER_BATCH = 8192;
const key: ProcessKey = { session: 'frames', connection: 1 };

const MODULES = ['app.server', 'app.db', 'app.render', 'app.util', 'json.encoder', 'app.auth'];
const FUNCS: [string, string][] = [
  ['app.server', 'handle_request'],
  ['app.server', 'dispatch'],
  ['app.db', 'Cursor.execute'],
  ['app.db', 'Cursor.fetch'],
  ['app.render', 'render_page'],
  ['app.render', 'escape'],
  ['app.util', 'slugify'],
  ['json.encoder', 'encode'],
  ['app.auth', 'check_token'],
  ['app.util', 'parse_int'],
];

/**
 * A deterministic forest of calls on two threads: trees up to depth 14 with 0-5 children each,
 * durations from tens of ns to ms, one call in 50 ending by an exception. Delivered batch by batch.
 */
export function feedSyntheticTrace(sink: TraceSink, calls: number): void {
  const hello: Hello = {
    t: 'hello',
    version: 1,
    token: 'x',
    pid: 777,
    ppid: 1,
    python: '3.12.0',
    backend: 'monitoring',
    argv: ['server.py'],
    cwd: '/srv',
    start_ns: 1_700_000_000_000_000_000,
  };
  sink.hello(key, hello);
  let seed = 12345;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  let events: Event[] = [];
  let seq = 0;
  const defs = (): Partial<Batch> =>
    seq > 0
      ? {}
      : {
          strings: [
            ...Array.from({ length: 100 }, (_, i) => [i + 1, `'value ${i}'`] as [number, string]),
            [101, 'ValueError'],
            [102, 'bad input'],
          ],
          files: MODULES.map(
            (m, i) => [i + 1, `/srv/${m.replace(/\./g, '/')}.py`] as [number, string],
          ),
          codes: FUNCS.map(
            ([m, f], i) =>
              [i + 1, MODULES.indexOf(m) + 1, m, f, 10 * i + 1, ['x'], 0] as Batch['codes'][0],
          ),
          threads: [
            [1, 1001, 'MainThread'],
            [2, 1002, 'worker-1'],
          ],
        };
  const flush = () => {
    const first = defs();
    sink.batch(key, {
      t: 'batch',
      seq: ++seq,
      strings: [],
      files: [],
      codes: [],
      threads: [],
      dropped: 0,
      ...first,
      events,
    });
    events = [];
  };
  const push = (e: Event) => {
    events.push(e);
    if (events.length >= EVENTS_PER_BATCH) flush();
  };
  const ts = [0, 0, 0];
  let made = 0;
  const call = (thread: number, depth: number): void => {
    made++;
    const code = depth === 0 ? 1 : 2 + rand(FUNCS.length - 1);
    push([1, thread, code, (ts[thread] += 20 + rand(200)), 1 + rand(100)]);
    const children = depth >= 14 ? 0 : rand(depth < 3 ? 6 : 4);
    for (let i = 0; i < children && made < calls; i++) {
      ts[thread] += rand(3) === 0 ? rand(20_000) : rand(300);
      call(thread, depth + 1);
    }
    ts[thread] += 30 + (rand(40) === 0 ? rand(2_000_000) : rand(2000));
    if (rand(50) === 0) {
      push([3, thread, code, ts[thread], 5, 101, 102]);
      push([4, thread, code, (ts[thread] += 10), 5, 101, 102]);
    } else {
      push([2, thread, code, ts[thread], 5, 1 + rand(100)]);
    }
  };
  while (made < calls) call(made % 5 === 4 ? 2 : 1, 0);
  if (events.length) flush();
  sink.end(key, { t: 'end', exit_code: 0, reason: 'exit' });
}
