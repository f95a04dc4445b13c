// The messages between the query language client (extension/query/languageClient.ts, in the
// extension host) and the query language server (extension/languageServer/server.ts, its own
// process), beyond standard LSP. Imported by both sides and by the webview's filter box; plain
// names and types only, no imports.

/** The language of `.tlq` files (saved queries, one per line, `#` comments). */
export const LANGUAGE_ID = 'tracelens-query';
export const FILE_EXTENSION = '.tlq';

/** Names in the current trace, from the store, for completion and "did you mean". */
export interface TraceNames {
  /** Qualified names, e.g. `Parser.parse`. */
  functions: string[];
  modules: string[];
  exceptionTypes: string[];
  threads: string[];
}

export const EMPTY_NAMES: TraceNames = {
  functions: [],
  modules: [],
  exceptionTypes: [],
  threads: [],
};

/** Server -> client request: the names in the current trace. Params: none. Result: TraceNames. */
export const NAMES_REQUEST = 'tracelens/names';

/** Client -> server notification: the trace changed; the server asks for names again. No params. */
export const NAMES_CHANGED_NOTIFICATION = 'tracelens/namesChanged';

/** A problem in a query: an error (it cannot run) or a warning (a value matches nothing). */
export interface QueryProblem {
  severity: 'error' | 'warning';
  /** Offsets into the query text: [start, end). */
  start: number;
  end: number;
  message: string;
  /** What the user probably meant, when something close is known. */
  suggestion?: string;
}

/** Client -> server request for the timeline's filter box: the problems of one query. */
export const CHECK_REQUEST = 'tracelens/check';
export interface CheckParams {
  text: string;
}
export type CheckResult = QueryProblem[];

export type CompletionKind = 'field' | 'operator' | 'keyword' | 'value' | 'punctuation';

export interface QueryCompletion {
  label: string;
  kind: CompletionKind;
  /** What replaces [from, to) of the query. */
  insertText: string;
  detail?: string;
  /** Markdown. */
  documentation?: string;
}

/** Client -> server request for the filter box: completions at an offset. */
export const COMPLETE_REQUEST = 'tracelens/complete';
export interface CompleteParams {
  text: string;
  offset: number;
}
export interface CompleteResult {
  /** The range the chosen item replaces (the word being typed). */
  from: number;
  to: number;
  items: QueryCompletion[];
}

/** Client -> server request for the filter box: hover text at an offset. */
export const HOVER_REQUEST = 'tracelens/hover';
export interface HoverParams {
  text: string;
  offset: number;
}
export type HoverResult = { start: number; end: number; markdown: string } | null;
