// Renders the timeline's call tree into the DOM from the loaded rows. Stable hooks for tests:
// every call is `.call-row[data-call-id]` (text: qualname, args, result, duration), inside a
// `.call-node` whose `.call-children` holds its loaded children. Knows nothing of messaging.

import type { CallRow } from '../extension/store/api';
import { callRowText } from './callRowText';

export interface TreeData {
  /** Loaded children per parent id (null: top level). */
  children: Map<number | null, CallRow[]>;
  /** Parents with more children than loaded (null: top level). */
  more: Set<number | null>;
  expanded: Set<number>;
  selected: number | null;
}

function span(className: string, text: string): HTMLSpanElement {
  const el = document.createElement('span');
  el.className = className;
  el.textContent = text;
  return el;
}

function rowElement(call: CallRow, data: TreeData): HTMLElement {
  const t = callRowText(call);
  const row = document.createElement('div');
  const expandable = call.childCount > 0;
  const expanded = expandable && data.expanded.has(call.id);
  row.className = 'call-row';
  if (expandable) row.classList.add('expandable');
  if (expanded) row.classList.add('expanded');
  if (data.selected === call.id) row.classList.add('selected');
  row.classList.add(`result-${t.resultKind}`);
  row.dataset.callId = String(call.id);
  row.dataset.depth = String(call.depth);
  row.setAttribute('role', 'treeitem');
  row.setAttribute('aria-level', String(call.depth + 1));
  row.setAttribute('aria-selected', String(data.selected === call.id));
  if (expandable) row.setAttribute('aria-expanded', String(expanded));
  row.tabIndex = data.selected === call.id ? 0 : -1;
  row.title = t.title;
  row.style.setProperty('--depth', String(call.depth));

  const twisty = span('twisty', '');
  twisty.setAttribute('aria-hidden', 'true');
  row.append(twisty, span('qualname', t.qualname), span('args', t.args));
  if (t.result) row.append(' ', span(`result ${t.resultKind}`, t.result));
  row.append(' ', span('duration', t.duration));
  return row;
}

function moreElement(parent: number | null, depth: number, loaded: number): HTMLElement {
  const more = document.createElement('div');
  more.className = 'call-more';
  more.dataset.parent = parent === null ? 'root' : String(parent);
  more.dataset.offset = String(loaded);
  more.style.setProperty('--depth', String(depth));
  more.textContent = `Load more calls (${loaded} shown)`;
  more.setAttribute('role', 'treeitem');
  return more;
}

function renderLevel(
  parent: number | null,
  depth: number,
  data: TreeData,
  into: HTMLElement,
): void {
  const calls = data.children.get(parent) ?? [];
  for (const call of calls) {
    const node = document.createElement('div');
    node.className = 'call-node';
    node.dataset.callId = String(call.id);
    node.append(rowElement(call, data));
    if (call.childCount > 0 && data.expanded.has(call.id)) {
      const group = document.createElement('div');
      group.className = 'call-children';
      group.setAttribute('role', 'group');
      renderLevel(call.id, depth + 1, data, group);
      node.append(group);
    }
    into.append(node);
  }
  if (data.more.has(parent)) into.append(moreElement(parent, depth, calls.length));
}

/** Replaces the container's content with the tree, keeping its scroll position. */
export function renderCallTree(container: HTMLElement, data: TreeData): void {
  const scrollTop = container.scrollTop;
  const fragment = document.createDocumentFragment();
  const root = document.createElement('div');
  root.className = 'call-level';
  renderLevel(null, 0, data, root);
  fragment.append(root);
  container.replaceChildren(fragment);
  container.scrollTop = scrollTop;
}

/** The rows in display order (for keyboard navigation). */
export function visibleRows(container: HTMLElement): HTMLElement[] {
  return Array.from(container.querySelectorAll<HTMLElement>('.call-row'));
}
