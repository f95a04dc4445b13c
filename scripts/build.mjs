// Bundles the extension, the store worker, the standalone adapter, the language server and the
// webview with esbuild into dist/, and copies the sql.js wasm beside them.
// Usage: node scripts/build.mjs [--watch] [--production]
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  loader: { '.sql': 'text' },
  absWorkingDir: root,
};

const node = {
  ...common,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
};

const builds = [
  { ...node, entryPoints: { extension: 'extension/extension.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { storeWorker: 'extension/store/worker.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { adapter: 'adapter/standalone.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { server: 'extension/languageServer/server.ts' }, outdir: 'dist' },
  {
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
  },
];

// Entries whose source does not exist are skipped; names on the command line pick entries.
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const active = builds.filter((b) => {
  const [name, file] = Object.entries(b.entryPoints)[0];
  if (wanted.length && !wanted.includes(name)) return false;
  if (!existsSync(path.join(root, file))) {
    console.warn(`build: skipping ${name} (${file} does not exist)`);
    return false;
  }
  return true;
});

mkdirSync(path.join(root, 'dist'), { recursive: true });
copyFileSync(
  require.resolve('sql.js/dist/sql-wasm.wasm'),
  path.join(root, 'dist', 'sql-wasm.wasm'),
);

if (watch) {
  for (const b of active) await (await esbuild.context(b)).watch();
  console.log('watching…');
} else {
  await Promise.all(active.map((b) => esbuild.build(b)));
}
