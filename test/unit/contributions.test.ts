// Checks package.json's `contributes`, `activationEvents` and `main` against extension/constants.ts
// (command ids, debug type, settings, view type, colours, launch attributes), both ways, so a
// renamed id cannot leave a dead menu entry or an unregistered command behind.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  Colors,
  COMMAND_CATEGORY,
  CommandTitles,
  Commands,
  DEBUG_TYPE,
  LAUNCH_ATTRIBUTES,
  Settings,
  Views,
} from '../../extension/constants';
import { LANGUAGE_ID } from '../../extension/query/lspProtocol';

const root = path.join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const contributes = pkg.contributes;

const sorted = (xs: Iterable<string>) => [...xs].sort();

test('main is the bundled extension and the engine stays ^1.95.0', () => {
  assert.equal(pkg.main, './dist/extension.js');
  assert.equal(pkg.engines.vscode, '^1.95.0');
  assert.equal(pkg.devDependencies['@types/vscode'], '1.95.0');
});

test('every command constant is contributed with its title and category, and nothing else', () => {
  const contributed = contributes.commands as {
    command: string;
    title: string;
    category: string;
  }[];
  assert.deepEqual(sorted(contributed.map((c) => c.command)), sorted(Object.values(Commands)));
  for (const [key, id] of Object.entries(Commands)) {
    const entry = contributed.find((c) => c.command === id)!;
    assert.equal(entry.title, CommandTitles[key as keyof typeof Commands], id);
    assert.equal(entry.category, COMMAND_CATEGORY, id);
  }
});

test('menus name only known commands; Trace This File is in the palette, title run menu and context menu', () => {
  const known = new Set<string>(Object.values(Commands));
  const menus = contributes.menus as Record<string, { command: string; when?: string }[]>;
  for (const [menu, items] of Object.entries(menus)) {
    for (const item of items) assert.ok(known.has(item.command), `${menu}: ${item.command}`);
  }
  const where = (menu: string) => menus[menu]?.find((i) => i.command === Commands.TraceFile);
  assert.equal(where('commandPalette')?.when, 'editorLangId == python');
  assert.equal(where('editor/title/run')?.when, 'resourceLangId == python && !isInDiffEditor');
  assert.equal(where('editor/context')?.when, 'resourceLangId == python');
});

test('the debugger is the tracelens type with exactly the launch attributes of LaunchArguments', () => {
  assert.equal(contributes.debuggers.length, 1);
  const dbg = contributes.debuggers[0];
  assert.equal(dbg.type, DEBUG_TYPE);
  assert.equal(dbg.type, 'tracelens');
  assert.equal(dbg.label, 'Tracelens');
  assert.deepEqual(dbg.languages, ['python']);
  const props = dbg.configurationAttributes.launch.properties as Record<
    string,
    { description?: string }
  >;
  assert.deepEqual(sorted(Object.keys(props)), sorted(LAUNCH_ATTRIBUTES));
  for (const [name, schema] of Object.entries(props)) {
    assert.ok((schema.description ?? '').length > 20, `${name} needs a description`);
  }
  assert.deepEqual(dbg.initialConfigurations[0], {
    type: 'tracelens',
    request: 'launch',
    name: 'Tracelens: Trace Current File',
    program: '${file}',
    cwd: '${workspaceFolder}',
  });
  for (const snippet of dbg.configurationSnippets) {
    assert.equal(snippet.body.type, DEBUG_TYPE);
    if (snippet.body.request === 'attach') continue; // test/unit/attachContributions.test.ts
    assert.equal(snippet.body.request, 'launch');
    assert.ok(snippet.body.program || snippet.body.module, snippet.label);
  }
});

test('activation covers the debug type, Python files, query files and the timeline serializer', () => {
  assert.deepEqual(sorted(pkg.activationEvents), [
    `onDebugDynamicConfigurations:${DEBUG_TYPE}`,
    `onDebugResolve:${DEBUG_TYPE}`,
    'onLanguage:python',
    `onLanguage:${LANGUAGE_ID}`,
    `onWebviewPanel:${Views.Timeline}`,
  ]);
});

test('the query language is contributed with files that exist', () => {
  const [language] = contributes.languages;
  assert.equal(language.id, LANGUAGE_ID);
  assert.deepEqual(language.extensions, ['.tlq']);
  const [grammar] = contributes.grammars;
  assert.equal(grammar.language, LANGUAGE_ID);
  for (const file of [language.configuration, grammar.path]) {
    assert.ok(file.startsWith('./media/'), `${file} ships in the VSIX (media/)`);
    assert.ok(existsSync(path.join(root, file)), `${file} exists`);
  }
});

test('settings and colours match the constants', () => {
  assert.deepEqual(
    sorted(Object.keys(contributes.configuration.properties)),
    sorted(Object.values(Settings)),
  );
  const colorIds = (contributes.colors as { id: string; defaults: Record<string, string> }[]).map(
    (c) => c.id,
  );
  assert.deepEqual(sorted(colorIds), sorted(Object.values(Colors)));
  for (const c of contributes.colors) {
    assert.deepEqual(
      sorted(Object.keys(c.defaults)),
      ['dark', 'highContrast', 'highContrastLight', 'light'],
      c.id,
    );
  }
});
