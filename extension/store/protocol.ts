// The messages between StoreClient (extension host) and the store worker (worker.ts): one tagged
// union per direction, plus the worker's start-up data. Plain data only, so everything crosses
// the worker boundary by structured clone; imports nothing from vscode.
//
// Ingest messages carry no id and get no answer: the worker handles messages in the order they
// were posted, so a request answers with everything ingested before it.

import type { ProcessKey } from '../../adapter/protocol/dap';
import type { Batch, End, Hello, Lines, TracerError } from '../../adapter/protocol/wire';
import type {
  CallRow,
  FileAnnotations,
  FunctionStats,
  LineStats,
  QueryResult,
  StoreSummary,
  TraceNamesResult,
  TrackInfo,
  WindowQuery,
} from './api';
import type { PackedWindow } from './windowCodec';

/** `workerData` of the store worker. */
export interface StoreWorkerData {
  /** Absolute path of sql-wasm.wasm; default: beside the bundled worker (dist/sql-wasm.wasm). */
  wasmPath?: string;
  /** Calls kept before the oldest are dropped (0: no cap; default traceStore DEFAULT_MAX_CALLS). */
  maxCalls?: number;
}

export type IngestMessage =
  | { t: 'hello'; key: ProcessKey; hello: Hello }
  | { t: 'batch'; key: ProcessKey; batch: Batch }
  | { t: 'lines'; key: ProcessKey; lines: Lines }
  | { t: 'error'; key: ProcessKey; error: TracerError }
  | { t: 'end'; key: ProcessKey; end: End };

/** Requests; each is answered by one `result` or `failure` with the same id. */
export type StoreRequest =
  | { t: 'summary'; id: number }
  | { t: 'children'; id: number; parent: number | null; offset: number; limit: number }
  | { t: 'call'; id: number; callId: number }
  | { t: 'fileAnnotations'; id: number; path: string }
  | { t: 'clear'; id: number }
  | { t: 'save'; id: number; path: string }
  | { t: 'tracks'; id: number }
  | { t: 'window'; id: number; query: WindowQuery }
  | { t: 'functionStats'; id: number; filter?: string }
  | { t: 'lineStats'; id: number; path: string }
  | { t: 'callsOf'; id: number; path: string; line: number; offset: number; limit: number }
  | { t: 'query'; id: number; filter: string; offset: number; limit: number }
  | { t: 'names'; id: number }
  | { t: 'open'; id: number; path: string }
  | { t: 'exportChrome'; id: number; path: string };

/** What each request answers with. */
export interface StoreResults {
  summary: StoreSummary;
  children: CallRow[];
  call: CallRow | null;
  fileAnnotations: FileAnnotations;
  clear: null;
  save: null;
  tracks: TrackInfo[];
  /** Packed for the trip (windowCodec.ts); StoreClient unpacks it. */
  window: PackedWindow;
  functionStats: FunctionStats[];
  lineStats: LineStats[];
  callsOf: CallRow[];
  query: QueryResult;
  names: TraceNamesResult;
  open: null;
  exportChrome: null;
}

/** Client -> worker. */
export type ClientMessage = IngestMessage | StoreRequest;

/** Worker -> client. */
export type WorkerMessage =
  | { t: 'result'; id: number; value: StoreResults[keyof StoreResults] }
  | { t: 'failure'; id: number; message: string }
  /** An ingest message could not be stored; the store goes on with the next one. */
  | { t: 'ingestError'; message: string }
  /** The worker could not start (e.g. the wasm is missing); every request fails with this. */
  | { t: 'fatal'; message: string };

/** Rows a `children` or `callsOf` request returns when it names no limit. */
export const DEFAULT_CHILDREN_LIMIT = 5000;

/** Calls a `query` request returns when it names no limit. */
export const DEFAULT_QUERY_LIMIT = 200;
