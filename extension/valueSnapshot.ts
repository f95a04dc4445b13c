// Structured value snapshots (`run --values structured`, wire.ts STRUCTURED_PREFIX) read back as a
// tree: type, repr, length, items or fields, and how many were cut. Also the plain text of any
// value string (the repr of a snapshot). Pure: no vscode, no DOM; used by the details pane
// (webview/valueTreeView.ts) and the editor's texts, and unit-tested in Node.

import { STRUCTURED_PREFIX } from '../adapter/protocol/wire';

/** One value of a snapshot. A plain repr (or a snapshot cut at the depth) has no children. */
export interface ValueNode {
  /** Type name; null for a plain repr (the tracer did not say). */
  type: string | null;
  /** The bounded repr. */
  repr: string;
  /** Length of a container (len()), when recorded. */
  length: number | null;
  /** 'items' (list, tuple, set: by position), 'keys' (dict keys, fields, attributes) or null. */
  kind: 'items' | 'keys' | null;
  children: ValueChild[];
  /** The tracer left items or fields out (width, or the snapshot's size limit). */
  cut: boolean;
  /** How many were left out, when the length says (null: unknown). */
  more: number | null;
}

export interface ValueChild {
  /** `[0]` for an item in order, '' for a set's item, the key's repr or the field's name. */
  label: string;
  node: ValueNode;
}

interface Snap {
  t?: unknown;
  r?: unknown;
  n?: unknown;
  i?: unknown;
  k?: unknown;
  x?: unknown;
}

const UNORDERED = new Set(['set', 'frozenset']);

/** Whether a value string holds a structured snapshot. */
export function isStructured(text: string): boolean {
  return text.startsWith(STRUCTURED_PREFIX);
}

/** The text to show for a value on one line: a snapshot's repr, else the value itself. */
export function valueText(text: string): string {
  if (!isStructured(text)) return text;
  const snap = parseJson(text);
  return snap && typeof snap.r === 'string' ? snap.r : text.slice(STRUCTURED_PREFIX.length);
}

/** A value string as a tree (a plain repr: a leaf with no type). Never throws. */
export function parseValue(text: string): ValueNode {
  if (!isStructured(text)) return leaf(null, text);
  const snap = parseJson(text);
  if (!snap) return leaf(null, text.slice(STRUCTURED_PREFIX.length));
  return fromSnap(snap, 0);
}

function parseJson(text: string): Snap | undefined {
  try {
    const v: unknown = JSON.parse(text.slice(STRUCTURED_PREFIX.length));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Snap) : undefined;
  } catch {
    return undefined;
  }
}

function leaf(type: string | null, repr: string): ValueNode {
  return { type, repr, length: null, kind: null, children: [], cut: false, more: null };
}

const MAX_NESTING = 64;

function fromSnap(snap: Snap, level: number): ValueNode {
  const type = typeof snap.t === 'string' ? snap.t : null;
  const node = leaf(type, typeof snap.r === 'string' ? snap.r : '');
  if (typeof snap.n === 'number' && Number.isInteger(snap.n) && snap.n >= 0) node.length = snap.n;
  if (level >= MAX_NESTING) return node;
  const child = (s: unknown): ValueNode =>
    s !== null && typeof s === 'object' && !Array.isArray(s)
      ? fromSnap(s as Snap, level + 1)
      : leaf(null, String(s));
  if (Array.isArray(snap.k)) {
    node.kind = 'keys';
    for (const pair of snap.k) {
      if (!Array.isArray(pair) || pair.length !== 2) continue;
      node.children.push({ label: String(pair[0]), node: child(pair[1]) });
    }
  } else if (Array.isArray(snap.i)) {
    node.kind = 'items';
    const unordered = type !== null && UNORDERED.has(type);
    snap.i.forEach((s, index) =>
      node.children.push({ label: unordered ? '' : `[${index}]`, node: child(s) }),
    );
  }
  node.cut = snap.x === true;
  if (node.cut && node.length !== null) node.more = Math.max(0, node.length - node.children.length);
  return node;
}

/** Whether the node opens to show something (children, or a note that some were cut). */
export function isExpandable(node: ValueNode): boolean {
  return node.children.length > 0 || node.cut;
}

/** `3 items`, `1 item`, `2 keys`, `2 fields` (a namedtuple's), or '' without a length. */
export function lengthText(node: ValueNode): string {
  if (node.length === null) return '';
  const noun = node.kind === 'keys' ? (node.type === 'dict' ? 'key' : 'field') : 'item';
  return `${node.length} ${noun}${node.length === 1 ? '' : 's'}`;
}

/** The last row of a cut container: `… 5 more`, or `… more` when the length is unknown. */
export function moreText(node: ValueNode): string {
  if (!node.cut) return '';
  return node.more !== null ? `… ${node.more} more` : '… more';
}
