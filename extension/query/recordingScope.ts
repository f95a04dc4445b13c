// Turns a query sentence into the tracer's recording scope (module globs) for a running trace:
// the pure part of "Tracelens: Change What Is Recorded…". Only conditions on `module` can narrow
// what the tracer records in the process; anything else gets a message saying why.
// No vscode import (tested under plain Node).

import type { SetFilterArguments } from '../../adapter/protocol/dap';
import { compileToTracerFilter } from './compileToTracerFilter';
import { parseQuery } from './parser';

export type RecordingScope =
  { ok: true; filter: SetFilterArguments } | { ok: false; message: string };

/** '' (or only spaces) goes back to the default scope: the program's own code. */
export function recordingScope(text: string): RecordingScope {
  let query;
  try {
    query = parseQuery(text);
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  const result = compileToTracerFilter(query);
  if (!result.ok) {
    return {
      ok: false,
      message: `The tracer can narrow recording by module only: ${result.reason}`,
    };
  }
  return { ok: true, filter: { include: result.include, exclude: result.exclude } };
}
