// Entry point of the store worker thread (bundled to dist/storeWorker.js): loads sql.js from
// sql-wasm.wasm (beside this file, or workerData.wasmPath), then handles StoreClient's messages
// (protocol.ts) in the order they arrive. Messages that come before the engine is ready wait.
// Talks only to its parent port; no vscode imports.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import initSqlJs from 'sql.js';
import type { ClientMessage, StoreResults, StoreWorkerData, WorkerMessage } from './protocol';
import { TraceStore } from './traceStore';
import { packWindow } from './windowCodec';

const port = parentPort;
if (!port) throw new Error('The Tracelens store worker must run in a worker thread.');

const data = (workerData ?? {}) as StoreWorkerData;
const wasmPath = data.wasmPath ?? path.join(__dirname, 'sql-wasm.wasm');
let store: TraceStore | undefined;
let fatal: string | undefined;
let waiting: ClientMessage[] | undefined = [];

function post(message: WorkerMessage): void {
  port!.postMessage(message);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function answer(
  s: TraceStore,
  m: Exclude<ClientMessage, { key: unknown }>,
): StoreResults[keyof StoreResults] {
  switch (m.t) {
    case 'summary':
      return s.summary();
    case 'children':
      return s.children(m.parent, m.offset, m.limit);
    case 'call':
      return s.call(m.callId) ?? null;
    case 'fileAnnotations':
      return s.fileAnnotations(m.path);
    case 'clear':
      s.clear();
      return null;
    case 'save':
      s.save(m.path);
      return null;
    case 'tracks':
      return s.tracks();
    case 'window':
      return packWindow(s.window(m.query)).packed;
    case 'functionStats':
      return s.functionStats(m.filter);
    case 'lineStats':
      return s.lineStats(m.path);
    case 'callsOf':
      return s.callsOf(m.path, m.line, m.offset, m.limit);
    case 'query':
      return s.query(m.filter, m.offset, m.limit);
    case 'names':
      return s.names();
    case 'open':
      s.open(m.path);
      return null;
    case 'exportChrome':
      s.exportChrome(m.path);
      return null;
  }
}

function handle(m: ClientMessage): void {
  if ('key' in m) {
    if (!store) return;
    try {
      switch (m.t) {
        case 'hello':
          store.hello(m.key, m.hello);
          break;
        case 'batch': {
          const warning = store.batch(m.key, m.batch);
          if (warning) post({ t: 'ingestError', message: `Tracelens: ${warning}` });
          break;
        }
        case 'lines': {
          const warning = store.lines(m.key, m.lines);
          if (warning) post({ t: 'ingestError', message: `Tracelens: ${warning}` });
          break;
        }
        case 'error':
          store.error(m.key, m.error);
          break;
        case 'end':
          store.end(m.key, m.end);
          break;
      }
    } catch (e) {
      post({
        t: 'ingestError',
        message: `Tracelens could not store a ${m.t} message: ${describe(e)}`,
      });
    }
    return;
  }
  if (!store) {
    post({ t: 'failure', id: m.id, message: fatal ?? 'The trace store is not ready.' });
    return;
  }
  try {
    const value = answer(store, m);
    if (value && typeof value === 'object' && 'packed' in value) {
      // Typed-array columns: moved to the client, not copied.
      const transfer = Object.values(value)
        .filter((v): v is Int32Array => ArrayBuffer.isView(v))
        .map((v) => v.buffer as ArrayBuffer);
      port!.postMessage({ t: 'result', id: m.id, value } satisfies WorkerMessage, transfer);
    } else {
      post({ t: 'result', id: m.id, value });
    }
  } catch (e) {
    post({ t: 'failure', id: m.id, message: describe(e) });
  }
}

port.on('message', (m: ClientMessage) => {
  if (waiting) waiting.push(m);
  else handle(m);
});

async function start(): Promise<void> {
  try {
    let wasmBinary: Buffer;
    try {
      wasmBinary = readFileSync(wasmPath);
    } catch (e) {
      throw new Error(
        `Tracelens could not load its SQLite engine from ${wasmPath} (${describe(e)}). ` +
          'Rebuild with `npm run build`, or reinstall the extension.',
      );
    }
    const SQL = await initSqlJs({ wasmBinary: wasmBinary as unknown as ArrayBuffer });
    store = new TraceStore(SQL, { maxCalls: data.maxCalls });
  } catch (e) {
    fatal = describe(e);
    post({ t: 'fatal', message: fatal });
  }
  const queued = waiting ?? [];
  waiting = undefined;
  for (const m of queued) handle(m);
}

void start();
