// The extension's inline path without VS Code: a TracelensSession driven in-process through
// handleMessage (as DebugAdapterInlineImplementation does) with a StoreClient as its sink (as
// extension.ts wires them), real Pythons running shared fixtures, then what the editor would draw
// (fileAnnotations -> buildDecorations) and the timeline's top-level rows, asserted exactly.

import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TracelensSession } from '../../adapter/tracelensSession';
import { buildDecorations } from '../../extension/editor/decorationModel';
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
async function traceInline(python: string, program: string): Promise<string> {
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
  const launched = request('launch', { program, python, cwd: fixtures });
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
  });
}
