// An ITraceStore that starts the real store (a worker thread with sql.js) only when something is
// first stored or opened, so opening a Python file activates Tracelens without that cost; before
// then every query answers empty. Listeners registered before then are attached when it starts.
// Knows nothing of vscode.

import type { ProcessKey } from '../adapter/protocol/dap';
import type { Batch, End, Hello, Lines, TracerError } from '../adapter/protocol/wire';
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
} from './store/api';

const EMPTY_SUMMARY: StoreSummary = {
  processes: 0,
  calls: 0,
  dropped: 0,
  running: false,
  generation: 0,
};

export class LazyTraceStore implements ITraceStore {
  private store: ITraceStore | undefined;
  private readonly listeners = new Set<(summary: StoreSummary) => void>();
  private disposed = false;

  constructor(private readonly create: () => ITraceStore) {}

  /** Whether the real store has been started. */
  get started(): boolean {
    return this.store !== undefined;
  }

  /** The real store, started on demand; undefined once disposed (data is then dropped). */
  private get real(): ITraceStore | undefined {
    if (this.disposed) return undefined;
    if (!this.store) {
      this.store = this.create();
      this.store.onDidChange((s) => {
        for (const l of [...this.listeners]) l(s);
      });
    }
    return this.store;
  }

  hello(key: ProcessKey, hello: Hello): void {
    this.real?.hello(key, hello);
  }
  batch(key: ProcessKey, batch: Batch): void {
    this.real?.batch(key, batch);
  }
  lines(key: ProcessKey, lines: Lines): void {
    this.real?.lines?.(key, lines);
  }
  error(key: ProcessKey, error: TracerError): void {
    this.real?.error(key, error);
  }
  end(key: ProcessKey, end: End): void {
    this.real?.end(key, end);
  }

  async summary(): Promise<StoreSummary> {
    return this.store ? this.store.summary() : { ...EMPTY_SUMMARY };
  }
  async children(parent: number | null, offset?: number, limit?: number): Promise<CallRow[]> {
    return this.store ? this.store.children(parent, offset, limit) : [];
  }
  async call(id: number): Promise<CallRow | undefined> {
    return this.store?.call(id);
  }
  async fileAnnotations(path: string): Promise<FileAnnotations> {
    return this.store ? this.store.fileAnnotations(path) : { returns: [], raises: [] };
  }
  /** Starts the store: clearing happens when a trace is about to begin. */
  async clear(): Promise<void> {
    await this.real?.clear();
  }
  async save(path: string): Promise<void> {
    const store = this.real;
    if (!store) throw new Error('The Tracelens trace store was closed.');
    await store.save(path);
  }

  async tracks(): Promise<TrackInfo[]> {
    return this.store ? this.store.tracks() : [];
  }
  async window(query: WindowQuery): Promise<FlameWindow> {
    return this.store ? this.store.window(query) : { boxes: [], buckets: [] };
  }
  async functionStats(filter?: string): Promise<FunctionStats[]> {
    return this.store ? this.store.functionStats(filter) : [];
  }
  async lineStats(path: string): Promise<LineStats[]> {
    return this.store ? this.store.lineStats(path) : [];
  }
  async callsOf(path: string, line: number, offset?: number, limit?: number): Promise<CallRow[]> {
    return this.store ? this.store.callsOf(path, line, offset, limit) : [];
  }
  async query(filter: string, offset?: number, limit?: number): Promise<QueryResult> {
    return this.store ? this.store.query(filter, offset, limit) : { total: 0, calls: [] };
  }
  async names(): Promise<TraceNamesResult> {
    return this.store
      ? this.store.names()
      : { functions: [], modules: [], exceptionTypes: [], threads: [] };
  }
  /** Starts the store: opening a trace file is a reason to. */
  async open(path: string): Promise<void> {
    const store = this.real;
    if (!store) throw new Error('The Tracelens trace store was closed.');
    await store.open(path);
  }
  async exportChrome(path: string): Promise<void> {
    const store = this.real;
    if (!store) throw new Error('The Tracelens trace store was closed.');
    await store.exportChrome(path);
  }

  onDidChange(listener: (summary: StoreSummary) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.listeners.clear();
    const store = this.store;
    this.store = undefined;
    await store?.dispose();
  }
}
