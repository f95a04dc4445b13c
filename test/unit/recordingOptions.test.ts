// Unit tests of what the tracer is asked to record at launch: adapter/launchPlan.ts
// recordingOptions (`calls: false` -> --no-calls with sampled heat, `values: "structured"` ->
// --values structured) and its checks, and the heat settings of a heat-only configuration
// (extension/editor/heatSettings.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InterpreterFinder } from '../../adapter/interpreterFinder';
import { planLaunch, recordingOptions } from '../../adapter/launchPlan';
import { nodeSpawner } from '../../adapter/processSpawner';
import { heatAttributes } from '../../extension/editor/heatSettings';

test('calls: false records sampled heat only, at the configured rate or 100 a second', () => {
  assert.deepEqual(recordingOptions({ calls: false }, '/w/a.py'), [
    '--no-calls',
    '--sample',
    '100',
  ]);
  assert.deepEqual(
    recordingOptions({ calls: false, lineHeat: 'sampled', lineHeatSampleRate: 250 }, '/w/a.py'),
    ['--no-calls', '--sample', '250'],
  );
  // calls: true (or left out) changes nothing.
  assert.deepEqual(recordingOptions({ calls: true, lineHeat: 'exact' }, '/w/a.py'), [
    '--lines',
    '/w/a.py',
  ]);
  assert.deepEqual(recordingOptions({}, '/w/a.py'), []);
});

test('values: "structured" asks for structured values; "repr" is the default', () => {
  assert.deepEqual(recordingOptions({ values: 'structured', lineHeat: 'sampled' }, undefined), [
    '--values',
    'structured',
    '--sample',
    '100',
  ]);
  assert.deepEqual(recordingOptions({ values: 'repr' }, undefined), []);
});

test('a launch with calls: false and exact or no heat, or a bad calls / values, says what to fix', async () => {
  const opts = { finder: new InterpreterFinder(nodeSpawner), tracerDir: '/nonexistent' };
  const cases: [Record<string, unknown>, string][] = [
    [
      { calls: false, lineHeat: 'exact' },
      '`lineHeat` in launch.json must be "sampled" (or left out) when `calls` is false: without call recording only sampled line heat can be recorded. Fix it and start again.',
    ],
    [
      { calls: false, lineHeat: 'off' },
      '`lineHeat` in launch.json must be "sampled" (or left out) when `calls` is false: without call recording only sampled line heat can be recorded. Fix it and start again.',
    ],
    [{ calls: 'no' }, '`calls` in launch.json must be true or false. Fix it and start again.'],
    [
      { values: 'json' },
      '`values` in launch.json must be "repr" or "structured". Fix it and start again.',
    ],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(planLaunch({ program: '/w/a.py', ...args }, opts), { message });
  }
});

test('a heat-only configuration gets sampled heat whatever the heat mode setting says', () => {
  assert.deepEqual(
    heatAttributes({ calls: false, program: '/w/a.py' }, { mode: 'exact', files: [] }),
    { lineHeat: 'sampled', lineHeatFiles: [] },
  );
  assert.deepEqual(heatAttributes({ calls: false }, { mode: 'off', files: [], sampleRate: 50 }), {
    lineHeat: 'sampled',
    lineHeatFiles: [],
    lineHeatSampleRate: 50,
  });
  // Its own lineHeat is kept (the adapter then says what is wrong with "exact").
  assert.equal(
    heatAttributes({ calls: false, lineHeat: 'exact' }, { mode: 'sampled', files: [] }).lineHeat,
    'exact',
  );
});

test('probes become --probes, left out when calls are not recorded', () => {
  assert.deepEqual(recordingOptions({ probes: ['gc', 'audit:open'] }, '/w/a.py'), [
    '--probes',
    'gc,audit:open',
  ]);
  assert.deepEqual(recordingOptions({ probes: [] }, '/w/a.py'), []);
  assert.deepEqual(recordingOptions({ probes: ['gc'], calls: false }, '/w/a.py'), [
    '--no-calls',
    '--sample',
    '100',
  ]);
});
