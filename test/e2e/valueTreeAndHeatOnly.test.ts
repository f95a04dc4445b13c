// End to end in code-server with the packaged VSIX, in a workspace whose settings ask for
// structured values: a traced dataclass argument and namedtuple result open as trees in the
// timeline's details pane (mouse and keyboard, "… N more" where cut); the hover's "All calls in
// timeline" and "Show Calls in Timeline" filter the panel to one function and count its calls;
// "Profile This File (Line Heat Only)" draws sampled heat and no values; a filter on a structured
// value matches its repr; the editor's context menu offers Show Calls in Timeline only once there
// is a trace. One workbench for every step; touches no sources.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { root, Workbench } from './harness';
import { goToLine, heatGutter, hidePanel, poll, waitForEqual, waitForStatusBar } from './workbench';

let wb: Workbench;
let folder: string;

before(
  async () => {
    folder = mkdtempSync(path.join(os.tmpdir(), 'tracelens-e2e-values-'));
    cpSync(path.join(root, 'test', 'fixtures'), folder, { recursive: true });
    mkdirSync(path.join(folder, '.vscode'), { recursive: true });
    writeFileSync(
      path.join(folder, '.vscode', 'settings.json'),
      JSON.stringify({ 'tracelens.values': 'structured' }, null, 2),
    );
    wb = await Workbench.start({ name: 'valueTreeAndHeatOnly', folder });
  },
  { timeout: 180_000 },
);

after(async () => {
  await wb?.dispose();
  rmSync(folder, { recursive: true, force: true });
});

/** Every visible line of the file with an end-of-line text. */
async function decorated(file: string): Promise<[number, string[]][]> {
  return [...(await wb.lineDecorations(file))].filter(([, texts]) => texts.length > 0);
}

/** The rows of a value tree (the visible ones): [path, label, type, length, repr, expanded]. */
function treeRows(selector: string): Promise<string[][]> {
  // Page functions are passed as source: no named inner functions (see harness.ts).
  return wb
    .webview()
    .locator(`${selector} li.vt-item`)
    .evaluateAll((items) =>
      items
        .filter((li) => !li.parentElement?.closest('li.vt-item[aria-expanded="false"]'))
        .map((li) => {
          const row = li.querySelector(':scope > .vt-row')!;
          if (li.classList.contains('vt-more')) return ['more', row.textContent ?? ''];
          return [
            li.getAttribute('data-path') ?? '',
            row.querySelector('.vt-label')?.textContent ?? '',
            row.querySelector('.vt-type')?.textContent ?? '',
            row.querySelector('.vt-length')?.textContent ?? '',
            row.querySelector('.vt-repr')?.textContent ?? '',
            li.getAttribute('aria-expanded') ?? '-',
          ];
        }),
    );
}

/** The data-path of the focused tree row in the webview. */
function focusedPath(): Promise<string | null> {
  return wb
    .webview()
    .locator('body')
    .evaluate((b) => b.ownerDocument.activeElement?.getAttribute('data-path') ?? null);
}

/** The labels of the active editor's context menu (a right click; Escape closes it). */
async function editorMenu(): Promise<string[]> {
  await wb.page
    .locator('.editor-group-container.active .monaco-editor .view-lines')
    .click({ button: 'right' });
  const labels = wb.page.locator('.context-view .monaco-menu .action-label');
  await labels.first().waitFor({ timeout: 10_000 });
  const out = (await labels.allTextContents()).map((t) => t.trim()).filter((t) => t !== '');
  await wb.page.keyboard.press('Escape');
  return out;
}

const ARG = '.detail-arg[data-name="order"] .value-tree';
const ORDER_REPR =
  "Order(id=7, items=[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], meta={'by': 'ann', 'rush': Tr…";

test(
  'structured values: the argument and the result open as trees, with the mouse and the keyboard',
  { timeout: 150_000 },
  () =>
    wb.guard('tree', async () => {
      await wb.openFile('structured_tree.py');
      // No trace yet: tracing is offered, showing calls is not.
      const before = await editorMenu();
      assert.ok(before.includes('Trace This File'), before.join(', '));
      assert.ok(!before.includes('Show Calls in Timeline'), before.join(', '));
      await wb.runCommand('Tracelens: Trace This File');
      // The editor shows the snapshot's repr, not its structure.
      await wb.waitForLineDecoration(
        'structured_tree.py',
        18,
        (t) => t === '→ Summary(count=20, first=0)',
        60_000,
      );
      const frame = wb.webview();
      const rows = await wb.waitForTimeline((r) => r.some((x) => x.qualname === 'summarize'));
      const call = rows.find((r) => r.qualname === 'summarize')!;
      assert.equal(call.args, `(order=${ORDER_REPR.slice(0, 39)}…)`);
      await frame.locator(`.call-row[data-call-id="${call.id}"] .qualname`).click();
      await frame.locator(`#details[data-call-id="${call.id}"] ${ARG}`).waitFor();

      // Closed: one row with the type and the repr.
      assert.deepEqual(await treeRows(ARG), [['arg:order', '', 'Order', '', ORDER_REPR, 'false']]);
      assert.equal(await frame.locator(`${ARG}`).getAttribute('aria-label'), 'Value of order');
      // A click opens it: its fields with their types and lengths.
      await frame.locator(`${ARG} > li > .vt-row`).click();
      const fields = [
        ['arg:order', '', 'Order', '', ORDER_REPR, 'true'],
        ['arg:order/0', 'id', 'int', '', '7', '-'],
        [
          'arg:order/1',
          'items',
          'list',
          '20 items',
          '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]',
          'false',
        ],
        ['arg:order/2', 'meta', 'dict', '2 keys', "{'by': 'ann', 'rush': True}", 'false'],
      ];
      await waitForEqual('the fields of order', () => treeRows(ARG), fields);
      assert.equal(await focusedPath(), 'arg:order');

      // The keyboard: down twice to items, Enter opens it: 8 items recorded, 12 more cut.
      await frame.locator(`${ARG} > li`).press('ArrowDown');
      await frame.locator(`${ARG} li[data-path="arg:order/0"]`).press('ArrowDown');
      assert.equal(await focusedPath(), 'arg:order/1');
      await frame.locator(`${ARG} li[data-path="arg:order/1"]`).press('Enter');
      const items = [
        ...fields.slice(0, 2),
        [...fields[2].slice(0, 5), 'true'],
        ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => [
          `arg:order/1/${i}`,
          `[${i}]`,
          'int',
          '',
          String(i),
          '-',
        ]),
        ['more', '… 12 more'],
        fields[3],
      ];
      await waitForEqual('items opened', () => treeRows(ARG), items);
      // Left closes it again; down moves to meta; right opens meta.
      await frame.locator(`${ARG} li[data-path="arg:order/1"]`).press('ArrowLeft');
      await waitForEqual('items closed', () => treeRows(ARG), fields);
      await frame.locator(`${ARG} li[data-path="arg:order/1"]`).press('ArrowDown');
      assert.equal(await focusedPath(), 'arg:order/2');
      await frame.locator(`${ARG} li[data-path="arg:order/2"]`).press('ArrowRight');
      await waitForEqual('meta opened', () => treeRows(ARG), [
        ...fields.slice(0, 3),
        [...fields[3].slice(0, 5), 'true'],
        ['arg:order/2/0', "'by'", 'str', '', "'ann'", '-'],
        ['arg:order/2/1', "'rush'", 'bool', '', 'True', '-'],
      ]);
      // Only the tree's current row is a tab stop.
      assert.deepEqual(
        await frame
          .locator(`${ARG} li[tabindex="0"]`)
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-path'))),
        ['arg:order/2'],
      );

      // The namedtuple result.
      const RET = '.detail-return .value-tree';
      await frame.locator(`${RET} > li`).press('Enter');
      await waitForEqual('the result opened', () => treeRows(RET), [
        ['return', '', 'Summary', '2 fields', 'Summary(count=20, first=0)', 'true'],
        ['return/0', 'count', 'int', '', '20', '-'],
        ['return/1', 'first', 'int', '', '0', '-'],
      ]);
      // Theme colours: the type is drawn in the theme's type colour, not the default text colour.
      const [typeColour, textColour] = await frame
        .locator(`${RET} .vt-type`)
        .first()
        .evaluate((e) => [getComputedStyle(e).color, getComputedStyle(e.ownerDocument.body).color]);
      assert.notEqual(typeColour, textColour);
      await wb.screenshot('valueTree-details').catch(() => undefined);

      // A filter on the structured argument compares its repr, not the snapshot's JSON.
      await frame.locator('#filter').fill('arg.order startswith "Order(id=7, items=[0, 1"');
      await frame.locator('#match-count[data-total="1"]').waitFor({ timeout: 20_000 });
      await frame.locator('#filter').fill('arg.order contains "\\"t\\":"');
      await frame.locator('#match-count[data-total="0"]').waitFor({ timeout: 20_000 });
      await frame.locator('#filter').fill('');
      // With a trace, the editor's context menu offers Show Calls in Timeline.
      await wb.openFile('structured_tree.py');
      let menu: string[] = [];
      await poll(
        'Show Calls in Timeline in the context menu',
        async () => (menu = await editorMenu()).includes('Show Calls in Timeline'),
        20_000,
        500,
        () => menu,
      );
    }),
);

test(
  'the hover link and Show Calls in Timeline filter the panel to one function and count its calls',
  { timeout: 150_000 },
  () =>
    wb.guard('showCalls', async () => {
      await wb.openFile('recursion.py');
      await wb.runCommand('Tracelens: Trace This File');
      await wb.waitForLineDecoration('recursion.py', 15, (t) => t === '→ 3', 60_000);
      await wb.openFile('recursion.py');
      await hidePanel(wb);
      const frame = wb.webview();
      // The hover's link on factorial's def line filters the panel to factorial (4 calls).
      await goToLine(wb, 6);
      await wb.runCommand('Show or Focus Hover');
      const link = wb.page.locator('.monaco-hover:not(.hidden) a', {
        hasText: 'All calls in timeline',
      });
      await link.first().waitFor({ timeout: 20_000 });
      await link.first().click();
      await frame.locator('#match-count[data-total="4"]').waitFor({ timeout: 20_000 });
      assert.match(
        await frame.locator('#filter').inputValue(),
        /^function == "factorial" and file == "\/.+\/recursion\.py"$/,
      );
      // The command from a line inside fib (not its def line) filters to fib (9 calls).
      await wb.openFile('recursion.py');
      await goToLine(wb, 14);
      await wb.runCommand('Tracelens: Show Calls in Timeline');
      await frame.locator('#match-count[data-total="9"]').waitFor({ timeout: 20_000 });
      assert.equal(await frame.locator('#match-count').textContent(), '9 matches');
      assert.match(
        await frame.locator('#filter').inputValue(),
        /^function == "fib" and file == "\/.+\/recursion\.py"$/,
      );
      assert.equal(await frame.locator('#filter-problems .problem').count(), 0);
      await wb.screenshot('valueTree-showCalls').catch(() => undefined);
    }),
);

test(
  'Profile This File (Line Heat Only): sampled heat on the loop, no values, no calls',
  { timeout: 150_000 },
  () =>
    wb.guard('heatOnly', async () => {
      await wb.openFile('sampled_loop.py');
      await wb.runCommand('Tracelens: Profile This File (Line Heat Only)');
      await wb.waitForDebugConsole((t) => t.includes('spun True'), 60_000);
      await wb.openFile('sampled_loop.py');
      await hidePanel(wb);
      let heat = new Map<number, number>();
      await poll(
        'sampled heat with a loop line at the top level',
        async () => {
          heat = await heatGutter(wb);
          return [10, 11, 12].some((l) => heat.get(l) === 5);
        },
        30_000,
        250,
        () => [...heat],
      );
      // Only lines that ran are marked (samples land in the loop, sometimes on its set-up).
      for (const line of heat.keys())
        assert.ok([7, 8, 9, 10, 11, 12, 13, 16].includes(line), `line ${line} ran`);
      await waitForStatusBar(wb, (t) => t.includes('heat: sampled'));
      // No calls were recorded: no values, arguments or exceptions, and no CodeLens.
      assert.deepEqual(await decorated('sampled_loop.py'), []);
      assert.equal(
        await wb.page
          .locator('.editor-group-container.active .monaco-editor .codelens-decoration')
          .count(),
        0,
      );
      await wb.screenshot('valueTree-heatOnly').catch(() => undefined);
    }),
);
