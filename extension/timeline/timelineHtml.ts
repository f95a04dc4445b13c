// The timeline webview's HTML: a strict content security policy with a per-load nonce, the
// stylesheet from media/ and the script from dist/. Pure (URIs come in as strings) so the policy
// is unit-tested; the TimelinePanel supplies the webview's URIs and cspSource.

import { randomBytes } from 'node:crypto';

export interface TimelineHtmlInput {
  /** webview.cspSource */
  cspSource: string;
  /** webview.asWebviewUri(media/timeline.css) as a string */
  styleUri: string;
  /** webview.asWebviewUri(dist/webview.js) as a string */
  scriptUri: string;
  nonce?: string;
}

export function makeNonce(): string {
  return randomBytes(18)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '');
}

function attr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function timelineHtml(input: TimelineHtmlInput): string {
  const nonce = input.nonce ?? makeNonce();
  const csp = [
    "default-src 'none'",
    `style-src ${input.cspSource}`,
    `img-src ${input.cspSource} data:`,
    `font-src ${input.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(input.styleUri)}">
<title>Tracelens Timeline</title>
</head>
<body>
<header class="toolbar"><div id="summary" class="summary" role="status" aria-live="polite">Waiting for a trace…</div></header>
<div id="empty" class="empty">No calls recorded yet. Open a Python file and run “Tracelens: Trace This File”.</div>
<div id="tree" class="call-tree" role="tree" aria-label="Calls" tabindex="0"></div>
<script nonce="${nonce}" src="${attr(input.scriptUri)}"></script>
</body>
</html>
`;
}
