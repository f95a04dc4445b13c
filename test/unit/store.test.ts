// Store tests on a hand-made stream that follows adapter/protocol/wire.ts: the bundled worker
// (dist/storeWorker.js, real sql.js) through StoreClient; exact tree, arguments, values,
// exceptions, live rows, annotations, clear, save (opened by Python's sqlite3), errors.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CallRow, StoreSummary } from '../../extension/store/api';
import type { StoreClient } from '../../extension/store/storeClient';
import { buildWorker, keyOf, readStream, replay, ROOT, startStore } from './fixtures/storeStreams';

const FILE = '/demo/prog.py';
const stream = readStream('handmade.jsonl');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-store-'));
const clients: StoreClient[] = [];

function store(): StoreClient {
  const s = startStore({ onError: (m) => assert.fail(m) });
  clients.push(s);
  return s;
}

/** id parent depth thread qualname(args) -> value@line | !type(message)@line, [start, end] flags children */
function brief(r: CallRow): string {
  const args = r.args.map((a) => `${a.name}=${a.value}`).join(',');
  const out = r.exception
    ? `!${r.exception.type}(${r.exception.message})@${r.exception.line}`
    : `${r.returnValue}@${r.returnLine}`;
  return `${r.id} ${r.parent} ${r.depth} t${r.thread} ${r.qualname}(${args}) ${out} [${r.startNs},${r.endNs}] f${r.flags} c${r.childCount}`;
}

before(() => buildWorker());
after(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('trace store on a recorded stream', () => {
  test('running calls are visible while the program runs', async () => {
    const s = store();
    replay(s, stream.slice(0, 2));
    assert.deepEqual(await s.summary(), {
      processes: 1,
      calls: 10,
      dropped: 0,
      running: true,
      generation: 2,
    });
    const top = await s.children(null);
    assert.deepEqual(top.map(brief), ['1 null 0 t1 <module>() null@null [1000,null] f16 c6']);
    assert.deepEqual(top[0], {
      id: 1,
      parent: null,
      depth: 0,
      process: 1,
      thread: 1,
      threadName: 'MainThread',
      module: '__main__',
      qualname: '<module>',
      file: FILE,
      line: 1,
      args: [],
      returnValue: null,
      returnLine: null,
      exception: null,
      startNs: 1000,
      endNs: null,
      flags: 16,
      childCount: 6,
    });
    replay(s, stream.slice(2, 3));
    const done = await s.call(1);
    assert.equal(brief(done!), '1 null 0 t1 <module>() !ValueError(bad 2)@20 [1000,4400] f20 c7');
    assert.equal((await s.summary()).running, true);
  });

  test('the whole stream gives the exact call tree', async () => {
    const s = store();
    replay(s, stream);
    assert.deepEqual(await s.summary(), {
      processes: 2,
      calls: 13,
      dropped: 5,
      running: false,
      generation: 7,
    });
    assert.deepEqual((await s.children(null)).map(brief), [
      '1 null 0 t1 <module>() !ValueError(bad 2)@20 [1000,4400] f20 c7',
      '12 null 0 t2 fact(n=1) 1@3 [4060,4070] f16 c0',
      '13 null 0 t3 <module>() None@22 [1048586,1048596] f16 c0',
    ]);
    assert.deepEqual((await s.children(1)).map(brief), [
      '2 1 1 t1 gen() 1@16 [1100,1200] f18 c0',
      '3 1 1 t1 gen() 2@17 [1300,1400] f19 c0',
      '4 1 1 t1 gen() None@17 [1500,1600] f17 c0',
      '5 1 1 t1 fact(n=3) 6@4 [2000,2500] f16 c1',
      "8 1 1 t1 safe() 'caught'@13 [3000,3500] f16 c1",
      '10 1 1 t1 check() None@25 [3600,3900] f16 c0',
      '11 1 1 t1 fail(x=2) !ValueError(bad 2)@7 [4000,4200] f20 c0',
    ]);
    assert.deepEqual((await s.children(5)).map(brief), [
      '6 5 2 t1 fact(n=2) 2@4 [2100,2400] f0 c1',
    ]);
    assert.deepEqual((await s.children(6)).map(brief), [
      '7 6 3 t1 fact(n=1) 1@3 [2200,2300] f0 c0',
    ]);
    assert.deepEqual((await s.children(8)).map(brief), [
      '9 8 2 t1 fail(x=1) !ValueError(bad 1)@7 [3100,3300] f20 c0',
    ]);
    assert.deepEqual(
      (await s.children(1, 2, 2)).map((r) => r.id),
      [4, 5],
    );
    assert.equal((await s.call(12))!.threadName, 'worker');
    assert.equal((await s.call(13))!.process, 2);
    assert.equal(await s.call(99), undefined);
  });

  test('file annotations: last value per return line, raises and whether they were handled', async () => {
    const s = store();
    replay(s, stream);
    assert.deepEqual(await s.fileAnnotations(FILE), {
      returns: [
        {
          line: 3,
          value: '1',
          callId: 12,
          args: [{ name: 'n', value: '1' }],
          qualname: 'fact',
          kind: 'return',
        },
        {
          line: 4,
          value: '6',
          callId: 5,
          args: [{ name: 'n', value: '3' }],
          qualname: 'fact',
          kind: 'return',
        },
        { line: 13, value: "'caught'", callId: 8, args: [], qualname: 'safe', kind: 'return' },
        { line: 16, value: '1', callId: 2, args: [], qualname: 'gen', kind: 'yield' },
        { line: 17, value: 'None', callId: 4, args: [], qualname: 'gen', kind: 'return' },
        { line: 22, value: 'None', callId: 13, args: [], qualname: '<module>', kind: 'return' },
        { line: 25, value: 'None', callId: 10, args: [], qualname: 'check', kind: 'return' },
      ],
      raises: [
        { line: 7, type: 'ValueError', message: 'bad 2', callId: 11, handled: false },
        { line: 21, type: 'KeyError', message: "'k'", callId: 13, handled: true },
        { line: 23, type: 'ValueError', message: 'boom', callId: 10, handled: true },
      ],
    });
    assert.deepEqual(await s.fileAnnotations('/not/traced.py'), { returns: [], raises: [] });
  });

  test('a raise in a call still running is not handled yet', async () => {
    const s = store();
    replay(s, stream.slice(0, 1));
    s.batch(keyOf(1), {
      t: 'batch',
      seq: 1,
      strings: [
        [1, 'OSError'],
        [2, 'disk'],
      ],
      files: [[1, FILE]],
      codes: [[1, 1, '__main__', 'main', 30, [], 0]],
      threads: [[1, 1, 'MainThread']],
      events: [
        [1, 1, 1, 10],
        [3, 1, 1, 20, 31, 1, 2],
      ],
      dropped: 0,
    });
    assert.deepEqual((await s.fileAnnotations(FILE)).raises, [
      { line: 31, type: 'OSError', message: 'disk', callId: 1, handled: false },
    ]);
  });

  test('events of frames not on the stack are ignored; a lost return closes the frames above', async () => {
    const errors: string[] = [];
    const s = startStore({ onError: (m) => errors.push(m) });
    clients.push(s);
    replay(s, stream.slice(0, 1));
    s.batch(keyOf(1), {
      t: 'batch',
      seq: 1,
      strings: [[1, 'None']],
      files: [[1, FILE]],
      codes: [
        [1, 1, 'm', 'outer', 1, [], 0],
        [2, 1, 'm', 'inner', 5, [], 0],
        [3, 1, 'm', 'before', 9, [], 0],
      ],
      threads: [[1, 1, 'MainThread']],
      events: [
        [2, 1, 3, 5, 10, 1], // return of a frame that started before tracing: empty stack
        [4, 1, 3, 6, 10, 1, 1], // its unwind
        [1, 1, 1, 10],
        [1, 1, 2, 20], // inner's return is lost
        [2, 1, 3, 25, 10, 1], // not on the stack: ignored
        [3, 1, 3, 26, 10, 1, 1], // raise in a frame not on the stack: ignored
        [1, 1, 99, 27], // unknown code: skipped
        [2, 1, 1, 30, 3, 1], // outer returns: inner ends with it
      ],
      dropped: 0,
    });
    assert.deepEqual((await s.children(null)).map(brief), [
      '1 null 0 t1 outer() None@3 [10,30] f16 c1',
    ]);
    assert.deepEqual((await s.children(1)).map(brief), [
      '2 1 1 t1 inner() null@null [20,30] f16 c0',
    ]);
    assert.equal((await s.summary()).calls, 2);
    assert.deepEqual(errors, [
      'Tracelens: 1 event(s) of batch 1 did not fit the wire protocol and were skipped.',
    ]);
  });

  test('onDidChange is throttled and reports the new summary', async () => {
    const s = store();
    await s.summary(); // the worker is up
    const seen: StoreSummary[] = [];
    let first!: () => void;
    const heard = new Promise<void>((r) => (first = r));
    s.onDidChange((summary) => {
      seen.push(summary);
      first();
    });
    const t0 = Date.now();
    replay(s, stream);
    await heard;
    assert.ok(Date.now() - t0 >= 150, 'not before the delay');
    await new Promise((r) => setTimeout(r, 600));
    // One notification for the whole burst, with everything in it; nothing new after it.
    assert.deepEqual(seen, [
      { processes: 2, calls: 13, dropped: 5, running: false, generation: 7 },
    ]);
    replay(s, [{ key: 3, message: { ...stream[0].message } }]);
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen[1], {
      processes: 3,
      calls: 13,
      dropped: 5,
      running: true,
      generation: 8,
    });
  });

  test('clear empties the store and forgets processes still sending', async () => {
    const s = store();
    replay(s, stream.slice(0, 2));
    await s.clear();
    replay(s, stream.slice(2));
    const summary = await s.summary();
    assert.deepEqual(
      { ...summary, generation: 0 },
      { processes: 1, calls: 1, dropped: 0, running: false, generation: 0 },
    );
    assert.deepEqual(
      (await s.children(null)).map((r) => r.qualname),
      ['<module>'],
    );
    assert.equal((await s.children(null))[0].process, 1);
  });

  test('save writes a SQLite file with the schema that Python opens', async () => {
    const s = store();
    replay(s, stream);
    const file = path.join(tmp, 'trace.tracelens.db');
    await s.save(file);
    const check = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ref = sqlite3.connect(':memory:')
ref.executescript(open(sys.argv[2]).read())
q = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
print(json.dumps({
  'same_schema': db.execute(q).fetchall() == ref.execute(q).fetchall(),
  'meta': dict(db.execute('SELECT key, value FROM meta')),
  'counts': {t: db.execute('SELECT count(*) FROM ' + t).fetchone()[0] for t in tables},
  'processes': db.execute('SELECT id, pid, ppid, python, backend, argv, cwd, start_ns, end_ns, exit_code, end_reason, dropped, error FROM processes ORDER BY id').fetchall(),
  'fact': db.execute("SELECT c.depth, s.text FROM calls c JOIN codes co ON co.id = c.code JOIN strings s ON s.id = c.return_value WHERE co.qualname = 'fact' ORDER BY c.id").fetchall(),
  'integrity': db.execute('PRAGMA integrity_check').fetchone()[0],
}))`;
    const out = execFileSync(
      'python3',
      ['-c', check, file, path.join(ROOT, 'adapter/python/tracelens/schema.sql')],
      {
        encoding: 'utf8',
      },
    );
    assert.deepEqual(JSON.parse(out), {
      same_schema: true,
      meta: {
        format: 'tracelens',
        schema_version: '1',
        origin_ns: '1700000000000000000',
        // Where the tracer dropped records (its last event's time when it did not say).
        dropped_regions: '[{"process":1,"startNs":4400,"endNs":4400,"records":5}]',
      },
      counts: {
        calls: 13,
        codes: 7,
        exceptions: 9,
        files: 1,
        line_stats: 0,
        meta: 4,
        probes: 0,
        processes: 2,
        strings: 12,
        threads: 3,
      },
      processes: [
        [
          1,
          4242,
          1,
          '3.12.1',
          'monitoring',
          '["/demo/prog.py","--flag"]',
          '/demo',
          0,
          4400,
          1,
          'exception',
          5,
          null,
        ],
        [
          2,
          4243,
          4242,
          '3.11.9',
          'settrace',
          '["/demo/prog.py"]',
          '/demo',
          1048576,
          1048596,
          0,
          'exit',
          0,
          null,
        ],
      ],
      fact: [
        [1, '6'],
        [2, '2'],
        [3, '1'],
        [0, '1'],
      ],
      integrity: 'ok',
    });
    // The store goes on working after a save.
    replay(s, [{ key: 3, message: { ...stream[0].message } }]);
    assert.equal((await s.summary()).processes, 3);
    assert.equal(readFileSync(file).subarray(0, 15).toString(), 'SQLite format 3');
  });

  test('a tracer error is recorded on its process', async () => {
    const s = store();
    replay(s, stream.slice(0, 1));
    s.error(keyOf(1), { t: 'error', message: 'tracer stopped: boom' });
    const file = path.join(tmp, 'error.db');
    await s.save(file);
    const out = execFileSync(
      'python3',
      [
        '-c',
        'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT error FROM processes").fetchone()[0])',
        file,
      ],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(out.trim(), 'tracer stopped: boom');
  });

  test('a missing wasm gives a clear message on every request', async () => {
    const errors: string[] = [];
    const s = startStore({
      wasmPath: path.join(tmp, 'missing.wasm'),
      onError: (m) => errors.push(m),
    });
    clients.push(s);
    await assert.rejects(
      s.summary(),
      /could not load its SQLite engine from .*missing\.wasm.*npm run build/,
    );
    assert.match(errors[0], /could not load its SQLite engine/);
  });

  test('requests after dispose are refused', async () => {
    const s = startStore();
    await s.dispose();
    await assert.rejects(s.summary(), /trace store was closed/);
  });
});
