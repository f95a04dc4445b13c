// What the rest of the extension may ask of the trace store. The store itself (sql.js in a worker
// thread, extension/store/worker.ts) sits behind StoreClient, which implements ITraceStore and
// TraceSink; everything here is plain data so it crosses the worker boundary unchanged.
// No vscode imports: the store is tested under plain Node.

import type { TraceSink } from '../../adapter/protocol/dap';

export interface ValueText {
  /** Bounded repr as recorded by the tracer. */
  text: string;
}

export interface CallArg {
  name: string;
  value: string;
}

export interface ExceptionInfo {
  type: string;
  message: string;
  line: number | null;
}

/** One call as the UI shows it. Times are ns since the trace origin. */
export interface CallRow {
  id: number;
  parent: number | null;
  depth: number;
  process: number;
  thread: number;
  threadName: string;
  module: string;
  qualname: string;
  file: string;
  /** First line of the function (its def line). */
  line: number;
  args: CallArg[];
  returnValue: string | null;
  returnLine: number | null;
  /** The exception that ended the call, if it ended by one. */
  exception: ExceptionInfo | null;
  startNs: number;
  /** null while the call is still running. */
  endNs: number | null;
  /** Bit flags as in schema.sql calls.flags. */
  flags: number;
  childCount: number;
}

/** What the editor draws for one file, for the selected call of each function (default: last). */
export interface FileAnnotations {
  /** The value returned at a line by the most recent call that returned there. */
  returns: {
    line: number;
    value: string;
    callId: number;
    args: CallArg[];
    qualname: string;
    /** 'yield' when the value was yielded (a generator or coroutine suspended at the line). */
    kind?: 'return' | 'yield';
  }[];
  /** Lines where an exception was raised (kind 3) and not only propagated. */
  raises: { line: number; type: string; message: string; callId: number; handled: boolean }[];
}

export interface StoreSummary {
  processes: number;
  calls: number;
  dropped: number;
  /** true while any traced process has not ended. */
  running: boolean;
  /** Store generation: increases each time ingested data changes what queries answer. */
  generation: number;
}

export interface ITraceStore extends TraceSink {
  summary(): Promise<StoreSummary>;
  /** Calls whose parent is `parent` (null: top-level calls), in start order (limit: 5000). */
  children(parent: number | null, offset?: number, limit?: number): Promise<CallRow[]>;
  call(id: number): Promise<CallRow | undefined>;
  /** Annotations for a file (absolute path as the tracer reported it). */
  fileAnnotations(path: string): Promise<FileAnnotations>;
  /** Empties the store (a new trace session starts). */
  clear(): Promise<void>;
  /** Writes the whole store as a SQLite file (schema.sql). */
  save(path: string): Promise<void>;
  /** Called with the new summary when ingested data changed (throttled). */
  onDidChange(listener: (summary: StoreSummary) => void): { dispose(): void };
  dispose(): Promise<void>;
}
