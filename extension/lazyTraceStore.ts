// An ITraceStore that starts the real store (a worker thread with sql.js) only when something is
// first stored or asked, so opening a Python file activates Tracelens without that cost.
// Listeners registered before then are attached when it starts. Knows nothing of vscode.

import type { ProcessKey } from '../adapter/protocol/dap';
import type { Batch, End, Hello, TracerError } from '../adapter/protocol/wire';
import type { CallRow, FileAnnotations, ITraceStore, StoreSummary } from './store/api';

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
