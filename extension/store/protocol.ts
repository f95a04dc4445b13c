// The messages between StoreClient (extension host) and the store worker (worker.ts): one tagged
// union per direction, plus the worker's start-up data. Plain data only, so everything crosses
// the worker boundary by structured clone; imports nothing from vscode.
//
// Ingest messages carry no id and get no answer: the worker handles messages in the order they
// were posted, so a request answers with everything ingested before it.

import type { ProcessKey } from '../../adapter/protocol/dap';
import type { Batch, End, Hello, TracerError } from '../../adapter/protocol/wire';
import type { CallRow, FileAnnotations, StoreSummary } from './api';

/** `workerData` of the store worker. */
export interface StoreWorkerData {
  /** Absolute path of sql-wasm.wasm; default: beside the bundled worker (dist/sql-wasm.wasm). */
  wasmPath?: string;
}

export type IngestMessage =
  | { t: 'hello'; key: ProcessKey; hello: Hello }
  | { t: 'batch'; key: ProcessKey; batch: Batch }
  | { t: 'error'; key: ProcessKey; error: TracerError }
  | { t: 'end'; key: ProcessKey; end: End };

/** Requests; each is answered by one `result` or `failure` with the same id. */
export type StoreRequest =
  | { t: 'summary'; id: number }
  | { t: 'children'; id: number; parent: number | null; offset: number; limit: number }
  | { t: 'call'; id: number; callId: number }
  | { t: 'fileAnnotations'; id: number; path: string }
  | { t: 'clear'; id: number }
  | { t: 'save'; id: number; path: string };

/** What each request answers with. */
export interface StoreResults {
  summary: StoreSummary;
  children: CallRow[];
  call: CallRow | null;
  fileAnnotations: FileAnnotations;
  clear: null;
  save: null;
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

/** Rows a `children` request returns when it names no limit. */
export const DEFAULT_CHILDREN_LIMIT = 5000;
