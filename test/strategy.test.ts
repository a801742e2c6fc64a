import { expect } from 'chai';
import { TwitterSignInStrategy, Strategy } from '../lib/index.js';
import { SessionRequestTokenStore } from '../lib/stores/session.js';
import type { TwitterProfile } from '../lib/profile.js';
import { Browser, isolatedScope, startApp, type TestApp } from './helpers/app.js';
import {
  CONSUMER_KEY,
  CONSUMER_SECRET,
  interceptAccessToken,
  interceptRequestToken,
  TWITTER,
} from './helpers/twitter-nock.js';
import { nock, useNock } from './helpers/nock.js';

const USER = { id: '783214', screen_name: 'twitter' };

type VerifyArgs = unknown[];

function makeStrategy(
  extra: Record<string, unknown> = {},
  verify?: (...args: never[]) => unknown,
): { strategy: TwitterSignInStrategy; calls: VerifyArgs[] } {
  const calls: VerifyArgs[] = [];
  const fallback = (token: string, tokenSecret: string, profile: TwitterProfile, done: (e: null, u: unknown) => void) => {
    calls.push([token, tokenSecret, profile]);
    done(null, { id: profile.id, username: profile.username });
  };
  const strategy = new TwitterSignInStrategy(
    { consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, callbackURL: 'http://127.0.0.1/auth/twitter/callback', ...isolatedScope(), ...extra } as never,
    (verify ?? fallback) as never,
  );
  return { strategy, calls };
}

/** Runs step 1 in `browser`; returns the redirect URL. */
async function start(app: TestApp, browser: Browser, token: string, query = ''): Promise<URL> {
  interceptRequestToken(token);
  const res = await browser.get(`${app.url}/auth/twitter${query}`);
  expect(res.status, await res.clone().text()).to.equal(302);
  return new URL(res.headers.get('location')!);
}

function callback(app: TestApp, browser: Browser, token: string, verifier = 'verifier-1'): Promise<Response> {
  return browser.get(`${app.url}/auth/twitter/callback?oauth_token=${token}&oauth_verifier=${verifier}`);
}

describe('TwitterSignInStrategy', () => {
  let app: TestApp | undefined;

  useNock();
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  describe('constructor', () => {
    for (const field of ['consumerKey', 'consumerSecret', 'callbackURL']) {
      it(`throws a TypeError naming ${field} when it is missing`, () => {
        const options: Record<string, unknown> = { consumerKey: 'k', consumerSecret: 's', callbackURL: '/cb' };
        delete options[field];
        expect(() => new TwitterSignInStrategy(options as never, (() => {}) as never)).to.throw(TypeError, field);
      });
    }

    it('throws a TypeError when verify is missing', () => {
      expect(
        () => new TwitterSignInStrategy({ consumerKey: 'k', consumerSecret: 's', callbackURL: '/cb' }, undefined as never),
      ).to.throw(TypeError, 'verify');
    });

    it("is named 'twitter' and exported as Strategy for passport-twitter users", () => {
      const { strategy } = makeStrategy();
      expect(strategy.name).to.equal('twitter');
      expect(Strategy).to.equal(TwitterSignInStrategy);
    });

    it("refuses an accessType other than 'read' or 'write'", () => {
      expect(() => makeStrategy({ accessType: 'admin' })).to.throw(TypeError, 'accessType');
    });
  });

  describe('misspelt options', () => {
    for (const [wrong, right] of [['callbackUrl', 'callbackURL'], ['consumerSecrets', 'consumerSecret'], ['forcelogin', 'forceLogin']]) {
      it(`throws for ${wrong}, naming ${right}, instead of ignoring it or calling ${right} missing`, () => {
        const options: Record<string, unknown> = { consumerKey: 'k', consumerSecret: 's', callbackURL: '/cb', [wrong]: 'x' };
        expect(() => new TwitterSignInStrategy(options as never, () => undefined)).to.throw(TypeError, `Unknown option ${wrong}: did you mean ${right}?`);
      });
    }

    it('lists the options when a name is nothing like any of them', () => {
      expect(() => new TwitterSignInStrategy({ consumerKey: 'k', consumerSecret: 's', callbackURL: '/cb', frobnicate: 1 } as never, () => undefined)).to.throw(
        TypeError,
        /Unknown option frobnicate\. The options are callbackURL, /,
      );
    });
  });

  describe('start', () => {
    it('signs POST request_token with oauth_callback and redirects 302 to oauth/authenticate', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy);
      const captured = interceptRequestToken('req-token-1');
      const res = await new Browser().get(`${app.url}/auth/twitter`);
      expect(res.status).to.equal(302);
      expect(res.headers.get('location')).to.equal(`${TWITTER}/oauth/authenticate?oauth_token=req-token-1`);
      const header = captured.headers[0]!;
      expect(header.oauth_callback).to.equal('http://127.0.0.1/auth/twitter/callback');
      expect(header.oauth_consumer_key).to.equal(CONSUMER_KEY);
      expect(header.oauth_signature_method).to.equal('HMAC-SHA1');
      expect(header.oauth_version).to.equal('1.0');
      expect(header.oauth_nonce).to.match(/^[0-9a-f]{32}$/);
      expect(header.oauth_signature).to.be.a('string').and.not.empty;
    });

    it('resolves a relative callbackURL against the Host of the request', async () => {
      const { strategy } = makeStrategy({ callbackURL: '/auth/twitter/callback' });
      app = await startApp(strategy);
      const captured = interceptRequestToken('t');
      await new Browser().get(`${app.url}/auth/twitter`, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example' });
      expect(captured.headers[0]!.oauth_callback).to.equal(`${app.url}/auth/twitter/callback`);
    });

    it('believes X-Forwarded-Proto and X-Forwarded-Host when proxy is true', async () => {
      const { strategy } = makeStrategy({ callbackURL: '/auth/twitter/callback', proxy: true });
      app = await startApp(strategy);
      const captured = interceptRequestToken('t');
      await new Browser().get(`${app.url}/auth/twitter`, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example, proxy.internal' });
      expect(captured.headers[0]!.oauth_callback).to.equal('https://app.example/auth/twitter/callback');
    });

    it("believes X-Forwarded-* when Express's trust proxy is on", async () => {
      const { strategy } = makeStrategy({ callbackURL: '/auth/twitter/callback' });
      app = await startApp(strategy, { configure: (a) => a.set('trust proxy', true) });
      const captured = interceptRequestToken('t');
      await new Browser().get(`${app.url}/auth/twitter`, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example' });
      expect(captured.headers[0]!.oauth_callback).to.equal('https://app.example/auth/twitter/callback');
    });

    it("follows Express's trust proxy hop count: a proxy chain longer than trusted is not believed", async () => {
      const { strategy } = makeStrategy({ callbackURL: '/auth/twitter/callback' });
      // 'loopback' trusts the test client (127.0.0.1) as the proxy.
      app = await startApp(strategy, { configure: (a) => a.set('trust proxy', 'loopback') });
      const captured = interceptRequestToken('t');
      await new Browser().get(`${app.url}/auth/twitter`, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example' });
      expect(captured.headers[0]!.oauth_callback).to.equal('https://app.example/auth/twitter/callback');
      await app.close();
      app = await startApp(strategy, { configure: (a) => a.set('trust proxy', '10.0.0.0/8') });
      const untrusted = interceptRequestToken('t');
      await new Browser().get(`${app.url}/auth/twitter`, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example' });
      expect(untrusted.headers[0]!.oauth_callback).to.equal(`${app.url}/auth/twitter/callback`);
    });

    it('believes X-Forwarded-* with proxy: true even where Express would not', async () => {
      const { strategy } = makeStrategy({ callbackURL: '/cb', proxy: true });
      app = await startApp(strategy, { configure: (a) => a.set('trust proxy', false) });
      const captured = interceptRequestToken('t');
      await new Browser().get(`${app.url}/auth/twitter`, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example' });
      expect(captured.headers[0]!.oauth_callback).to.equal('https://app.example/cb');
    });

    it('adds force_login and screen_name to the authenticate URL, and sends x_auth_access_type', async () => {
      const { strategy } = makeStrategy({ forceLogin: true, screenName: 'jack', accessType: 'read' });
      app = await startApp(strategy);
      const captured = interceptRequestToken('t1');
      const res = await new Browser().get(`${app.url}/auth/twitter`);
      const location = new URL(res.headers.get('location')!);
      expect(location.searchParams.get('force_login')).to.equal('true');
      expect(location.searchParams.get('screen_name')).to.equal('jack');
      expect(captured.bodies[0]).to.equal('x_auth_access_type=read');
    });

    it('takes forceLogin, screenName, accessType and authorize per request from authenticate options', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy, {
        authenticateOptions: { forceLogin: true, screenName: 'ev', accessType: 'write', authorize: true },
      });
      const captured = interceptRequestToken('t2');
      const res = await new Browser().get(`${app.url}/auth/twitter`);
      const location = new URL(res.headers.get('location')!);
      expect(location.pathname).to.equal('/oauth/authorize');
      expect(location.searchParams.get('force_login')).to.equal('true');
      expect(location.searchParams.get('screen_name')).to.equal('ev');
      expect(captured.bodies[0]).to.equal('x_auth_access_type=write');
    });

    it('redirects to oauth/authorize (always ask) when authorize is true', async () => {
      const { strategy } = makeStrategy({ authorize: true });
      app = await startApp(strategy);
      interceptRequestToken('t3');
      const res = await new Browser().get(`${app.url}/auth/twitter`);
      expect(res.headers.get('location')).to.equal(`${TWITTER}/oauth/authorize?oauth_token=t3`);
    });

    it('uses overridden endpoint URLs (api.x.com)', async () => {
      const { strategy } = makeStrategy({
        requestTokenURL: 'https://api.x.com/oauth/request_token',
        userAuthorizationURL: 'https://api.x.com/oauth/authenticate',
      });
      app = await startApp(strategy);
      nock('https://api.x.com')
        .post('/oauth/request_token')
        .reply(200, 'oauth_token=x1&oauth_token_secret=s&oauth_callback_confirmed=true');
      const res = await new Browser().get(`${app.url}/auth/twitter`);
      expect(res.headers.get('location')).to.equal('https://api.x.com/oauth/authenticate?oauth_token=x1');
    });

    const refusals: [string, { status?: number; body?: string }, string][] = [
      ['HTTP 401', { status: 401, body: '{"errors":[{"code":32,"message":"Could not authenticate you."}]}' }, 'ERR_TWITTER_HTTP'],
      ['HTTP 403 (unregistered callback)', { status: 403, body: '<?xml version="1.0" encoding="UTF-8"?><errors><error code="415">Callback URL not approved for this client application.</error></errors>' }, 'ERR_TWITTER_HTTP'],
      ['a body without oauth_token', { body: 'oauth_token_secret=s&oauth_callback_confirmed=true' }, 'ERR_TWITTER_RESPONSE'],
      ['a body without oauth_token_secret', { body: 'oauth_token=t&oauth_callback_confirmed=true' }, 'ERR_TWITTER_RESPONSE'],
      ['oauth_callback_confirmed=false', { body: 'oauth_token=t&oauth_token_secret=s&oauth_callback_confirmed=false' }, 'ERR_CALLBACK_NOT_CONFIRMED'],
      ['no oauth_callback_confirmed', { body: 'oauth_token=t&oauth_token_secret=s' }, 'ERR_CALLBACK_NOT_CONFIRMED'],
      ['an HTML page', { body: '<html><body>Over capacity</body></html>' }, 'ERR_TWITTER_RESPONSE'],
    ];
    for (const [what, answer, code] of refusals) {
      it(`is an error ${code}, not a redirect, when request_token answers ${what}`, async () => {
        const { strategy } = makeStrategy();
        app = await startApp(strategy);
        interceptRequestToken('t', answer);
        const res = await new Browser().get(`${app.url}/auth/twitter`);
        expect(res.status).to.equal(500);
        const body = (await res.json()) as { error: string; message: string };
        expect(body.error).to.equal(code);
        expect(body.message).not.to.include(CONSUMER_SECRET);
      });
    }

    it('says to register the callback URL when Twitter does not approve it', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy);
      interceptRequestToken('t', {
        status: 403,
        body: '<?xml version="1.0" encoding="UTF-8"?><errors><error code="415">Callback URL not approved for this client application.</error></errors>',
      });
      const res = await new Browser().get(`${app.url}/auth/twitter`);
      const body = (await res.json()) as { message: string };
      expect(body.message).to.include('Callback URL not approved');
      // It names the callback URL that was sent, so a mismatch with the registered one shows.
      expect(body.message).to.match(/The callback URL sent was http:\/\/127\.0\.0\.1\/auth\/twitter\/callback: register it exactly so/);
    });

    it('is an error ERR_SESSION_REQUIRED that names express-session when there is no session', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy, { session: false });
      const captured = interceptRequestToken('t');
      const res = await new Browser().get(`${app.url}/auth/twitter`);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).to.equal('ERR_SESSION_REQUIRED');
      expect(body.message).to.include('express-session');
      expect(captured.headers, 'Twitter is not called first').to.have.length(0);
    });

    it('keeps pending sign-ins under sessionKey in the session', async () => {
      const { strategy } = makeStrategy({ sessionKey: 'my-twitter' });
      app = await startApp(strategy);
      app.app.get('/session-keys', (req, res) => {
        res.json(Object.keys(req.session).filter((k) => k !== 'cookie'));
      });
      const browser = new Browser();
      await start(app, browser, 'keyed');
      expect(await (await browser.get(`${app.url}/session-keys`)).json()).to.deep.equal(['my-twitter']);
    });

    it("lets proxy: false override Express's trust proxy", async () => {
      const { strategy } = makeStrategy({ callbackURL: '/cb', proxy: false });
      app = await startApp(strategy, { configure: (a) => a.set('trust proxy', true) });
      const captured = interceptRequestToken('t');
      await new Browser().get(`${app.url}/auth/twitter`, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example' });
      expect(captured.headers[0]!.oauth_callback).to.equal(`${app.url}/cb`);
    });
  });

  describe('a sign-in started on another host than the callback URL', () => {
    it('warns once through onWarning that the session cookie will not reach the callback, naming both hosts', async () => {
      const warnings: { code: string; message: string }[] = [];
      const { strategy } = makeStrategy({ callbackURL: 'http://localhost:3000/auth/twitter/callback', onWarning: (w: { code: string; message: string }) => warnings.push(w) });
      app = await startApp(strategy);
      const browser = new Browser();
      await start(app, browser, 'first');
      await start(app, browser, 'second');
      expect(warnings).to.have.length(1);
      expect(warnings[0]!.code).to.equal('CALLBACK_HOST_MISMATCH');
      expect(warnings[0]!.message).to.include('started on 127.0.0.1');
      expect(warnings[0]!.message).to.include('is on localhost');
      expect(warnings[0]!.message).to.include('NO_PENDING_SIGN_IN');
    });

    it("warns through node's process warnings by default", async () => {
      const { strategy } = makeStrategy({ callbackURL: 'http://localhost:3000/auth/twitter/callback' });
      app = await startApp(strategy);
      const warned = new Promise<Error & { code?: string }>((resolve) => process.once('warning', resolve));
      await start(app, new Browser(), 'default-warning');
      const warning = await warned;
      expect(warning.name).to.equal('TwitterSignInWarning');
      expect(warning.code).to.equal('CALLBACK_HOST_MISMATCH');
    });

    it('says nothing when the start and the callback share a host', async () => {
      const warnings: unknown[] = [];
      const { strategy } = makeStrategy({ onWarning: (w: unknown) => warnings.push(w) });
      app = await startApp(strategy);
      await start(app, new Browser(), 'same-host');
      expect(warnings).to.deep.equal([]);
    });
  });

  describe('options', () => {
    const base = { consumerKey: 'k', consumerSecret: 's', callbackURL: '/cb' };
    const invalid: [string, Record<string, unknown>, string][] = [
      ["passport-twitter's userProfileURL", { userProfileURL: 'https://x' }, 'fetchProfile'],
      ["passport-twitter's includeEntities: true", { includeEntities: true }, 'includeEntities'],
      ["passport-twitter's includeStatus: true", { includeStatus: true }, 'includeStatus'],
      ["userFields without fetchProfile 'v2'", { userFields: ['name'] }, "fetchProfile: 'v2'"],
      ['an agent that is not an http.Agent', { agent: true }, 'agent'],
      ['skipExtendedUserProfile: false', { skipExtendedUserProfile: false }, "fetchProfile: 'v1.1'"],
      ["includeEmail without fetchProfile 'v1.1'", { includeEmail: true }, "fetchProfile: 'v1.1'"],
      ['userFields that is not an array of strings', { fetchProfile: 'v2', userFields: 'name' }, 'userFields'],
      ['a forceLogin that is not a boolean', { forceLogin: 'yes' }, 'forceLogin'],
      ['an empty screenName', { screenName: '' }, 'screenName'],
      ['a requestTokenStore without get', { requestTokenStore: { set() {}, destroy() {} } }, 'requestTokenStore'],
      ['a non-positive timeout', { timeout: -1 }, 'timeout'],
      ['a relative requestTokenURL', { requestTokenURL: '/oauth/request_token' }, 'requestTokenURL'],
    ];
    for (const [what, extra, named] of invalid) {
      it(`refuses ${what} in the constructor, naming what to use`, () => {
        expect(() => new TwitterSignInStrategy({ ...base, ...extra } as never, (() => {}) as never)).to.throw(TypeError, named);
      });
    }

    it("accepts passport-twitter's options that ask for what this package does anyway", () => {
      for (const extra of [{ skipExtendedUserProfile: true }, { includeEntities: false }, { includeStatus: false }]) {
        expect(() => new TwitterSignInStrategy({ ...base, ...extra } as never, (() => {}) as never), JSON.stringify(extra)).not.to.throw();
      }
    });
  });

  describe('custom stores', () => {
    it('works with a promise-based store without hasPending, reporting an unknown token as UNKNOWN_TOKEN', async () => {
      // A store a user might write: pending sign-ins in a server-side map keyed by session id.
      const byBrowser = new Map<string, Map<string, { tokenSecret: string; expiresAt: number }>>();
      const idOf = (req: unknown) => (req as { sessionID: string }).sessionID;
      const store = {
        async set(req: unknown, token: string, tokenSecret: string) {
          const mine = byBrowser.get(idOf(req)) ?? new Map();
          mine.set(token, { tokenSecret, expiresAt: Date.now() + 60_000 });
          byBrowser.set(idOf(req), mine);
        },
        async get(req: unknown, token: string) {
          const entry = byBrowser.get(idOf(req))?.get(token);
          return entry && { token, ...entry };
        },
        async destroy(req: unknown, token: string) {
          byBrowser.get(idOf(req))?.delete(token);
        },
      };
      const { strategy } = makeStrategy({ requestTokenStore: store });
      app = await startApp(strategy, { saveUninitialized: true });
      const browser = new Browser();
      await start(app, browser, 'custom');
      interceptAccessToken(USER);
      expect((await callback(app, browser, 'custom')).status).to.equal(200);
      const unknown = await callback(app, new Browser(), 'never-started');
      expect(((await unknown.json()) as { failure: { code: string } }).failure.code).to.equal('UNKNOWN_TOKEN');
    });

    it('is ERR_STORE, with the cause kept, when a store throws', async () => {
      const cause = new Error('store down');
      const { strategy } = makeStrategy({
        requestTokenStore: { set: () => Promise.reject(cause), get: () => undefined, destroy: () => {} },
      });
      app = await startApp(strategy);
      interceptRequestToken('t');
      const res = await new Browser().get(`${app.url}/auth/twitter`);
      expect(((await res.json()) as { error: string }).error).to.equal('ERR_STORE');
    });
  });

  describe('callback', () => {
    it('exchanges the token and verifier and calls verify with the access token, its secret and the profile', async () => {
      const { strategy, calls } = makeStrategy();
      app = await startApp(strategy);
      const browser = new Browser();
      await start(app, browser, 'req-A');
      const access = interceptAccessToken(USER);
      const res = await callback(app, browser, 'req-A', 'the-verifier');
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ user: { id: USER.id, username: USER.screen_name } });
      const [token, tokenSecret, profile] = calls[0]!;
      expect(token).to.equal(`access-${USER.id}`);
      expect(tokenSecret).to.equal(`access-secret-${USER.id}`);
      expect(profile).to.deep.equal({
        provider: 'twitter',
        id: USER.id,
        username: USER.screen_name,
        displayName: USER.screen_name,
        _json: { user_id: USER.id, screen_name: USER.screen_name },
      });
      expect(access.headers[0]!.oauth_token).to.equal('req-A');
      expect(access.headers[0]!.oauth_verifier).to.equal('the-verifier');
      // The session survives passport 0.7's regeneration at login.
      const me = await browser.get(`${app.url}/me`);
      expect(await me.json()).to.deep.equal({ user: { id: USER.id, username: USER.screen_name } });
    });

    it('refuses a token that this browser did not start, without calling Twitter', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy);
      const mine = new Browser();
      await start(app, mine, 'mine');
      const access = interceptAccessToken(USER);
      const res = await callback(app, mine, 'someone-elses');
      expect(res.status).to.equal(401);
      expect(((await res.json()) as { failure: { code: string } }).failure.code).to.equal('UNKNOWN_TOKEN');
      expect(access.scope.isDone()).to.equal(false);
    });

    it('says the session cookie was likely lost when nothing was started in this browser', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy);
      await start(app, new Browser(), 'started-elsewhere');
      const access = interceptAccessToken(USER);
      const res = await callback(app, new Browser(), 'started-elsewhere');
      const { failure } = (await res.json()) as { failure: { code: string; message: string } };
      expect(failure.code).to.equal('NO_PENDING_SIGN_IN');
      expect(failure.message).to.include('session cookie');
      expect(failure.message).to.include('127.0.0.1');
      expect(access.scope.isDone()).to.equal(false);
    });

    it('never exchanges a replayed callback twice', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy);
      const browser = new Browser();
      await start(app, browser, 'once');
      interceptAccessToken(USER);
      const second = interceptAccessToken(USER);
      expect((await callback(app, browser, 'once')).status).to.equal(200);
      const replay = await callback(app, browser, 'once');
      expect(replay.status).to.equal(401);
      expect(second.scope.isDone()).to.equal(false);
    });

    it('refuses an expired pending sign-in, without calling Twitter', async () => {
      const { strategy } = makeStrategy({
        requestTokenStore: new SessionRequestTokenStore({ ttl: 30 }),
      });
      app = await startApp(strategy);
      const browser = new Browser();
      await start(app, browser, 'slow');
      await new Promise((r) => setTimeout(r, 60));
      const access = interceptAccessToken(USER);
      const res = await callback(app, browser, 'slow');
      expect(((await res.json()) as { failure: { code: string } }).failure.code).to.equal('EXPIRED_TOKEN');
      expect(access.scope.isDone()).to.equal(false);
    });

    it('keeps several pending sign-ins per browser (two tabs), each usable once', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy, { authenticateOptions: { keepSessionInfo: true } });
      const browser = new Browser();
      await start(app, browser, 'tab-1');
      await start(app, browser, 'tab-2');
      interceptAccessToken({ id: '2', screen_name: 'two' });
      interceptAccessToken({ id: '1', screen_name: 'one' });
      expect((await callback(app, browser, 'tab-2')).status).to.equal(200);
      const first = await callback(app, browser, 'tab-1');
      expect(first.status).to.equal(200);
      expect(await first.json()).to.deep.equal({ user: { id: '1', username: 'one' } });
    });

    it('keeps at most five pending sign-ins per browser, the newest winning', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy);
      const browser = new Browser();
      for (let i = 1; i <= 6; i++) await start(app, browser, `t${i}`);
      const access = interceptAccessToken(USER);
      const oldest = await callback(app, browser, 't1');
      expect(((await oldest.json()) as { failure: { code: string } }).failure.code).to.equal('UNKNOWN_TOKEN');
      expect(access.scope.isDone()).to.equal(false);
      expect((await callback(app, browser, 't6')).status).to.equal(200);
    });

    const hostile: [string, string][] = [
      ['a repeated oauth_token (array)', 'oauth_token=a&oauth_token=b&oauth_verifier=v'],
      ['a bracketed oauth_token (object)', 'oauth_token[x]=a&oauth_verifier=v'],
      ['an empty oauth_verifier', 'oauth_token=a&oauth_verifier='],
      ['an oauth_token without oauth_verifier', 'oauth_token=a'],
      ['an 8 KB oauth_token', `oauth_token=${'a'.repeat(8_000)}&oauth_verifier=v`],
      ['bytes that are not UTF-8', 'oauth_token=%FF%FE&oauth_verifier=v'],
      ['a token with spaces and control characters', 'oauth_token=a%20b%00&oauth_verifier=v'],
      ['__proto__ as the token', 'oauth_token=__proto__&oauth_verifier=v'],
    ];
    for (const [what, query] of hostile) {
      it(`fails, without calling Twitter, on ${what}`, async () => {
        const { strategy } = makeStrategy();
        // The extended (qs) parser turns brackets into objects: the most hostile shapes.
        app = await startApp(strategy, { configure: (a) => a.set('query parser', 'extended') });
        const browser = new Browser();
        await start(app, browser, 'pending');
        const access = interceptAccessToken(USER);
        const res = await browser.get(`${app.url}/auth/twitter/callback?${query}`);
        expect(res.status).to.equal(401);
        const { failure } = (await res.json()) as { failure: { code: string } };
        expect(['MALFORMED_CALLBACK', 'UNKNOWN_TOKEN']).to.include(failure.code);
        expect(access.scope.isDone()).to.equal(false);
        // The real pending sign-in is not lost.
        expect((await callback(app, browser, 'pending')).status).to.equal(200);
      });
    }

    it('fails with DENIED when the user cancels, and drops that pending sign-in', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy);
      const browser = new Browser();
      await start(app, browser, 'cancel-me');
      const denied = await browser.get(`${app.url}/auth/twitter/callback?denied=cancel-me`);
      expect(denied.status).to.equal(401);
      expect(((await denied.json()) as { failure: { code: string } }).failure.code).to.equal('DENIED');
      const access = interceptAccessToken(USER);
      const late = await callback(app, browser, 'cancel-me');
      expect(late.status).to.equal(401);
      expect(access.scope.isDone()).to.equal(false);
    });

    it('applies failureRedirect to a cancelled sign-in', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy);
      const passport = await import('passport');
      const p = new passport.Passport();
      p.use(strategy);
      app.app.get('/cancel-test', p.authenticate('twitter', { failureRedirect: '/login?cancelled' }));
      const res = await new Browser().get(`${app.url}/cancel-test?denied=x`);
      expect(res.status).to.equal(302);
      expect(res.headers.get('location')).to.equal('/login?cancelled');
    });

    it('is an error with the hint to start again when access_token is refused', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy);
      const browser = new Browser();
      await start(app, browser, 'refused');
      interceptAccessToken(USER, { status: 401, body: '{"errors":[{"code":89,"message":"Invalid or expired token."}]}' });
      const res = await callback(app, browser, 'refused', 'secret-verifier-value');
      expect(res.status).to.equal(500);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).to.equal('ERR_TWITTER_HTTP');
      expect(body.message).to.include('Invalid or expired token');
      expect(body.message).to.include('start the sign-in again');
      expect(body.message).not.to.include('secret-verifier-value');
      expect(body.message).not.to.include('refused-secret');
    });

    for (const missing of ['oauth_token', 'oauth_token_secret', 'user_id', 'screen_name']) {
      it(`is an error ERR_TWITTER_RESPONSE when access_token answers without ${missing}`, async () => {
        const { strategy, calls } = makeStrategy();
        app = await startApp(strategy);
        const browser = new Browser();
        await start(app, browser, 'partial');
        const fields: Record<string, string> = {
          oauth_token: 'a',
          oauth_token_secret: 'leaky-access-secret',
          user_id: '1',
          screen_name: 'one',
        };
        delete fields[missing];
        interceptAccessToken(USER, { body: new URLSearchParams(fields).toString() });
        const res = await callback(app, browser, 'partial');
        const body = (await res.json()) as { error: string; message: string };
        expect(body.error).to.equal('ERR_TWITTER_RESPONSE');
        expect(body.message).to.include(missing);
        expect(body.message).not.to.include('leaky-access-secret');
        expect(calls).to.have.length(0);
      });
    }

    it('keeps the pending sign-ins of two strategy instances apart', async () => {
      const a = makeStrategy().strategy;
      const b = new TwitterSignInStrategy(
        { consumerKey: 'other-app', consumerSecret: 'other-secret', callbackURL: 'http://127.0.0.1/cb' },
        (_t, _s, profile, done) => done(null, { id: profile.id }),
      );
      b.name = 'twitter-b';
      app = await startApp(a);
      const passport = await import('passport');
      const p = new passport.Passport();
      p.use(b);
      app.app.get('/b/callback', (req, res, next) =>
        p.authenticate('twitter-b', (err: unknown, user: unknown, info: { code?: string }) => {
          res.status(err ? 500 : user ? 200 : 401).json({ code: info?.code });
        })(req, res, next),
      );
      const browser = new Browser();
      await start(app, browser, 'for-a');
      const access = interceptAccessToken(USER);
      const res = await browser.get(`${app.url}/b/callback?oauth_token=for-a&oauth_verifier=v`);
      expect(res.status).to.equal(401);
      expect(access.scope.isDone()).to.equal(false);
    });
  });

  describe('concurrency and the app callback', () => {
    it('exchanges a callback once when the same callback arrives twice at the same moment', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy);
      const browser = new Browser();
      await start(app, browser, 'racy');
      // Twitter answers slowly: both requests are in flight before the first one finishes.
      nock(TWITTER).post('/oauth/access_token').delay(300).reply(200, `oauth_token=a&oauth_token_secret=b&user_id=${USER.id}&screen_name=${USER.screen_name}`);
      const second = nock(TWITTER).post('/oauth/access_token').reply(200, 'oauth_token=a&oauth_token_secret=b&user_id=9&screen_name=x');
      const statuses = (await Promise.all([callback(app, browser, 'racy'), callback(app, browser, 'racy')])).map((r) => r.status);
      expect(statuses.sort()).to.deep.equal([200, 401]);
      expect(second.isDone()).to.equal(false);
    });

    it('refuses a second copy of a callback that arrives while the app is still finishing the first', async () => {
      const { strategy } = makeStrategy();
      app = await startApp(strategy);
      const passport = await import('passport');
      const p = new passport.Passport();
      p.use(strategy);
      p.serializeUser((u, done) => done(null, u));
      // The app takes its time after verify (a slow database, say): the session still holds the
      // pending sign-in until this response ends.
      app.app.get('/slow/callback', (req, res, next) =>
        p.authenticate('twitter', (err: unknown, user: Express.User | false, info: { code?: string }) => {
          if (err || !user) return res.status(err ? 500 : 401).json({ code: info?.code });
          setTimeout(() => req.logIn(user, () => res.json({ user })), 300);
        })(req, res, next),
      );
      const browser = new Browser();
      await start(app, browser, 'slow-app');
      interceptAccessToken(USER);
      const second = interceptAccessToken(USER);
      const first = browser.get(`${app.url}/slow/callback?oauth_token=slow-app&oauth_verifier=v`);
      await new Promise((r) => setTimeout(r, 150));
      const copy = await browser.get(`${app.url}/slow/callback?oauth_token=slow-app&oauth_verifier=v`);
      expect((await first).status).to.equal(200);
      expect(copy.status).to.equal(401);
      expect(second.scope.isDone()).to.equal(false);
    });

    for (const outcome of ['success', 'failure'] as const) {
      it(`hands a throw from the app's own callback on ${outcome} to Express once, without a hang or a second call`, async () => {
        const { strategy } = makeStrategy();
        app = await startApp(strategy);
        const passport = await import('passport');
        const p = new passport.Passport();
        p.use(strategy);
        let calls = 0;
        const rejections: unknown[] = [];
        const onRejection = (reason: unknown) => rejections.push(reason);
        process.on('unhandledRejection', onRejection);
        try {
          app.app.get('/throwing/callback', (req, res, next) =>
            p.authenticate('twitter', () => {
              calls++;
              throw new Error('bug in the app callback');
            })(req, res, next),
          );
          app.app.use((err: Error, _req: unknown, res: { status(n: number): { json(b: unknown): void } }, _next: unknown) => {
            res.status(599).json({ message: err.message });
          });
          const browser = new Browser();
          let query = 'denied=x';
          if (outcome === 'success') {
            await start(app, browser, 'throw-token');
            interceptAccessToken(USER);
            query = 'oauth_token=throw-token&oauth_verifier=v';
          }
          const res = await browser.get(`${app.url}/throwing/callback?${query}`);
          expect(res.status).to.equal(599);
          expect(await res.json()).to.deep.equal({ message: 'bug in the app callback' });
          await new Promise((r) => setTimeout(r, 20));
          expect(calls).to.equal(1);
          expect(rejections).to.deep.equal([]);
        } finally {
          process.off('unhandledRejection', onRejection);
        }
      });
    }
  });

  describe('verify', () => {
    async function signIn(strategy: TwitterSignInStrategy): Promise<Response> {
      app = await startApp(strategy);
      const browser = new Browser();
      await start(app, browser, 'v-token');
      interceptAccessToken(USER);
      return callback(app, browser, 'v-token');
    }

    it('receives the request first with passReqToCallback', async () => {
      let seen: unknown;
      const { strategy } = makeStrategy({ passReqToCallback: true }, ((req: { url: string }, _t: string, _s: string, profile: TwitterProfile, done: (e: null, u: unknown) => void) => {
        seen = req.url;
        done(null, { id: profile.id });
      }) as never);
      const res = await signIn(strategy);
      expect(res.status).to.equal(200);
      expect(seen).to.match(/^\/auth\/twitter\/callback\?/);
    });

    it("receives passport-twitter's params before the profile in the 5-argument form, without the token or its secret", async () => {
      let params: Record<string, string> | undefined;
      const { strategy } = makeStrategy({}, ((_t: string, _s: string, p: Record<string, string>, profile: TwitterProfile, done: (e: null, u: unknown) => void) => {
        params = p;
        done(null, { id: profile.id });
      }) as never);
      expect((await signIn(strategy)).status).to.equal(200);
      // Apps log params: the access token must not be in them (passport-twitter's never held it).
      expect(params).to.deep.equal({ user_id: USER.id, screen_name: USER.screen_name });
    });

    it('receives req and params in the 6-argument form', async () => {
      let got: unknown[] = [];
      const { strategy } = makeStrategy({ passReqToCallback: true }, ((req: unknown, _t: string, _s: string, p: Record<string, string>, profile: TwitterProfile, done: (e: null, u: unknown) => void) => {
        got = [typeof req, p.user_id, profile.username];
        done(null, { id: profile.id });
      }) as never);
      expect((await signIn(strategy)).status).to.equal(200);
      expect(got).to.deep.equal(['object', USER.id, USER.screen_name]);
    });

    it('accepts an async verify that returns the user', async () => {
      const { strategy } = makeStrategy({}, (async (_t: string, _s: string, profile: TwitterProfile) => ({ id: `async-${profile.id}` })) as never);
      const res = await signIn(strategy);
      expect(await res.json()).to.deep.equal({ user: { id: `async-${USER.id}` } });
    });

    it('accepts a synchronous verify that returns the user and declares no done', async () => {
      const { strategy } = makeStrategy({}, ((_t: string, _s: string, profile: TwitterProfile) => ({ id: `sync-${profile.id}` })) as never);
      const res = await signIn(strategy);
      expect(await res.json()).to.deep.equal({ user: { id: `sync-${USER.id}` } });
    });

    it('fails when an async verify resolves to false', async () => {
      const { strategy } = makeStrategy({}, (async () => false) as never);
      expect((await signIn(strategy)).status).to.equal(401);
    });

    it('is an error when an async verify rejects', async () => {
      const { strategy } = makeStrategy({}, (async () => {
        throw Object.assign(new Error('db down'), { code: 'DB_DOWN' });
      }) as never);
      const res = await signIn(strategy);
      expect(res.status).to.equal(500);
      expect(((await res.json()) as { error: string }).error).to.equal('DB_DOWN');
    });

    it('maps done(err) to an error and done(null, false, info) to a failure with that info', async () => {
      const failing = makeStrategy({}, ((_t: string, _s: string, _p: unknown, done: (e: null, u: false, i: unknown) => void) =>
        done(null, false, { message: 'banned user' })) as never).strategy;
      const res = await signIn(failing);
      expect(res.status).to.equal(401);
      expect(await res.json()).to.deep.equal({ failure: { message: 'banned user' } });
      await app!.close();
      const erroring = makeStrategy({}, ((_t: string, _s: string, _p: unknown, done: (e: Error) => void) =>
        done(Object.assign(new Error('nope'), { code: 'E_VERIFY' }))) as never).strategy;
      const res2 = await signIn(erroring);
      expect(res2.status).to.equal(500);
      expect(((await res2.json()) as { error: string }).error).to.equal('E_VERIFY');
    });

    it('is an error when verify throws', async () => {
      const { strategy } = makeStrategy({}, (() => {
        throw Object.assign(new Error('boom'), { code: 'E_THROW' });
      }) as never);
      const res = await signIn(strategy);
      expect(((await res.json()) as { error: string }).error).to.equal('E_THROW');
    });
  });
});
