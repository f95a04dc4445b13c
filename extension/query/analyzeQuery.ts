// One call for editors of a query (the language server, the timeline's filter box): parse it and
// list its problems, the parse error first, then values that match nothing in the trace.
// Pure; imports nothing from vscode.

import type { Query } from './ast';
import { checkValues } from './checkValues';
import type { QueryProblem, TraceNames } from './lspProtocol';
import { parseQuery } from './parser';
import { QueryError } from './queryError';

export interface Analysis {
  /** null when the query has an error. */
  query: Query | null;
  problems: QueryProblem[];
}

export function analyzeQuery(text: string, names?: TraceNames): Analysis {
  let query: Query;
  try {
    query = parseQuery(text);
  } catch (e) {
    if (!(e instanceof QueryError)) throw e;
    return {
      query: null,
      problems: [
        {
          severity: 'error',
          start: e.offset,
          end: e.end,
          message: e.reason,
          suggestion: e.suggestion,
        },
      ],
    };
  }
  return { query, problems: names ? checkValues(query, names) : [] };
}
