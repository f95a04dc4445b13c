// End-to-end smoke test: code-server with the packaged VSIX loads the workbench in Chromium and
// the command palette lists Tracelens's commands; a .tlq file gets the query language server's
// diagnostics. Uses test/e2e/harness.ts; touches no sources.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withWorkbench } from './harness';

test(
  'the workbench loads and with a Python file open, the palette lists "Tracelens: Trace This File"',
  { timeout: 180_000 },
  async () => {
    await withWorkbench({ name: 'smoke' }, async (wb) => {
      assert.equal(await wb.page.locator('.monaco-workbench').count(), 1);
      // Trace This File is offered only while a Python file is the active editor.
      await wb.openFile('hello.py');
      const commands = await wb.paletteCommands('Tracelens', 'Tracelens: Trace This File');
      assert.ok(
        commands.includes('Tracelens: Trace This File'),
        `the palette lists ${JSON.stringify(commands)}`,
      );
      await wb.screenshot('smoke');

      // A saved query file is served by the query language server: the misspelt field on line 3
      // gets a diagnostic with a "did you mean", and the good line gets none.
      await wb.openFile('queries.tlq');
      const squiggle = wb.page.locator(
        '.editor-group-container.active .squiggly-error, .editor-group-container.active .squiggly-warning',
      );
      await squiggle.first().waitFor({ timeout: 60_000 });
      assert.equal(await squiggle.count(), 1);
      // The editor finds what is under the mouse from the text layer above the squiggle.
      const box = await squiggle.first().boundingBox();
      assert.ok(box, 'the squiggle is on screen');
      await wb.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const hover = wb.page.locator('.monaco-hover:visible');
      await hover.first().waitFor({ timeout: 20_000 });
      assert.match((await hover.first().innerText()) ?? '', /did you mean .?function/i);
    });
  },
);
