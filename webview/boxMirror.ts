// An offscreen list of what the flame chart shows, for screen readers and tests: one
// `li.flame-lane` per lane drawn (thread or asyncio task), one `li.flame-box[data-call-id]` per
// visible box (name, module, pixel rectangle, match and exception flags), widest first up to a
// cap, one `li.flame-mark` per probe mark and one `li.flame-drop` per dropped region. Updated a
// moment after drawing settles, never per frame. Browser only.

import type { DrawnLane } from './flameRenderer';
import { formatCallDuration } from '../extension/format';
import { dropText, markText } from './flame/markLayout';

/** Most boxes listed (the list is for finding things, not a second copy of the chart). */
export const MIRROR_MAX = 500;

export function renderBoxMirror(
  list: HTMLElement,
  drawn: DrawnLane[],
  selected: number | null,
): void {
  const all = drawn.flatMap((lane) => lane.rects.map((r) => ({ lane: lane.index, l: lane, r })));
  const visible = all.filter(({ r }) => r.w >= 1);
  visible.sort((a, b) => b.r.w - a.r.w || a.r.box.startNs - b.r.box.startNs);
  const shown = visible.slice(0, MIRROR_MAX);
  shown.sort(
    (a, b) => a.lane - b.lane || a.r.box.depth - b.r.box.depth || a.r.box.startNs - b.r.box.startNs,
  );
  const fragment = document.createDocumentFragment();
  for (const lane of drawn) {
    const li = document.createElement('li');
    li.className = 'flame-lane';
    li.dataset.thread = String(lane.thread);
    li.dataset.lane = String(lane.key);
    if (lane.task !== undefined) li.dataset.task = lane.task;
    li.textContent =
      lane.task !== undefined
        ? `Lane of asyncio task ${lane.task}`
        : `Lane of thread ${lane.thread}`;
    fragment.append(li);
  }
  for (const { l, r } of shown) {
    const b = r.box;
    const li = document.createElement('li');
    li.className = 'flame-box';
    li.dataset.callId = String(b.id);
    li.dataset.thread = String(l.thread);
    if (l.task !== undefined) {
      li.dataset.lane = String(l.key);
      li.dataset.task = l.task;
    }
    li.dataset.name = b.qualname;
    li.dataset.module = b.module;
    li.dataset.depth = String(b.depth);
    li.dataset.x = String(Math.round(r.x));
    li.dataset.y = String(Math.round(r.y));
    li.dataset.w = String(Math.round(r.w));
    li.dataset.h = String(Math.round(r.h));
    if (b.match !== undefined) li.dataset.match = String(b.match);
    if (b.exception) li.dataset.exception = 'true';
    if (b.id === selected) li.setAttribute('aria-current', 'true');
    li.textContent = `${b.qualname} (${b.module}), ${formatCallDuration(b.startNs, b.endNs)}${
      b.exception ? ', raised' : ''
    }${b.match === false ? ', not matching' : ''}`;
    fragment.append(li);
  }
  for (const lane of drawn) {
    for (const r of lane.marks.slice(0, MIRROR_MAX)) {
      const m = r.mark;
      const li = document.createElement('li');
      li.className = 'flame-mark';
      li.dataset.markId = String(m.id);
      li.dataset.thread = String(lane.thread);
      li.dataset.kind = m.kind;
      li.dataset.name = m.name;
      if (m.generation !== undefined) li.dataset.generation = String(m.generation);
      if (m.collected !== undefined) li.dataset.collected = String(m.collected);
      li.dataset.count = String(m.count);
      li.dataset.x = String(Math.round(r.x));
      li.dataset.y = String(Math.round(r.y));
      li.dataset.w = String(Math.round(r.w));
      li.dataset.h = String(Math.round(r.h));
      li.textContent = markText(m);
      fragment.append(li);
    }
    for (const r of lane.drops) {
      const li = document.createElement('li');
      li.className = 'flame-drop';
      li.dataset.lane = String(lane.key);
      li.dataset.records = String(r.drop.records);
      li.dataset.x = String(Math.round(r.x));
      li.dataset.w = String(Math.round(r.w));
      li.textContent = dropText(r.drop);
      fragment.append(li);
    }
  }
  list.replaceChildren(fragment);
  list.dataset.count = String(shown.length);
  list.dataset.total = String(visible.length);
}
