// The query language's public face for the store, the webview's filter box and the extension:
// parse, analyse, compile (to SQL and to the tracer's filter), complete and hover. Re-exports only;
// languageClient.ts (which needs vscode) is imported on its own.

export type { Expr, Query, Span, Value } from './ast';
export { analyzeQuery, type Analysis } from './analyzeQuery';
export { compileToSql, selectCalls, type SqlFilter, type SqlParam } from './compileToSql';
export {
  compileToTracerFilter,
  escapeGlob,
  type TracerFilterResult,
} from './compileToTracerFilter';
export { completeAt, writeValue } from './complete';
export { hoverAt } from './hover';
export * from './lspProtocol';
export { parseQuery } from './parser';
export { QueryError } from './queryError';
export { registerSqlFunctions } from './sqlFunctions';
export { readTraceNames } from './traceNames';
export { FIELDS, OPERATORS } from './vocabulary';
