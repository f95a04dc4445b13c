// Turns the problems of a `.tlq` document (one query per line, `#` comments) into LSP
// diagnostics with exact ranges, line by line. Used by the query language server only; no vscode
// imports (LSP types only).

import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver/node';
import { analyzeQuery } from '../query/analyzeQuery';
import type { TraceNames } from '../query/lspProtocol';

export const DIAGNOSTIC_SOURCE = 'tracelens';

export function lineDiagnostics(text: string, names?: TraceNames): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  text.split(/\r?\n/).forEach((line, lineNo) => {
    for (const p of analyzeQuery(line, names).problems) {
      diagnostics.push({
        range: {
          start: { line: lineNo, character: p.start },
          end: { line: lineNo, character: p.end },
        },
        severity: p.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
        source: DIAGNOSTIC_SOURCE,
        message: p.message,
        ...(p.suggestion ? { data: { suggestion: p.suggestion } } : {}),
      });
    }
  });
  return diagnostics;
}
