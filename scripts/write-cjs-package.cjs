// dist/cjs is CommonJS inside a "type": "module" package: this marker makes Node load it as such.
require('node:fs').writeFileSync(
  require('node:path').join(__dirname, '..', 'dist', 'cjs', 'package.json'),
  JSON.stringify({ type: 'commonjs' }) + '\n',
);
