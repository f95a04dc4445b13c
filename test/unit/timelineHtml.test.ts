// Unit tests of the timeline webview's HTML (extension/timeline/timelineHtml.ts): the content
// security policy allows only the nonce'd script and the webview's own resources, and the page
// carries the element ids the webview script and the end-to-end tests look for, in page order.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeNonce, timelineHtml } from '../../extension/timeline/timelineHtml';

const input = {
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/timeline.css',
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
  nonce: 'abc123',
};

test('the CSP allows the nonce script and webview resources only', () => {
  const html = timelineHtml(input);
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1];
  assert.equal(
    csp,
    "default-src 'none'; style-src https://file+.vscode-resource.vscode-cdn.net; " +
      'img-src https://file+.vscode-resource.vscode-cdn.net data:; ' +
      "font-src https://file+.vscode-resource.vscode-cdn.net; script-src 'nonce-abc123'",
  );
  const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
  assert.deepEqual(scripts, [` nonce="abc123" src="${input.scriptUri}"`]);
  assert.ok(html.includes(`<link rel="stylesheet" href="${input.styleUri}">`));
  assert.ok(!/style="/.test(html), 'no inline style attributes (the CSP forbids them)');
});

test('the page has every element the webview script and the tests look for', () => {
  const html = timelineHtml(input);
  const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(ids, [
    'filter-mode',
    'filter',
    'match-count',
    'prev-match',
    'next-match',
    'completions',
    'filter-problems',
    'follow',
    'summary',
    'overview',
    'flame',
    'flame-canvas',
    'flame-spacer',
    'flame-tip',
    'flame-boxes',
    'tab-calls',
    'tab-functions',
    'empty',
    'tree',
    'functions',
    'details',
  ]);
  assert.ok(html.includes('role="tree"'));
  assert.ok(html.includes('role="combobox"'));
  assert.ok(html.includes('aria-controls="completions"'));
});

test('nonces are fresh and alphanumeric', () => {
  const a = makeNonce();
  const b = makeNonce();
  assert.match(a, /^[A-Za-z0-9]{16,}$/);
  assert.notEqual(a, b);
  assert.ok(timelineHtml({ ...input, nonce: undefined }).includes("script-src 'nonce-"));
});
