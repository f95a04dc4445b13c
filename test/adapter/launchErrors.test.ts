// Adapter tests: every bad `launch` argument gets a DAP error response with its own code, shown to
// the user, naming the problem and the fix. Real standalone adapter (dist/adapter.js) over DAP.

import type { DebugProtocol } from '@vscode/debugprotocol';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { ErrorCode } from '../../adapter/errors';
import { buildAdapter, pyenvPythons, RecordingClient } from './dapHarness';

let tmp: string;
let program: string;
let client: RecordingClient | undefined;

before(() => {
  buildAdapter();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-errors-'));
  program = path.join(tmp, 'ok.py');
  writeFileSync(program, 'print("ok")\n');
  mkdirSync(path.join(tmp, 'pkgdir'));
  writeFileSync(path.join(tmp, 'old_python'), '#!/bin/sh\necho "(3, 8, 2)"\n');
  chmodSync(path.join(tmp, 'old_python'), 0o755);
  writeFileSync(
    path.join(tmp, 'broken_python'),
    '#!/bin/sh\necho "cannot start: missing libpython" >&2\nexit 127\n',
  );
  chmodSync(path.join(tmp, 'broken_python'), 0o755);
});
after(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(async () => {
  await client?.stop();
  client = undefined;
});

async function launchError(
  args: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
): Promise<DebugProtocol.Message> {
  client = new RecordingClient(env);
  await client.start();
  const response = await client.launchRaw(args);
  assert.equal(response.success, false, `launch succeeded: ${JSON.stringify(response)}`);
  const error = (response.body as { error?: DebugProtocol.Message } | undefined)?.error;
  assert.ok(error, 'no error in the response body');
  assert.equal(error.showUser, true);
  assert.equal(response.message, error.format);
  assert.doesNotMatch(error.format, /\n\s+at /, 'a stack trace reached the user');
  // A failed launch starts nothing.
  assert.deepEqual(client.named('exited'), []);
  return error;
}

describe('launch errors', () => {
  it('program missing', async () => {
    const missing = path.join(tmp, 'nope.py');
    const e = await launchError({ program: missing });
    assert.equal(e.id, ErrorCode.ProgramNotFound);
    assert.equal(
      e.format,
      `The program to trace does not exist: ${missing}. Fix \`program\` in launch.json, or open a saved Python file and run "Tracelens: Trace This File".`,
    );
  });

  it('program relative to cwd, missing there', async () => {
    const e = await launchError({ program: 'nope.py', cwd: tmp });
    assert.equal(e.id, ErrorCode.ProgramNotFound);
    assert.ok(e.format.includes(path.join(tmp, 'nope.py')));
  });

  it('program is a directory', async () => {
    const e = await launchError({ program: path.join(tmp, 'pkgdir') });
    assert.equal(e.id, ErrorCode.ProgramNotFile);
    assert.match(
      e.format,
      /^The program to trace is not a file: .*pkgdir\. Fix `program` in launch\.json/,
    );
  });

  it('neither program nor module', async () => {
    const e = await launchError({ args: ['x'] });
    assert.equal(e.id, ErrorCode.NoProgramOrModule);
    assert.match(e.format, /set `program` \(a Python file\) or `module` in launch\.json/);
  });

  it('both program and module', async () => {
    const e = await launchError({ program, module: 'json.tool' });
    assert.equal(e.id, ErrorCode.ProgramAndModule);
    assert.match(e.format, /keep only one of them/);
  });

  it('cwd missing', async () => {
    const cwd = path.join(tmp, 'no-such-dir');
    const e = await launchError({ program, cwd });
    assert.equal(e.id, ErrorCode.CwdNotFound);
    assert.equal(
      e.format,
      `The working directory does not exist: ${cwd}. Fix \`cwd\` in launch.json, or remove it to run in the program's folder.`,
    );
  });

  it('cwd is a file', async () => {
    const e = await launchError({ program, cwd: program });
    assert.equal(e.id, ErrorCode.CwdNotDirectory);
    assert.equal(
      e.format,
      `The working directory is not a directory: ${program}. Fix \`cwd\` in launch.json.`,
    );
  });

  it('args not a list of strings', async () => {
    const e = await launchError({ program, args: 'a b' });
    assert.equal(e.id, ErrorCode.InvalidArgument);
    assert.equal(
      e.format,
      '`args` in launch.json must be a list of strings. Fix it and start again.',
    );
  });

  it('env with a non-string value', async () => {
    const e = await launchError({ program, env: { A: 1 } });
    assert.equal(e.id, ErrorCode.InvalidArgument);
    assert.match(
      e.format,
      /^`env` in launch\.json must be an object whose values are strings \(or null/,
    );
  });

  it('python path that does not exist', async () => {
    const python = path.join(tmp, 'bin', 'python3');
    const e = await launchError({ program, python });
    assert.equal(e.id, ErrorCode.PythonNotFound);
    assert.equal(
      e.format,
      `The Python interpreter set in \`python\` does not exist: ${python}. Fix \`python\` in launch.json, or remove it to use the selected interpreter.`,
    );
  });

  it('python that does not run', async () => {
    const python = path.join(tmp, 'broken_python');
    const e = await launchError({ program, python });
    assert.equal(e.id, ErrorCode.PythonNotRunnable);
    assert.equal(
      e.format,
      `The Python interpreter ${python} (from \`python\`) could not be run: it exited with code 127 (cannot start: missing libpython). Fix \`python\` in launch.json.`,
    );
  });

  it('python older than 3.9 (a script reporting 3.8.2)', async () => {
    const python = path.join(tmp, 'old_python');
    const e = await launchError({ program, python });
    assert.equal(e.id, ErrorCode.PythonTooOld);
    assert.equal(
      e.format,
      `Tracelens needs Python 3.9 or newer, but ${python} is Python 3.8.2. Set \`python\` in launch.json to a Python 3.9+ interpreter, or select one with "Python: Select Interpreter".`,
    );
  });

  const old = [...pyenvPythons(/^3\.8\./), ...pyenvPythons(/^3\.[67]\./)][0];
  it(
    `python older than 3.9 (a real one: ${old ?? 'none installed, the script above stands in'})`,
    { skip: !old },
    async () => {
      const e = await launchError({ program, python: old });
      assert.equal(e.id, ErrorCode.PythonTooOld);
      assert.match(
        e.format,
        new RegExp(
          `but ${old!.replace(/[.]/g, '\\.')} is Python 3\\.[678]\\.\\d+\\. Set \`python\``,
        ),
      );
    },
  );

  it('no interpreter on PATH and none configured or selected', async () => {
    const e = await launchError({ program, env: { PATH: path.join(tmp, 'pkgdir') } });
    assert.equal(e.id, ErrorCode.NoPythonFound);
    assert.equal(
      e.format,
      "No Python interpreter found: none is selected and neither `python3` nor `python` is on PATH. Install Python 3.9 or newer, or set `python` in launch.json to the interpreter's path.",
    );
  });

  it('tracer package missing from the adapter', async () => {
    const e = await launchError({ program }, { TRACELENS_TRACER_DIR: path.join(tmp, 'pkgdir') });
    assert.equal(e.id, ErrorCode.TracerMissing);
    assert.equal(
      e.format,
      `The Tracelens tracer is missing from ${path.join(tmp, 'pkgdir')}. Reinstall the Tracelens extension.`,
    );
  });

  it('attach without a valid processId is refused with a message', async () => {
    client = new RecordingClient();
    await client.start();
    await client.initializeRequest();
    const r = await client.raw('attach', { processId: 'not-a-pid' });
    assert.equal(r.success, false);
    assert.equal(
      (r.body as { error: DebugProtocol.Message }).error.id,
      ErrorCode.AttachBadProcessId,
    );
  });
});
