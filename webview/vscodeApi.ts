// The webview's handle on VS Code (acquireVsCodeApi, callable once): typed messages to the
// extension and the state VS Code keeps across hide/show and reloads. Browser only.

import type { FromWebview, TimelineState } from './protocol';

export interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): TimelineState | undefined;
  setState(state: TimelineState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export const vscode: VsCodeApi = acquireVsCodeApi();
