// The messages between the extension (extension/timeline/TimelinePanel) and the timeline webview
// (webview/main.ts): one tagged union per direction, imported by both sides. Plain JSON data only;
// no vscode and no DOM imports.

import type {
  CallRow,
  DropRegion,
  FlameBox,
  FlameBucket,
  FlameMark,
  FunctionStats,
  StoreSummary,
  TrackInfo,
} from '../extension/store/api';
import type { CompleteResult, QueryProblem } from '../extension/query/lspProtocol';
import type { NavDirection } from './flame/callNavigation';
import type { PackedWindow } from './flame/packedWindow';

export type { CallRow, StoreSummary };

/** How many children the webview asks for at once. */
export const PAGE_SIZE = 200;

/** One lane's part of a flame window answer, as the webview keeps it. */
export interface LaneWindow {
  thread: number;
  /** A task's lane: its key (TrackInfo.lane). */
  lane?: number;
  boxes: FlameBox[];
  buckets: FlameBucket[];
  /** Asked with marks: the thread's probe marks (none on a task's lane). */
  marks?: FlameMark[];
  /** Asked with marks: where the process dropped records. */
  drops?: DropRegion[];
}

/** One lane's part of a flame window answer, as it crosses (flame/packedWindow.ts). */
export interface PackedLane {
  thread: number;
  /** A task's lane: its key (TrackInfo.lane). */
  lane?: number;
  window: PackedWindow;
}

/** A lane a window is asked for: a thread's own, or with `lane` one of its tasks'. */
export interface LaneRef {
  thread: number;
  lane?: number;
}

/** The selected call with what the details pane shows around it. */
export interface CallDetails {
  call: CallRow;
  parent: CallRow | null;
  /** The first children in start order (at most DETAILS_CHILDREN). */
  children: CallRow[];
  /** Duration minus the children's durations (null while running or with unloaded children). */
  ownNs: number | null;
  /** Ids from the top-level call down to the parent. */
  ancestors: number[];
}

/** How many children the details pane lists. */
export const DETAILS_CHILDREN = 50;

/** Extension -> webview. */
export type ToWebview =
  /** The store changed (or the panel was just created): the webview re-reads what it shows. */
  | { type: 'summary'; summary: StoreSummary }
  /** An answer to `getChildren` (parent null: the top-level calls). */
  | { type: 'children'; requestId: number; parent: number | null; offset: number; calls: CallRow[] }
  /** The store was emptied (a new trace started): forget expansions and selection. */
  | { type: 'cleared' }
  /** A request failed; shown in the panel's status line. */
  | { type: 'error'; message: string }
  /**
   * The flame chart's lanes. `originNs`: the trace's start; `liveEndNs`: the newest time known
   * (a running call is drawn up to it).
   */
  | { type: 'tracks'; requestId: number; tracks: TrackInfo[]; originNs: number; liveEndNs: number }
  /** An answer to `getWindow`. */
  | {
      type: 'window';
      requestId: number;
      purpose: WindowPurpose;
      startNs: number;
      endNs: number;
      filter: string;
      lanes: PackedLane[];
    }
  | { type: 'details'; requestId: number; callId: number; details: CallDetails | null }
  | { type: 'functions'; requestId: number; filter: string; stats: FunctionStats[] }
  /**
   * The filter's problems (parse error or unknown names) and, when it runs, how many calls match
   * (null: it did not run).
   */
  | {
      type: 'filterChecked';
      requestId: number;
      text: string;
      problems: QueryProblem[];
      total: number | null;
    }
  | { type: 'completions'; requestId: number; result: CompleteResult }
  /** The `index`-th match of `filter` in start order (call null: no such match). */
  | { type: 'match'; requestId: number; index: number; total: number; call: CallRow | null }
  /** An answer to `navigate` (callId null: nothing there). */
  | { type: 'navigated'; requestId: number; callId: number | null; call: CallRow | null }
  /** Another part of the extension (the editor) selected a call. */
  | { type: 'select'; callId: number | null }
  /** Another part of the extension (a CodeLens) asks the panel to filter by this sentence. */
  | { type: 'setFilter'; filter: string };

export type WindowPurpose = 'view' | 'overview';

/** Webview -> extension. */
export type FromWebview =
  /** The webview's script is running and wants the summary. */
  | { type: 'ready' }
  | { type: 'getChildren'; requestId: number; parent: number | null; offset: number; limit: number }
  /** Open the call's source at its def line. */
  | { type: 'reveal'; callId: number }
  | { type: 'getTracks'; requestId: number }
  /** What the flame chart draws of these threads between two times. */
  | {
      type: 'getWindow';
      requestId: number;
      purpose: WindowPurpose;
      threads: number[];
      /** When given, the lanes asked for instead of `threads` (task lanes among them). */
      lanes?: LaneRef[];
      /** Also the probe marks and dropped regions of each lane. */
      marks?: boolean;
      startNs: number;
      endNs: number;
      minDurationNs: number;
      maxBoxes?: number;
      /** A query-language sentence ('' for none): boxes come with match flags. */
      filter: string;
    }
  | { type: 'getDetails'; requestId: number; callId: number }
  | { type: 'getFunctions'; requestId: number; filter: string }
  | { type: 'checkFilter'; requestId: number; text: string }
  | { type: 'complete'; requestId: number; text: string; offset: number }
  | { type: 'findMatch'; requestId: number; filter: string; index: number }
  | { type: 'navigate'; requestId: number; callId: number; direction: NavDirection }
  /** The user selected a call in the panel (null: cleared); shared with the editor. */
  | { type: 'select'; callId: number | null };

export type TimelineView = 'calls' | 'functions';

/** What the webview keeps across hide/show and reloads (vscode.getState / setState). */
export interface TimelineState {
  expanded: number[];
  selected: number | null;
  scrollTop: number;
  /** The flame chart's visible window (null: the whole trace). */
  window?: { startNs: number; endNs: number } | null;
  filter?: string;
  filterMode?: FilterMode;
  view?: TimelineView;
  follow?: boolean;
}

/** 'query': the text is a query-language sentence; 'text': searched in names and values. */
export type FilterMode = 'query' | 'text';
