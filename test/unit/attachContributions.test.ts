// Checks the attach contributions in package.json against extension/constants.ts and the adapter's
// AttachArguments: the two commands (the picker hidden from the palette), the attach configuration
// attributes, and the launch.json snippet that picks a process when the session starts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { AttachArguments } from '../../adapter/protocol/dap';
import { ATTACH_ATTRIBUTES, Commands, CommandTitles } from '../../extension/constants';

const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
const dbg = pkg.contributes.debuggers[0];

test('the attach commands are contributed; the picker is not in the palette', () => {
  const commands = pkg.contributes.commands as { command: string; title: string }[];
  assert.equal(
    commands.find((c) => c.command === Commands.AttachToProcess)?.title,
    'Attach to Python Process...',
  );
  assert.equal(CommandTitles.PickProcess, 'Pick a Python Process');
  assert.ok(commands.some((c) => c.command === Commands.PickProcess));
  const palette = pkg.contributes.menus.commandPalette as { command: string; when?: string }[];
  assert.deepEqual(
    palette.find((m) => m.command === 'tracelens.pickProcess'),
    {
      command: 'tracelens.pickProcess',
      when: 'false',
    },
  );
});

test('the attach configuration has exactly the attributes of AttachArguments', () => {
  const attach = dbg.configurationAttributes.attach;
  assert.deepEqual(attach.required, ['processId']);
  assert.deepEqual(Object.keys(attach.properties).sort(), [...ATTACH_ATTRIBUTES].sort());
  // Compile-time: every attribute named is a key of AttachArguments.
  const keys: readonly (keyof AttachArguments)[] = ATTACH_ATTRIBUTES;
  assert.equal(keys.length, 4);
  assert.equal(attach.properties.processId.default, '${command:tracelens.pickProcess}');
});

test('a snippet offers an attach configuration that picks the process', () => {
  const snippet = (dbg.configurationSnippets as { body: Record<string, unknown> }[]).find(
    (s) => s.body.request === 'attach',
  );
  assert.deepEqual(snippet?.body, {
    type: 'tracelens',
    request: 'attach',
    name: 'Attach to a Python process',
    processId: '^"\\${command:tracelens.pickProcess}"',
  });
});
