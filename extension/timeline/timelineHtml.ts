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
<header class="toolbar">
<div class="filter" role="search">
<button id="filter-mode" class="filter-mode" type="button" aria-pressed="false">Query</button>
<input id="filter" class="filter-input" type="text" role="combobox" aria-label="Filter calls" aria-autocomplete="list" aria-expanded="false" aria-controls="completions" aria-describedby="filter-problems" spellcheck="false" autocomplete="off">
<span id="match-count" class="match-count" aria-live="polite"></span>
<button id="prev-match" class="icon-button" type="button" title="Previous match (Shift+Enter)" aria-label="Previous match">↑</button>
<button id="next-match" class="icon-button" type="button" title="Next match (Enter)" aria-label="Next match">↓</button>
<ul id="completions" class="completions" role="listbox" aria-label="Completions" hidden></ul>
<div id="filter-problems" class="filter-problems" role="alert" hidden></div>
</div>
<label class="follow" title="Keep the newest events in view while the program runs"><input id="follow" type="checkbox"> Follow</label>
<div id="summary" class="summary" role="status" aria-live="polite">Waiting for a trace…</div>
</header>
<canvas id="overview" class="overview" aria-label="Overview of the whole trace; drag the marked window to move the flame chart"></canvas>
<div id="flame" class="flame" tabindex="0" role="application" aria-roledescription="flame chart" aria-label="Flame chart: W and S zoom, A and D pan, F zooms to the selected call, 0 shows the whole trace, arrow keys move between calls, Enter opens the source" aria-describedby="flame-boxes">
<canvas id="flame-canvas" class="flame-canvas"></canvas>
<div id="flame-spacer" class="flame-spacer"></div>
<div id="flame-tip" class="flame-tip" role="tooltip" hidden></div>
</div>
<ul id="flame-boxes" class="visually-hidden" aria-label="Calls in view"></ul>
<div class="lower">
<section class="lower-main">
<div class="tabs" role="tablist" aria-label="Views">
<button id="tab-calls" role="tab" type="button" data-view="calls" aria-controls="tree" aria-selected="true">Calls</button>
<button id="tab-functions" role="tab" type="button" data-view="functions" aria-controls="functions" aria-selected="false">By function</button>
</div>
<div id="empty" class="empty">No calls recorded yet. Open a Python file and run “Tracelens: Trace This File”.</div>
<div id="tree" class="call-tree" role="tree" aria-label="Calls" tabindex="0"></div>
<div id="functions" class="functions" role="region" aria-label="Calls grouped by function" hidden></div>
</section>
<aside id="details" class="details" aria-label="Selected call" tabindex="-1"></aside>
</div>
<script nonce="${nonce}" src="${attr(input.scriptUri)}"></script>
</body>
</html>
`;
}
