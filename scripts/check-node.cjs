// Exits non-zero, saying why, when this Node (or the version given as the argument) is outside
// package.json's engines.node. .ci/run calls it first, with each Node it tests on, so an
// unsupported Node fails with this message instead of obscurely inside the toolchain
// (mocha 12 and tsx need Node's require(esm), unflagged from 20.19 and 22.12).
'use strict';
const { engines } = require('../package.json');

/** [major, minor, patch] of "20.19.1", "v20.19" or "20". */
function parse(version) {
  const parts = String(version).replace(/^v/, '').split('.').map(Number);
  if (parts.length > 3 || parts.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`not a version: ${version}`);
  return [parts[0], parts[1] ?? 0, parts[2] ?? 0];
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * Whether `version` satisfies `range`, for the forms engines.node uses: alternatives joined by
 * `||`, each one `^x.y.z` or `>=x.y.z`. Any other form throws, so that a new form in
 * package.json is noticed here rather than misread.
 */
function satisfies(version, range) {
  const v = parse(version);
  return range.split('||').some((alternative) => {
    const comparator = alternative.trim();
    const caret = /^\^(\d+(?:\.\d+){0,2})$/.exec(comparator);
    if (caret) {
      const low = parse(caret[1]);
      return compare(v, low) >= 0 && v[0] === low[0];
    }
    const atLeast = /^>=(\d+(?:\.\d+){0,2})$/.exec(comparator);
    if (atLeast) return compare(v, parse(atLeast[1])) >= 0;
    throw new Error(`scripts/check-node.cjs cannot read the engines.node comparator "${comparator}"`);
  });
}

const version = process.argv[2] ?? process.versions.node;
if (!satisfies(version, engines.node)) {
  console.error(`Node ${version} is not supported: the package and its tests need Node ${engines.node} (package.json engines).`);
  process.exit(1);
}
