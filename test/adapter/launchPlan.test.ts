// Tests of the program's environment and command line built by adapter/launchPlan.ts: the
// configuration's env merged over the adapter's (null removes), PYTHONUNBUFFERED/PYTHONIOENCODING
// defaults that the configuration may override or remove, the tracer first on PYTHONPATH.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InterpreterFinder } from '../../adapter/interpreterFinder';
import { planLaunch, programEnv, tracerEnv } from '../../adapter/launchPlan';
import { nodeSpawner } from '../../adapter/processSpawner';

describe('programEnv', () => {
  it('merges, removes, adds the defaults and puts the tracer first on PYTHONPATH', () => {
    const env = programEnv(
      { A: 'a', GONE: 'x', PYTHONPATH: '/mine', TRACELENS_TOKEN: 'leaked' },
      { B: 'b', GONE: null },
      '/ext/adapter/python',
    );
    assert.deepEqual(env, {
      A: 'a',
      B: 'b',
      PYTHONPATH: `/ext/adapter/python${path.delimiter}/mine`,
      PYTHONUNBUFFERED: '1',
      PYTHONIOENCODING: 'utf-8',
    });
  });

  it('leaves PYTHONUNBUFFERED and PYTHONIOENCODING to the configuration or the environment', () => {
    const env = programEnv({ PYTHONIOENCODING: 'latin-1' }, { PYTHONUNBUFFERED: null }, '/t');
    assert.deepEqual(env, { PYTHONIOENCODING: 'latin-1', PYTHONPATH: '/t' });
  });
});

describe('planLaunch', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'tracelens-plan-'));
    mkdirSync(path.join(tmp, 'tracer', 'tracelens'), { recursive: true });
    writeFileSync(path.join(tmp, 'tracer', 'tracelens', '__main__.py'), '');
    writeFileSync(path.join(tmp, 'prog.py'), '');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('builds the tracer command line with filters, program and args; token only in the env', async () => {
    const selected: unknown[] = [];
    const plan = await planLaunch(
      {
        program: 'prog.py',
        cwd: tmp,
        args: ['--x', 'y'],
        include: ['app.*'],
        exclude: ['app.vendor.*', 'b'],
      },
      {
        finder: new InterpreterFinder(nodeSpawner),
        tracerDir: path.join(tmp, 'tracer'),
        resolveInterpreter: (args) => {
          selected.push(args.program);
          return undefined;
        },
        baseEnv: { PATH: process.env.PATH },
      },
    );
    assert.deepEqual(selected, ['prog.py']);
    assert.equal(plan.interpreter.command, 'python3');
    assert.ok(plan.interpreter.version[0] === 3 && plan.interpreter.version[1] >= 9);
    assert.equal(plan.cwd, tmp);
    assert.deepEqual(plan.tracerArgs('127.0.0.1:5'), [
      '-m',
      'tracelens',
      'run',
      '--connect',
      '127.0.0.1:5',
      '--include',
      'app.*',
      '--exclude',
      'app.vendor.*',
      '--exclude',
      'b',
      '--',
      path.join(tmp, 'prog.py'),
      '--x',
      'y',
    ]);
    assert.equal(tracerEnv(plan, 'tok').TRACELENS_TOKEN, 'tok');
    assert.equal(plan.env.TRACELENS_TOKEN, undefined);
  });

  it("uses the resolver's interpreter when `python` is not set, and runs modules with -m", async () => {
    const plan = await planLaunch(
      { module: 'pkg.tool', cwd: tmp },
      {
        finder: new InterpreterFinder(nodeSpawner),
        tracerDir: path.join(tmp, 'tracer'),
        resolveInterpreter: () => process.env.TRACELENS_TEST_PYTHON ?? 'python3',
      },
    );
    assert.deepEqual(plan.tracerArgs('h:1'), [
      '-m',
      'tracelens',
      'run',
      '--connect',
      'h:1',
      '-m',
      'pkg.tool',
    ]);
    assert.equal(plan.target, '-m pkg.tool');
  });
});
