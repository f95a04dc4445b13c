// Adapter tests of the launch arguments that choose what is recorded, over DAP with a real
// Python: `calls: false` (the tracer runs with --no-calls --sample HZ: sampled line heat as
// tracelens/lines events and not one call), `values: "structured"` (values as snapshots) and
// `probes` (GC and audit events).

import type { DebugProtocol } from '@vscode/debugprotocol';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { afterEach, before, describe, it } from 'node:test';
import { TraceEvent, type TraceEventBody } from '../../adapter/protocol/dap';
import { STRUCTURED_PREFIX, type Batch, type Lines } from '../../adapter/protocol/wire';
import { buildAdapter, fixtures, RecordingClient } from './dapHarness';

let client: RecordingClient | undefined;
before(() => buildAdapter());
afterEach(async () => {
  await client?.stop();
  client = undefined;
});

const body = <M>(e: DebugProtocol.Event) => (e.body as TraceEventBody<M>).message;

async function run(fixture: string, extra: Record<string, unknown>): Promise<RecordingClient> {
  const c = (client = new RecordingClient());
  await c.start();
  const response = await c.launchRaw({ program: path.join(fixtures, fixture), ...extra });
  assert.equal(response.success, true, `launch failed: ${response.message}`);
  await c.eventually((e) => e.event === 'terminated', 60_000);
  return c;
}

describe('what a launch records', () => {
  it('calls: false: sampled heat of the hot loop, no calls, the program unchanged', async () => {
    const c = await run('sampled_loop.py', { calls: false, lineHeatSampleRate: 200 });
    assert.equal(c.output('stdout'), 'spun True\n');
    assert.equal((c.named('exited')[0] as DebugProtocol.ExitedEvent).body.exitCode, 0);
    const batches = c.named(TraceEvent.Batch).map((e) => body<Batch>(e));
    // Files and codes may be announced for the heat; not one event of a call.
    assert.deepEqual(
      batches.flatMap((b) => b.events),
      [],
    );
    const files = new Map<number, string>();
    for (const b of batches) for (const [id, file] of b.files) files.set(id, file);
    const lines = c.named(TraceEvent.Lines).map((e) => body<Lines>(e));
    assert.ok(lines.length >= 1, 'sampled figures arrive');
    const hits = new Map<number, number>();
    for (const l of lines) {
      assert.equal(l.sampled, true);
      for (const [file, line, n] of l.stats) {
        if (path.basename(files.get(file) ?? '') !== 'sampled_loop.py') continue;
        hits.set(line, (hits.get(line) ?? 0) + n);
      }
    }
    // The loop (lines 10-12) is where the samples land.
    const [hottest] = [...hits].sort((a, b) => b[1] - a[1])[0];
    const inLoop = (line: number) => line >= 10 && line <= 12;
    assert.ok(inLoop(hottest), `hottest line ${hottest}: ${JSON.stringify([...hits])}`);
    const loop = [...hits].filter(([line]) => inLoop(line)).reduce((a, [, n]) => a + n, 0);
    const all = [...hits.values()].reduce((a, b) => a + b, 0);
    assert.ok(
      loop >= 10 && loop / all > 0.6,
      `${loop} of ${all} samples in the loop: ${JSON.stringify([...hits])}`,
    );
  });

  it('calls: false with exact line heat is refused with what to change', async () => {
    const c = (client = new RecordingClient());
    await c.start();
    const response = await c.launchRaw({
      program: path.join(fixtures, 'hot_loop.py'),
      calls: false,
      lineHeat: 'exact',
    });
    assert.equal(response.success, false);
    assert.equal(
      response.message,
      '`lineHeat` in launch.json must be "sampled" (or left out) when `calls` is false: without call recording only sampled line heat can be recorded. Fix it and start again.',
    );
  });

  it('values: "structured": containers and objects arrive as snapshots, scalars as text', async () => {
    const c = await run('structured.py', { values: 'structured' });
    assert.equal(c.output('stdout'), 'reprs run 1\n');
    const strings = new Map<number, string>();
    const codes = new Map<number, string>();
    const taken: string[] = [];
    for (const b of c.named(TraceEvent.Batch).map((e) => body<Batch>(e))) {
      for (const [id, text] of b.strings) strings.set(id, text);
      for (const [id, , , qualname] of b.codes) codes.set(id, qualname);
      for (const [kind, , code, , arg] of b.events)
        if (kind === 1 && codes.get(code) === 'take') taken.push(strings.get(arg)!);
    }
    assert.equal(taken.length, 10);
    assert.ok(taken[0].startsWith(STRUCTURED_PREFIX), taken[0]);
    assert.deepEqual(JSON.parse(taken[0].slice(1)), {
      t: 'Point',
      r: 'Point(x=1, y=[2, 3])',
      k: [
        ['x', { t: 'int', r: '1' }],
        [
          'y',
          {
            t: 'list',
            r: '[2, 3]',
            n: 2,
            i: [
              { t: 'int', r: '2' },
              { t: 'int', r: '3' },
            ],
          },
        ],
      ],
    });
    assert.equal(taken[4], '7');
  });

  it('probes: ["gc"]: the forced collection arrives as gc.start and gc.stop in worker', async () => {
    const c = await run('tasks_gc.py', { probes: ['gc'] });
    assert.equal(c.output('stdout'), '[199990000, 1999999000000]\n');
    const strings = new Map<number, string>();
    const codes = new Map<number, string>();
    const probes: string[] = [];
    for (const b of c.named(TraceEvent.Batch).map((e) => body<Batch>(e))) {
      for (const [id, text] of b.strings) strings.set(id, text);
      for (const [id, , , qualname] of b.codes) codes.set(id, qualname);
      for (const [kind, , code, , line, name, detail] of b.events)
        if (kind === 8)
          probes.push(`${strings.get(name)} ${codes.get(code)}:${line} ${strings.get(detail)}`);
    }
    const forced = probes.filter((p) => p.includes(' worker:16 '));
    assert.equal(forced.length, 2, probes.join('\n'));
    assert.match(forced[0], /^gc\.start worker:16 gen=2$/);
    assert.match(forced[1], /^gc\.stop worker:16 gen=2 collected=\d+/);
  });

  it('probes with a name the tracer does not know is refused with what to write', async () => {
    const c = (client = new RecordingClient());
    await c.start();
    const response = await c.launchRaw({
      program: path.join(fixtures, 'hot_loop.py'),
      probes: ['gc', 'memory'],
    });
    assert.equal(response.success, false);
    assert.match(response.message ?? '', /`probes` in launch\.json must be a list of probe names/);
  });
});
