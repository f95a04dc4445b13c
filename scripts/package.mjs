// `npm run package`: production build of every bundle, then dist/tracelens.vsix with @vscode/vsce.
// Everything is bundled by esbuild, so vsce runs with --no-dependencies; .vscodeignore decides
// what ships. Touches only dist/; never edits sources.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const vsix = path.join(root, 'dist', 'tracelens.vsix');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`package: \`${cmd} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

run(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--production']);
// The tracer's optional C accelerator for every interpreter found (a failure is not fatal: the
// tracer then runs in pure Python).
if (existsSync(path.join(root, 'scripts', 'build-accel.mjs'))) {
  run(process.execPath, [path.join(root, 'scripts', 'build-accel.mjs')]);
}
// A development build leaves .map files in dist/; the VSIX must not carry them.
for (const f of readdirSync(path.join(root, 'dist'))) {
  if (f.endsWith('.map')) rmSync(path.join(root, 'dist', f), { force: true });
}
rmSync(vsix, { force: true });
if (!existsSync(path.join(root, 'dist', 'extension.js'))) {
  console.error('package: dist/extension.js was not built (is extension/extension.ts there yet?)');
  process.exit(1);
}
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
run(process.execPath, [
  vsce,
  'package',
  '--no-dependencies',
  '--allow-missing-repository',
  // README's links (media/screenshot.png, LICENSE) stay relative: there is no public repository.
  '--no-rewrite-relative-links',
  '-o',
  vsix,
]);
console.log(
  `package: ${path.relative(root, vsix)} (${Math.round(statSync(vsix).size / 1024)} KiB)`,
);
