// End-to-end smoke test: code-server with the packaged VSIX loads the workbench in Chromium and
// the command palette lists Tracelens's commands. Uses test/e2e/harness.ts; touches no sources.
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
    });
  },
);
