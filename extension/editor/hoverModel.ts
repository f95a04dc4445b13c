// The Markdown of Tracelens's editor hovers, as plain strings: a value or exception drawn at the
// line (full text, the call's arguments), the function's figures and recent calls, the line's
// heat, and command links (previous / next call, show in timeline). Pure; no vscode import.

import { formatArgs, formatCount, formatDuration, oneLine, shortenValue } from '../format';
import { valueText } from '../valueSnapshot';
import type { CallRow } from '../store/api';
import type { DecorationRef, FunctionInfo } from './decorationModel';

/** Commands the hover links to (command URIs); the hover trusts exactly these. */
export interface HoverCommands {
  selectCall: string;
  showCallInTimeline: string;
}

/** A fenced code block that a value containing backticks cannot break out of. */
export function codeBlock(text: string, language = 'python'): string {
  const longest = Math.max(2, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${text}\n${fence}`;
}

/** Escapes Markdown's special characters in plain text (qualnames, exception types). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

/** A `command:` URI with JSON arguments, as MarkdownString links take them. */
export function commandUri(command: string, args: unknown[]): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify(args))}`;
}

/** The Markdown for what is drawn at a line. */
export function decorationHover(ref: DecorationRef): string {
  switch (ref.kind) {
    case 'return': {
      const r = ref.entry;
      const verb = r.kind === 'yield' ? 'yielded' : 'returned';
      const parts = [
        `**${escapeMarkdown(r.qualname)}** ${verb} (call ${r.callId})`,
        codeBlock(valueText(r.value)),
      ];
      if (r.args.length)
        parts.push(
          'Arguments:',
          codeBlock(r.args.map((a) => `${a.name}=${valueText(a.value)}`).join('\n')),
        );
      else parts.push('No arguments.');
      return parts.join('\n\n');
    }
    case 'args': {
      const c = ref.call;
      const result = c.exception
        ? `raised ${c.exception.type}`
        : c.endNs === null
          ? 'still running'
          : `returned ${shortenValue(c.returnValue ?? 'None', 80)}`;
      return [
        `**${escapeMarkdown(c.qualname)}** called with (call ${c.id}, ${escapeMarkdown(result)})`,
        codeBlock(c.args.map((a) => `${a.name}=${valueText(a.value)}`).join('\n')),
      ].join('\n\n');
    }
    case 'raise': {
      const r = ref.entry;
      const how = r.handled ? 'raised here and was caught' : 'raised here and was not caught';
      return [
        `**${escapeMarkdown(r.type)}** ${how} (call ${r.callId})`,
        codeBlock(oneLine(r.message) || '(no message)', 'text'),
      ].join('\n\n');
    }
    case 'propagated': {
      const p = ref.entry;
      const how = p.handled
        ? 'passed through here and was caught further out'
        : 'passed through here and was not caught';
      return [
        `**${escapeMarkdown(p.type)}** ${how} (call ${p.callId})`,
        codeBlock(oneLine(p.message) || '(no message)', 'text'),
      ].join('\n\n');
    }
  }
}

/** "**fib** · 15 calls · total 1.2 ms · own 800 µs · mean 80 µs" and the recent calls. */
export function functionSummary(fn: FunctionInfo, recent: readonly CallRow[]): string {
  const mean = fn.calls > 0 ? fn.totalNs / fn.calls : 0;
  const head =
    `**${escapeMarkdown(fn.qualname)}** · ${formatCount(fn.calls)} ${fn.calls === 1 ? 'call' : 'calls'}` +
    ` · total ${formatDuration(fn.totalNs)} · own ${formatDuration(fn.ownNs)}` +
    ` · mean ${formatDuration(mean)}` +
    (fn.exceptions ? ` · ${formatCount(fn.exceptions)} raised` : '');
  if (recent.length === 0) return head;
  const rows = recent.map((c) => {
    const result = c.exception
      ? `raised ${c.exception.type}`
      : c.endNs === null
        ? 'running'
        : `→ ${shortenValue(c.returnValue ?? 'None', 60)}`;
    return `${fn.qualname.split('.').pop()}(${formatArgs(c.args, 30)}) ${result}`;
  });
  return `${head}\n\nLast ${recent.length === 1 ? 'call' : `${recent.length} calls`}:\n\n${codeBlock(rows.join('\n'))}`;
}

export interface CallPosition {
  /** The call shown (selected, or the last call). */
  call: number;
  /** 0-based position among the function's calls, and how many there are. */
  index: number;
  count: number;
  previous?: number;
  next?: number;
}

/** "Call 3 of 15 · ◀ Previous call · Next call ▶ · Show in timeline" with command links. */
export function callLinks(pos: CallPosition, commands: HoverCommands): string {
  const parts = [`Call ${formatCount(pos.index + 1)} of ${formatCount(pos.count)}`];
  if (pos.previous !== undefined)
    parts.push(`[◀ Previous call](${commandUri(commands.selectCall, [pos.previous])})`);
  if (pos.next !== undefined)
    parts.push(`[Next call ▶](${commandUri(commands.selectCall, [pos.next])})`);
  parts.push(`[Show in timeline](${commandUri(commands.showCallInTimeline, [pos.call])})`);
  return parts.join(' · ');
}

/**
 * The link that filters the timeline to every call of the function at `line` (0-based) of the
 * document `uri` (its string form): tracelens.showCallsInTimeline with [uri, line].
 */
export function functionCallsLink(command: string, uri: string, line: number): string {
  return `[All calls in timeline](${commandUri(command, [uri, line])})`;
}

/** Joins hover sections with rules. */
export function joinSections(sections: readonly (string | undefined)[]): string | undefined {
  const present = sections.filter((s): s is string => !!s);
  return present.length ? present.join('\n\n---\n\n') : undefined;
}

/** The CodeLens title of a function: "15 calls · total 1.2 ms". */
export function codeLensTitle(calls: number, totalNs: number): string {
  return `${formatCount(calls)} ${calls === 1 ? 'call' : 'calls'} · total ${formatDuration(totalNs)}`;
}
