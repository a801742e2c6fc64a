/**
 * The published shape of the package: one CommonJS implementation, reached by `require` and, through
 * ESM entry points that re-export it, by `import`; loaded by name (self-reference through the
 * `exports` map), as an application would.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';

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

  it('type-checks a consumer in both module systems, and its types catch a missing option', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pts-consumer-'));
    try {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(root, join(dir, 'node_modules', 'passport-twitter-signin'), 'dir');
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
      const usage = (from: string) => `
${from}
const strategy = new TwitterSignInStrategy(
  { consumerKey: 'k', consumerSecret: 's', callbackURL: '/cb', forceLogin: true },
  (token, tokenSecret, profile, done) => {
    const handle: string = profile.username;
    done(null, { id: profile.id, handle, token, tokenSecret });
  },
);
const name: string = strategy.name;
const withReq = new TwitterSignInStrategy(
  { consumerKey: 'k', consumerSecret: 's', callbackURL: '/cb', passReqToCallback: true },
  (req, _token, _secret, profile, done) => done(null, { id: profile.id, ip: req.ip }),
);
const withParams = new TwitterSignInStrategy(
  { consumerKey: 'k', consumerSecret: 's', callbackURL: '/cb' },
  // The params form is told apart by arity; TypeScript needs its parameters annotated.
  (_token: string, _secret: string, params: AccessTokenParams, profile: TwitterProfile, done: VerifyCallback) =>
    done(null, { id: profile.id, uid: params.user_id }),
);
const asyncVerify = new TwitterSignInStrategy(
  { consumerKey: 'k', consumerSecret: 's', callbackURL: '/cb' },
  async (_token, _secret, profile) => ({ id: profile.id }),
);
const err = new TwitterSignInError('ERR_TWITTER_HTTP', 'x');
const code: 'ERR_TWITTER_HTTP' | string = err.code;
const client = new TwitterOAuthClient({ consumerKey: 'k', consumerSecret: 's' });
const url: string = client.authorizationURL('t', { forceLogin: true });
// @ts-expect-error consumerSecret is required
new TwitterSignInStrategy({ consumerKey: 'k', callbackURL: '/cb' }, () => {});
export { name, withReq, withParams, asyncVerify, code, url };
`;
      writeFileSync(join(dir, 'esm.mts'), usage("import { TwitterSignInStrategy, TwitterSignInError, TwitterOAuthClient, type AccessTokenParams, type TwitterProfile, type VerifyCallback } from 'passport-twitter-signin';"));
      writeFileSync(join(dir, 'cjs.cts'), usage("import { TwitterSignInStrategy, TwitterSignInError, TwitterOAuthClient, type AccessTokenParams, type TwitterProfile, type VerifyCallback } from 'passport-twitter-signin';"));
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { strict: true, module: 'nodenext', target: 'es2022', noEmit: true, types: [] },
          files: ['esm.mts', 'cjs.cts'],
        }),
      );
      const tsc = join(root, 'node_modules', '.bin', 'tsc');
      let output = '';
      try {
        execFileSync(tsc, ['-p', dir], { cwd: dir, encoding: 'utf8' });
      } catch (e) {
        output = String((e as { stdout?: string }).stdout ?? e);
      }
      expect(output).to.equal('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
