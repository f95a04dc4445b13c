// The "Tracelens Timeline" WebviewPanel: creates or revives it (a WebviewPanelSerializer brings it
// back after a reload), sets its HTML (CSP with a nonce, resources only from dist/ and media/),
// and connects its messages to a TimelineController (which also follows the shared CallSelection);
// store changes reach it throttled. Holds no trace data; no retainContextWhenHidden (the webview
// keeps its own state with setState).

import * as vscode from 'vscode';
import type { CallSelection } from '../callSelection';
import { REFRESH_INTERVAL_MS, TIMELINE_TITLE, Views } from '../constants';
import type { ITraceStore } from '../store/api';
import { Throttle } from '../throttle';
import type { FromWebview, ToWebview } from '../../webview/protocol';
import { TimelineController, type ICallRevealer } from './timelineController';
import { timelineHtml } from './timelineHtml';

export class TimelinePanel implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private panel: vscode.WebviewPanel | undefined;
  private panelSubscriptions: vscode.Disposable[] = [];
  private readonly controller: TimelineController;
  private readonly throttle: Throttle;
  private readonly storeSubscription: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    store: ITraceStore,
    revealer: ICallRevealer,
    log: (message: string) => void,
    selection?: CallSelection,
  ) {
    this.controller = new TimelineController(store, revealer, (m) => this.post(m), log, selection);
    this.throttle = new Throttle(() => this.controller.pushSummary(), REFRESH_INTERVAL_MS);
    this.storeSubscription = store.onDidChange(() => {
      if (this.panel?.visible) this.throttle.schedule();
    });
  }

  /** Opens the panel beside the editor, or brings it forward; optionally filtered by a query. */
  show(preserveFocus = true, filter?: string): void {
    if (this.panel) {
      const ready = this.panel.visible;
      this.panel.reveal(undefined, preserveFocus);
      if (filter !== undefined) this.controller.setFilter(filter, ready);
      return;
    }
    if (filter !== undefined) this.controller.setFilter(filter, false);
    const panel = vscode.window.createWebviewPanel(
      Views.Timeline,
      TIMELINE_TITLE,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      this.webviewOptions(),
    );
    this.attach(panel);
  }

  /** WebviewPanelSerializer: the panel was open when the window closed. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = this.webviewOptions();
    this.attach(panel);
  }

  /** The store was emptied: the webview drops what it shows. */
  cleared(): void {
    if (this.panel) void this.controller.cleared();
  }

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      localResourceRoots: [
        vscode.Uri.joinPath(this.extensionUri, 'dist'),
        vscode.Uri.joinPath(this.extensionUri, 'media'),
      ],
    };
  }

  private attach(panel: vscode.WebviewPanel): void {
    if (this.panel && this.panel !== panel) this.panel.dispose();
    this.panel = panel;
    const webview = panel.webview;
    const uri = (...parts: string[]) =>
      webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...parts)).toString();
    webview.html = timelineHtml({
      cspSource: webview.cspSource,
      styleUri: uri('media', 'timeline.css'),
      scriptUri: uri('dist', 'webview.js'),
    });
    this.panelSubscriptions = [
      webview.onDidReceiveMessage((msg: FromWebview) => void this.controller.handle(msg)),
      panel.onDidChangeViewState(() => {
        if (panel.visible) this.throttle.schedule();
      }),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.panel = undefined;
        for (const d of this.panelSubscriptions) d.dispose();
        this.panelSubscriptions = [];
      }),
    ];
  }

  private post(message: ToWebview): void {
    void this.panel?.webview.postMessage(message);
  }

  dispose(): void {
    this.controller.dispose();
    this.throttle.dispose();
    this.storeSubscription.dispose();
    this.panel?.dispose();
  }
}
