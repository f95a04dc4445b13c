// Adapter tests with the real tracer on the shared fixtures (test/fixtures/): a DAP client sees
// the program's output, the trace stream as custom events (hello, batches with the calls, end),
// then exited with the exit code and terminated. hello.py runs under every installed Python 3.9+.

import type { DebugProtocol } from '@vscode/debugprotocol';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, before, describe, it } from 'node:test';
import { TraceEvent, type TraceEventBody } from '../../adapter/protocol/dap';
import type { Batch, End, Hello, Lines } from '../../adapter/protocol/wire';
import { buildAdapter, fixtures, pyenvPythons, RecordingClient } from './dapHarness';

let client: RecordingClient | undefined;
before(() => buildAdapter());
afterEach(async () => {
  await client?.stop();
  client = undefined;
});

interface Run {
  client: RecordingClient;
  exitCode: number;
  hello: Hello;
  end: End;
  /** One line per event: `call f(a=1)`, `return f 5 @6`, `raise f E: msg @3`... */
  log: string[];
}

/** Launches a fixture, waits for terminated and checks the order of what came. */
async function trace(fixture: string, extra: Record<string, unknown> = {}): Promise<Run> {
  const c = (client = new RecordingClient());
  await c.start();
  const response = await c.launchRaw({ program: path.join(fixtures, fixture), ...extra });
  assert.equal(response.success, true, `launch failed: ${response.message}`);
  await c.eventually((e) => e.event === 'terminated');
  const names = c.events.map((e) => e.event).filter((n) => n !== 'output' && n !== 'initialized');
  // hello first, then batches, then end; exited and terminated last.
  assert.equal(names[0], TraceEvent.Hello);
  assert.deepEqual(names.slice(-3), [TraceEvent.End, 'exited', 'terminated']);
  // Per-line figures come as their own events, only when line heat was asked for.
  const middle = extra.lineHeat ? [TraceEvent.Batch, TraceEvent.Lines] : [TraceEvent.Batch];
  assert.ok(
    names.slice(1, -3).every((n) => (middle as string[]).includes(n)),
    names.join(', '),
  );
  const body = <M>(e: DebugProtocol.Event) => e.body as TraceEventBody<M>;
  for (const e of c.events.filter((e) => e.event.startsWith('tracelens/'))) {
    assert.deepEqual(body(e).key.connection, 1);
  }
  const batches = c.named(TraceEvent.Batch).map((e) => body<Batch>(e).message);
  assert.deepEqual(
    batches.map((b) => b.seq),
    batches.map((_, i) => i + 1),
  );
  return {
    client: c,
    exitCode: (c.named('exited')[0] as DebugProtocol.ExitedEvent).body.exitCode,
    hello: body<Hello>(c.named(TraceEvent.Hello)[0]).message,
    end: body<End>(c.named(TraceEvent.End)[0]).message,
    log: eventLog(batches),
  };
}

/** Turns batches into readable lines, resolving interned strings and codes. */
function eventLog(batches: Batch[]): string[] {
  const strings = new Map<number, string>();
  const codes = new Map<number, { name: string; args: string[] }>();
  const lines: string[] = [];
  for (const b of batches) {
    assert.equal(b.dropped, 0);
    for (const [id, text] of b.strings) strings.set(id, text);
    for (const [id, , , qualname, , argnames] of b.codes)
      codes.set(id, { name: qualname, args: argnames });
    for (const [kind, , codeId, , ...rest] of b.events) {
      const code = codes.get(codeId)!;
      const s = (id: number) => strings.get(id);
      switch (kind) {
        case 1:
          lines.push(
            `call ${code.name}(${rest.map((v, i) => `${code.args[i]}=${s(v)}`).join(', ')})`,
          );
          break;
        case 2:
          lines.push(`return ${code.name} ${s(rest[1])} @${rest[0]}`);
          break;
        case 3:
        case 4:
        case 5:
          lines.push(
            `${['raise', 'unwind', 'handled'][kind - 3]} ${code.name} ${s(rest[1])}: ${s(rest[2])} @${rest[0]}`,
          );
          break;
        default:
          lines.push(`event ${kind} ${code.name}`);
      }
    }
  }
  return lines;
}

describe('fixtures traced through the adapter', () => {
  const pythons = pyenvPythons(/^3\.(9|1[0-9])\./);
  it('found interpreters 3.9+ to run', () => {
    assert.ok(pythons.length > 0, 'no ~/.pyenv/versions/3.9+ interpreters');
  });

  for (const python of pythons) {
    const version = /versions\/([\d.]+)\//.exec(python)![1];
    it(`hello.py under Python ${version}: output, hello, the call of add with its return, exit 0`, async () => {
      const program = path.join(fixtures, 'hello.py');
      const run = await trace('hello.py', { python });
      assert.equal(run.client.output('stdout'), 'sum: 5\n');
      assert.equal(run.client.output('stderr'), '');
      assert.equal(run.exitCode, 0);
      const minor = Number(version.split('.')[1]);
      assert.deepEqual(
        { ...run.hello, pid: 0, ppid: 0, start_ns: 0 },
        {
          t: 'hello',
          version: 1,
          token: '',
          pid: 0,
          ppid: 0,
          python: version,
          backend: minor >= 12 ? 'monitoring' : 'settrace',
          argv: [program],
          cwd: fixtures,
          start_ns: 0,
        },
      );
      assert.deepEqual(run.log, [
        'call <module>()',
        'call add(a=2, b=3)',
        'return add 5 @6',
        'return <module> None @9',
      ]);
      assert.deepEqual(run.end, { t: 'end', exit_code: 0, reason: 'exit' });
    });
  }

  it('exceptions.py: the caught and the uncaught exception, traceback on stderr, exit 1', async () => {
    const run = await trace('exceptions.py');
    const file = path.join(fixtures, 'exceptions.py');
    assert.equal(run.client.output('stdout'), 'parsed 12 -1\n');
    // Exactly what the same interpreter prints untraced (the traceback's last line differs by version).
    const untraced = spawnSync('python3', [file], { cwd: fixtures, encoding: 'utf8' });
    assert.equal(untraced.status, 1);
    assert.match(
      untraced.stderr,
      /^Traceback \(most recent call last\):\n[^]*AppError: giving up\n$/,
    );
    assert.equal(run.client.output('stderr'), untraced.stderr);
    assert.equal(run.exitCode, 1);
    const invalid = "ValueError: invalid literal for int() with base 10: 'x'";
    assert.deepEqual(run.log, [
      'call <module>()',
      'call AppError()',
      'return AppError None @6',
      "call safe_parse(text='12')",
      "call parse(text='12')",
      'return parse 12 @10',
      'return safe_parse 12 @15',
      "call safe_parse(text='x')",
      "call parse(text='x')",
      `raise parse ${invalid} @10`,
      `unwind parse ${invalid} @10`,
      `handled safe_parse ${invalid} @15`,
      'return safe_parse -1 @17',
      "call fail(reason='giving up')",
      'raise fail AppError: giving up @21',
      'unwind fail AppError: giving up @21',
      'unwind <module> AppError: giving up @25',
    ]);
    assert.deepEqual(run.end, { t: 'end', exit_code: 1, reason: 'exception' });
  });

  it('argv_exit.py with arguments: sees itself as under python, exits with the given code', async () => {
    const program = path.join(fixtures, 'argv_exit.py');
    const run = await trace('argv_exit.py', { args: ['5', 'two words'] });
    assert.equal(
      run.client.output('stdout'),
      [
        `argv ['${program}', '5', 'two words']`,
        'name __main__',
        `path0 ${fixtures}`,
        `file ${program}`,
        'spec None package None',
        'main is me True',
        'pickle 3',
        '',
      ].join('\n'),
    );
    assert.equal(run.exitCode, 5);
    assert.deepEqual(run.end, { t: 'end', exit_code: 5, reason: 'exit' });
  });

  it('argv_exit.py with a non-numeric code: message on stderr, exit 1', async () => {
    const run = await trace('argv_exit.py', { args: ['oops'] });
    assert.equal(run.client.output('stderr'), 'oops\n');
    assert.equal(run.exitCode, 1);
  });

  it('recursion.py 5: every recursive call and its return value', async () => {
    const run = await trace('recursion.py', { args: ['5'] });
    assert.equal(run.client.output('stdout'), 'factorial 120\nfib 5\n');
    assert.equal(run.exitCode, 0);
    const count = (prefix: string) => run.log.filter((l) => l.startsWith(prefix)).length;
    assert.equal(count('call factorial('), 5);
    assert.equal(count('return factorial '), 5);
    assert.equal(count('call fib('), 15);
    assert.equal(count('return fib '), 15);
    assert.deepEqual(
      run.log.filter((l) => l.startsWith('return factorial')),
      [
        'return factorial 1 @8',
        'return factorial 2 @9',
        'return factorial 6 @9',
        'return factorial 24 @9',
        'return factorial 120 @9',
      ],
    );
    assert.deepEqual(run.log.slice(0, 3), [
      'call <module>()',
      'call factorial(n=5)',
      'call factorial(n=4)',
    ]);
  });

  it('hot_loop.py with exact line heat: per-line figures as tracelens/lines events', async () => {
    const run = await trace('hot_loop.py', { lineHeat: 'exact' });
    assert.equal(run.client.output('stdout'), 'hot 4001388889\n');
    const body = (e: DebugProtocol.Event) => e.body as TraceEventBody<Lines>;
    const events = run.client.named(TraceEvent.Lines);
    assert.ok(events.length >= 1);
    const files = new Map<number, string>();
    for (const e of run.client.named(TraceEvent.Batch))
      for (const [id, file] of (e.body as TraceEventBody<Batch>).message.files) files.set(id, file);
    // Deltas per (file, line), summed over the messages.
    const hits = new Map<number, number>();
    for (const e of events) {
      assert.equal(body(e).key.connection, 1);
      assert.equal(body(e).message.sampled, false);
      for (const [file, line, n, own, total] of body(e).message.stats) {
        assert.equal(path.basename(files.get(file) ?? ''), 'hot_loop.py');
        assert.ok(own >= 0 && total >= own, `line ${line}: own ${own}, total ${total}`);
        hits.set(line, (hits.get(line) ?? 0) + n);
      }
    }
    assert.equal(hits.get(12), 200000);
    assert.equal(hits.get(6), 1);
    assert.equal(hits.get(16), 1);
    const hottest = [...hits].sort((a, b) => b[1] - a[1])[0];
    assert.deepEqual(hottest, [11, 200001]);
  });
});
