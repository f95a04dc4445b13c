// StoreClient: the extension host's handle on the trace store. It starts the store worker
// (dist/storeWorker.js), forwards the tracer stream to it without waiting (TraceSink), answers
// ITraceStore queries by request id, and tells listeners, at most every ~200 ms, that ingested data
// changed. No vscode imports: tested under plain Node.

import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ProcessKey } from '../../adapter/protocol/dap';
import type { Batch, End, Hello, Lines, TracerError } from '../../adapter/protocol/wire';
import type {
  CallRow,
  FileAnnotations,
  FlameWindow,
  FunctionStats,
  ITraceStore,
  LineStats,
  QueryResult,
  StoreSummary,
  TraceNamesResult,
  TrackInfo,
  WindowQuery,
} from './api';
import {
  DEFAULT_CHILDREN_LIMIT,
  DEFAULT_QUERY_LIMIT,
  type ClientMessage,
  type StoreRequest,
  type StoreResults,
  type StoreWorkerData,
  type WorkerMessage,
} from './protocol';
import { unpackWindow, type PackedWindow } from './windowCodec';

export interface StoreClientOptions {
  /** The bundled worker; default: storeWorker.js beside this code (dist/ in the extension). */
  workerPath?: string;
  /** sql-wasm.wasm; default: beside the worker. */
  wasmPath?: string;
  /**
   * Calls kept; past it the oldest are dropped whole (default 7,000,000: about 1 GB at ~136 bytes
   * a call, database and in-memory tracks); 0: no cap.
   */
  maxCalls?: number;
  /** Least time between two change notifications, ms (default 200). */
  changeDelayMs?: number;
  /** Told when the worker could not store something or stopped; default: console.error. */
  onError?: (message: string) => void;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type RequestBody = StoreRequest extends infer R
  ? R extends StoreRequest
    ? Omit<R, 'id'>
    : never
  : never;

export class StoreClient implements ITraceStore {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(summary: StoreSummary) => void>();
  private readonly changeDelayMs: number;
  private readonly reportError: (message: string) => void;
  private nextId = 0;
  private changeTimer: NodeJS.Timeout | undefined;
  private lastGeneration = -1;
  private stopped: string | undefined;

  constructor(options: StoreClientOptions = {}) {
    this.changeDelayMs = options.changeDelayMs ?? 200;
    this.reportError = options.onError ?? ((m) => console.error(m));
    const workerData: StoreWorkerData = {};
    if (options.wasmPath) workerData.wasmPath = options.wasmPath;
    if (options.maxCalls !== undefined) workerData.maxCalls = options.maxCalls;
    this.worker = new Worker(options.workerPath ?? path.join(__dirname, 'storeWorker.js'), {
      workerData,
    });
    this.worker.on('message', (m: WorkerMessage) => this.receive(m));
    this.worker.on('error', (e) => this.stop(`The Tracelens trace store stopped: ${e.message}`));
    this.worker.on('exit', (code) =>
      this.stop(`The Tracelens trace store stopped (exit code ${code}).`),
    );
  }

  // TraceSink: posted in order, never awaited.
  hello(key: ProcessKey, hello: Hello): void {
    this.ingest({ t: 'hello', key, hello });
  }

  batch(key: ProcessKey, batch: Batch): void {
    this.ingest({ t: 'batch', key, batch });
  }

  /** Per-line figures (wire `lines`); not part of TraceSink, the trace server calls it when present. */
  lines(key: ProcessKey, lines: Lines): void {
    this.ingest({ t: 'lines', key, lines });
  }

  error(key: ProcessKey, error: TracerError): void {
    this.ingest({ t: 'error', key, error });
  }

  end(key: ProcessKey, end: End): void {
    this.ingest({ t: 'end', key, end });
  }

  summary(): Promise<StoreSummary> {
    return this.request({ t: 'summary' }) as Promise<StoreSummary>;
  }

  children(parent: number | null, offset = 0, limit = DEFAULT_CHILDREN_LIMIT): Promise<CallRow[]> {
    return this.request({ t: 'children', parent, offset, limit }) as Promise<CallRow[]>;
  }

  async call(id: number): Promise<CallRow | undefined> {
    return ((await this.request({ t: 'call', callId: id })) as StoreResults['call']) ?? undefined;
  }

  fileAnnotations(path: string): Promise<FileAnnotations> {
    return this.request({ t: 'fileAnnotations', path }) as Promise<FileAnnotations>;
  }

  async clear(): Promise<void> {
    await this.request({ t: 'clear' });
    this.scheduleChange();
  }

  async save(path: string): Promise<void> {
    await this.request({ t: 'save', path });
  }

  tracks(): Promise<TrackInfo[]> {
    return this.request({ t: 'tracks' }) as Promise<TrackInfo[]>;
  }

  async window(query: WindowQuery): Promise<FlameWindow> {
    return unpackWindow((await this.request({ t: 'window', query })) as PackedWindow);
  }

  functionStats(filter?: string): Promise<FunctionStats[]> {
    return this.request({ t: 'functionStats', filter }) as Promise<FunctionStats[]>;
  }

  lineStats(path: string): Promise<LineStats[]> {
    return this.request({ t: 'lineStats', path }) as Promise<LineStats[]>;
  }

  callsOf(
    path: string,
    line: number,
    offset = 0,
    limit = DEFAULT_CHILDREN_LIMIT,
  ): Promise<CallRow[]> {
    return this.request({ t: 'callsOf', path, line, offset, limit }) as Promise<CallRow[]>;
  }

  query(filter: string, offset = 0, limit = DEFAULT_QUERY_LIMIT): Promise<QueryResult> {
    return this.request({ t: 'query', filter, offset, limit }) as Promise<QueryResult>;
  }

  names(): Promise<TraceNamesResult> {
    return this.request({ t: 'names' }) as Promise<TraceNamesResult>;
  }

  async open(path: string): Promise<void> {
    await this.request({ t: 'open', path });
    this.scheduleChange();
  }

  async exportChrome(path: string): Promise<void> {
    await this.request({ t: 'exportChrome', path });
  }

  onDidChange(listener: (summary: StoreSummary) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  async dispose(): Promise<void> {
    this.stop('The Tracelens trace store was closed.');
    this.listeners.clear();
    await this.worker.terminate();
  }

  private ingest(message: ClientMessage): void {
    if (this.stopped) return;
    this.worker.postMessage(message);
    this.scheduleChange();
  }

  private request(body: RequestBody): Promise<StoreResults[keyof StoreResults]> {
    if (this.stopped) return Promise.reject(new Error(this.stopped));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...body, id } as StoreRequest);
    });
  }

  private receive(m: WorkerMessage): void {
    switch (m.t) {
      case 'result':
      case 'failure': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.t === 'result') p.resolve(m.value);
        else p.reject(new Error(m.message));
        return;
      }
      case 'ingestError':
        this.reportError(m.message);
        return;
      case 'fatal':
        this.reportError(m.message);
        return;
    }
  }

  /** A summary request after the delay; listeners hear of it if the generation moved. */
  private scheduleChange(): void {
    if (this.changeTimer || this.listeners.size === 0) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = undefined;
      this.summary().then(
        (s) => {
          if (s.generation === this.lastGeneration) return;
          this.lastGeneration = s.generation;
          for (const l of [...this.listeners]) l(s);
        },
        () => undefined,
      );
    }, this.changeDelayMs);
    this.changeTimer.unref();
  }

  private stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = reason;
    if (this.changeTimer) clearTimeout(this.changeTimer);
    this.changeTimer = undefined;
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }
}
