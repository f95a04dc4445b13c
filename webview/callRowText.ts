// The text of one row of the timeline's call tree, as plain strings: function, arguments, the
// return value or exception, and the duration. Pure (no DOM), shared by the webview's renderer
// and the unit tests; the DOM itself is built by webview/callTree.ts.

import type { CallRow } from '../extension/store/api';
import { formatArgs, formatCallDuration, formatException, shortenValue } from '../extension/format';

export interface CallRowText {
  qualname: string;
  /** `(n=3, name='x')` */
  args: string;
  /** `→ value`, `⚠ Type: message`, `⏸ value` (suspended generator) or `` while running. */
  result: string;
  resultKind: 'return' | 'exception' | 'yield' | 'running' | 'none';
  duration: string;
  /** Everything above plus location, for the row's tooltip. */
  title: string;
}

/** calls.flags bits (schema.sql). */
export const CallFlags = { Resumed: 1, Suspended: 2, Exception: 4 } as const;

export function callRowText(call: CallRow, maxValue = 80): CallRowText {
  const args = `(${formatArgs(call.args)})`;
  let result = '';
  let resultKind: CallRowText['resultKind'] = 'none';
  if (call.exception) {
    result = `⚠ ${shortenValue(formatException(call.exception.type, call.exception.message), maxValue)}`;
    resultKind = 'exception';
  } else if (call.endNs === null) {
    resultKind = 'running';
  } else if (call.flags & CallFlags.Suspended) {
    result = `⏸ ${shortenValue(call.returnValue ?? '', maxValue)}`;
    resultKind = 'yield';
  } else if (call.returnValue !== null) {
    result = `→ ${shortenValue(call.returnValue, maxValue)}`;
    resultKind = 'return';
  }
  const duration = formatCallDuration(call.startNs, call.endNs);
  const file = call.file.split(/[\\/]/).pop() ?? call.file;
  const title = `${call.qualname}${args} ${result}\n${duration} · ${call.module} · ${file}:${call.line} · thread ${call.threadName}`;
  return { qualname: call.qualname, args, result, resultKind, duration, title };
}
