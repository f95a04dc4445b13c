// Answers the timeline webview's typed requests (webview/protocol.ts) from the store: call tree
// pages, flame chart lanes and windows, details of a call, per-function figures, filter checks,
// completion and matches (the query language runs here, beside the store's names), and keeps the
// panel's selection in step with the shared CallSelection. No vscode import; TimelinePanel owns
// the WebviewPanel, so this is exercised against a real store and a real browser in tests.

import { analyzeQuery, completeAt } from '../query/index';
import type { TraceNames } from '../query/lspProtocol';
import type { CallSelection } from '../callSelection';
import type { CallRow, ITraceStore, StoreSummary, TrackInfo } from '../store/api';
import {
  DETAILS_CHILDREN,
  type CallDetails,
  type FromWebview,
  type LaneRef,
  type ToWebview,
} from '../../webview/protocol';
import type { NavDirection } from '../../webview/flame/callNavigation';
import { packWindow } from '../../webview/flame/packedWindow';

/** Opens a call's source (the extension's CallRevealer). */
export interface ICallRevealer {
  reveal(callId: number): Promise<void>;
}

/** Largest page of children one request may ask for. */
export const MAX_PAGE = 5000;
/** Most boxes one lane of a flame window may return (the rest come as buckets). */
export const MAX_BOXES = 20_000;
/** While a program runs, its newest call is looked up at most this often. */
const LIVE_EDGE_INTERVAL_MS = 400;
/** How far up the details pane follows the parents (for the call tree to open the path). */
const MAX_ANCESTORS = 256;

export class TimelineController {
  private names: { generation: number; names: TraceNames } | undefined;
  private generation = -1;
  private live = { endNs: 0, at: 0 };
  /** A filter asked for before the webview was ready; sent when it says `ready`. */
  private pendingFilter: string | undefined;
  private readonly selectionSubscription: { dispose(): void } | undefined;

  constructor(
    private readonly store: ITraceStore,
    private readonly revealer: ICallRevealer,
    private readonly post: (message: ToWebview) => void,
    private readonly log: (message: string) => void,
    private readonly selection?: CallSelection,
  ) {
    this.selectionSubscription = selection?.onDidChange((change) => {
      if (change.source !== 'timeline') this.post({ type: 'select', callId: change.callId });
    });
  }

  /** Filters the panel by a query sentence: now if the webview runs, else once it is ready. */
  setFilter(filter: string, webviewReady: boolean): void {
    if (webviewReady) this.post({ type: 'setFilter', filter });
    else this.pendingFilter = filter;
  }

  async handle(msg: FromWebview): Promise<void> {
    try {
      await this.answer(msg);
    } catch (error) {
      this.log(`Timeline request ${msg.type} failed: ${String(error)}`);
      this.post({
        type: 'error',
        message: 'Tracelens could not read the trace store; see the Tracelens output.',
      });
    }
  }

  private async answer(msg: FromWebview): Promise<void> {
    switch (msg.type) {
      case 'ready':
        await this.pushSummary();
        if (this.pendingFilter !== undefined) {
          this.post({ type: 'setFilter', filter: this.pendingFilter });
          this.pendingFilter = undefined;
        }
        if (this.selection && this.selection.callId !== null) {
          this.post({ type: 'select', callId: this.selection.callId });
        }
        return;
      case 'getChildren': {
        const limit = Math.min(MAX_PAGE, Math.max(1, Math.trunc(msg.limit)));
        const offset = Math.max(0, Math.trunc(msg.offset));
        const calls = await this.store.children(msg.parent, offset, limit);
        this.post({
          type: 'children',
          requestId: msg.requestId,
          parent: msg.parent,
          offset,
          calls,
        });
        return;
      }
      case 'reveal':
        await this.revealer.reveal(msg.callId);
        return;
      case 'select':
        this.selection?.select(msg.callId, 'timeline');
        return;
      case 'getTracks': {
        const tracks = await this.store.tracks();
        const { originNs, liveEndNs } = extent(tracks);
        this.post({
          type: 'tracks',
          requestId: msg.requestId,
          tracks,
          originNs,
          liveEndNs: await this.liveEdge(tracks, liveEndNs),
        });
        return;
      }
      case 'getWindow': {
        const maxBoxes = Math.min(MAX_BOXES, Math.max(1, Math.trunc(msg.maxBoxes ?? MAX_BOXES)));
        const filter = msg.filter.trim();
        const refs: LaneRef[] = msg.lanes ?? msg.threads.map((thread) => ({ thread }));
        const lanes = await Promise.all(
          refs.map(async ({ thread, lane }) => {
            const w = await this.store.window({
              thread,
              startNs: msg.startNs,
              endNs: msg.endNs,
              minDurationNs: Math.max(0, msg.minDurationNs),
              maxBoxes,
              ...(filter ? { filter } : {}),
              ...(lane !== undefined ? { lane } : {}),
              ...(msg.marks ? { marks: true } : {}),
            });
            const window = packWindow(w, msg.startNs, filter !== '');
            return lane !== undefined ? { thread, lane, window } : { thread, window };
          }),
        );
        this.post({
          type: 'window',
          requestId: msg.requestId,
          purpose: msg.purpose,
          startNs: msg.startNs,
          endNs: msg.endNs,
          filter: msg.filter,
          lanes,
        });
        return;
      }
      case 'getDetails':
        this.post({
          type: 'details',
          requestId: msg.requestId,
          callId: msg.callId,
          details: await this.details(msg.callId),
        });
        return;
      case 'getFunctions': {
        const filter = msg.filter.trim();
        const stats = await this.store.functionStats(filter || undefined);
        this.post({ type: 'functions', requestId: msg.requestId, filter, stats });
        return;
      }
      case 'checkFilter': {
        const { problems } = analyzeQuery(msg.text, await this.traceNames());
        let total: number | null = null;
        if (!problems.some((p) => p.severity === 'error')) {
          try {
            total = (await this.store.query(msg.text, 0, 1)).total;
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            problems.unshift({ severity: 'error', start: 0, end: msg.text.length, message });
          }
        }
        this.post({
          type: 'filterChecked',
          requestId: msg.requestId,
          text: msg.text,
          problems,
          total,
        });
        return;
      }
      case 'complete': {
        const result = completeAt(msg.text, msg.offset, await this.traceNames());
        this.post({ type: 'completions', requestId: msg.requestId, result });
        return;
      }
      case 'findMatch': {
        const index = Math.max(0, Math.trunc(msg.index));
        const r = await this.store.query(msg.filter, index, 1);
        this.post({
          type: 'match',
          requestId: msg.requestId,
          index,
          total: r.total,
          call: r.calls[0] ?? null,
        });
        return;
      }
      case 'navigate': {
        const call = await this.navigate(msg.callId, msg.direction);
        this.post({ type: 'navigated', requestId: msg.requestId, callId: call?.id ?? null, call });
        return;
      }
    }
  }

  /** The call with its parent, first children, own time and the path down to it. */
  private async details(callId: number): Promise<CallDetails | null> {
    const call = await this.store.call(callId);
    if (!call) return null;
    const parent = call.parent === null ? null : ((await this.store.call(call.parent)) ?? null);
    const needAll = call.endNs !== null && call.childCount <= MAX_PAGE;
    const loaded = call.childCount
      ? await this.store.children(call.id, 0, needAll ? call.childCount : DETAILS_CHILDREN)
      : [];
    let ownNs: number | null = null;
    if (call.endNs !== null && loaded.length === call.childCount) {
      ownNs = call.endNs - call.startNs;
      for (const c of loaded) ownNs -= (c.endNs ?? call.endNs) - c.startNs;
      ownNs = Math.max(0, ownNs);
    }
    const ancestors: number[] = [];
    let up: CallRow | null = parent;
    while (up && ancestors.length < MAX_ANCESTORS) {
      ancestors.unshift(up.id);
      up = up.parent === null ? null : ((await this.store.call(up.parent)) ?? null);
    }
    return { call, parent, children: loaded.slice(0, DETAILS_CHILDREN), ownNs, ancestors };
  }

  /** Parent, first child or sibling (same parent and thread) of a call, from the store. */
  private async navigate(callId: number, direction: NavDirection): Promise<CallRow | null> {
    const call = await this.store.call(callId);
    if (!call) return null;
    if (direction === 'parent') {
      return call.parent === null ? null : ((await this.store.call(call.parent)) ?? null);
    }
    if (direction === 'firstChild') {
      return call.childCount ? ((await this.store.children(call.id, 0, 1))[0] ?? null) : null;
    }
    const siblings = (await this.store.children(call.parent, 0, MAX_PAGE)).filter(
      (c) => c.thread === call.thread,
    );
    const i = siblings.findIndex((c) => c.id === call.id);
    if (i < 0) return null;
    return siblings[i + (direction === 'nextSibling' ? 1 : -1)] ?? null;
  }

  /**
   * The newest time in the trace: a running thread's track has no end, so while anything runs the
   * start of the newest call (found with a `start >=` query from the last edge) extends it.
   */
  private async liveEdge(tracks: readonly TrackInfo[], endedNs: number): Promise<number> {
    let known = Math.max(this.live.endNs, endedNs);
    if (!tracks.some((t) => t.endNs === null)) return endedNs;
    const now = Date.now();
    if (now - this.live.at < LIVE_EDGE_INTERVAL_MS) return known;
    this.live.at = now;
    const filter = `start >= ${Math.max(0, Math.floor(known))}ns`;
    const first = await this.store.query(filter, 0, 1);
    const last =
      first.total > 1
        ? (await this.store.query(filter, first.total - 1, 1)).calls[0]
        : first.calls[0];
    if (last) known = Math.max(known, last.startNs, last.endNs ?? 0);
    this.live.endNs = known;
    return known;
  }

  /** The trace's names for completion and did-you-mean, read once per store generation. */
  private async traceNames(): Promise<TraceNames> {
    if (this.names?.generation !== this.generation || this.generation < 0) {
      this.names = { generation: this.generation, names: await this.store.names() };
    }
    return this.names.names;
  }

  /** Sends the current summary; the webview then re-reads what it shows. */
  async pushSummary(): Promise<void> {
    try {
      const summary: StoreSummary = await this.store.summary();
      this.generation = summary.generation;
      this.post({ type: 'summary', summary });
    } catch (error) {
      this.log(`Timeline summary failed: ${String(error)}`);
    }
  }

  /** The store was emptied: the webview forgets its rows, then re-reads. */
  async cleared(): Promise<void> {
    this.names = undefined;
    this.live = { endNs: 0, at: 0 };
    this.post({ type: 'cleared' });
    await this.pushSummary();
  }

  dispose(): void {
    this.selectionSubscription?.dispose();
  }
}

/** The trace's start and the newest time the tracks know of. */
export function extent(tracks: readonly TrackInfo[]): { originNs: number; liveEndNs: number } {
  if (!tracks.length) return { originNs: 0, liveEndNs: 0 };
  let originNs = Infinity;
  let liveEndNs = -Infinity;
  for (const t of tracks) {
    originNs = Math.min(originNs, t.startNs);
    liveEndNs = Math.max(liveEndNs, t.endNs ?? t.startNs);
  }
  return { originNs, liveEndNs };
}
