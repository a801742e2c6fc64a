/**
 * The published shape of the package: one CommonJS implementation, reached by `require` and, through
 * ESM entry points that re-export it, by `import`; loaded by name (self-reference through the
 * `exports` map), as an application would.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { publint } from 'publint';
import { packedPackage } from './helpers/packed.js';

const root = resolve(import.meta.dirname, '..');

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
}

describe('package', function () {
  this.timeout(60_000);

  before(() => {
    if (!existsSync(join(root, 'dist', 'cjs', 'index.js'))) {
      execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
    }
  });

  it('can be required by name (CommonJS) with named exports only', () => {
    const out = node([
      '-e',
      "const m = require('passport-twitter-signin'); console.log(JSON.stringify({ keys: Object.keys(m).sort(), same: m.Strategy === m.TwitterSignInStrategy, def: 'default' in m }))",
    ]);
    const { keys, same, def } = JSON.parse(out) as { keys: string[]; same: boolean; def: boolean };
    expect(keys).to.include.members(['TwitterSignInStrategy', 'Strategy', 'TwitterOAuthClient', 'TwitterSignInError', 'SessionRequestTokenStore']);
    expect(same).to.equal(true);
    expect(def).to.equal(false);
  });

  it('can be imported by name (ESM), loading the ESM build', () => {
    const out = node([
      '--input-type=module',
      '-e',
      "import { TwitterSignInStrategy, Strategy } from 'passport-twitter-signin'; import { createRequire } from 'node:module'; const r = createRequire(process.cwd() + '/'); console.log(JSON.stringify({ same: Strategy === TwitterSignInStrategy, esm: import.meta.resolve('passport-twitter-signin'), cjs: r.resolve('passport-twitter-signin') }))",
    ]);
    const { same, esm, cjs } = JSON.parse(out) as { same: boolean; esm: string; cjs: string };
    expect(same).to.equal(true);
    expect(esm).to.match(/\/dist\/esm\/index\.js$/);
    expect(cjs).to.match(/\/dist\/cjs\/index\.js$/);
  });

  // Node's cjs-module-lexer decides which names an ESM import of CommonJS sees: a name it cannot
  // detect would be missing from the ESM entry.
  for (const entry of ['passport-twitter-signin', 'passport-twitter-signin/testing']) {
    it(`offers under import every named export that require offers (${entry})`, () => {
      const out = node([
        '--input-type=module',
        '-e',
        `import * as esm from '${entry}'; import { createRequire } from 'node:module';
         const cjs = createRequire(process.cwd() + '/')('${entry}');
         console.log(JSON.stringify({ cjs: Object.keys(cjs).sort(), esm: Object.keys(esm).sort() }))`,
      ]);
      const { cjs, esm } = JSON.parse(out) as { cjs: string[]; esm: string[] };
      expect(cjs.length).to.be.greaterThan(0);
      expect(esm).to.deep.equal(cjs);
    });
  }

  it('reaches one implementation from require and import, so instanceof holds across them in one process', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `import * as esm from 'passport-twitter-signin'; import * as esmTesting from 'passport-twitter-signin/testing';
       import { createRequire } from 'node:module';
       const require = createRequire(process.cwd() + '/');
       const cjs = require('passport-twitter-signin'); const cjsTesting = require('passport-twitter-signin/testing');
       const differ = [...Object.keys(cjs).filter((n) => cjs[n] !== esm[n]), ...Object.keys(cjsTesting).filter((n) => cjsTesting[n] !== esmTesting[n])];
       const crossError = new cjs.TwitterSignInError('ERR_STORE', 'x') instanceof esm.TwitterSignInError;
       // An ESM strategy with a CommonJS store: the store's own typed error must come through.
       const strategy = new esm.TwitterSignInStrategy(
         { consumerKey: 'k', consumerSecret: 's', callbackURL: 'http://localhost/cb', requestTokenStore: new cjs.SessionRequestTokenStore() },
         () => false,
       );
       const code = await new Promise((resolve) => {
         const run = Object.create(strategy);
         run.error = (err) => resolve(err.code);
         run.authenticate({ url: '/auth', headers: { host: 'localhost' } });
       });
       console.log(JSON.stringify({ differ, crossError, code }));`,
    ]);
    expect(JSON.parse(out)).to.deep.equal({ differ: [], crossError: true, code: 'ERR_SESSION_REQUIRED' });
  });

  // @arethetypeswrong/cli resolves each entry point as TypeScript would in each mode and checks
  // that the types found describe the JavaScript that Node or a bundler would load.
  it('has types for every entry point in every resolution mode, in the format of its JavaScript (attw)', () => {
    const attw = join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
    const run = spawnSync(process.execPath, [attw, packedPackage().tarball, '--format', 'json'], { encoding: 'utf8' });
    const report = JSON.parse(run.stdout) as {
      problems?: Record<string, unknown[]>;
      analysis: { entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string } }> }> };
    };
    expect(report.problems ?? {}, run.stdout).to.deep.equal({});
    const typesFound = Object.fromEntries(
      Object.entries(report.analysis.entrypoints).map(([entry, { resolutions }]) => [
        entry,
        Object.fromEntries(Object.entries(resolutions).map(([mode, r]) => [mode, r.resolution?.fileName.replace(/^.*\/passport-twitter-signin\//, '')])),
      ]),
    );
    expect(typesFound).to.deep.equal({
      '.': {
        node10: 'dist/cjs/index.d.ts',
        'node16-cjs': 'dist/cjs/index.d.ts',
        'node16-esm': 'dist/esm/index.d.ts',
        bundler: 'dist/esm/index.d.ts',
      },
      './testing': {
        node10: 'dist/cjs/testing/index.d.ts',
        'node16-cjs': 'dist/cjs/testing/index.d.ts',
        'node16-esm': 'dist/esm/testing/index.d.ts',
        bundler: 'dist/esm/testing/index.d.ts',
      },
      './package.json': { node10: 'package.json', 'node16-cjs': 'package.json', 'node16-esm': 'package.json', bundler: 'package.json' },
    });
    expect(run.status).to.equal(0);
  });

  it('passes publint, warnings and suggestions included, on the files npm would publish', async () => {
    const { messages } = await publint({ pkgDir: packedPackage().packageDir, pack: false, strict: true });
    expect(messages).to.deep.equal([]);
  });

});
