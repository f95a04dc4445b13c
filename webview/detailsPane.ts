// The details pane of the selected call: function and source link, arguments (long values fold
// open, structured ones open as a tree: valueTreeView.ts), the return value or exception, timing
// (start, duration, own), thread and process, and links to the parent and children. Stable hooks:
// #details[data-call-id], .detail-* classes, links are buttons with data-call-id (select) or
// .detail-source (reveal). Browser only.

import { formatCount, formatDuration } from '../extension/format';
import type { CallDetails } from './protocol';
import { callRowText, CallFlags } from './callRowText';
import { valueText } from '../extension/valueSnapshot';
import { valueTreeElement } from './valueTreeView';
import { el } from './dom';

export interface DetailsPaneEvents {
  select(callId: number): void;
  reveal(callId: number): void;
}

const FOLD_AT = 60;

/** A value: short ones inline, long or multi-line ones folded (click to open). */
function textElement(text: string, className: string): HTMLElement {
  if (text.length <= FOLD_AT && !text.includes('\n')) return el('code', `value ${className}`, text);
  const details = el('details', `value folded ${className}`);
  details.append(
    el('summary', '', text.replace(/\s+/g, ' ').slice(0, FOLD_AT - 1) + '…'),
    el('pre', '', text),
  );
  return details;
}

function row(dl: HTMLElement, label: string, value: Node | string, className: string): void {
  const dt = el('dt', '', label);
  const dd = el('dd', className);
  dd.append(value);
  dl.append(dt, dd);
}

export class DetailsPane {
  /** The open rows of the shown call's value trees (kept while the same call is redrawn). */
  private expanded = { callId: NaN, paths: new Set<string>() };

  constructor(
    private readonly root: HTMLElement,
    events: DetailsPaneEvents,
  ) {
    root.addEventListener('click', (e) => {
      const target = (e.target as HTMLElement).closest<HTMLElement>('button');
      if (!target) return;
      const id = Number(target.dataset.callId);
      if (target.classList.contains('detail-source')) events.reveal(id);
      else if (Number.isFinite(id)) events.select(id);
    });
    this.show(null, 0);
  }

  show(details: CallDetails | null, originNs: number): void {
    const root = this.root;
    root.replaceChildren();
    if (!details) {
      delete root.dataset.callId;
      root.append(
        el('p', 'details-empty', 'Select a call to see its arguments, result and timing.'),
      );
      return;
    }
    const { call, parent, children, ownNs } = details;
    root.dataset.callId = String(call.id);
    if (this.expanded.callId !== call.id) this.expanded = { callId: call.id, paths: new Set() };
    const paths = this.expanded.paths;
    /** A structured value as a tree, any other as text. */
    const valueElement = (value: string, label: string, path: string): HTMLElement =>
      valueTreeElement(value, label, path, paths) ?? textElement(valueText(value), '');
    const text = callRowText(call, 10_000);

    const title = el('h2', 'detail-qualname', call.qualname);
    const source = el(
      'button',
      'link detail-source',
      `${call.file.split(/[\\/]/).pop()}:${call.line}`,
    );
    source.dataset.callId = String(call.id);
    source.title = `Open ${call.file} at line ${call.line} (Enter)`;
    const where = el('div', 'detail-where');
    where.append(el('span', 'detail-module', call.module), ' · ', source);
    root.append(title, where);

    const args = el('dl', 'detail-args');
    if (!call.args.length) args.append(el('dd', 'detail-none', 'no arguments'));
    for (const a of call.args) {
      const dt = el('dt', 'detail-arg-name', a.name);
      const dd = el('dd', 'detail-arg');
      dd.dataset.name = a.name;
      dd.append(valueElement(a.value, a.name, `arg:${a.name}`));
      args.append(dt, dd);
    }
    root.append(el('h3', '', 'Arguments'), args);

    const result = el('dl', 'detail-result');
    if (call.exception) {
      const ex = call.exception;
      row(
        result,
        'Raised',
        textElement(ex.message ? `${ex.type}: ${ex.message}` : ex.type, ''),
        'detail-exception',
      );
      if (ex.line !== null) row(result, 'At line', String(ex.line), 'detail-exception-line');
    } else if (call.endNs === null) {
      row(result, 'Status', 'running', 'detail-running');
    } else if (call.flags & CallFlags.Suspended) {
      row(
        result,
        'Yielded',
        valueElement(call.returnValue ?? '', 'the yielded value', 'return'),
        'detail-return',
      );
    } else {
      row(
        result,
        'Returned',
        valueElement(call.returnValue ?? 'None', 'the returned value', 'return'),
        'detail-return',
      );
      if (call.returnLine !== null)
        row(result, 'At line', String(call.returnLine), 'detail-return-line');
    }
    root.append(el('h3', '', 'Result'), result);

    const timing = el('dl', 'detail-timing');
    row(timing, 'Start', `+${formatDuration(call.startNs - originNs)}`, 'detail-start');
    row(timing, 'Duration', text.duration, 'detail-duration');
    row(timing, 'Own time', ownNs === null ? '—' : formatDuration(ownNs), 'detail-own');
    row(timing, 'Thread', `${call.threadName} · process ${call.process}`, 'detail-thread');
    row(timing, 'Depth', String(call.depth), 'detail-depth');
    root.append(el('h3', '', 'Timing'), timing);

    const links = el('div', 'detail-links');
    if (parent) {
      const p = el('button', 'link detail-parent', `↑ ${parent.qualname}`);
      p.dataset.callId = String(parent.id);
      p.title = 'Parent call (↑ in the flame chart)';
      links.append(el('span', 'detail-label', 'Parent '), p);
    } else {
      links.append(el('span', 'detail-label', 'Top-level call'));
    }
    root.append(el('h3', '', 'Calls'), links);
    if (children.length) {
      const list = el('ul', 'detail-children');
      for (const c of children) {
        const li = el('li', '');
        const b = el('button', 'link detail-child', `${c.qualname}`);
        b.dataset.callId = String(c.id);
        li.append(b, ' ', el('span', 'detail-child-duration', callRowText(c).duration));
        list.append(li);
      }
      const more = call.childCount - children.length;
      root.append(
        el('div', 'detail-label', `Children (${formatCount(call.childCount)})`),
        list,
        ...(more > 0 ? [el('div', 'detail-more', `and ${formatCount(more)} more`)] : []),
      );
    }
  }
}
