// Store tests on real streams: the Python tracer (`python -m tracelens run --connect`) runs the
// fixtures in test/fixtures under sys.monitoring (3.12) and settrace (3.11); a loopback server
// takes its frames and the bundled store worker ingests them. Asserts the exact call trees,
// values, exceptions and file annotations, that times nest, and that a saved store holds the same
// calls as the trace file the tracer writes itself (`--output`).

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CallRow } from '../../extension/store/api';
import type { StoreClient } from '../../extension/store/storeClient';
import {
  buildWorker,
  deliver,
  recordTrace,
  ROOT,
  startStore,
  type Recording,
} from './fixtures/storeStreams';

const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const PYTHONS = [
  { version: '3.12', backend: 'monitoring' },
  { version: '3.11', backend: 'settrace' },
]
  .map((p) => ({ ...p, python: findPython(p.version) }))
  .filter((p): p is { version: string; backend: string; python: string } => p.python !== undefined);

function findPython(version: string): string | undefined {
  const root = path.join(os.homedir(), '.pyenv', 'versions');
  if (!existsSync(root)) return undefined;
  for (const name of readdirSync(root)) {
    const bin = path.join(root, name, 'bin', 'python3');
    if ((name === version || name.startsWith(`${version}.`)) && existsSync(bin)) return bin;
  }
  return undefined;
}

const clients: StoreClient[] = [];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-store-real-'));

/** Calls (in start order, parents as positions; flags without "outermost", which only the store
 * sets at ingest) and exception events of a trace file, as JSON. */
const COMPARE = `
import json, sqlite3, sys
def rows(path):
    db = sqlite3.connect(path)
    text = dict(db.execute("SELECT id, text FROM strings"))
    pos, calls = {}, []
    for r in db.execute('''SELECT c.id, c.parent, c.depth, co.module, co.qualname, co.line, co.argnames,
            c.args, c.return_value, c.return_line, c.exc_type, c.exc_message, c.exc_line, c.flags & ~16,
            c.end_ns IS NULL FROM calls c JOIN codes co ON co.id = c.code ORDER BY c.start_ns, c.id'''):
        pos[r[0]] = len(pos)
        args = None if r[7] is None else [text.get(a) for a in json.loads(r[7])]
        calls.append([pos.get(r[1]), r[2], r[3], r[4], r[5], json.loads(r[6]), args, text.get(r[8]), r[9],
                      text.get(r[10]), text.get(r[11]), r[12], r[13], r[14]])
    exceptions = [[pos[e[0]], e[1], e[2], text[e[3]], text[e[4]]] for e in db.execute(
        'SELECT call, kind, line, type, message FROM exceptions ORDER BY ts_ns, id')]
    processes = db.execute('SELECT count(*), sum(end_ns IS NULL), group_concat(end_reason) FROM processes').fetchall()
    return [calls, exceptions, processes]
print(json.dumps([rows(sys.argv[1]), rows(sys.argv[2])]))
`;
before(() => buildWorker());
after(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  rmSync(tmp, { recursive: true, force: true });
});

async function ingest(rec: Recording): Promise<StoreClient> {
  const s = startStore({ onError: (m) => assert.fail(m) });
  clients.push(s);
  for (const m of rec.messages) deliver(s, { session: 'real', connection: 1 }, m);
  return s;
}

/** The call tree, one line per call, indented by depth: qualname(args) -> value@line or !exc. */
async function tree(
  s: StoreClient,
  parent: number | null = null,
  out: string[] = [],
): Promise<string[]> {
  for (const r of await s.children(parent)) {
    const args = r.args.map((a) => `${a.name}=${a.value}`).join(', ');
    const end = r.exception
      ? `!${r.exception.type}(${r.exception.message})@${r.exception.line}`
      : `${(r.flags & 2) !== 0 ? 'yield' : '->'} ${r.returnValue}@${r.returnLine}`;
    out.push(
      `${'  '.repeat(r.depth)}${r.qualname}(${args}) ${end}${r.flags & 1 ? ' (resumed)' : ''}`,
    );
    await checkTimes(s, r);
    await tree(s, r.id, out);
  }
  return out;
}

async function checkTimes(s: StoreClient, r: CallRow): Promise<void> {
  assert.notEqual(r.endNs, null, `call ${r.qualname} ended`);
  assert.ok(r.endNs! >= r.startNs, `${r.qualname} ends after it starts`);
  if (r.parent !== null) {
    const p = (await s.call(r.parent))!;
    assert.ok(
      r.startNs >= p.startNs && r.endNs! <= p.endNs!,
      `${r.qualname} runs within ${p.qualname}`,
    );
  }
}

for (const { version, backend, python } of PYTHONS) {
  describe(`store on real streams from Python ${version} (${backend})`, () => {
    test('recursion: the exact tree, values and return lines', async () => {
      const rec = await recordTrace(python, path.join(FIXTURES, 'recursion.py'));
      assert.equal(rec.exitCode, 0);
      assert.equal(rec.stdout, 'factorial 24\nfib 3\n');
      const s = await ingest(rec);
      assert.deepEqual(await tree(s), [
        '<module>() -> None@21',
        '  factorial(n=4) -> 24@9',
        '    factorial(n=3) -> 6@9',
        '      factorial(n=2) -> 2@9',
        '        factorial(n=1) -> 1@8',
        '  fib(n=4) -> 3@15',
        '    fib(n=3) -> 2@15',
        '      fib(n=2) -> 1@15',
        '        fib(n=1) -> 1@14',
        '        fib(n=0) -> 0@14',
        '      fib(n=1) -> 1@14',
        '    fib(n=2) -> 1@15',
        '      fib(n=1) -> 1@14',
        '      fib(n=0) -> 0@14',
      ]);
      const file = path.join(FIXTURES, 'recursion.py');
      const a = await s.fileAnnotations(file);
      assert.deepEqual(
        a.returns.map(
          (r) => `${r.line} ${r.qualname}(${r.args.map((x) => x.value).join()}) ${r.value}`,
        ),
        [
          '8 factorial(1) 1',
          '9 factorial(4) 24',
          '14 fib(0) 0',
          '15 fib(4) 3',
          '21 <module>() None',
        ],
      );
      assert.deepEqual(a.raises, []);
      const summary = await s.summary();
      assert.deepEqual(
        { ...summary, generation: 0 },
        {
          processes: 1,
          calls: 14,
          dropped: 0,
          running: false,
          generation: 0,
        },
      );
    });

    test('recursion: tracks, windows, function figures, calls of a function, queries, names, Chrome JSON', async () => {
      const file = path.join(FIXTURES, 'recursion.py');
      const s = await ingest(await recordTrace(python, file));
      const calls: CallRow[] = [];
      const walk = async (parent: number | null): Promise<void> => {
        for (const r of await s.children(parent)) {
          calls.push(r);
          await walk(r.id);
        }
      };
      await walk(null);
      const [track, ...others] = await s.tracks();
      assert.deepEqual(others, []);
      assert.deepEqual(
        [track.name, track.calls, track.maxDepth, track.startNs, track.endNs],
        ['MainThread', 14, 4, calls[0].startNs, calls[0].endNs],
      );
      // Every call as a box, in start order, with the tree's depths.
      const all = await s.window({
        thread: track.thread,
        startNs: track.startNs,
        endNs: track.endNs! + 1,
        minDurationNs: 0,
      });
      assert.deepEqual(
        all.boxes.map((b) => [b.id, b.depth, b.qualname, b.startNs, b.endNs]),
        calls.map((c) => [c.id, c.depth, c.qualname, c.startNs, c.endNs]),
      );
      // A window inside factorial(1): its ancestors and itself, nothing of fib.
      const f1 = calls[4];
      const inner = await s.window({
        thread: track.thread,
        startNs: f1.startNs,
        endNs: f1.endNs!,
        minDurationNs: 0,
      });
      assert.deepEqual(
        inner.boxes.map((b) => `${b.depth} ${b.qualname}`),
        ['0 <module>', '1 factorial', '2 factorial', '3 factorial', '4 factorial'],
      );
      // Recursion counts once: factorial's total is factorial(4)'s duration; own times add up.
      const stats = await s.functionStats();
      const byName = new Map(stats.map((f) => [f.qualname, f]));
      const dur = (c: CallRow): number => c.endNs! - c.startNs;
      assert.deepEqual(
        stats.map((f) => [f.qualname, f.calls, f.line, f.exceptions]),
        [
          ['<module>', 1, 1, 0],
          ['fib', 9, 12, 0],
          ['factorial', 4, 6, 0],
        ].sort((a, b) => byName.get(b[0] as string)!.totalNs - byName.get(a[0] as string)!.totalNs),
      );
      assert.equal(byName.get('factorial')!.totalNs, dur(calls[1]));
      assert.equal(byName.get('fib')!.totalNs, dur(calls[5]));
      assert.equal(byName.get('<module>')!.totalNs, dur(calls[0]));
      assert.equal(
        stats.reduce((n, f) => n + f.ownNs, 0),
        dur(calls[0]),
      );
      const childNs = (c: CallRow): number =>
        calls.filter((k) => k.parent === c.id).reduce((n, k) => n + dur(k), 0);
      assert.equal(
        byName.get('factorial')!.ownNs,
        calls
          .filter((c) => c.qualname === 'factorial')
          .reduce((n, c) => n + dur(c) - childNs(c), 0),
      );
      assert.deepEqual(
        (await s.callsOf(file, 6)).map((c) => c.args[0].value),
        ['4', '3', '2', '1'],
      );
      assert.deepEqual(
        (await s.callsOf(file, 12, 2, 3)).map((c) => c.args[0].value),
        ['2', '1', '0'],
      );
      const q = await s.query('function == fib and return == "1"');
      assert.deepEqual(
        [q.total, q.calls.map((c) => `${c.depth}:${c.args[0].value}`)],
        [5, ['3:2', '4:1', '3:1', '2:2', '3:1']],
      );
      assert.deepEqual(await s.names(), {
        functions: ['<module>', 'factorial', 'fib'],
        modules: ['__main__'],
        exceptionTypes: [],
        threads: ['MainThread'],
      });
      const json = path.join(tmp, `recursion-${version}.json`);
      await s.exportChrome(json);
      const events = (
        JSON.parse(readFileSync(json, 'utf8')) as {
          traceEvents: {
            ph: string;
            name: string;
            ts: number;
            dur: number;
            args: { id: number };
          }[];
        }
      ).traceEvents.filter((e) => e.ph === 'X');
      assert.deepEqual(
        events.map((e) => [e.args.id, e.name, e.ts, e.dur]),
        calls.map((c) => [c.id, c.qualname, c.startNs / 1000, dur(c) / 1000]),
      );
    });

    test('exceptions: caught one level up, and uncaught', async () => {
      const file = path.join(FIXTURES, 'exceptions.py');
      const rec = await recordTrace(python, file);
      assert.equal(rec.exitCode, 1);
      const s = await ingest(rec);
      const invalid = "invalid literal for int() with base 10: 'x'";
      assert.deepEqual(await tree(s), [
        '<module>() !AppError(giving up)@25',
        '  AppError() -> None@6',
        "  safe_parse(text='12') -> 12@15",
        "    parse(text='12') -> 12@10",
        "  safe_parse(text='x') -> -1@17",
        `    parse(text='x') !ValueError(${invalid})@10`,
        "  fail(reason='giving up') !AppError(giving up)@21",
      ]);
      const a = await s.fileAnnotations(file);
      const ids = new Map(
        (await s.children((await s.children(null))[0].id)).map((r) => [
          r.qualname + r.args[0]?.value,
          r.id,
        ]),
      );
      const parseX = (await s.children(ids.get("safe_parse'x'")!))[0].id;
      assert.deepEqual(a.raises, [
        { line: 10, type: 'ValueError', message: invalid, callId: parseX, handled: true },
        {
          line: 21,
          type: 'AppError',
          message: 'giving up',
          callId: ids.get("fail'giving up'")!,
          handled: false,
        },
      ]);
      assert.deepEqual(
        a.returns.map((r) => `${r.line} ${r.qualname} ${r.value}`),
        ['6 AppError None', '10 parse 12', '15 safe_parse 12', '17 safe_parse -1'],
      );
    });

    test('generators: one row per run between resume and suspend', async () => {
      const file = path.join(FIXTURES, 'generators.py');
      const rec = await recordTrace(python, file);
      assert.equal(rec.exitCode, 0);
      const s = await ingest(rec);
      assert.deepEqual(await tree(s), [
        '<module>() -> None@19',
        '  total(n=3) -> 6@16',
        '    countdown(n=3) yield 3@7',
        '    countdown() yield 2@7 (resumed)',
        '    countdown() yield 1@7 (resumed)',
        "    countdown() -> 'done'@9 (resumed)",
      ]);
      const a = await s.fileAnnotations(file);
      assert.deepEqual(
        a.returns.map((r) => `${r.line} ${r.kind} ${r.value}`),
        ['7 yield 1', "9 return 'done'", '16 return 6', '19 return None'],
      );
    });

    test("the saved store and the tracer's own trace file hold the same calls", async () => {
      for (const name of ['recursion.py', 'exceptions.py', 'generators.py', 'classes.py']) {
        const program = path.join(FIXTURES, name);
        const s = await ingest(await recordTrace(python, program));
        const saved = path.join(tmp, `store-${version}-${name}.db`);
        const own = path.join(tmp, `cli-${version}-${name}.db`);
        await s.save(saved);
        spawnSync(python, ['-m', 'tracelens', 'run', '--output', own, '--', program], {
          cwd: FIXTURES,
          env: { ...process.env, PYTHONPATH: path.join(ROOT, 'adapter', 'python') },
        });
        const out = execFileSync(python, ['-c', COMPARE, saved, own], { encoding: 'utf8' });
        const [a, b] = JSON.parse(out) as unknown[];
        assert.deepEqual(a, b, name);
      }
    });

    test('classes and threads', async () => {
      const classes = await ingest(await recordTrace(python, path.join(FIXTURES, 'classes.py')));
      assert.deepEqual(await tree(classes), [
        '<module>() -> None@24',
        '  Account() -> None@18',
        // The tracer's value policy: a repr that fails shows why; user classes' reprs are not called.
        "  Account.__init__(self=<repr failed: AttributeError: 'Account' object has no attribute 'owner'>, owner='ada', balance=50) -> None@8",
        '  Account.deposit(self=<Account object>, amount=70) -> 120@12',
        '  Account.rich(self=<Account object>) -> True@16',
        `  Account.__repr__(self=<Account object>) -> "Account('ada', 120)"@19`,
      ]);
      const threads = await ingest(await recordTrace(python, path.join(FIXTURES, 'threads.py')));
      const top = await threads.children(null);
      assert.deepEqual(
        top.map((r) => `${r.threadName}: ${r.qualname}(${r.args.map((a) => a.value).join(', ')})`),
        ['MainThread: <module>()', "worker-1: run('w1', 2)", "worker-2: run('w2', 3)"],
      );
      assert.deepEqual(await tree(threads, top[2].id), [
        '  work(n=3) -> 5@14',
        '    square(x=0) -> 0@7',
        '    square(x=1) -> 1@7',
        '    square(x=2) -> 4@7',
      ]);
    });
  });
}

test('Python interpreters for the real-stream tests were found', () => {
  assert.equal(PYTHONS.length, 2, 'expected Python 3.12 and 3.11 under ~/.pyenv/versions');
});
