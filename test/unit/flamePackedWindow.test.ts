// Unit tests of the flame window's compact message form (webview/flame/packedWindow.ts): a window
// packed by the extension unpacks in the webview to exactly the boxes and buckets the store gave.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FlameWindow } from '../../extension/store/api';
import { packWindow, unpackWindow } from '../../webview/flame/packedWindow';

const filtered: FlameWindow = {
  boxes: [
    {
      id: 1,
      depth: 0,
      startNs: 1000,
      endNs: 4400,
      qualname: '<module>',
      module: '__main__',
      flags: 20,
      exception: true,
      match: false,
    },
    {
      id: 5,
      depth: 1,
      startNs: 2000,
      endNs: 2500,
      qualname: 'fact',
      module: '__main__',
      flags: 16,
      exception: false,
      match: true,
    },
    {
      id: 6,
      depth: 2,
      startNs: 2100,
      endNs: null,
      qualname: 'fact',
      module: 'app.math',
      flags: 0,
      exception: false,
      match: true,
    },
  ],
  buckets: [{ depth: 3, startNs: 2200, endNs: 2210, count: 7, module: 'app.math', matches: 2 }],
};

test('a filtered window packs to columns and unpacks to the same boxes and buckets', () => {
  const packed = packWindow(filtered, 900, true);
  assert.deepEqual(packed.names, ['<module>', 'fact']);
  assert.deepEqual(packed.modules, ['__main__', 'app.math']);
  assert.deepEqual(packed.start, [100, 1100, 1200]);
  assert.deepEqual(packed.dur, [3400, 500, -1]);
  assert.deepEqual(packed.match, [0, 1, 1]);
  assert.deepEqual(packed.bMatches, [2]);
  const back = unpackWindow(JSON.parse(JSON.stringify(packed)));
  assert.deepEqual(back, filtered);
});

test('without a filter there are no match flags', () => {
  const plain: FlameWindow = {
    boxes: filtered.boxes.map(({ match: _m, ...b }) => b),
    buckets: filtered.buckets.map(({ matches: _m, ...b }) => b),
  };
  const packed = packWindow(plain, 0, false);
  assert.deepEqual(packed.match, []);
  assert.deepEqual(unpackWindow(packed), plain);
  assert.deepEqual(unpackWindow(packWindow({ boxes: [], buckets: [] }, 0, false)), {
    boxes: [],
    buckets: [],
  });
});
