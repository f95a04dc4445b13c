// Answers the timeline webview's typed requests (webview/protocol.ts) from the store and pushes
// the store's summary: the panel's logic without the panel, so it is exercised against a real
// store and a real browser in tests. No vscode import; TimelinePanel owns the WebviewPanel.

import type { FromWebview, ToWebview } from '../../webview/protocol';
import type { ITraceStore } from '../store/api';

/** Opens a call's source (the extension's CallRevealer). */
export interface ICallRevealer {
  reveal(callId: number): Promise<void>;
}

/** Largest page of children one request may ask for. */
export const MAX_PAGE = 5000;

export class TimelineController {
  constructor(
    private readonly store: ITraceStore,
    private readonly revealer: ICallRevealer,
    private readonly post: (message: ToWebview) => void,
    private readonly log: (message: string) => void,
  ) {}

  async handle(msg: FromWebview): Promise<void> {
    try {
      switch (msg.type) {
        case 'ready':
          await this.pushSummary();
          break;
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

  /** Sends the current summary; the webview then re-reads what it shows. */
  async pushSummary(): Promise<void> {
    try {
      this.post({ type: 'summary', summary: await this.store.summary() });
    } catch (error) {
      this.log(`Timeline summary failed: ${String(error)}`);
    }
  }

  /** The store was emptied: the webview forgets its rows, then re-reads. */
  async cleared(): Promise<void> {
    this.post({ type: 'cleared' });
    await this.pushSummary();
  }
}
