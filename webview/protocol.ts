// The messages between the extension (extension/timeline/TimelinePanel) and the timeline webview
// (webview/main.ts): one tagged union per direction, imported by both sides. Plain JSON data only;
// no vscode and no DOM imports.

import type { CallRow, StoreSummary } from '../extension/store/api';

export type { CallRow, StoreSummary };

/** How many children the webview asks for at once. */
export const PAGE_SIZE = 200;

/** Extension -> webview. */
export type ToWebview =
  /** The store changed (or the panel was just created): the webview re-reads what it shows. */
  | { type: 'summary'; summary: StoreSummary }
  /** An answer to `getChildren` (parent null: the top-level calls). */
  | { type: 'children'; requestId: number; parent: number | null; offset: number; calls: CallRow[] }
  /** The store was emptied (a new trace started): forget expansions and selection. */
  | { type: 'cleared' }
  /** A request failed; shown in the panel's status line. */
  | { type: 'error'; message: string };

/** Webview -> extension. */
export type FromWebview =
  /** The webview's script is running and wants the summary. */
  | { type: 'ready' }
  | { type: 'getChildren'; requestId: number; parent: number | null; offset: number; limit: number }
  /** Open the call's source at its def line. */
  | { type: 'reveal'; callId: number };

/** What the webview keeps across hide/show and reloads (vscode.getState / setState). */
export interface TimelineState {
  expanded: number[];
  selected: number | null;
  scrollTop: number;
}
