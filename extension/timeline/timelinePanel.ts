// The "Tracelens Timeline" WebviewPanel: creates or revives it (a WebviewPanelSerializer brings it
// back after a reload), answers the webview's typed requests (webview/protocol.ts) from the store,
// pushes the store's summary as it changes (throttled), and hands "reveal" to the CallRevealer.
// Holds no trace data itself; no retainContextWhenHidden (the webview keeps its own state).

import * as vscode from 'vscode';
import { REFRESH_INTERVAL_MS, TIMELINE_TITLE, Views } from '../constants';
import type { ITraceStore } from '../store/api';
import { Throttle } from '../throttle';
import type { FromWebview, ToWebview } from '../../webview/protocol';
import type { ICallRevealer } from './callRevealer';
import { timelineHtml } from './timelineHtml';

const MAX_PAGE = 5000;

export class TimelinePanel implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private panel: vscode.WebviewPanel | undefined;
  private panelSubscriptions: vscode.Disposable[] = [];
  private readonly throttle: Throttle;
  private readonly storeSubscription: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: ITraceStore,
    private readonly revealer: ICallRevealer,
    private readonly log: (message: string) => void,
  ) {
    this.throttle = new Throttle(() => this.pushSummary(), REFRESH_INTERVAL_MS);
    this.storeSubscription = store.onDidChange(() => {
      if (this.panel?.visible) this.throttle.schedule();
    });
  }

  /** Opens the panel beside the editor, or brings it forward. */
  show(preserveFocus = true): void {
    if (this.panel) {
      this.panel.reveal(undefined, preserveFocus);
      return;
    }
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
    this.post({ type: 'cleared' });
    this.throttle.schedule();
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
    this.panel?.dispose();
    this.panel = panel;
    const webview = panel.webview;
    webview.html = timelineHtml({
      cspSource: webview.cspSource,
      styleUri: webview
        .asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'timeline.css'))
        .toString(),
      scriptUri: webview
        .asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js'))
        .toString(),
    });
    this.panelSubscriptions = [
      webview.onDidReceiveMessage((msg: FromWebview) => void this.onMessage(msg)),
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

  private async onMessage(msg: FromWebview): Promise<void> {
    try {
      switch (msg.type) {
        case 'ready':
          await this.pushSummary();
          break;
        case 'getChildren': {
          const limit = Math.min(MAX_PAGE, Math.max(1, msg.limit));
          const calls = await this.store.children(msg.parent, Math.max(0, msg.offset), limit);
          this.post({
            type: 'children',
            requestId: msg.requestId,
            parent: msg.parent,
            offset: msg.offset,
            calls,
          });
          break;
        }
        case 'reveal':
          await this.revealer.reveal(msg.callId);
          break;
      }
    } catch (error) {
      this.log(`Timeline request ${msg.type} failed: ${String(error)}`);
      this.post({
        type: 'error',
        message: 'Tracelens could not read the trace store; see the Tracelens output.',
      });
    }
  }

  private async pushSummary(): Promise<void> {
    if (!this.panel) return;
    const summary = await this.store.summary();
    this.post({ type: 'summary', summary });
  }

  private post(message: ToWebview): void {
    void this.panel?.webview.postMessage(message);
  }

  dispose(): void {
    this.throttle.dispose();
    this.storeSubscription.dispose();
    this.panel?.dispose();
  }
}
