// Store file tests through StoreClient and the bundled worker: save then open gives back the same
// answers; a trace file written by the Python CLI (`run --output`) opens with the same tree and
// figures as the live stream; files of the wrong kind or of a newer schema get clear messages and
// leave the store as it was; Chrome trace JSON parses back with events that nest and times that
// match the store's.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CallRow } from '../../extension/store/api';
import type { StoreClient } from '../../extension/store/storeClient';
import { FILE, first, hello, lines, second } from './fixtures/queryStream';
import { buildWorker, keyOf, ROOT, startStore } from './fixtures/storeStreams';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-store-file-'));
const clients: StoreClient[] = [];
const key = keyOf(1);
const FIXTURES = path.join(ROOT, 'test', 'fixtures');

function store(): StoreClient {
  const s = startStore({ onError: (m) => assert.fail(m) });
  clients.push(s);
  return s;
}

function full(): StoreClient {
  const s = store();
  s.hello(key, hello);
  s.batch(key, first);
  s.batch(key, second);
  for (const l of lines) s.lines(key, l);
  s.end(key, { t: 'end', exit_code: 0, reason: 'exit' });
  return s;
}

async function allCalls(s: StoreClient, parent: number | null = null): Promise<CallRow[]> {
  const out: CallRow[] = [];
  for (const r of await s.children(parent)) out.push(r, ...(await allCalls(s, r.id)));
  return out;
}

/** Everything the UI may ask, for comparing two stores. */
async function answers(s: StoreClient, file: string): Promise<unknown> {
  const tracks = await s.tracks();
  const windows = [];
  for (const t of tracks) {
    windows.push(
      await s.window({ thread: t.thread, startNs: 0, endNs: 1e9, minDurationNs: 0 }),
      await s.window({ thread: t.thread, startNs: 0, endNs: 1e9, minDurationNs: 1e5 }),
    );
  }
  const summary = await s.summary();
  return {
    summary: { ...summary, generation: 0 },
    calls: await allCalls(s),
    tracks,
    windows,
    functions: await s.functionStats(),
    lines: await s.lineStats(file),
    annotations: await s.fileAnnotations(file),
    names: await s.names(),
  };
}

function python(code: string, ...args: string[]): string {
  return execFileSync('python3', ['-c', code, ...args], { encoding: 'utf8' });
}

before(() => buildWorker());
after(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('saving, opening and exporting traces', () => {
  test('save then open gives the same answers to every query', async () => {
    const a = full();
    const file = path.join(tmp, 'round.tracelens');
    await a.save(file);
    const b = store();
    await b.open(file);
    const want = await answers(a, FILE);
    assert.deepEqual(await answers(b, FILE), want);
    assert.equal((await b.summary()).running, false);
    // An opened trace answers filters too.
    assert.equal((await b.query('function == fact')).total, 3);
  });

  test("the Python CLI's --output file opens with the live stream's tree and figures", async () => {
    const program = path.join(FIXTURES, 'recursion.py');
    const file = path.join(tmp, 'cli.db');
    const run = spawnSync('python3', ['-m', 'tracelens', 'run', '--output', file, '--', program], {
      cwd: FIXTURES,
      env: { ...process.env, PYTHONPATH: path.join(ROOT, 'adapter', 'python') },
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const s = store();
    await s.open(file);
    const calls = await allCalls(s);
    assert.deepEqual(
      calls.map(
        (r) =>
          `${'  '.repeat(r.depth)}${r.qualname}(${r.args.map((a) => a.value).join()}) -> ${r.returnValue}@${r.returnLine} f${r.flags}`,
      ),
      [
        '<module>() -> None@21 f16',
        '  factorial(4) -> 24@9 f16',
        '    factorial(3) -> 6@9 f0',
        '      factorial(2) -> 2@9 f0',
        '        factorial(1) -> 1@8 f0',
        '  fib(4) -> 3@15 f16',
        '    fib(3) -> 2@15 f0',
        '      fib(2) -> 1@15 f0',
        '        fib(1) -> 1@14 f0',
        '        fib(0) -> 0@14 f0',
        '      fib(1) -> 1@14 f0',
        '    fib(2) -> 1@15 f0',
        '      fib(1) -> 1@14 f0',
        '      fib(0) -> 0@14 f0',
      ],
    );
    const fact4 = calls[1];
    const stats = await s.functionStats('function in (factorial, fib)');
    const factorial = stats.find((f) => f.qualname === 'factorial')!;
    assert.deepEqual(
      [factorial.calls, factorial.totalNs, factorial.file],
      [4, fact4.endNs! - fact4.startNs, program],
    );
    const ownSum = stats.reduce((n, f) => n + f.ownNs, 0);
    const tops = calls.filter((c) => c.depth === 1);
    assert.equal(
      ownSum,
      tops.reduce((n, c) => n + c.endNs! - c.startNs, 0),
      'own times of a subtree add up to its root',
    );
    const a = await s.fileAnnotations(program);
    assert.deepEqual(
      a.returns.map(
        (r) => `${r.line} ${r.qualname}(${r.args.map((x) => x.value).join()}) ${r.value}`,
      ),
      ['8 factorial(1) 1', '9 factorial(4) 24', '14 fib(0) 0', '15 fib(4) 3', '21 <module>() None'],
    );
    assert.deepEqual(
      (await s.callsOf(program, 6)).map((r) => r.args[0].value),
      ['4', '3', '2', '1'],
    );
    const [track] = await s.tracks();
    assert.deepEqual([track.name, track.calls, track.maxDepth], ['MainThread', 14, 4]);
    // The flags the store computed were written back: saved again, the file has them.
    const again = path.join(tmp, 'cli-again.db');
    await s.save(again);
    assert.equal(
      python(
        'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM calls WHERE flags & 16").fetchone()[0])',
        again,
      ).trim(),
      '3',
    );
  });

  test('files that are not traces, or of a newer schema, get clear messages', async () => {
    const s = full();
    const text = path.join(tmp, 'notes.txt');
    writeFileSync(text, 'just some notes\n');
    const other = path.join(tmp, 'other.db');
    python(
      'import sqlite3,sys; db = sqlite3.connect(sys.argv[1]); db.execute("CREATE TABLE t (x)"); db.commit()',
      other,
    );
    const foreignMeta = path.join(tmp, 'foreign.db');
    python(
      `import sqlite3,sys; db = sqlite3.connect(sys.argv[1]); db.execute("CREATE TABLE meta (key TEXT, value TEXT)"); db.execute("INSERT INTO meta VALUES ('format', 'other')"); db.commit()`,
      foreignMeta,
    );
    const newer = path.join(tmp, 'newer.db');
    await s.save(newer);
    python(
      `import sqlite3,sys; db = sqlite3.connect(sys.argv[1]); db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'"); db.commit()`,
      newer,
    );
    const hint =
      ' (save one from the timeline, or write one with `python -m tracelens run --output FILE`).';
    await assert.rejects(s.open(text), { message: `notes.txt is not a Tracelens trace${hint}` });
    await assert.rejects(s.open(other), { message: `other.db is not a Tracelens trace${hint}` });
    await assert.rejects(s.open(foreignMeta), {
      message: `foreign.db is not a Tracelens trace${hint}`,
    });
    await assert.rejects(s.open(newer), {
      message:
        'newer.db was made by a newer Tracelens (schema 2); update the extension to open it.',
    });
    await assert.rejects(s.open(path.join(tmp, 'missing.db')), /could not read .*missing\.db/);
    // The store still holds what it had.
    assert.equal((await s.summary()).calls, 10);
    assert.equal((await s.query('function == fact')).total, 3);
  });

  test('Chrome trace JSON parses back: metadata, nested complete events, probes, exact times', async () => {
    const s = full();
    const out = path.join(tmp, 'trace.json');
    await s.exportChrome(out);
    const json = JSON.parse(readFileSync(out, 'utf8')) as {
      traceEvents: {
        name: string;
        ph: string;
        ts?: number;
        dur?: number;
        pid: number;
        tid: number;
        s?: string;
        cat?: string;
        args: Record<string, unknown>;
      }[];
    };
    const meta = json.traceEvents.filter((e) => e.ph === 'M');
    assert.deepEqual(
      meta.map((e) => [e.name, e.pid, e.tid, e.args.name]),
      [
        ['process_name', 4242, 0, 'python /app/main.py'],
        ['thread_name', 4242, 1, 'MainThread'],
        ['thread_name', 4242, 2, 'worker'],
      ],
    );
    const complete = json.traceEvents.filter((e) => e.ph === 'X');
    const calls = await allCalls(s);
    assert.equal(complete.length, calls.length);
    const byId = new Map(complete.map((e) => [e.args.id as number, e]));
    for (const c of calls) {
      const e = byId.get(c.id)!;
      assert.equal(e.name, c.qualname);
      assert.equal(e.ts, c.startNs / 1000, `ts of ${c.id}`);
      assert.equal(e.dur, (c.endNs! - c.startNs) / 1000, `dur of ${c.id}`);
      assert.equal(e.tid, c.thread);
      if (c.parent !== null) {
        const p = byId.get(c.parent)!;
        assert.equal(p.tid, e.tid);
        assert.ok(
          e.ts! >= p.ts! && e.ts! + e.dur! <= p.ts! + p.dur!,
          `${c.id} nests in its parent`,
        );
      }
    }
    assert.deepEqual(byId.get(2)!.args, {
      id: 2,
      parent: 1,
      file: FILE,
      line: 3,
      args: { n: '3' },
      return: '6',
    });
    assert.deepEqual(byId.get(8)!.args.exception, 'ValueError: bad');
    assert.deepEqual(byId.get(9)!.args.yielded, 'None');
    assert.deepEqual(byId.get(7)!.args, { id: 7, parent: 6 });
    const instants = json.traceEvents.filter((e) => e.ph === 'i');
    assert.deepEqual(instants, [
      {
        name: 'gc.start',
        cat: 'probe',
        ph: 'i',
        s: 't',
        ts: 0.76,
        pid: 4242,
        tid: 1,
        args: { detail: 'gen=0 collected=3', call: 1 },
      },
    ]);
  });

  test('Chrome export of a running trace gives open calls the end of the last event', async () => {
    const s = store();
    s.hello(key, hello);
    s.batch(key, first);
    const out = path.join(tmp, 'running.json');
    await s.exportChrome(out);
    const events = (
      JSON.parse(readFileSync(out, 'utf8')) as {
        traceEvents: { ph: string; dur: number; args: { id: number; unfinished?: boolean } }[];
      }
    ).traceEvents;
    const module = events.find((e) => e.ph === 'X' && e.args.id === 1)!;
    assert.deepEqual([module.dur, module.args.unfinished], [0.75, true]);
  });
});
