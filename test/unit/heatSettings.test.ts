// Unit tests of how line heat is asked for at launch (extension/editor/heatSettings.ts): the
// configuration's own attributes win, then the settings; exact heat defaults to the program.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { heatAttributes } from '../../extension/editor/heatSettings';

test('the settings fill in what the configuration leaves out', () => {
  assert.deepEqual(heatAttributes({}, { mode: undefined, files: undefined }), {
    lineHeat: 'sampled',
    lineHeatFiles: [],
  });
  assert.deepEqual(heatAttributes({ program: '/w/a.py' }, { mode: 'off', files: [] }), {
    lineHeat: 'off',
    lineHeatFiles: [],
  });
  assert.deepEqual(
    heatAttributes({ program: '/w/a.py' }, { mode: 'exact', files: ['**/solver.py'] }),
    { lineHeat: 'exact', lineHeatFiles: ['**/solver.py'] },
  );
});

test('exact heat without files records the program; the configuration wins over settings', () => {
  assert.deepEqual(heatAttributes({ program: '/w/a.py' }, { mode: 'exact', files: [] }), {
    lineHeat: 'exact',
    lineHeatFiles: ['/w/a.py'],
  });
  assert.deepEqual(
    heatAttributes(
      { lineHeat: 'exact', lineHeatFiles: ['/w/b.py', 3], program: '/w/a.py' },
      { mode: 'off', files: ['x'] },
    ),
    { lineHeat: 'exact', lineHeatFiles: ['/w/b.py'] },
  );
  assert.deepEqual(heatAttributes({ lineHeat: 'hot' }, { mode: 'bogus', files: [] }), {
    lineHeat: 'sampled',
    lineHeatFiles: [],
  });
});

test("sampled heat carries the sampling rate: the configuration's, else the setting's", () => {
  assert.deepEqual(heatAttributes({}, { mode: 'sampled', files: [], sampleRate: 250 }), {
    lineHeat: 'sampled',
    lineHeatFiles: [],
    lineHeatSampleRate: 250,
  });
  assert.deepEqual(
    heatAttributes({ lineHeatSampleRate: 50 }, { mode: 'sampled', files: [], sampleRate: 250 }),
    { lineHeat: 'sampled', lineHeatFiles: [], lineHeatSampleRate: 50 },
  );
  assert.deepEqual(heatAttributes({}, { mode: 'exact', files: ['a.py'], sampleRate: 250 }), {
    lineHeat: 'exact',
    lineHeatFiles: ['a.py'],
  });
});
