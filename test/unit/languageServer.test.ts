// The query language server over its real protocol: builds dist/server.js, spawns
// `node dist/server.js --stdio` and speaks LSP to it with vscode-jsonrpc: diagnostics with exact
// ranges, completion of fields, operators and trace names (asked of this client through
// tracelens/names), hover, and the filter box's custom requests. Touches only dist/server.js.

import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import type {
  CompletionItem,
  Hover,
  PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol';
import {
  CHECK_REQUEST,
  COMPLETE_REQUEST,
  HOVER_REQUEST,
  LANGUAGE_ID,
  NAMES_CHANGED_NOTIFICATION,
  NAMES_REQUEST,
  type CheckResult,
  type CompleteResult,
  type HoverResult,
  type TraceNames,
} from '../../extension/query/lspProtocol';

const root = path.resolve(__dirname, '../..');
let server: ChildProcess;
let conn: MessageConnection;
let names: TraceNames = {
  functions: ['main', 'Parser.parse', 'Parser.parse_line', 'helper.<locals>.inner'],
  modules: ['app', 'app.parser'],
  exceptionTypes: ['ValueError', 'KeyError'],
  threads: ['MainThread', 'worker-1'],
};
let namesAsked = 0;
const diagnostics = new Map<string, PublishDiagnosticsParams[]>();
const waiters: (() => void)[] = [];

function nextDiagnostics(
  uri: string,
  count: number,
  timeoutMs = 10000,
): Promise<PublishDiagnosticsParams> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no diagnostics #${count} for ${uri}`)),
      timeoutMs,
    );
    const check = () => {
      const list = diagnostics.get(uri) ?? [];
      if (list.length >= count) {
        clearTimeout(timer);
        resolve(list[count - 1]);
        return true;
      }
      return false;
    };
    if (!check()) waiters.push(() => void check());
  });
}

let version = 1;
function open(uri: string, text: string): void {
  void conn.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: LANGUAGE_ID, version: version++, text },
  });
}

describe('query language server over LSP', () => {
  before(async () => {
    execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), 'server'], {
      cwd: root,
      stdio: 'pipe',
    });
    server = spawn(process.execPath, [path.join(root, 'dist/server.js'), '--stdio'], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    conn = createMessageConnection(
      new StreamMessageReader(server.stdout!),
      new StreamMessageWriter(server.stdin!),
    );
    conn.onRequest(NAMES_REQUEST, () => {
      namesAsked++;
      return names;
    });
    conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      diagnostics.set(p.uri, [...(diagnostics.get(p.uri) ?? []), p]);
      for (const w of waiters.splice(0)) w();
    });
    conn.listen();
    const init = await conn.sendRequest<{
      capabilities: { hoverProvider: boolean; completionProvider: object };
    }>('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
    });
    assert.equal(init.capabilities.hoverProvider, true);
    assert.ok(init.capabilities.completionProvider);
    await conn.sendNotification('initialized', {});
  });

  after(async () => {
    try {
      await conn.sendRequest('shutdown');
      await conn.sendNotification('exit');
    } finally {
      conn.dispose();
      if (server.exitCode === null) server.kill();
    }
  });

  it('publishes parse errors and unknown fields with exact ranges, line by line', async () => {
    const uri = 'file:///work/saved.tlq';
    open(
      uri,
      [
        '# slow calls in the app',
        'module startswith "app." and duration > 5ms',
        'function ==',
        '',
        'fucntion == main and not exception',
        'exception == ValueEror # typo',
        'depth > 2 and (thread == MainThread',
      ].join('\n'),
    );
    const p = await nextDiagnostics(uri, 1);
    assert.deepEqual(
      p.diagnostics.map((d) => [
        d.range.start.line,
        d.range.start.character,
        d.range.end.line,
        d.range.end.character,
        d.severity,
        d.message,
      ]),
      [
        [2, 11, 2, 11, 1, "expected a value after '=='"],
        [4, 0, 4, 8, 1, "unknown field 'fucntion' (did you mean 'function'?)"],
        [
          5,
          13,
          5,
          22,
          2,
          "no exception type named 'ValueEror' in this trace (did you mean 'ValueError'?)",
        ],
        [6, 35, 6, 35, 1, "expected ')' to close '('"],
      ],
    );
    assert.equal(p.diagnostics[0].source, 'tracelens');
  });

  it('publishes an empty list for a good document and again after an edit', async () => {
    const uri = 'file:///work/good.tlq';
    open(uri, 'function == main');
    assert.deepEqual((await nextDiagnostics(uri, 1)).diagnostics, []);
    void conn.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: version++ },
      contentChanges: [
        {
          range: { start: { line: 0, character: 12 }, end: { line: 0, character: 16 } },
          text: 'mian',
        },
      ],
    });
    const p = await nextDiagnostics(uri, 2);
    assert.deepEqual(
      p.diagnostics.map((d) => [d.range.start.character, d.range.end.character, d.message]),
      [[12, 16, "no function named 'mian' in this trace (did you mean 'main'?)"]],
    );
  });

  it('completes fields, operators for the field, and values from the trace', async () => {
    const uri = 'file:///work/complete.tlq';
    open(uri, 'dur\nexception.type == Val\nfunction startswith "Par\nduration \nmodule == app ');
    await nextDiagnostics(uri, 1);
    const at = (line: number, character: number) =>
      conn.sendRequest<CompletionItem[]>('textDocument/completion', {
        textDocument: { uri },
        position: { line, character },
      });

    const fields = await at(0, 3);
    assert.ok(fields.some((i) => i.label === 'duration'));
    assert.ok(fields.some((i) => i.label === 'arg.NAME'));
    const dur = fields.find((i) => i.label === 'duration')!;
    assert.deepEqual(dur.textEdit, {
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 3 } },
      newText: 'duration',
    });

    const types = await at(1, 21);
    assert.deepEqual(
      types.filter((i) => i.kind === 12).map((i) => [i.label, i.textEdit]),
      [
        [
          'KeyError',
          {
            range: { start: { line: 1, character: 18 }, end: { line: 1, character: 21 } },
            newText: 'KeyError',
          },
        ],
        [
          'ValueError',
          {
            range: { start: { line: 1, character: 18 }, end: { line: 1, character: 21 } },
            newText: 'ValueError',
          },
        ],
      ],
    );

    const funcs = await at(2, 24);
    assert.deepEqual(
      funcs.map((i) => (i.textEdit as { newText: string }).newText),
      ['"Parser.parse"', '"Parser.parse_line"', '"helper.<locals>.inner"', '"main"'],
    );

    const ops = await at(3, 9);
    assert.deepEqual(
      ops.map((i) => i.label),
      ['==', '!=', 'in', '<', '<=', '>', '>=', 'not in', 'and', 'or'],
    );

    const next = await at(4, 14);
    assert.deepEqual(
      next.map((i) => i.label),
      ['and', 'or'],
    );
    assert.ok(namesAsked >= 1);
  });

  it('hovers fields, operators and durations', async () => {
    const uri = 'file:///work/hover.tlq';
    open(uri, 'exception.type in (KeyError) or duration >= 1.5ms');
    await nextDiagnostics(uri, 1);
    const hover = (character: number) =>
      conn.sendRequest<Hover | null>('textDocument/hover', {
        textDocument: { uri },
        position: { line: 0, character },
      });
    const field = await hover(3);
    assert.deepEqual(field?.range, {
      start: { line: 0, character: 0 },
      end: { line: 0, character: 14 },
    });
    assert.match(
      (field?.contents as { value: string }).value,
      /^\*\*exception\.type\*\* — text \(also written exc\.type\)\n\nThe type of the exception that ended the call/,
    );
    const op = await hover(15);
    assert.match(
      (op?.contents as { value: string }).value,
      /^\*\*in\*\* \(text, number, duration\)\n\nEqual to one of a list/,
    );
    const ge = await hover(41);
    assert.match((ge?.contents as { value: string }).value, /^\*\*>=\*\*/);
    const ms = await hover(45);
    assert.equal((ms?.contents as { value: string }).value, '**1.5ms** = 1,500,000 ns');
    assert.equal(await hover(22), null); // a value
  });

  it('answers the filter box requests and asks for names again when the trace changes', async () => {
    const problems = await conn.sendRequest<CheckResult>(CHECK_REQUEST, {
      text: 'module == ap or duration > 5',
    });
    assert.deepEqual(problems, [
      {
        severity: 'error',
        start: 27,
        end: 28,
        message: 'duration needs a unit: write e.g. 5ms (units: ns, us, ms, s, m)',
      },
    ]);
    const before = namesAsked;
    names = { ...names, modules: ['service', 'service.api'] };
    await conn.sendNotification(NAMES_CHANGED_NOTIFICATION);
    const complete = await conn.sendRequest<CompleteResult>(COMPLETE_REQUEST, {
      text: 'module == s',
      offset: 11,
    });
    assert.equal(namesAsked, before + 1);
    assert.deepEqual(complete, {
      from: 10,
      to: 11,
      items: [
        { label: 'service', kind: 'value', insertText: 'service', detail: 'module' },
        { label: 'service.api', kind: 'value', insertText: 'service.api', detail: 'module' },
      ],
    });
    const warn = await conn.sendRequest<CheckResult>(CHECK_REQUEST, { text: 'module == servce' });
    assert.deepEqual(warn, [
      {
        severity: 'warning',
        start: 10,
        end: 16,
        message: "no module named 'servce' in this trace (did you mean 'service'?)",
        suggestion: 'service',
      },
    ]);
    const hover = await conn.sendRequest<HoverResult>(HOVER_REQUEST, {
      text: 'not exception',
      offset: 1,
    });
    assert.match(hover!.markdown, /^\*\*not\*\*/);
  });
});
