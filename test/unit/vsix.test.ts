// Checks the packaged VSIX (dist/tracelens.vsix, made by `npm run package`, built here if missing):
// it carries the bundles, the sql.js wasm and the whole Python tracer, and no sources, tests,
// maps or development packages. Reads the zip's central directory itself; changes nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';

const root = path.resolve(__dirname, '..', '..');
const vsixPath = path.join(root, 'dist', 'tracelens.vsix');

interface ZipEntry {
  name: string;
  size: number;
}

/** Lists a zip's entries from its end-of-central-directory record and central directory. */
export function listZip(buf: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file: no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry ${n}`);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    entries.push({ name: buf.toString('utf8', p + 46, p + 46 + nameLen), size });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/**
 * Files of the Python tracer in the source tree, relative to the repository root: its modules,
 * the schema, and the optional C accelerator's source and prebuilt modules.
 */
function tracerFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== '__pycache__') walk(rel);
      } else if (
        e.name.endsWith('.py') ||
        e.name === 'schema.sql' ||
        e.name === '_speedups.c' ||
        (dir.endsWith('/_accel') && e.name.endsWith('.so'))
      ) {
        out.push(rel);
      }
    }
  };
  walk('adapter/python/tracelens');
  return out.sort();
}

let entries: ZipEntry[] = [];
let files: string[] = [];

before(() => {
  if (!existsSync(vsixPath)) {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'package.mjs')], {
      cwd: root,
      stdio: 'inherit',
      timeout: 180_000,
    });
    assert.equal(r.status, 0, 'npm run package failed');
  }
  entries = listZip(readFileSync(vsixPath));
  files = entries.map((e) => e.name);
});

test('the VSIX holds only the manifest files and the extension folder', () => {
  const outside = files.filter((f) => !f.startsWith('extension/'));
  assert.deepEqual(outside.sort(), ['[Content_Types].xml', 'extension.vsixmanifest']);
});

test('the VSIX holds package.json, README and LICENSE', () => {
  for (const f of ['extension/package.json', 'extension/readme.md', 'extension/LICENSE.txt']) {
    assert.ok(files.includes(f), `${f} missing from the VSIX`);
  }
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  assert.equal(manifest.main, './dist/extension.js');
});

test('the VSIX holds every bundle whose source exists, and the sql.js wasm byte for byte', () => {
  // The bundles scripts/build.mjs makes: `entryPoints: { name: 'source.ts' }`.
  const buildScript = readFileSync(path.join(root, 'scripts', 'build.mjs'), 'utf8');
  const bundles = Object.fromEntries(
    [...buildScript.matchAll(/entryPoints: \{ (\w+): '([^']+)' \}/g)].map((m) => [m[1], m[2]]),
  );
  assert.ok(Object.keys(bundles).length >= 4, 'no entry points found in scripts/build.mjs');
  const expected = Object.entries(bundles)
    .filter(([, src]) => existsSync(path.join(root, src)))
    .map(([name]) => `extension/dist/${name}.js`);
  assert.ok(expected.includes('extension/dist/extension.js'));
  const shipped = files.filter((f) => f.startsWith('extension/dist/') && f.endsWith('.js'));
  assert.deepEqual(shipped.sort(), expected.sort());
  const wasm = entries.find((e) => e.name === 'extension/dist/sql-wasm.wasm');
  assert.ok(wasm, 'dist/sql-wasm.wasm missing from the VSIX');
  const source = statSync(require.resolve('sql.js/dist/sql-wasm.wasm')).size;
  assert.equal(wasm.size, source);
});

test('the VSIX holds exactly the Python tracer, its schema and its accelerator', () => {
  const expected = tracerFiles().map((f) => `extension/${f}`);
  assert.ok(expected.includes('extension/adapter/python/tracelens/schema.sql'));
  const shipped = files.filter((f) => f.startsWith('extension/adapter/'));
  assert.deepEqual(shipped.sort(), expected);
});

test('the VSIX holds no sources, tests, maps, caches or development packages', () => {
  const forbidden = files.filter(
    (f) =>
      f.endsWith('.ts') ||
      f.endsWith('.map') ||
      f.endsWith('.pyc') ||
      f.endsWith('.mjs') ||
      /^extension\/(test|node_modules|demo|scripts|types|webview|\.ci|\.test-output)\//.test(f) ||
      f.includes('/node_modules/') ||
      f.includes('/__pycache__/') ||
      f.startsWith('extension/extension/') ||
      f === 'extension/tsconfig.json' ||
      f === 'extension/package-lock.json',
  );
  assert.deepEqual(forbidden, []);
});

test('every file in the VSIX is one that is meant to ship', () => {
  const allowed = (f: string): boolean =>
    f === '[Content_Types].xml' ||
    f === 'extension.vsixmanifest' ||
    f === 'extension/package.json' ||
    f === 'extension/readme.md' ||
    f === 'extension/LICENSE.txt' ||
    /^extension\/dist\/[A-Za-z]+\.js$/.test(f) ||
    f === 'extension/dist/sql-wasm.wasm' ||
    /^extension\/adapter\/python\/tracelens\/([A-Za-z0-9_]+\/)*[A-Za-z0-9_]+\.py$/.test(f) ||
    f === 'extension/adapter/python/tracelens/schema.sql' ||
    f === 'extension/adapter/python/tracelens/_speedups.c' ||
    /^extension\/adapter\/python\/tracelens\/_accel\/_speedups_\w+\.cpython-\w+-[\w-]+\.so$/.test(
      f,
    ) ||
    f.startsWith('extension/media/');
  assert.deepEqual(
    files.filter((f) => !allowed(f)),
    [],
  );
});
