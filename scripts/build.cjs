// Builds dist/: one CommonJS implementation (dist/cjs) and, for `import`, ESM entry points
// (dist/esm) that only re-export it. A second, ESM, build would define every class twice: an
// error thrown by one copy would not be `instanceof` the other's TwitterSignInError, and a store
// from one copy would not be recognised by a strategy from the other.
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdirSync, rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');

/** The package's entry points, as paths under dist/cjs and dist/esm without the extension. */
const ENTRIES = ['index', 'testing/index'];

// TypeScript 7 by path: the TypeScript 5.9 kept for the type tests (`typescript5`) installs a
// `tsc` too, and which of the two node_modules/.bin/tsc points at depends on install order.
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

// dist/cjs is CommonJS inside a "type": "module" package: this marker makes Node load it as such.
writeFileSync(path.join(dist, 'cjs', 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');

for (const entry of ENTRIES) {
  const target = path.relative(path.dirname(path.join(dist, 'esm', entry)), path.join(dist, 'cjs', entry)) + '.js';
  const names = Object.keys(require(path.join(dist, 'cjs', `${entry}.js`))).sort();
  mkdirSync(path.dirname(path.join(dist, 'esm', entry)), { recursive: true });
  // Every name spelled out, not `export *`: a name Node's CommonJS export detection missed then
  // fails at import with a SyntaxError naming it, instead of silently being undefined.
  writeFileSync(
    path.join(dist, 'esm', `${entry}.js`),
    `export {\n${names.map((n) => `  ${n},\n`).join('')}} from '${target}';\n`,
  );
  // The ESM types are the CommonJS build's types, so both module systems see one declaration
  // of each class (TypeScript compares classes with private members by declaration).
  writeFileSync(path.join(dist, 'esm', `${entry}.d.ts`), `export * from '${target}';\n`);
}
