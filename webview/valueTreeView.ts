// A structured value in the details pane as an expandable tree (WAI-ARIA tree: role tree /
// treeitem / group, aria-expanded, one tab stop with arrow keys, Enter or Space to open): each row
// shows its label, type, length and repr; a cut container ends with "… N more". Children are built
// when first opened. Which rows are open is kept by path in a set the caller owns, so a redraw of
// the same call keeps them. Stable hooks: .value-tree, li.vt-item[data-path], .vt-label, .vt-type,
// .vt-length, .vt-repr, li.vt-more. Browser only; the model is extension/valueSnapshot.ts.

import {
  isExpandable,
  lengthText,
  moreText,
  parseValue,
  type ValueNode,
} from '../extension/valueSnapshot';
import { el } from './dom';

/**
 * The value as a tree, or undefined when it has nothing to open (a plain repr, or a snapshot with
 * no items): the caller shows those as text. `path` names the tree (e.g. `arg:points`) inside
 * `expanded`, the set of open rows' paths.
 */
export function valueTreeElement(
  text: string,
  label: string,
  path: string,
  expanded: Set<string>,
): HTMLElement | undefined {
  const node = parseValue(text);
  if (!isExpandable(node)) return undefined;
  const tree = el('ul', 'value-tree');
  tree.setAttribute('role', 'tree');
  tree.setAttribute('aria-label', label ? `Value of ${label}` : 'Value');
  const root = item(node, '', path, 1, expanded);
  root.tabIndex = 0;
  tree.append(root);
  tree.addEventListener('click', (e) => {
    const row = (e.target as HTMLElement).closest<HTMLElement>('.vt-row');
    const li = row?.parentElement;
    if (!li || !tree.contains(li)) return;
    focus(tree, li);
    if (li.getAttribute('aria-expanded') !== null) toggle(li, expanded);
  });
  tree.addEventListener('keydown', (e) => onKey(tree, e, expanded));
  return tree;
}

function item(
  node: ValueNode,
  label: string,
  path: string,
  level: number,
  expanded: Set<string>,
): HTMLLIElement {
  const li = el('li', 'vt-item');
  li.setAttribute('role', 'treeitem');
  li.setAttribute('aria-level', String(level));
  li.dataset.path = path;
  li.tabIndex = -1;
  const row = el('div', 'vt-row');
  const open = isExpandable(node);
  row.append(el('span', 'vt-twisty', open ? '▸' : ''));
  if (label) row.append(el('span', 'vt-label', label), el('span', 'vt-colon', ': '));
  if (node.type !== null) row.append(el('span', 'vt-type', node.type));
  const length = lengthText(node);
  if (length) row.append(el('span', 'vt-length', length));
  const repr = el('code', 'value vt-repr', node.repr);
  repr.title = node.repr;
  row.append(repr);
  li.append(row);
  if (open) {
    li.setAttribute('aria-expanded', 'false');
    (li as HTMLLIElement & { node?: ValueNode }).node = node;
    if (expanded.has(path)) setOpen(li, true, expanded);
  }
  return li;
}

/** Builds the children the first time the row opens. */
function group(li: HTMLElement, expanded: Set<string>): HTMLElement {
  const existing = li.querySelector<HTMLElement>(':scope > ul');
  if (existing) return existing;
  const node = (li as HTMLElement & { node?: ValueNode }).node!;
  const level = Number(li.getAttribute('aria-level')) + 1;
  const ul = el('ul', 'vt-group');
  ul.setAttribute('role', 'group');
  node.children.forEach((c, i) =>
    ul.append(item(c.node, c.label, `${li.dataset.path}/${i}`, level, expanded)),
  );
  const more = moreText(node);
  if (more) {
    const m = el('li', 'vt-item vt-more');
    m.setAttribute('role', 'treeitem');
    m.setAttribute('aria-level', String(level));
    m.setAttribute('aria-disabled', 'true');
    m.title = 'Not recorded: the tracer keeps a few items per level (--value-width)';
    m.tabIndex = -1;
    m.append(el('div', 'vt-row', more));
    ul.append(m);
  }
  li.append(ul);
  return ul;
}

function setOpen(li: HTMLElement, open: boolean, expanded: Set<string>): void {
  if (li.getAttribute('aria-expanded') === null) return;
  if (open) group(li, expanded).hidden = false;
  else {
    const ul = li.querySelector<HTMLElement>(':scope > ul');
    if (ul) ul.hidden = true;
  }
  li.setAttribute('aria-expanded', String(open));
  const twisty = li.querySelector(':scope > .vt-row > .vt-twisty');
  if (twisty) twisty.textContent = open ? '▾' : '▸';
  const path = li.dataset.path!;
  if (open) expanded.add(path);
  else expanded.delete(path);
}

function toggle(li: HTMLElement, expanded: Set<string>): void {
  setOpen(li, li.getAttribute('aria-expanded') !== 'true', expanded);
}

/** Rows a person can reach: every item not inside a closed one. */
function visibleItems(tree: HTMLElement): HTMLElement[] {
  return Array.from(tree.querySelectorAll<HTMLElement>('li.vt-item')).filter(
    (li) => !li.parentElement?.closest('li.vt-item[aria-expanded="false"]'),
  );
}

function focus(tree: HTMLElement, li: HTMLElement): void {
  tree.querySelectorAll<HTMLElement>('li.vt-item[tabindex="0"]').forEach((other) => {
    other.tabIndex = -1;
  });
  li.tabIndex = 0;
  li.focus();
}

function onKey(tree: HTMLElement, e: KeyboardEvent, expanded: Set<string>): void {
  const li = (e.target as HTMLElement).closest<HTMLElement>('li.vt-item');
  if (!li) return;
  const items = visibleItems(tree);
  const i = items.indexOf(li);
  const state = li.getAttribute('aria-expanded');
  let handled = true;
  switch (e.key) {
    case 'Enter':
    case ' ':
      if (state !== null) toggle(li, expanded);
      break;
    case 'ArrowRight':
      if (state === 'false') setOpen(li, true, expanded);
      else if (state === 'true' && items[i + 1]) focus(tree, items[i + 1]);
      break;
    case 'ArrowLeft': {
      if (state === 'true') setOpen(li, false, expanded);
      else {
        const parent = li.parentElement?.closest<HTMLElement>('li.vt-item');
        if (parent) focus(tree, parent);
      }
      break;
    }
    case 'ArrowDown':
      if (items[i + 1]) focus(tree, items[i + 1]);
      break;
    case 'ArrowUp':
      if (i > 0) focus(tree, items[i - 1]);
      break;
    case 'Home':
      focus(tree, items[0]);
      break;
    case 'End':
      focus(tree, items[items.length - 1]);
      break;
    default:
      handled = false;
  }
  if (handled) {
    e.preventDefault();
    e.stopPropagation();
  }
}
