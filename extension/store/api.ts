// What the rest of the extension may ask of the trace store. The store itself (sql.js in a worker
// thread, extension/store/worker.ts) sits behind StoreClient, which implements ITraceStore and
// TraceSink; everything here is plain data so it crosses the worker boundary unchanged.
// No vscode imports: the store is tested under plain Node.

import type { ProcessKey, TraceSink } from '../../adapter/protocol/dap';
import type { Lines } from '../../adapter/protocol/wire';

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
  /**
   * Set by call() when the call is drawn in an asyncio task's lane (it ran in the task, or under
   * a call that did): that lane's TrackInfo.lane.
   */
  lane?: number;
  /** With `lane`: the task's name. */
  task?: string;
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
  /** Calls dropped by the store's cap (oldest first, whole with their descendants); absent: none. */
  evicted?: number;
  /** With `evicted`: the dropped calls all ended by this time (ns since the trace origin). */
  evictedBeforeNs?: number;
}

/**
 * A lane of the flame chart: a thread of a traced process, or an asyncio task on a thread (its
 * coroutines and what they call; tracks() lists a thread's task lanes right after the thread).
 */
export interface TrackInfo {
  /** threads.id */
  thread: number;
  process: number;
  pid: number;
  /** The thread's name, or for a task's lane the task's name. */
  name: string;
  startNs: number;
  endNs: number | null;
  calls: number;
  /** Rows below the lane's top row (a task lane's top row is its shallowest call). */
  maxDepth: number;
  /** A task's lane: its key, negative (pass it as WindowQuery.lane). Absent: the thread's lane. */
  lane?: number;
  /** A task's lane: the asyncio task's name. */
  task?: string;
  /** A task's lane: the calls' depth (CallRow.depth) drawn in its top row. */
  depthBase?: number;
}

/** A probe event drawn on its thread's lane: a garbage collection (a span) or an instant. */
export interface FlameMark {
  /** probes.id (of gc.start for a collection). */
  id: number;
  kind: 'gc' | 'audit' | 'probe';
  /** 'gc', the audit event's name ('open', 'socket.connect', ...) or the probe's name. */
  name: string;
  startNs: number;
  /** A collection's end (null: its end was not recorded); an instant's own time. */
  endNs: number | null;
  /** As recorded: "gen=2 collected=14", or the audit event and its arguments. */
  detail: string;
  /** Where the program was (absolute path and line), when known. */
  file?: string;
  line?: number;
  /** The call it happened in, when known. */
  call: number | null;
  generation?: number;
  collected?: number;
  /** Marks of this kind within about a pixel merged into this one (1: itself only). */
  count: number;
}

/** Where a process's tracer dropped records because its buffer was full (ns, trace time). */
export interface DropRegion {
  process: number;
  startNs: number;
  /** Equal to startNs when only the batch the drop was reported with is known. */
  endNs: number;
  records: number;
}

/** Asks for what a flame chart shows of one thread between two times. */
export interface WindowQuery {
  thread: number;
  startNs: number;
  endNs: number;
  /** Calls shorter than this (about one pixel) come back merged into buckets, not as boxes. */
  minDurationNs: number;
  /** A query-language sentence; calls that match get `match: true` (others false). */
  filter?: string;
  /** At most this many boxes (default 20000); the rest become buckets. */
  maxBoxes?: number;
  /** A task's lane (TrackInfo.lane) of the thread instead of the thread's own lane. */
  lane?: number;
  /** Also the probe marks (the thread's lane only) and dropped regions of the window. */
  marks?: boolean;
}

/** One call drawn as a box. */
export interface FlameBox {
  id: number;
  depth: number;
  startNs: number;
  /** null: still running (draw to the window's end). */
  endNs: number | null;
  qualname: string;
  module: string;
  flags: number;
  /** The call ended by an exception. */
  exception: boolean;
  /** With a filter: whether the call matches. */
  match?: boolean;
}

/** Calls too small to draw one by one: a count per depth and pixel-sized time slot. */
export interface FlameBucket {
  depth: number;
  startNs: number;
  endNs: number;
  count: number;
  /** The module most of them belong to (for the colour). */
  module: string;
  /** With a filter: how many of them match. */
  matches?: number;
}

export interface FlameWindow {
  boxes: FlameBox[];
  buckets: FlameBucket[];
  /** Asked with `marks`: probe events in the window, in time order. */
  marks?: FlameMark[];
  /** Asked with `marks`: where the lane's process dropped records in the window. */
  drops?: DropRegion[];
}

/** Per-function figures (calls, total time counting a recursive call once, own time). */
export interface FunctionStats {
  code: number;
  module: string;
  qualname: string;
  file: string;
  line: number;
  calls: number;
  totalNs: number;
  ownNs: number;
  exceptions: number;
}

/** Per-line figures for a file: exact (line mode) or sampled. */
export interface LineStats {
  line: number;
  hits: number;
  ownNs: number;
  totalNs: number;
  sampled: boolean;
}

/** Answer to a filter query: the total matching and one page of calls in start order. */
export interface QueryResult {
  total: number;
  calls: CallRow[];
}

/** Names in the trace, for completion and did-you-mean. */
export interface TraceNamesResult {
  functions: string[];
  modules: string[];
  exceptionTypes: string[];
  threads: string[];
}

export interface ITraceStore extends TraceSink {
  /** Per-line figures (wire `lines` message); the trace server calls it when the sink has it. */
  lines?(key: ProcessKey, lines: Lines): void;
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
  /** Lanes of the flame chart: every thread of every process, each followed by its task lanes. */
  tracks(): Promise<TrackInfo[]>;
  /** What the flame chart draws of one lane (a thread, or a task with `lane`) in a time window. */
  window(query: WindowQuery): Promise<FlameWindow>;
  /** Per-function aggregates, optionally of the calls matching a filter sentence. */
  functionStats(filter?: string): Promise<FunctionStats[]>;
  /** Per-line figures of a file (absolute path). */
  lineStats(path: string): Promise<LineStats[]>;
  /** Calls of the function whose code starts at `line` in `path`, in start order. */
  callsOf(path: string, line: number, offset?: number, limit?: number): Promise<CallRow[]>;
  /** Calls matching a query-language sentence (rejects with the parse error's message). */
  query(filter: string, offset?: number, limit?: number): Promise<QueryResult>;
  /** Names for completion. */
  names(): Promise<TraceNamesResult>;
  /** Replaces the store's contents with a saved trace file (rejects with a clear message). */
  open(path: string): Promise<void>;
  /** Writes Chrome trace JSON (opens in Perfetto). */
  exportChrome(path: string): Promise<void>;
  /** Called with the new summary when ingested data changed (throttled). */
  onDidChange(listener: (summary: StoreSummary) => void): { dispose(): void };
  dispose(): Promise<void>;
}
