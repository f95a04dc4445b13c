// The extension's inline path without VS Code: a TracelensSession driven in-process through
// handleMessage (as DebugAdapterInlineImplementation does) with a StoreClient as its sink (as
// extension.ts wires them), real Pythons running shared fixtures, then what the editor would draw
// (fileAnnotations -> buildDecorations; loadFileTrace -> buildFileView with arguments, the selected
// call, propagated exceptions; previous / next call) and the timeline's top-level rows, exactly.

import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TracelensSession } from '../../adapter/tracelensSession';
import { CallNavigator } from '../../extension/editor/callNavigator';
import { buildDecorations, buildFileView } from '../../extension/editor/decorationModel';
import { functionsOfFile, loadFileTrace } from '../../extension/editor/fileTraceLoader';
import { analyzeSource } from '../../extension/editor/sourceLines';
import type { StoreClient } from '../../extension/store/storeClient';
import { callRowText } from '../../webview/callRowText';
import { buildWorker, startStore } from '../unit/fixtures/storeStreams';
import { fixtures, pyenvPythons, root } from './dapHarness';

const pythons = pyenvPythons(/^3\.(9|1[0-9])\./);
const tracerDir = path.join(root, 'adapter', 'python');
let store: StoreClient;

before(() => {
  assert.ok(pythons.length > 0, 'no Python 3.9+ under ~/.pyenv/versions');
  buildWorker();
  store = startStore({ onError: (m) => assert.fail(m) });
});
after(() => store.dispose());

/** Runs a program through an inline session into the store; resolves with its output. */
async function traceInline(
  python: string,
  program: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  await store.clear();
  const session = new TracelensSession({ sink: store, tracerDir });
  let seq = 1;
  let output = '';
  const responses = new Map<number, (r: DebugProtocol.Response) => void>();
  const terminated = new Promise<void>((resolve) => {
    session.onDidSendMessage((m) => {
      const msg = m as DebugProtocol.ProtocolMessage;
      if (msg.type === 'response') {
        const r = msg as DebugProtocol.Response;
        responses.get(r.request_seq)?.(r);
      } else if (msg.type === 'event') {
        const e = msg as DebugProtocol.Event;
        if (e.event === 'output') output += (e as DebugProtocol.OutputEvent).body.output;
        if (e.event === 'terminated') resolve();
      }
    });
  });
  const request = (command: string, args: unknown) =>
    new Promise<DebugProtocol.Response>((resolve) => {
      const s = seq++;
      responses.set(s, resolve);
      session.handleMessage({
        seq: s,
        type: 'request',
        command,
        arguments: args,
      } as DebugProtocol.Request);
    });
  await request('initialize', { adapterID: 'tracelens' });
  const launched = request('launch', { program, python, cwd: fixtures, ...extra });
  await request('configurationDone', {});
  const r = await launched;
  assert.equal(r.success, true, r.message);
  await terminated;
  await request('disconnect', {});
  session.dispose();
  // Everything the adapter handed over is in the store once a request answers after it.
  await store.summary();
  return output;
}

/** What the editor draws for the program's file, as `line kind text`. */
async function drawn(program: string): Promise<string[]> {
  const ann = await store.fileAnnotations(program);
  const lines = readFileSync(program, 'utf8').split('\n');
  const options = {
    maxValueLength: 80,
    lineCount: lines.length,
    lineText: (n: number) => lines[n - 1],
  };
  return buildDecorations(ann, options).map((d) => `${d.line + 1} ${d.kind} ${d.text}`);
}

/** What the editor draws for the program's file with everything it asks the store for. */
async function view(program: string, selectedId: number | null = null): Promise<string[]> {
  const lines = readFileSync(program, 'utf8').split('\n');
  const trace = await loadFileTrace(store, program, {
    functionStats: await store.functionStats(),
    selectedId,
    heat: true,
  });
  return buildFileView(trace, {
    maxValueLength: 80,
    lineCount: lines.length,
    source: analyzeSource(lines),
  }).decorations.map((d) => `${d.line + 1} ${d.kind} ${d.text}`);
}

for (const python of pythons) {
  const version = path.basename(path.dirname(path.dirname(python)));
  describe(`inline session under Python ${version}`, () => {
    test("recursion: each return line shows the last call's value; the timeline lists the calls", async () => {
      const program = path.join(fixtures, 'recursion.py');
      const output = await traceInline(python, program);
      assert.match(output, /factorial 24\nfib 3\n/);
      assert.deepEqual(await drawn(program), [
        '8 return → 1',
        '9 return → 24',
        '14 return → 0',
        '15 return → 3',
      ]);
      const top = await store.children(null);
      assert.deepEqual(
        top.map((c) => [callRowText(c).qualname, callRowText(c).args, callRowText(c).result]),
        [['<module>', '()', '→ None']],
      );
      const calls = await store.children(top[0].id);
      assert.deepEqual(
        calls.map(
          (c) =>
            `${c.qualname}(${c.args.map((a) => `${a.name}=${a.value}`).join(', ')}) → ${c.returnValue}`,
        ),
        ['factorial(n=4) → 24', 'fib(n=4) → 3'],
      );
    });

    test('exceptions: the raising lines show type and message, caught ones marked', async () => {
      const program = path.join(fixtures, 'exceptions.py');
      await traceInline(python, program);
      assert.deepEqual(await drawn(program), [
        "10 handled ⚠ ValueError: invalid literal for int() with base 10: 'x' (caught)",
        '15 return → 12',
        '17 return → -1',
        '21 raise ⚠ AppError: giving up',
      ]);
    });

    test('recursion: arguments of the last call on def lines; a selected call shows its own values', async () => {
      const program = path.join(fixtures, 'recursion.py');
      await traceInline(python, program);
      assert.deepEqual(await view(program), [
        '6 args ▸ n=1',
        '8 return → 1',
        '9 return → 24',
        '12 args ▸ n=0',
        '14 return → 0',
        '15 return → 3',
      ]);
      const stats = functionsOfFile(await store.functionStats(), program);
      assert.deepEqual(
        stats.map((f) => [f.qualname, f.line, f.calls]),
        [
          ['factorial', 6, 4],
          ['fib', 12, 9],
        ],
      );
      const [outer] = await store.callsOf(program, 6, 0, 1);
      assert.deepEqual(outer.args, [{ name: 'n', value: '4' }]);
      assert.deepEqual(await view(program, outer.id), [
        '6 args ▸ n=4',
        '9 return → 24',
        '12 args ▸ n=0',
        '14 return → 0',
        '15 return → 3',
      ]);
      // Previous / next call of factorial: from the last call (n=1) back, from the first forward.
      const nav = new CallNavigator(store);
      const fn = { file: program, line: 6, calls: 4 };
      const back = await nav.step(fn, undefined, -1);
      assert.deepEqual([back?.index, back?.count, back?.call.args[0].value], [2, 4, '2']);
      const forward = await nav.step(fn, outer, 1);
      assert.deepEqual([forward?.index, forward?.call.args[0].value], [1, '3']);
      assert.equal(await nav.step(fn, outer, -1), undefined);
      assert.equal(await nav.step(fn, undefined, 1), undefined);
      const pos = await nav.position(fn, forward!.call);
      assert.deepEqual(
        [pos?.index, pos?.count, pos?.previous, pos?.next],
        [1, 4, outer.id, (await store.callsOf(program, 6, 2, 1))[0].id],
      );
    });

    test('exceptions: raised, caught, and the line an uncaught one passed through', async () => {
      const program = path.join(fixtures, 'exceptions.py');
      await traceInline(python, program);
      assert.deepEqual(await view(program), [
        "9 args ▸ text='x'",
        "10 handled ⚠ ValueError: invalid literal for int() with base 10: 'x' (caught)",
        "13 args ▸ text='x'",
        '15 return → 12',
        '17 return → -1',
        "20 args ▸ reason='giving up'",
        '21 raise ⚠ AppError: giving up',
        '25 propagated ⇡ AppError: giving up',
      ]);
    });

    test('generators: the yield line shows the last value yielded, the return line the result', async () => {
      const program = path.join(fixtures, 'generators.py');
      await traceInline(python, program);
      assert.deepEqual(await view(program), [
        '5 args ▸ n=3',
        '7 return ⤴ 1',
        "9 return → 'done'",
        '12 args ▸ n=3',
        '16 return → 6',
      ]);
    });

    test('exact line heat: the hot loop’s body gets the top level, figures per line', async () => {
      const program = path.join(fixtures, 'hot_loop.py');
      const output = await traceInline(python, program, { lineHeat: 'exact' });
      assert.match(output, /hot 4001388889\n/);
      const trace = await loadFileTrace(store, program, {
        functionStats: await store.functionStats(),
        selectedId: null,
        heat: true,
      });
      assert.equal(trace.heat.sampled, false);
      const byLine = new Map(trace.heat.lines.map((l) => [l.line, l]));
      // Every line that ran, with its hits; the loop body is the hottest.
      assert.deepEqual(
        trace.heat.lines.map((l) => [l.line, l.stats.hits]),
        [
          [5, 1],
          [6, 1],
          [9, 1],
          [10, 1],
          [11, 200_001],
          [12, 200_000],
          [13, 1],
          [16, 1],
        ],
      );
      assert.equal(byLine.get(12)!.level, 5);
      // The hottest line by own time is the loop (its `for` line or its body: they run equally
      // often, so which of the two costs more depends on the interpreter and the machine).
      const hottest = trace.heat.lines.reduce((a, b) => (b.stats.ownNs > a.stats.ownNs ? b : a));
      assert.ok([11, 12].includes(hottest.line), `hottest line ${hottest.line}`);
      // Time including callees: the call line of hot() holds the whole loop.
      assert.ok(byLine.get(16)!.stats.totalNs >= byLine.get(12)!.stats.ownNs);
    });

    test('sampled line heat: labelled sampled, only lines of the traced file that ran', async () => {
      const program = path.join(fixtures, 'hot_loop.py');
      await traceInline(python, program, { lineHeat: 'sampled', lineHeatSampleRate: 1000 });
      const heat = (
        await loadFileTrace(store, program, {
          functionStats: await store.functionStats(),
          selectedId: null,
          heat: true,
        })
      ).heat;
      assert.equal(heat.sampled, true);
      assert.ok(heat.lines.length > 0, 'no samples');
      for (const l of heat.lines)
        assert.ok([5, 6, 9, 10, 11, 12, 13, 16].includes(l.line), `line ${l.line}`);
      assert.ok(heat.lines.some((l) => l.level === 5));
    });
  });
}
