import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Passport } from 'passport';
import { TwitterSignInError } from '../../lib/errors.js';
import { CookieRequestTokenStore, type CookieRequestTokenStoreOptions } from '../../lib/stores/cookie.js';
import { TwitterSignInStrategy } from '../../lib/strategy.js';
import { nock, useNock } from '../helpers/nock.js';
import { Browser, isolatedScope, startApp, type TestApp, type TestAppOptions } from '../helpers/app.js';
import { selfSignedCertificate, type Certificate } from '../helpers/tls.js';

const TWITTER = 'https://api.x.com';
const ACCESS_TOKEN_URL = `${TWITTER}/oauth/access_token`;
const CONSUMER_SECRET = 'consumer-secret-for-tests';
const SCOPE = 'oauth:twitter:consumer-key';
const SECRET = randomBytes(32).toString('hex');
const OLD_SECRET = randomBytes(32).toString('hex');
const COOKIE = 'twitter_signin';
const HTTPS_COOKIE = '__Host-twitter_signin';

/**
 * Twitter's two OAuth endpoints. Request tokens are numbered; the access-token endpoint checks the
 * HMAC-SHA1 signature with the request token's secret, as Twitter does, so a sign-in succeeds only
 * if the store handed back the right secret.
 */
class FakeTwitter {
  /** Request token → its secret, for every request token handed out. */
  readonly secrets = new Map<string, string>();
  /** Every oauth_token the access-token endpoint was asked to exchange. */
  readonly exchanges: string[] = [];
  #issued = 0;

  requestTokens(times = 1): nock.Scope {
    return nock(TWITTER)
      .post('/oauth/request_token')
      .times(times)
      .reply(200, () => {
        const n = ++this.#issued;
        const token = `request-token-${n}`;
        const secret = `request-token-secret-${n}-MUST-NOT-LEAK`;
        this.secrets.set(token, secret);
        return `oauth_token=${token}&oauth_token_secret=${secret}&oauth_callback_confirmed=true`;
      });
  }

  accessTokens(times = 1): nock.Scope {
    return nock(TWITTER)
      .post('/oauth/access_token')
      .times(times)
      .reply(async (request) => {
        const authorization = request.headers.get('authorization') ?? '';
        const params = oauthHeaderParams(authorization);
        const token = params.get('oauth_token') ?? '';
        this.exchanges.push(token);
        const secret = this.secrets.get(token);
        if (!secret || !signedWith(authorization, await request.text(), secret)) {
          return [401, '{"errors":[{"code":89,"message":"Invalid or expired token."}]}'];
        }
        return [200, `oauth_token=access-${token}&oauth_token_secret=access-secret&user_id=42&screen_name=alice`];
      });
  }
}

function oauthHeaderParams(authorization: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const m of authorization.matchAll(/([A-Za-z0-9_]+)="([^"]*)"/g)) {
    params.set(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
  }
  return params;
}

// RFC 5849 §3.4: the signature base string and HMAC-SHA1 with consumer secret & token secret.
function signedWith(authorization: string, body: string, tokenSecret: string): boolean {
  const enc = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const header = oauthHeaderParams(authorization);
  const pairs: [string, string][] = [];
  for (const [k, v] of header) if (k !== 'oauth_signature' && k !== 'realm') pairs.push([enc(k), enc(v)]);
  for (const [k, v] of new URLSearchParams(body)) pairs.push([enc(k), enc(v)]);
  pairs.sort(([a, b], [c, d]) => (a < c ? -1 : a > c ? 1 : b < d ? -1 : b > d ? 1 : 0));
  const normalized = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  const base = `POST&${enc(ACCESS_TOKEN_URL)}&${enc(normalized)}`;
  const expected = createHmac('sha1', `${enc(CONSUMER_SECRET)}&${enc(tokenSecret)}`).update(base).digest('base64');
  return expected === header.get('oauth_signature');
}

const apps: TestApp[] = [];
// One scope per test, shared by the test's strategies (a cookie sealed by one app is read by
// another in the key-rotation tests): the strategies of a scope remember its used callbacks for
// the whole process, and these tests reuse made-up token names from test to test.
let testScope = SCOPE;
beforeEach(() => {
  testScope = isolatedScope().sessionKey;
});

function strategyWith(store: CookieRequestTokenStore, extra: { proxy?: boolean; callbackURL?: string } = {}): TwitterSignInStrategy {
  const strategy = new TwitterSignInStrategy(
    { consumerKey: 'consumer-key', consumerSecret: CONSUMER_SECRET, callbackURL: '/auth/twitter/callback', requestTokenStore: store, sessionKey: testScope, ...extra },
    (_token, _tokenSecret, profile, done) => done(null, { id: profile.id, username: profile.username }),
  );
  return strategy;
}

/** An Express app with no express-session at all, its strategy keeping sign-ins in a cookie. */
async function appWith(
  store: CookieRequestTokenStore | CookieRequestTokenStoreOptions,
  options: TestAppOptions & { strategy?: { proxy?: boolean; callbackURL?: string } } = {},
): Promise<TestApp> {
  const cookieStore = store instanceof CookieRequestTokenStore ? store : new CookieRequestTokenStore(store);
  const app = await startApp(strategyWith(cookieStore, options.strategy), {
    session: false,
    authenticateOptions: { session: false },
    ...options,
  });
  apps.push(app);
  return app;
}

/** Step 1: returns the request token the browser was sent to Twitter with. */
async function start(browser: Browser, app: TestApp, headers: Record<string, string> = {}): Promise<string> {
  const res = await browser.get(`${app.url}/auth/twitter`, headers);
  expect(res.status, await res.clone().text()).to.equal(302);
  const token = new URL(res.headers.get('location')!).searchParams.get('oauth_token');
  expect(token).to.be.a('string');
  return token!;
}

/** Step 3: Twitter sends the browser back. */
function callback(browser: Browser, app: TestApp, token: string): Promise<Response> {
  return browser.get(`${app.url}/auth/twitter/callback?oauth_token=${token}&oauth_verifier=verifier-for-${token}`);
}

function cookieLines(res: Response, name = COOKIE): string[] {
  return res.headers.getSetCookie().filter((line) => line.startsWith(`${name}=`));
}

function attributes(line: string): string[] {
  return line.split(';').slice(1).map((a) => a.trim().toLowerCase());
}

async function expectFailure(res: Response, code: string): Promise<void> {
  expect(res.status).to.equal(401);
  const body = (await res.json()) as { failure?: { code?: string } };
  expect(body.failure?.code).to.equal(code);
}

async function expectSignedIn(res: Response): Promise<void> {
  expect(res.status, await res.clone().text()).to.equal(200);
  expect(await res.json()).to.deep.equal({ user: { id: '42', username: 'alice' } });
}

// Moves Date.now forward (the stores and the strategy read the time from it), so expiry tests
// do not race a short ttl against the machine's load. Restored after each test.
const realNow = Date.now;
function clockAhead(ms: number): void {
  const base = Date.now();
  const started = realNow();
  Date.now = () => base + ms + (realNow() - started);
}

describe('CookieRequestTokenStore', () => {
  afterEach(() => {
    Date.now = realNow;
  });
  let twitter: FakeTwitter;

  useNock();

  beforeEach(() => {
    twitter = new FakeTwitter();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  describe('sign-in without a session', () => {
    it('signs a user in with no express-session at all, and clears the cookie on the callback', async () => {
      const app = await appWith({ secret: SECRET });
      twitter.requestTokens();
      const access = twitter.accessTokens();
      const browser = new Browser();

      const startRes = await browser.get(`${app.url}/auth/twitter`);
      expect(startRes.status).to.equal(302);
      expect(startRes.headers.getSetCookie().filter((l) => l.startsWith('connect.sid='))).to.deep.equal([]);
      expect(cookieLines(startRes)).to.have.length(1);
      expect(browser.cookies.get(COOKIE)).to.be.a('string').and.not.equal('');
      const token = new URL(startRes.headers.get('location')!).searchParams.get('oauth_token')!;

      const res = await callback(browser, app, token);
      await expectSignedIn(res);
      expect(access.isDone()).to.equal(true);
      const [clear, ...more] = cookieLines(res);
      expect(more).to.deep.equal([]);
      expect(clear!.split(';')[0]).to.equal(`${COOKIE}=`);
      expect(attributes(clear!)).to.include('max-age=0');
      expect(browser.cookies.has(COOKIE)).to.equal(false);
    });

    it('signs the access-token call with the token secret kept in the cookie', async () => {
      const app = await appWith({ secret: SECRET });
      twitter.requestTokens();
      twitter.accessTokens();
      const browser = new Browser();
      const token = await start(browser, app);
      // A store that returned any other secret would fail the fake's signature check (401 → 500).
      await expectSignedIn(await callback(browser, app, token));
      expect(twitter.exchanges).to.deep.equal([token]);
    });

    it('keeps cookies set by the app beside its own', async () => {
      const app = await appWith(
        { secret: SECRET },
        {
          configure: (express) =>
            express.use((_req, res, next) => {
              res.cookie('theme', 'dark');
              next();
            }),
        },
      );
      twitter.requestTokens();
      const res = await new Browser().get(`${app.url}/auth/twitter`);
      expect(res.status).to.equal(302);
      expect(res.headers.getSetCookie().map((l) => l.split('=')[0])).to.have.members(['theme', COOKIE]);
    });

    it('sends one cookie line per response even when the store writes several times in one request', async () => {
      const store = new CookieRequestTokenStore({ secret: SECRET });
      const app = await appWith(store, {
        configure: (express) =>
          express.get('/several-writes', (req, res) => {
            store.set(req, 'request-token-1', 'secret-1', testScope);
            store.set(req, 'request-token-2', 'secret-2', testScope);
            store.set(req, 'request-token-3', 'secret-3', testScope);
            store.destroy(req, 'request-token-2', testScope);
            res.end();
          }),
      });
      for (const n of [1, 2, 3]) twitter.secrets.set(`request-token-${n}`, `secret-${n}`);
      twitter.accessTokens(2);
      const browser = new Browser();

      const res = await browser.get(`${app.url}/several-writes`);
      expect(cookieLines(res)).to.have.length(1);
      // Each write saw the one before it in the same request (the Cookie header still had none):
      // 1 and 3 are pending, 2 is gone.
      await expectFailure(await callback(browser, app, 'request-token-2'), 'UNKNOWN_TOKEN');
      await expectSignedIn(await callback(browser, app, 'request-token-1'));
      await expectSignedIn(await callback(browser, app, 'request-token-3'));
    });

    it('finds its cookie behind a planted one of the same name', async () => {
      const app = await appWith({ secret: SECRET });
      twitter.requestTokens();
      twitter.accessTokens();
      const browser = new Browser();
      const token = await start(browser, app);
      const real = browser.cookies.get(COOKIE)!;
      // A sibling subdomain can plant a cookie with a longer path, which browsers send first.
      const res = await new Browser().get(
        `${app.url}/auth/twitter/callback?oauth_token=${token}&oauth_verifier=v`,
        { cookie: `theme=dark; ${COOKIE}=planted-junk; ${COOKIE}="${real}"` },
      );
      await expectSignedIn(res);
    });

    it("finds its cookie behind a planted one that does open: another browser's sign-in, sealed by this app", async () => {
      const app = await appWith({ secret: SECRET });
      twitter.requestTokens(2);
      twitter.accessTokens();
      // The attacker's own sign-in, whose cookie this app sealed for the attacker.
      const attacker = new Browser();
      await start(attacker, app);
      const planted = attacker.cookies.get(COOKIE)!;
      const victim = new Browser();
      const token = await start(victim, app);
      const real = victim.cookies.get(COOKIE)!;
      const res = await new Browser().get(`${app.url}/auth/twitter/callback?oauth_token=${token}&oauth_verifier=v`, {
        cookie: `${COOKIE}=${planted}; ${COOKIE}=${real}`,
      });
      await expectSignedIn(res);
    });

    it('finds its cookie behind any number of planted ones of the same name', async () => {
      const app = await appWith({ secret: SECRET });
      twitter.requestTokens();
      twitter.accessTokens();
      const browser = new Browser();
      const token = await start(browser, app);
      const real = browser.cookies.get(COOKIE)!;
      // Junk that passes every cheap check (base64url, a sealed cookie's length) and fails only
      // decryption, as much as fits in node's 16 KiB of headers: four of these used to hide the
      // real cookie, which came fifth.
      const planted = Array.from({ length: 100 }, () => `${COOKIE}=${randomBytes(90).toString('base64url')}`);
      const res = await new Browser().get(
        `${app.url}/auth/twitter/callback?oauth_token=${token}&oauth_verifier=v`,
        { cookie: [...planted, `${COOKIE}=${real}`].join('; ') },
      );
      await expectSignedIn(res);
    });

    it('forgets a sign-in the user cancelled on Twitter', async () => {
      const app = await appWith({ secret: SECRET });
      twitter.requestTokens();
      const access = twitter.accessTokens();
      const browser = new Browser();
      const token = await start(browser, app);
      const denied = await browser.get(`${app.url}/auth/twitter/callback?denied=${token}`);
      await expectFailure(denied, 'DENIED');
      expect(attributes(cookieLines(denied)[0]!)).to.include('max-age=0');
      await expectFailure(await callback(browser, app, token), 'NO_PENDING_SIGN_IN');
      expect(access.isDone()).to.equal(false);
    });

    it('forgets expired sign-ins when a new one starts', async () => {
      const app = await appWith({ secret: SECRET, ttl: 60_000 });
      twitter.requestTokens(2);
      twitter.accessTokens();
      const browser = new Browser();
      const old = await start(browser, app);
      clockAhead(61_000);
      const fresh = await start(browser, app);
      // Still in the cookie it would be EXPIRED_TOKEN; dropped, it is unknown.
      await expectFailure(await callback(browser, app, old), 'UNKNOWN_TOKEN');
      await expectSignedIn(await callback(browser, app, fresh));
    });
  });

  describe('cookie attributes', () => {
    async function startLine(
      options: Partial<CookieRequestTokenStoreOptions>,
      appOptions: Parameters<typeof appWith>[1] = {},
      headers = {},
      name = options.name ?? COOKIE,
    ) {
      const app = await appWith({ secret: SECRET, ...options }, appOptions);
      twitter.requestTokens();
      const res = await new Browser().get(`${app.url}/auth/twitter`, headers);
      expect(res.status).to.equal(302);
      expect(res.headers.getSetCookie().map((l) => l.split('=')[0])).to.deep.equal([name]);
      const lines = cookieLines(res, name);
      expect(lines).to.have.length(1);
      return attributes(lines[0]!);
    }

    it('is HttpOnly, SameSite=Lax, Path=/ and lives ttl plus a grace minute, without Secure over http', async () => {
      const attrs = await startLine({});
      expect(attrs).to.include.members(['httponly', 'samesite=lax', 'path=/', 'max-age=660']);
      expect(attrs).not.to.include('secure');
      expect(attrs.some((a) => a.startsWith('domain='))).to.equal(false);
    });

    it('lives as long as the ttl option says, plus a grace minute', async () => {
      expect(await startLine({ ttl: 90_000 })).to.include('max-age=150');
    });

    it("is Secure and __Host- behind a proxy that Express's trust proxy trusts to say https", async () => {
      const attrs = await startLine(
        {},
        { configure: (express) => express.set('trust proxy', true) },
        { 'X-Forwarded-Proto': 'https' },
        HTTPS_COOKIE,
      );
      expect(attrs).to.include('secure');
    });

    it('is not Secure when X-Forwarded-Proto says https but the proxy is not trusted', async () => {
      expect(await startLine({}, {}, { 'X-Forwarded-Proto': 'https' })).not.to.include('secure');
    });

    it("follows the strategy's proxy option: true believes X-Forwarded-Proto where Express would not", async () => {
      const attrs = await startLine({}, { strategy: { proxy: true } }, { 'X-Forwarded-Proto': 'https' }, HTTPS_COOKIE);
      expect(attrs).to.include('secure');
    });

    it("follows the strategy's proxy option: false believes only the socket, whatever Express's trust proxy says", async () => {
      const attrs = await startLine(
        {},
        { strategy: { proxy: false }, configure: (express) => express.set('trust proxy', true) },
        { 'X-Forwarded-Proto': 'https' },
      );
      expect(attrs).not.to.include('secure');
    });

    it('follows secure: true over http and secure: false behind an https proxy', async () => {
      expect(await startLine({ secure: true }, {}, {}, HTTPS_COOKIE)).to.include('secure');
      expect(
        await startLine(
          { secure: false },
          { configure: (express) => express.set('trust proxy', true) },
          { 'X-Forwarded-Proto': 'https' },
        ),
      ).not.to.include('secure');
    });

    it('uses the name it is given, over http and https alike', async () => {
      expect(await startLine({ name: 'twitter_signin_app2' })).to.include('httponly');
      expect(
        await startLine({ name: 'twitter_signin_app2' }, { strategy: { proxy: true } }, { 'X-Forwarded-Proto': 'https' }),
      ).to.include('secure');
    });

    it('writes a __Host- name it is given Secure, with Path=/ and no Domain', async () => {
      const attrs = await startLine({ name: '__Host-app2' }, { strategy: { proxy: true } }, { 'X-Forwarded-Proto': 'https' });
      expect(attrs).to.include.members(['secure', 'path=/']);
      expect(attrs.some((a) => a.startsWith('domain='))).to.equal(false);
    });

    it('refuses a __Host- name over plain http with ERR_STORE, before Twitter is called', async () => {
      const app = await appWith({ secret: SECRET, name: '__Host-app2' });
      const requestToken = twitter.requestTokens();
      const res = await new Browser().get(`${app.url}/auth/twitter`);
      expect(res.status).to.equal(500);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).to.equal('ERR_STORE');
      expect(body.message).to.include('HTTPS').and.include('proxy');
      expect(requestToken.isDone(), 'Twitter was not called').to.equal(false);
      expect(res.headers.getSetCookie()).to.deep.equal([]);
    });

    it('never shows the token secret, raw or decoded', async () => {
      const app = await appWith({ secret: SECRET });
      twitter.requestTokens();
      const browser = new Browser();
      const token = await start(browser, app);
      const secret = twitter.secrets.get(token)!;
      const value = browser.cookies.get(COOKIE)!;
      const views = [
        value,
        decodeURIComponent(value),
        Buffer.from(value, 'base64url').toString('latin1'),
        Buffer.from(value, 'base64').toString('latin1'),
        Buffer.from(value, 'base64url').toString('utf8'),
      ];
      for (const view of views) {
        expect(view).not.to.include(secret);
        expect(view).not.to.include('MUST-NOT-LEAK');
        expect(view).not.to.include(token);
      }
    });
  });

  describe('over HTTPS (cookie tossing)', () => {
    let certificate: Certificate;
    before(function () {
      certificate = selfSignedCertificate(this);
    });

    const httpsApp = (options: Partial<CookieRequestTokenStoreOptions> = {}) =>
      appWith({ secret: SECRET, ...options }, { tls: certificate });

    it('is named __Host-twitter_signin, Secure, Path=/ and without Domain, and signs in', async () => {
      const app = await httpsApp();
      twitter.requestTokens();
      twitter.accessTokens();
      const browser = new Browser({ ca: certificate.cert });
      const res = await browser.get(`${app.url}/auth/twitter`);
      expect(res.status).to.equal(302);
      expect(res.headers.getSetCookie().map((l) => l.split('=')[0])).to.deep.equal([HTTPS_COOKIE]);
      const attrs = attributes(cookieLines(res, HTTPS_COOKIE)[0]!);
      expect(attrs).to.include.members(['secure', 'path=/', 'httponly', 'samesite=lax']);
      expect(attrs.some((a) => a.startsWith('domain='))).to.equal(false);
      const token = new URL(res.headers.get('location')!).searchParams.get('oauth_token')!;
      const done = await callback(browser, app, token);
      await expectSignedIn(done);
      expect(attributes(cookieLines(done, HTTPS_COOKIE)[0]!)).to.include.members(['max-age=0', 'secure', 'path=/']);
    });

    it('is named __Host- and Secure for an https callback URL even behind a TLS proxy it was not told to trust', async () => {
      // The request reaches the app as plain http (the proxy's X-Forwarded-Proto is not
      // believed); the browser is on https, as the callback URL says.
      const app = await appWith({ secret: SECRET }, { strategy: { callbackURL: 'https://app.example/auth/twitter/callback' } });
      twitter.requestTokens();
      const res = await new Browser().get(`${app.url}/auth/twitter`, { 'X-Forwarded-Proto': 'https' });
      expect(res.status).to.equal(302);
      expect(res.headers.getSetCookie().map((l) => l.split('=')[0])).to.deep.equal([HTTPS_COOKIE]);
      expect(attributes(cookieLines(res, HTTPS_COOKIE)[0]!)).to.include('secure');
    });

    it("ignores a twitter_signin cookie planted with the attacker's own sign-in: the victim is not signed in as the attacker", async () => {
      const app = await httpsApp();
      twitter.requestTokens();
      const access = twitter.accessTokens();
      // The attacker starts a sign-in of their own and keeps its cookie and token.
      const attacker = new Browser({ ca: certificate.cert });
      const token = await start(attacker, app);
      const [, sealed] = [...attacker.cookies].find(([name]) => name.endsWith(COOKIE))!;
      // A sibling subdomain (Domain=.parent) or a plain-http response can set twitter_signin in the
      // victim's browser, but not a __Host- cookie. The victim then follows the attacker's callback link.
      const victim = new Browser({ ca: certificate.cert });
      victim.cookies.set(COOKIE, sealed);
      await expectFailure(await callback(victim, app, token), 'NO_PENDING_SIGN_IN');
      expect(access.isDone()).to.equal(false);
      expect(twitter.exchanges).to.deep.equal([]);
    });

    it('keeps a __Host- name it is given, Secure', async () => {
      const app = await httpsApp({ name: '__Host-app2' });
      twitter.requestTokens();
      const res = await new Browser({ ca: certificate.cert }).get(`${app.url}/auth/twitter`);
      expect(attributes(cookieLines(res, '__Host-app2')[0]!)).to.include.members(['secure', 'path=/']);
    });
  });

  describe('cookies it must not trust', () => {
    let app: TestApp;
    let browser: Browser;
    let token: string;
    let access: nock.Scope;

    beforeEach(async () => {
      app = await appWith({ secret: SECRET });
      twitter.requestTokens();
      access = twitter.accessTokens();
      browser = new Browser();
      token = await start(browser, app);
    });

    // None of these may reach Twitter's access-token endpoint.
    function expectNotExchanged(): void {
      expect(access.isDone()).to.equal(false);
      expect(twitter.exchanges).to.deep.equal([]);
    }

    it('refuses a cookie with any byte flipped', async () => {
      const raw = Buffer.from(browser.cookies.get(COOKIE)!, 'base64url');
      // The IV, the ciphertext, the tag.
      for (const at of [0, 20, raw.length - 1]) {
        const tampered = Buffer.from(raw);
        tampered[at]! ^= 0x01;
        browser.cookies.set(COOKIE, tampered.toString('base64url'));
        await expectFailure(await callback(browser, app, token), 'NO_PENDING_SIGN_IN');
      }
      expectNotExchanged();
    });

    it('refuses a truncated cookie', async () => {
      const value = browser.cookies.get(COOKIE)!;
      browser.cookies.set(COOKIE, value.slice(0, -4));
      await expectFailure(await callback(browser, app, token), 'NO_PENDING_SIGN_IN');
      expectNotExchanged();
    });

    it('refuses a cookie sealed with another secret', async () => {
      const other = await appWith({ secret: randomBytes(32).toString('hex') });
      twitter.requestTokens();
      const foreign = new Browser();
      const foreignToken = await start(foreign, other);
      browser.cookies.set(COOKIE, foreign.cookies.get(COOKIE)!);
      await expectFailure(await callback(browser, app, foreignToken), 'NO_PENDING_SIGN_IN');
      expectNotExchanged();
    });

    it('refuses a cookie moved from another name, even with the same secret', async () => {
      const other = await appWith({ secret: SECRET, name: 'other_signin' });
      twitter.requestTokens();
      const foreign = new Browser();
      const foreignToken = await start(foreign, other);
      browser.cookies.set(COOKIE, foreign.cookies.get('other_signin')!);
      await expectFailure(await callback(browser, app, foreignToken), 'NO_PENDING_SIGN_IN');
      expectNotExchanged();
    });

    it('treats garbage as no pending sign-in', async () => {
      const garbage = [
        'garbage',
        '""',
        '%00%ff',
        'not base64url!',
        Buffer.from('[["request-token-1","x",9999999999999]]').toString('base64url'),
        randomBytes(20).toString('base64url'),
        randomBytes(200).toString('base64url'),
        'A'.repeat(8000),
      ];
      for (const value of garbage) {
        browser.cookies.set(COOKIE, value);
        await expectFailure(await callback(browser, app, token), 'NO_PENDING_SIGN_IN');
      }
      expectNotExchanged();
    });

    it('refuses a token this browser did not start', async () => {
      await expectFailure(await callback(browser, app, 'request-token-999'), 'UNKNOWN_TOKEN');
      // A miss leaves the browser's real sign-in in place.
      expect(browser.cookies.has(COOKIE)).to.equal(true);
      expectNotExchanged();
    });
  });

  it('reports an expired sign-in as expired, clears it, and does not exchange it', async () => {
    const app = await appWith({ secret: SECRET, ttl: 60_000 });
    twitter.requestTokens();
    const access = twitter.accessTokens();
    const browser = new Browser();
    const token = await start(browser, app);
    clockAhead(61_000);
    const res = await callback(browser, app, token);
    await expectFailure(res, 'EXPIRED_TOKEN');
    expect(attributes(cookieLines(res)[0]!)).to.include('max-age=0');
    expect(access.isDone()).to.equal(false);
  });

  describe('key rotation', () => {
    it('accepts a cookie sealed with an older secret still in the list', async () => {
      const before = await appWith({ secret: OLD_SECRET });
      const after = await appWith({ secret: [SECRET, OLD_SECRET] });
      twitter.requestTokens();
      twitter.accessTokens();
      const browser = new Browser();
      const token = await start(browser, before);
      await expectSignedIn(await callback(browser, after, token));
    });

    it('seals new cookies with the first secret', async () => {
      const rotating = await appWith({ secret: [SECRET, OLD_SECRET] });
      const newOnly = await appWith({ secret: SECRET });
      const oldOnly = await appWith({ secret: OLD_SECRET });
      twitter.requestTokens();
      const access = twitter.accessTokens();
      const browser = new Browser();
      const token = await start(browser, rotating);
      await expectFailure(await callback(browser, oldOnly, token), 'NO_PENDING_SIGN_IN');
      await expectSignedIn(await callback(browser, newOnly, token));
      expect(access.isDone()).to.equal(true);
    });
  });

  describe('several sign-ins in one browser', () => {
    it('lets two tabs started one after the other both finish', async () => {
      const app = await appWith({ secret: SECRET });
      twitter.requestTokens(2);
      twitter.accessTokens(2);
      const browser = new Browser();
      const first = await start(browser, app);
      const second = await start(browser, app);
      expect(first).not.to.equal(second);
      await expectSignedIn(await callback(browser, app, second));
      await expectSignedIn(await callback(browser, app, first));
      expect(twitter.exchanges).to.deep.equal([second, first]);
    });

    it('keeps the newest five by default, dropping the oldest', async () => {
      const app = await appWith({ secret: SECRET });
      twitter.requestTokens(6);
      const access = twitter.accessTokens(5);
      const browser = new Browser();
      const tokens: string[] = [];
      for (let i = 0; i < 6; i++) tokens.push(await start(browser, app));
      await expectFailure(await callback(browser, app, tokens[0]!), 'UNKNOWN_TOKEN');
      for (const token of tokens.slice(1)) await expectSignedIn(await callback(browser, app, token));
      expect(access.isDone()).to.equal(true);
      expect(twitter.exchanges).to.deep.equal(tokens.slice(1));
    });

    it('keeps at most max sign-ins', async () => {
      const app = await appWith({ secret: SECRET, max: 2 });
      twitter.requestTokens(3);
      twitter.accessTokens(3);
      const browser = new Browser();
      const [a, b, c] = [await start(browser, app), await start(browser, app), await start(browser, app)];
      await expectFailure(await callback(browser, app, a), 'UNKNOWN_TOKEN');
      await expectSignedIn(await callback(browser, app, b));
      await expectSignedIn(await callback(browser, app, c));
    });

    it('drops the oldest sign-ins that would not fit in one browser cookie', async () => {
      const app = await appWith({ secret: SECRET, max: 1000 });
      twitter.requestTokens(80);
      twitter.accessTokens();
      const browser = new Browser();
      const tokens: string[] = [];
      for (let i = 0; i < 80; i++) tokens.push(await start(browser, app));
      // Browsers refuse a cookie over 4096 bytes, and every sign-in in it would be lost.
      expect(COOKIE.length + 1 + browser.cookies.get(COOKIE)!.length).to.be.at.most(4096);
      await expectFailure(await callback(browser, app, tokens[0]!), 'UNKNOWN_TOKEN');
      await expectSignedIn(await callback(browser, app, tokens.at(-1)!));
    });

    it('refuses a callback replayed with a kept copy of the old cookie, before Twitter is called', async () => {
      const app = await appWith({ secret: SECRET });
      twitter.requestTokens(1);
      twitter.accessTokens(2);
      const browser = new Browser();
      const token = await start(browser, app);
      const kept = new Map(browser.cookies);
      await expectSignedIn(await callback(browser, app, token));
      const replayer = new Browser();
      for (const [name, value] of kept) replayer.cookies.set(name, value);
      await expectFailure(await callback(replayer, app, token), 'ALREADY_USED');
      expect(twitter.exchanges).to.deep.equal([token]);
    });

    it('refuses a replayed callback and exchanges the token once', async () => {
      const app = await appWith({ secret: SECRET });
      twitter.requestTokens(2);
      twitter.accessTokens(3);
      const browser = new Browser();
      const first = await start(browser, app);
      const second = await start(browser, app);
      await expectSignedIn(await callback(browser, app, first));
      // A used callback says so, whether or not another tab's sign-in is still pending.
      await expectFailure(await callback(browser, app, first), 'ALREADY_USED');
      await expectSignedIn(await callback(browser, app, second));
      await expectFailure(await callback(browser, app, second), 'ALREADY_USED');
      expect(twitter.exchanges).to.deep.equal([first, second]);
    });
  });

  describe('without Express', () => {
    it('fails with ERR_STORE and says why when the request has no req.res', async () => {
      const passport = new Passport();
      passport.use(strategyWith(new CookieRequestTokenStore({ secret: SECRET })));
      twitter.requestTokens();
      let error: unknown;
      const server = http.createServer((req, res) => {
        passport.authenticate('twitter', { session: false }, (err: unknown) => {
          error = err;
          res.end();
        })(req, res, () => res.end());
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        await fetch(`http://127.0.0.1:${port}/auth/twitter`, { redirect: 'manual' });
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      expect(error).to.be.instanceOf(TwitterSignInError);
      expect((error as TwitterSignInError).code).to.equal('ERR_STORE');
      expect((error as Error).message).to.include('req.res');
      // Said before Twitter is called: the request token interceptor is still waiting.
      expect(nock.pendingMocks(), 'Twitter was not called').to.have.length.greaterThan(0);
    });
  });

  describe('options', () => {
    it('refuses a missing, short, empty or non-string secret, naming secret', () => {
      const bad: unknown[] = [undefined, '', 'x'.repeat(31), [], ['x'.repeat(31)], [SECRET, 'short'], 42, [42], { secret: SECRET }];
      for (const secret of bad) {
        expect(() => new CookieRequestTokenStore({ secret } as CookieRequestTokenStoreOptions), String(secret))
          .to.throw(TypeError, /secret/);
      }
    });

    it('accepts a 32-character secret and a list of them', () => {
      expect(() => new CookieRequestTokenStore({ secret: randomBytes(16).toString('hex') })).not.to.throw();
      expect(() => new CookieRequestTokenStore({ secret: [SECRET, OLD_SECRET] })).not.to.throw();
    });

    it('refuses a long secret that is not random: a tiny alphabet or a short run repeated', () => {
      const weak = [
        '0'.repeat(32), // 32 zeros
        '\0'.repeat(32), // 32 zero bytes
        Buffer.alloc(32).toString('hex'),
        Buffer.alloc(32).toString('base64'),
        'x'.repeat(32),
        'ab'.repeat(16),
        'abcdef'.repeat(6),
        '0123456789abcdef'.repeat(2), // 16 different characters, but a run of 16 twice
        'password'.repeat(4),
        randomBytes(8).toString('hex').repeat(2), // random, but only 64 bits, twice
        '01'.repeat(8) + '10'.repeat(8) + '0110'.repeat(4), // two characters, in no simple period
      ];
      for (const secret of weak) {
        expect(() => new CookieRequestTokenStore({ secret }), JSON.stringify(secret))
          .to.throw(TypeError, /secret .*random/)
          .that.satisfies((err: Error) => !err.message.includes(secret));
      }
      expect(() => new CookieRequestTokenStore({ secret: [SECRET, '0'.repeat(32)] })).to.throw(TypeError, /secret\[1\]/);
    });

    it('accepts random hex, base64 and base64url secrets of 32 characters and more, every time', () => {
      for (let i = 0; i < 1000; i++) {
        for (const secret of [
          randomBytes(16).toString('hex'),
          randomBytes(24).toString('base64'),
          randomBytes(24).toString('base64url'),
          randomBytes(32).toString('hex'),
          randomBytes(32).toString('base64url'),
        ]) {
          expect(() => new CookieRequestTokenStore({ secret }), secret).not.to.throw();
        }
      }
    });

    it('never shows the secret in an error', () => {
      const short = 'short-secret-value';
      expect(() => new CookieRequestTokenStore({ secret: short })).to.throw(TypeError).that.satisfies(
        (err: Error) => !err.message.includes(short),
      );
    });

    it('refuses a cookie name that could break the header, and bad ttl, max or secure', () => {
      const cases: Partial<CookieRequestTokenStoreOptions>[] = [
        { name: '' },
        { name: 'a;b' },
        { name: 'a=b' },
        { name: 'a\r\nSet-Cookie: x' },
        { ttl: 0 },
        { ttl: -1 },
        { ttl: Number.NaN },
        { max: 0 },
        { max: 1.5 },
        { secure: 'yes' as unknown as boolean },
        // Browsers drop a __Host- or __Secure- cookie that is not Secure.
        { name: '__Host-twitter_signin', secure: false },
        { name: '__Secure-twitter_signin', secure: false },
      ];
      for (const options of cases) {
        expect(() => new CookieRequestTokenStore({ secret: SECRET, ...options }), JSON.stringify(options)).to.throw(TypeError);
      }
    });

    it('defaults to the name by scheme (no name given), 10 minutes, 5 sign-ins and auto Secure', () => {
      const store = new CookieRequestTokenStore({ secret: SECRET });
      expect({ name: store.name, ttl: store.ttl, max: store.max, secure: store.secure }).to.deep.equal({
        name: undefined,
        ttl: 600_000,
        max: 5,
        secure: 'auto',
      });
    });
  });
});

describe('CookieRequestTokenStore scopes', () => {
  it('keeps two strategies apart in one cookie: each sees only its own entries', () => {
    const store = new CookieRequestTokenStore({ secret: SECRET });
    const headers: Record<string, string | string[]> = {};
    const res = {
      headersSent: false,
      getHeader: (n: string) => headers[n.toLowerCase()],
      setHeader: (n: string, v: string | string[]) => (headers[n.toLowerCase()] = v),
    };
    const req = { headers: {}, socket: {}, res } as never;
    store.set(req, 'token-a', 'secret-a', 'oauth:twitter:app-a');
    store.set(req, 'token-b', 'secret-b', 'oauth:twitter:app-b');
    expect(store.get(req, 'token-a', 'oauth:twitter:app-b')).to.equal(undefined);
    expect(store.get(req, 'token-a', 'oauth:twitter:app-a')?.tokenSecret).to.equal('secret-a');
    store.destroy(req, 'token-b', 'oauth:twitter:app-b');
    expect(store.hasPending(req, 'oauth:twitter:app-b')).to.equal(false);
    expect(store.hasPending(req, 'oauth:twitter:app-a')).to.equal(true);
    // A later request with the written cookie sees the same.
    const line = ([] as string[]).concat(headers['set-cookie'] as string[]).find((l) => l.startsWith('twitter_signin='))!;
    const next = { headers: { cookie: line.split(';')[0] }, socket: {}, res } as never;
    expect(store.get(next, 'token-a', 'oauth:twitter:app-a')?.tokenSecret).to.equal('secret-a');
    expect(store.get(next, 'token-a', 'oauth:twitter:app-b')).to.equal(undefined);
  });
});
