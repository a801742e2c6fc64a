/**
 * The OAuth 2.0 strategy (Authorization Code with PKCE) as an app meets it: a real Express app
 * with express-session and Passport on loopback, the fake X speaking OAuth 2.0 over HTTP, and a
 * browser that keeps cookies and follows no redirect. Nothing private is looked at: what the
 * strategy did is read from the redirect it answered, from the session through an app route,
 * from what verify was given, and from the fake's call counts.
 */
import { randomBytes } from 'node:crypto';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express, { type Express } from 'express';
import session from 'express-session';
import { Passport, type Strategy } from 'passport';
import {
  CookieRequestTokenStore,
  SessionRequestTokenStore,
  TwitterOAuth2Strategy,
  TwitterSignInError,
  TwitterSignInStrategy,
  type OAuth2TokenParams,
  type TwitterProfile,
} from '../lib/index.js';
import { startFakeTwitter, type FakeTwitter, type FakeTwitterOptions } from '../lib/testing/index.js';
import { Browser, rawGet } from './helpers/app.js';

const CLIENT_ID = 'o2s-client-id';
const CLIENT_SECRET = 'o2s-client-secret-DO-NOT-LEAK';
const USER = { id: '2244994945', screen_name: 'XDevelopers', name: 'X Developers', email: 'developers@example.com' };
const NO_EMAIL_USER = { id: '783214', screen_name: 'twitter' };
const PENDING_KEY = `oauth2:twitter:${CLIENT_ID}`;
const START = '/auth/x';
const CALLBACK = '/auth/x/callback';

interface AppOptions {
  /** Mount express-session (default true). */
  session?: boolean;
  queryParser?: 'simple' | 'extended';
  /** passport.authenticate options on both routes. */
  authenticateOptions?: Record<string, unknown>;
  /** Node's limit on request headers, for megabyte-long callback URLs. */
  maxHeaderSize?: number;
  /** More strategies, each at `/auth/<name>` and `/auth/<name>/callback`. */
  others?: Strategy[];
  /** More routes, mounted before the default ones. */
  routes?: (app: Express, auth: (name: string, options?: Record<string, unknown>) => express.RequestHandler) => void;
}

interface TestApp {
  url: string;
  /** Everything that reached the app's error handler, in order. */
  errors: unknown[];
  close(): Promise<void>;
}

/**
 * The app: the OAuth 2.0 strategy at /auth/x and /auth/x/callback; success answers the user as
 * JSON, a failure 401 with the failure, an error goes to the error handler, which answers with
 * the error's status. `/debug/session` says which session keys there are and how many sign-ins
 * each holds, as an app's own route could.
 */
async function startO2App(strategy: Strategy, options: AppOptions = {}): Promise<TestApp> {
  const passport = new Passport();
  passport.use(strategy);
  for (const other of options.others ?? []) passport.use(other);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));
  const app = express();
  app.set('query parser', options.queryParser ?? 'simple');
  const sessions = options.session !== false;
  if (sessions) {
    app.use(session({ secret: 'o2s-session-secret', resave: false, saveUninitialized: false }));
    app.use(passport.session());
  }
  app.use(passport.initialize());
  const auth =
    (name: string, extra: Record<string, unknown> = {}): express.RequestHandler =>
    (req, res, next) => {
      const authOptions = { ...options.authenticateOptions, ...extra };
      passport.authenticate(name, authOptions, (err: unknown, user: Express.User | false, info: unknown) => {
        if (err) return next(err);
        if (!user) return res.status(401).json({ failure: info });
        if (!sessions || authOptions.session === false) return res.json({ user });
        req.logIn(user, { keepSessionInfo: authOptions.keepSessionInfo === true, session: true }, (loginErr) =>
          loginErr ? next(loginErr) : res.json({ user }),
        );
      })(req, res, next);
    };
  options.routes?.(app, auth);
  const name = (strategy as Strategy & { name: string }).name;
  app.get(START, auth(name));
  app.get(CALLBACK, auth(name));
  for (const other of options.others ?? []) {
    const otherName = (other as Strategy & { name: string }).name;
    app.get(`/auth/${otherName}`, auth(otherName));
    app.get(`/auth/${otherName}/callback`, auth(otherName));
  }
  app.get('/me', (req, res) => {
    res.json({ user: req.user ?? null });
  });
  app.get('/debug/session', (req, res) => {
    const stored = (req.session ?? {}) as unknown as Record<string, unknown>;
    const keys = Object.keys(stored).filter((k) => k !== 'cookie' && k !== 'passport');
    res.json({ keys, pending: Object.fromEntries(keys.map((k) => [k, Array.isArray(stored[k]) ? stored[k].length : 0])) });
  });
  const errors: unknown[] = [];
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    errors.push(err);
    const e = err as { code?: unknown; status?: unknown; message?: unknown };
    res.status(typeof e.status === 'number' ? e.status : 500).json({ error: e.code ?? 'ERR', message: e.message });
  });
  const server: Server = await new Promise((resolve) => {
    const s = http.createServer(options.maxHeaderSize ? { maxHeaderSize: options.maxHeaderSize } : {}, app);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Failure = { failure: { code: string; message: string } };

async function failureOf(res: Response): Promise<Failure['failure']> {
  const text = await res.text();
  expect(res.status, text).to.equal(401);
  return (JSON.parse(text) as Failure).failure;
}

/** Redirects that are not followed: the Location of a 302 from `url`. */
async function redirectFrom(url: string, browser?: Browser): Promise<string> {
  const res = browser ? await browser.get(url) : await fetch(url, { redirect: 'manual' });
  expect(res.status, await res.clone().text()).to.equal(302);
  return res.headers.get('location')!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TwitterOAuth2Strategy', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });

  async function fakeX(options: Partial<FakeTwitterOptions> = {}): Promise<FakeTwitter> {
    const fake = await startFakeTwitter({
      clientID: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      users: [USER, NO_EMAIL_USER],
      autoApprove: { id: USER.id, screen_name: USER.screen_name },
      ...options,
    } as FakeTwitterOptions);
    cleanups.push(() => fake.close());
    return fake;
  }

  async function appFor(strategy: Strategy, options: AppOptions = {}): Promise<TestApp> {
    const app = await startO2App(strategy, options);
    cleanups.push(() => app.close());
    return app;
  }

  type Calls = unknown[][];

  /** A strategy against `fake`, its verify recording what it was given. */
  function strategyFor(
    fake: FakeTwitter,
    extra: Record<string, unknown> = {},
    verify?: (...args: never[]) => unknown,
  ): { strategy: TwitterOAuth2Strategy; calls: Calls } {
    const calls: Calls = [];
    const recording = (accessToken: string, refreshToken: string | undefined, profile: TwitterProfile, done: (e: null, u: unknown) => void) => {
      calls.push([accessToken, refreshToken, profile]);
      done(null, { id: profile.id, username: profile.username });
    };
    const strategy = new TwitterOAuth2Strategy(
      { clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackURL: CALLBACK, ...fake.oauth2Endpoints, ...extra } as never,
      (verify ?? recording) as never,
    );
    return { strategy, calls };
  }

  /** The start in `browser`: the URL of X's authorize page it was sent to. */
  async function begin(app: TestApp, browser: Browser, path = START): Promise<URL> {
    return new URL(await redirectFrom(`${app.url}${path}`, browser));
  }

  /** The start and the fake's approval: the callback URL the browser is sent back to. */
  async function approved(app: TestApp, browser: Browser, path = START): Promise<string> {
    return redirectFrom((await begin(app, browser, path)).href);
  }

  async function pendingIn(app: TestApp, browser: Browser, key = PENDING_KEY): Promise<number> {
    const res = await browser.get(`${app.url}/debug/session`);
    return ((await res.json()) as { pending: Record<string, number> }).pending[key] ?? 0;
  }

  describe('constructor', () => {
    const base = { clientID: 'id', callbackURL: '/cb' };
    const make = (options: Record<string, unknown>) => () => new TwitterOAuth2Strategy(options as never, (() => {}) as never);

    it("is named 'twitter-oauth2', so it can be mounted beside the OAuth 1.0a strategy", () => {
      expect(new TwitterOAuth2Strategy(base, () => false).name).to.equal('twitter-oauth2');
    });

    for (const field of ['clientID', 'callbackURL']) {
      it(`throws a TypeError naming ${field} when it is missing`, () => {
        const options: Record<string, unknown> = { ...base };
        delete options[field];
        expect(make(options)).to.throw(TypeError, field);
      });
    }

    it('throws a TypeError when verify is missing', () => {
      expect(() => new TwitterOAuth2Strategy(base, undefined as never)).to.throw(TypeError, 'verify');
    });

    const misspelt: [string, string][] = [
      ['clientId', 'clientID'],
      ['callbackUrl', 'callbackURL'],
      ['clientSecrets', 'clientSecret'],
      ['scopes', 'scope'],
      ['includeEmails', 'includeEmail'],
    ];
    for (const [wrong, right] of misspelt) {
      it(`refuses the misspelt option ${wrong}, asking whether ${right} was meant`, () => {
        expect(make({ ...base, [wrong]: 'x' })).to.throw(TypeError, `Unknown option ${wrong}: did you mean ${right}?`);
      });
    }

    it("refuses passport-oauth2's state option, saying that state is always on", () => {
      for (const value of [true, false, 'store']) {
        expect(make({ ...base, state: value })).to.throw(TypeError, /state is not an option: state is always on/);
      }
    });

    it("refuses passport-oauth2's pkce option, saying that PKCE (S256) is always on", () => {
      expect(make({ ...base, pkce: true })).to.throw(TypeError, /pkce is not an option: PKCE \(S256\) is always on/);
    });

    it('refuses agent, naming dispatcher as its replacement', () => {
      expect(make({ ...base, agent: new http.Agent() })).to.throw(TypeError, /agent is not supported.*dispatcher/);
    });

    const invalid: [string, Record<string, unknown>, string][] = [
      ['an empty clientSecret', { clientSecret: '' }, 'clientSecret'],
      ['a scope that is neither a string nor an array', { scope: 42 }, 'scope'],
      ['an array scope holding a space', { scope: ['tweet.read users.read'] }, 'scope'],
      ['an includeEmail that is not a boolean', { includeEmail: 'yes' }, 'includeEmail'],
      ['userFields that are not an array of strings', { userFields: 'name' }, 'userFields'],
      ['a relative tokenURL', { tokenURL: '/2/oauth2/token' }, 'tokenURL'],
      ['a non-positive timeout', { timeout: 0 }, 'timeout'],
      ["OAuth 1.0a's consumerKey", { consumerKey: 'k' }, 'Unknown option consumerKey'],
    ];
    for (const [what, extra, named] of invalid) {
      it(`refuses ${what}, naming it`, () => {
        expect(make({ ...base, ...extra })).to.throw(TypeError, named);
      });
    }
  });

  describe('start', () => {
    it("redirects 302 to X's authorize page with response_type=code, client_id, redirect_uri, scope, state and an S256 challenge", async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake, { callbackURL: 'https://app.example/auth/x/callback' });
      const app = await appFor(strategy);
      const location = await begin(app, new Browser());
      expect(`${location.origin}${location.pathname}`).to.equal(fake.oauth2Endpoints.authorizationURL);
      const q = location.searchParams;
      expect([...q.keys()].sort()).to.deep.equal(
        ['client_id', 'code_challenge', 'code_challenge_method', 'redirect_uri', 'response_type', 'scope', 'state'],
      );
      expect(q.get('response_type')).to.equal('code');
      expect(q.get('client_id')).to.equal(CLIENT_ID);
      // An absolute callbackURL is sent as given.
      expect(q.get('redirect_uri')).to.equal('https://app.example/auth/x/callback');
      expect(q.get('scope')).to.equal('tweet.read users.read');
      // Spaces as %20, as X's own examples write them.
      expect(location.search).to.include('scope=tweet.read%20users.read');
      expect(q.get('code_challenge_method')).to.equal('S256');
      // BASE64URL(SHA-256(verifier)): 32 bytes.
      expect(q.get('code_challenge')).to.match(/^[A-Za-z0-9_-]{43}$/);
      // At least 128 random bits of state, in characters X takes (at most 500 of them).
      const state = q.get('state')!;
      expect(state).to.match(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(state, 'base64url').length * 8).to.be.at.least(128);
      expect(state.length).to.be.at.most(500);
      expect(fake.stats().oauth2Token, 'token calls at the start').to.equal(0);
    });

    it('resolves a relative callbackURL against the request it started from', async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake);
      const app = await appFor(strategy);
      const location = await begin(app, new Browser());
      expect(location.searchParams.get('redirect_uri')).to.equal(`${app.url}${CALLBACK}`);
    });

    it('refuses to resolve a relative callbackURL against a Host that is not a host, before anything is kept', async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake);
      const app = await appFor(strategy);
      const res = await rawGet(`${app.url}${START}`, { host: 'legit.example@evil.example' });
      expect(res.status).to.equal(400);
      expect(res.headers.location).to.equal(undefined);
      expect(JSON.parse(res.body)).to.include({ error: 'ERR_CALLBACK_HOST' });
      expect(res.headers['set-cookie'], 'a session written for the refused start').to.equal(undefined);
    });

    it("asks for the strategy's scope and the sign-in's scope beside tweet.read and users.read, each once, and users.email with includeEmail", async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake, { scope: 'offline.access users.read like.read', includeEmail: true });
      const app = await appFor(strategy, {
        routes: (a, auth) => {
          a.get('/auth/x/array', auth('twitter-oauth2', { scope: ['follows.read', 'tweet.read'] }));
          a.get('/auth/x/string', auth('twitter-oauth2', { scope: 'list.read offline.access' }));
        },
      });
      const browser = new Browser();
      expect((await begin(app, browser)).searchParams.get('scope')).to.equal('tweet.read users.read users.email offline.access like.read');
      expect((await begin(app, browser, '/auth/x/array')).searchParams.get('scope')).to.equal(
        'tweet.read users.read users.email offline.access like.read follows.read',
      );
      expect((await begin(app, browser, '/auth/x/string')).searchParams.get('scope')).to.equal(
        'tweet.read users.read users.email offline.access like.read list.read',
      );
    });

    it("is an error naming scope, before anything is kept, when a sign-in's scope is neither a string nor an array", async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake);
      const app = await appFor(strategy, { routes: (a, auth) => a.get('/auth/x/bad-scope', auth('twitter-oauth2', { scope: 42 })) });
      const browser = new Browser();
      const res = await browser.get(`${app.url}/auth/x/bad-scope`);
      expect(res.status).to.equal(500);
      expect(res.headers.get('location')).to.equal(null);
      expect(app.errors[0]).to.be.instanceOf(TypeError);
      expect((app.errors[0] as Error).message).to.include('scope');
      // No session was written for a start that cannot go anywhere.
      expect(res.headers.get('set-cookie')).to.equal(null);
      expect(browser.cookies.size).to.equal(0);
    });

    it('takes the strategy scope as an array too', async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake, { scope: ['tweet.write', 'offline.access'] });
      const app = await appFor(strategy);
      expect((await begin(app, new Browser())).searchParams.get('scope')).to.equal('tweet.read users.read tweet.write offline.access');
    });

    it('makes a fresh state and PKCE challenge for every start', async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake);
      const app = await appFor(strategy);
      const browser = new Browser();
      const starts = [await begin(app, browser), await begin(app, browser), await begin(app, new Browser())];
      const states = new Set(starts.map((u) => u.searchParams.get('state')));
      const challenges = new Set(starts.map((u) => u.searchParams.get('code_challenge')));
      expect(states.size).to.equal(3);
      expect(challenges.size).to.equal(3);
    });

    it('keeps the pending sign-in in the session under oauth2:twitter:<clientID>', async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake);
      const app = await appFor(strategy);
      const browser = new Browser();
      await begin(app, browser);
      const res = await browser.get(`${app.url}/debug/session`);
      expect(await res.json()).to.deep.equal({ keys: [PENDING_KEY], pending: { [PENDING_KEY]: 1 } });
    });

    it('keeps it under sessionKey when one is given', async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake, { sessionKey: 'my-x-sign-ins' });
      const app = await appFor(strategy);
      const browser = new Browser();
      await begin(app, browser);
      const res = await browser.get(`${app.url}/debug/session`);
      expect(((await res.json()) as { keys: string[] }).keys).to.deep.equal(['my-x-sign-ins']);
    });

    it('keeps several pending sign-ins per browser (two tabs), each completing once, in either order', async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake);
      const app = await appFor(strategy, { authenticateOptions: { keepSessionInfo: true } });
      const browser = new Browser();
      const tab1 = await approved(app, browser);
      const tab2 = await approved(app, browser);
      expect(await pendingIn(app, browser)).to.equal(2);
      expect((await browser.get(tab2)).status).to.equal(200);
      expect(await pendingIn(app, browser)).to.equal(1);
      expect((await browser.get(tab1)).status).to.equal(200);
      expect(await pendingIn(app, browser)).to.equal(0);
      expect(calls).to.have.length(2);
      expect(fake.stats().oauth2Token).to.equal(2);
    });

    it('is an error ERR_SESSION_REQUIRED naming express-session when there is no session, and does not send the browser to X', async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake);
      const app = await appFor(strategy, { session: false });
      const res = await new Browser().get(`${app.url}${START}`);
      expect(res.status).to.equal(500);
      expect(res.headers.get('location')).to.equal(null);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).to.equal('ERR_SESSION_REQUIRED');
      expect(body.message).to.include('express-session');
      expect(app.errors[0]).to.be.instanceOf(TwitterSignInError);
      expect(fake.stats().oauth2Authorize).to.equal(0);
    });
  });

  describe('a whole sign-in', () => {
    it('signs in a confidential client (with clientSecret): verify gets the access token, no refresh token, and the profile from /2/users/me, looked up once', async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake);
      expect(strategy.client.confidential).to.equal(true);
      const app = await appFor(strategy);
      const browser = new Browser();
      const res = await browser.get(await approved(app, browser));
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(await res.json()).to.deep.equal({ user: { id: USER.id, username: USER.screen_name } });
      expect(calls).to.have.length(1);
      const [accessToken, refreshToken, profile] = calls[0] as [string, string | undefined, TwitterProfile];
      expect(accessToken).to.be.a('string').and.match(/^[A-Za-z0-9_-]{20,}$/);
      expect(refreshToken, 'a refresh token without offline.access').to.equal(undefined);
      expect(profile).to.include({ provider: 'twitter', id: USER.id, username: USER.screen_name, displayName: USER.name });
      expect(profile.emails, 'an email without includeEmail').to.equal(undefined);
      expect(profile.photos).to.have.length(1);
      expect(JSON.parse(profile._raw!)).to.deep.equal({ data: profile._json });
      const stats = fake.stats();
      expect(stats.oauth2Token).to.equal(1);
      expect(stats.usersMe).to.equal(1);
      expect(stats.pendingAuthorizations).to.equal(0);
      // Signed in, in a session that survived passport's regeneration at login.
      expect(await (await browser.get(`${app.url}/me`)).json()).to.deep.equal({ user: { id: USER.id, username: USER.screen_name } });
      expect(await pendingIn(app, browser)).to.equal(0);
    });

    it('signs in a public client (no clientSecret), which names itself with client_id', async () => {
      const fake = await fakeX({ clientSecret: undefined });
      const { strategy, calls } = strategyFor(fake, { clientSecret: undefined });
      expect(strategy.client.confidential).to.equal(false);
      const app = await appFor(strategy);
      const browser = new Browser();
      const res = await browser.get(await approved(app, browser));
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(calls).to.have.length(1);
      expect(fake.stats().usersMe).to.equal(1);
    });

    it("is an error carrying X's unauthorized_client, with what to fix, when a public client signs in for a confidential app", async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake, { clientSecret: undefined });
      const app = await appFor(strategy);
      const browser = new Browser();
      const res = await browser.get(await approved(app, browser));
      expect(res.status).to.equal(502);
      const err = app.errors[0] as TwitterSignInError;
      expect(err).to.be.instanceOf(TwitterSignInError);
      expect(err).to.include({ code: 'ERR_TWITTER_HTTP', endpoint: 'token', providerStatus: 401, providerError: 'unauthorized_client' });
      expect(err.message).to.include('needs clientSecret');
      expect(calls).to.have.length(0);
      expect(fake.stats().usersMe).to.equal(0);
    });

    it('gives verify a refresh token when the sign-in asks for offline.access', async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake, { scope: 'offline.access' });
      const app = await appFor(strategy);
      const browser = new Browser();
      expect((await browser.get(await approved(app, browser))).status).to.equal(200);
      const [accessToken, refreshToken] = calls[0] as [string, string];
      expect(refreshToken).to.be.a('string').and.not.equal('');
      expect(refreshToken).not.to.equal(accessToken);
    });

    it("uses the sign-in's own callbackURL for the exchange too, given on both routes", async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake);
      const other = { callbackURL: '/auth/x/elsewhere' };
      const app = await appFor(strategy, {
        routes: (a, auth) => {
          a.get('/auth/x/start-elsewhere', auth('twitter-oauth2', other));
          a.get('/auth/x/elsewhere', auth('twitter-oauth2', other));
        },
      });
      const browser = new Browser();
      const location = await begin(app, browser, '/auth/x/start-elsewhere');
      expect(location.searchParams.get('redirect_uri')).to.equal(`${app.url}/auth/x/elsewhere`);
      // X refuses an exchange whose redirect_uri is not the authorize request's, character for character.
      const res = await browser.get(await redirectFrom(location.href));
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(calls).to.have.length(1);
    });

    it('behind a trusted proxy, exchanges with the redirect_uri the start resolved from X-Forwarded-*', async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake, { proxy: true });
      const app = await appFor(strategy);
      const browser = new Browser();
      const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example' };
      const start = await browser.get(`${app.url}${START}`, forwarded);
      const location = new URL(start.headers.get('location')!);
      expect(location.searchParams.get('redirect_uri')).to.equal('https://app.example/auth/x/callback');
      const back = new URL(await redirectFrom(location.href));
      expect(back.origin).to.equal('https://app.example');
      // The proxy delivers the callback to the app with the same headers.
      const res = await browser.get(`${app.url}${back.pathname}${back.search}`, forwarded);
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(calls).to.have.length(1);
    });

    it('says that redirect_uri may differ when X refuses the exchange because the callback arrived on another origin', async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake, { proxy: true });
      const app = await appFor(strategy);
      const browser = new Browser();
      const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example' };
      const start = await browser.get(`${app.url}${START}`, forwarded);
      const back = new URL(await redirectFrom(start.headers.get('location')!));
      // This time the proxy forgets the headers: the callback resolves to http://127.0.0.1:port.
      const res = await browser.get(`${app.url}${back.pathname}${back.search}`);
      expect(res.status).to.equal(502);
      const err = app.errors[0] as TwitterSignInError;
      expect(err).to.include({ code: 'ERR_TWITTER_HTTP', endpoint: 'token', providerStatus: 400, providerError: 'invalid_request' });
      expect(err.message).to.include('redirect_uri differs');
      expect(calls).to.have.length(0);
    });

    it("maps the user's confirmed email to a verified profile.emails entry with includeEmail", async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake, { includeEmail: true });
      const app = await appFor(strategy);
      const browser = new Browser();
      const location = await begin(app, browser);
      expect(location.searchParams.get('scope')!.split(' ')).to.include('users.email');
      expect((await browser.get(await redirectFrom(location.href))).status).to.equal(200);
      const profile = calls[0]![2] as TwitterProfile;
      expect(profile.emails).to.deep.equal([{ value: USER.email, verified: true }]);
      expect(fake.stats().usersMe).to.equal(1);
    });

    it('gives no emails with includeEmail for a user who has none', async () => {
      const fake = await fakeX({ autoApprove: NO_EMAIL_USER });
      const { strategy, calls } = strategyFor(fake, { includeEmail: true });
      const app = await appFor(strategy);
      const browser = new Browser();
      expect((await browser.get(await approved(app, browser))).status).to.equal(200);
      const profile = calls[0]![2] as TwitterProfile;
      expect(profile.id).to.equal(NO_EMAIL_USER.id);
      expect(profile.emails).to.equal(undefined);
    });

    it('asks /2/users/me for the userFields given', async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake, { userFields: ['protected'] });
      const app = await appFor(strategy);
      const browser = new Browser();
      expect((await browser.get(await approved(app, browser))).status).to.equal(200);
      const profile = calls[0]![2] as TwitterProfile;
      expect(profile._json).to.deep.equal({ id: USER.id, name: USER.name, username: USER.screen_name, protected: false });
    });

    it('signs in on X\'s own pages: the user signs in to X and authorizes the app', async () => {
      const fake = await fakeX({ autoApprove: undefined, users: [{ ...USER, password: 'hunter2' }] });
      const { strategy, calls } = strategyFor(fake);
      const app = await appFor(strategy);
      const browser = new Browser();
      const page = await fetch((await begin(app, browser)).href);
      expect(page.status).to.equal(200);
      const authorization = /name="authorization" value="([^"]+)"/.exec(await page.text())![1]!;
      const decided = await fetch(`${fake.url}/i/oauth2/decide`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ authorization, decision: 'allow', username: USER.screen_name, password: 'hunter2' }).toString(),
      });
      expect(decided.status).to.equal(302);
      expect((await browser.get(decided.headers.get('location')!)).status).to.equal(200);
      expect((calls[0]![2] as TwitterProfile).username).to.equal(USER.screen_name);
    });
  });

  describe('a doubled callback', () => {
    it('is exchanged once when it arrives twice at the same moment', async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake);
      const app = await appFor(strategy);
      const browser = new Browser();
      const callback = await approved(app, browser);
      // X answers slowly: both copies are in flight before the first one is done.
      fake.injectFault('oauth2_token', { type: 'delay', ms: 300 }, { times: 1 });
      const both = await Promise.all([browser.get(callback), browser.get(callback)]);
      expect(both.map((r) => r.status).sort()).to.deep.equal([200, 401]);
      const failed = both.find((r) => r.status === 401)!;
      expect((await failureOf(failed)).code).to.equal('ALREADY_USED');
      expect(fake.stats().oauth2Token).to.equal(1);
      expect(calls).to.have.length(1);
    });

    it('is exchanged once when a reload aborts the first copy during a slow X; the reload fails as ALREADY_USED before X', async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake);
      const app = await appFor(strategy);
      const browser = new Browser();
      const callback = await approved(app, browser);
      fake.injectFault('oauth2_token', { type: 'delay', ms: 400 }, { times: 1 });
      const first = new AbortController();
      const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const aborted = fetch(callback, { redirect: 'manual', headers: { cookie }, signal: first.signal }).catch(() => 'aborted');
      const deadline = Date.now() + 5000;
      while (fake.stats().oauth2Token === 0 && Date.now() < deadline) await sleep(10);
      expect(fake.stats().oauth2Token, 'the first copy reached X').to.equal(1);
      first.abort();
      expect(await aborted).to.equal('aborted');
      expect((await failureOf(await browser.get(callback))).code).to.equal('ALREADY_USED');
      // The first copy still completes (its answer is lost with the aborted request), once.
      while (calls.length === 0 && Date.now() < deadline) await sleep(10);
      expect(calls).to.have.length(1);
      expect(fake.stats().oauth2Token).to.equal(1);
    });

    it("takes the shared claim before the exchange, keyed by the strategy's scope and a hash of the state, never the state itself", async () => {
      const fake = await fakeX();
      const claims: [string, number][] = [];
      const { strategy } = strategyFor(fake, { claimCallback: (key: string, ttl: number) => (claims.push([key, ttl]), true) });
      const app = await appFor(strategy);
      const browser = new Browser();
      const callback = new URL(await approved(app, browser));
      expect((await browser.get(callback.href)).status).to.equal(200);
      expect(claims).to.have.length(1);
      const [key, ttl] = claims[0]!;
      expect(key.startsWith(`${PENDING_KEY}:callback:`)).to.equal(true);
      expect(key).not.to.include(callback.searchParams.get('state'));
      expect(key).not.to.include(callback.searchParams.get('code'));
      expect(ttl).to.be.within(1000, 10 * 60 * 1000);
    });

    it('fails a callback whose claim another instance holds as ALREADY_USED, before X is called', async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake, { claimCallback: async () => false });
      const app = await appFor(strategy);
      const browser = new Browser();
      expect((await failureOf(await browser.get(await approved(app, browser)))).code).to.equal('ALREADY_USED');
      expect(fake.stats().oauth2Token).to.equal(0);
      expect(calls).to.have.length(0);
    });
  });

  describe('verify', () => {
    async function signIn(extra: Record<string, unknown>, verify: (...args: never[]) => unknown): Promise<Response> {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake, extra, verify);
      const app = await appFor(strategy);
      const browser = new Browser();
      return browser.get(await approved(app, browser));
    }

    it("receives X's token answer as params in the 5-argument form, without the access or refresh token", async () => {
      let got: [string, string, OAuth2TokenParams, TwitterProfile] | undefined;
      const res = await signIn(
        { scope: 'offline.access' },
        ((accessToken: string, refreshToken: string, params: OAuth2TokenParams, profile: TwitterProfile, done: (e: null, u: unknown) => void) => {
          got = [accessToken, refreshToken, params, profile];
          done(null, { id: profile.id });
        }) as never,
      );
      expect(res.status).to.equal(200);
      const [accessToken, refreshToken, params, profile] = got!;
      expect(params).to.deep.equal({ token_type: 'bearer', expires_in: 7200, scope: 'tweet.read users.read offline.access' });
      // Apps log params: neither token may be in them.
      const logged = JSON.stringify(params);
      expect(logged).not.to.include(accessToken);
      expect(logged).not.to.include(refreshToken);
      expect(profile.id).to.equal(USER.id);
    });

    it('receives the request first with passReqToCallback', async () => {
      let got: unknown[] = [];
      const res = await signIn(
        { passReqToCallback: true },
        ((req: { url: string }, accessToken: string, refreshToken: unknown, profile: TwitterProfile, done: (e: null, u: unknown) => void) => {
          got = [req.url, typeof accessToken, refreshToken, profile.id];
          done(null, { id: profile.id });
        }) as never,
      );
      expect(res.status).to.equal(200);
      expect(got[0]).to.match(/^\/auth\/x\/callback\?/);
      expect(got.slice(1)).to.deep.equal(['string', undefined, USER.id]);
    });

    it('receives the request and params in the 6-argument form', async () => {
      let got: unknown[] = [];
      const res = await signIn(
        { passReqToCallback: true },
        ((req: unknown, _a: string, _r: unknown, params: OAuth2TokenParams, profile: TwitterProfile, done: (e: null, u: unknown) => void) => {
          got = [typeof req, params.token_type, profile.username];
          done(null, { id: profile.id });
        }) as never,
      );
      expect(res.status).to.equal(200);
      expect(got).to.deep.equal(['object', 'bearer', USER.screen_name]);
    });

    it('accepts an async verify that returns the user', async () => {
      const res = await signIn({}, (async (_a: string, _r: unknown, profile: TwitterProfile) => ({ id: `async-${profile.id}` })) as never);
      expect(await res.json()).to.deep.equal({ user: { id: `async-${USER.id}` } });
    });

    it('accepts a synchronous verify that returns the user and declares no done', async () => {
      const res = await signIn({}, ((_a: string, _r: unknown, profile: TwitterProfile) => ({ id: `sync-${profile.id}` })) as never);
      expect(await res.json()).to.deep.equal({ user: { id: `sync-${USER.id}` } });
    });

    it('fails the sign-in when verify refuses it: false from a promise, or done(null, false, info)', async () => {
      expect(await failureOf(await signIn({}, (async () => false) as never))).to.deep.equal({ message: 'The app refused this sign-in.' } as never);
      const refused = await signIn({}, ((_a: string, _r: unknown, _p: unknown, done: (e: null, u: false, i: unknown) => void) =>
        done(null, false, { message: 'banned user' })) as never);
      expect(await failureOf(refused)).to.deep.equal({ message: 'banned user' } as never);
    });

    it("is the app's error when verify rejects, throws or calls done(err)", async () => {
      const boom = (code: string) => Object.assign(new Error(code), { code });
      const forms: [string, (...args: never[]) => unknown][] = [
        ['E_REJECT', (async () => {
          throw boom('E_REJECT');
        }) as never],
        ['E_THROW', (() => {
          throw boom('E_THROW');
        }) as never],
        ['E_DONE', ((_a: string, _r: unknown, _p: unknown, done: (e: Error) => void) => done(boom('E_DONE'))) as never],
      ];
      for (const [code, verify] of forms) {
        const res = await signIn({}, verify);
        expect(res.status, code).to.equal(500);
        expect(((await res.json()) as { error: string }).error).to.equal(code);
      }
    });
  });

  describe('state: CSRF and replays, refused before X is called', () => {
    it('fails a callback in another browser with no session as NO_PENDING_SIGN_IN, and the browser that started it still signs in', async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake);
      const app = await appFor(strategy);
      const mine = new Browser();
      const callback = await approved(app, mine);
      const failure = await failureOf(await new Browser().get(callback));
      expect(failure.code).to.equal('NO_PENDING_SIGN_IN');
      expect(failure.message).to.include('session cookie');
      expect(fake.stats().oauth2Token).to.equal(0);
      expect((await mine.get(callback)).status).to.equal(200);
      expect(calls).to.have.length(1);
    });

    it('fails a callback in another browser that has a sign-in of its own as UNKNOWN_TOKEN, leaving both sign-ins usable', async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake);
      const app = await appFor(strategy);
      const victim = new Browser();
      const attacker = new Browser();
      const attackersCallback = await approved(app, attacker);
      const victimsCallback = await approved(app, victim);
      expect((await failureOf(await victim.get(attackersCallback))).code).to.equal('UNKNOWN_TOKEN');
      expect(fake.stats().oauth2Token).to.equal(0);
      expect(await pendingIn(app, victim)).to.equal(1);
      expect((await victim.get(victimsCallback)).status).to.equal(200);
      expect((await attacker.get(attackersCallback)).status).to.equal(200);
    });

    it('fails a callback used a second time as ALREADY_USED, without a second exchange', async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake);
      const app = await appFor(strategy);
      const browser = new Browser();
      const callback = await approved(app, browser);
      expect((await browser.get(callback)).status).to.equal(200);
      const failure = await failureOf(await browser.get(callback));
      expect(failure.code).to.equal('ALREADY_USED');
      expect(failure.message).to.include('already used');
      expect(fake.stats().oauth2Token).to.equal(1);
      expect(calls).to.have.length(1);
    });

    it('fails a sign-in that took longer than the store ttl as EXPIRED_TOKEN, and forgets it', async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake, { requestTokenStore: new SessionRequestTokenStore({ ttl: 30 }) });
      const app = await appFor(strategy);
      const browser = new Browser();
      const callback = await approved(app, browser);
      await sleep(80);
      expect((await failureOf(await browser.get(callback))).code).to.equal('EXPIRED_TOKEN');
      expect(fake.stats().oauth2Token).to.equal(0);
      expect(await pendingIn(app, browser)).to.equal(0);
      expect(calls).to.have.length(0);
    });

    const malformed: [string, (state: string, code: string) => string][] = [
      ['no code', (s) => `state=${s}`],
      ['no state', (_s, c) => `code=${c}`],
      ['an empty code', (s) => `state=${s}&code=`],
      ['an empty state', (_s, c) => `state=&code=${c}`],
      ['a repeated state (an array)', (s, c) => `state=${s}&state=${s}&code=${c}`],
      ['a repeated code (an array)', (s, c) => `state=${s}&code=${c}&code=${c}`],
      ['state[] (an array to a rich parser)', (s, c) => `state[]=${s}&code=${c}`],
      ['state[x] (an object to a rich parser)', (s, c) => `state[x]=${s}&code=${c}`],
      ['code[x] (an object to a rich parser)', (s, c) => `state=${s}&code[x]=${c}`],
      ['a huge state', (s, c) => `state=${s}${'A'.repeat(8000)}&code=${c}`],
      ['a huge code', (s, c) => `state=${s}&code=${c}${'A'.repeat(8000)}`],
      ['a NUL byte in the state', (s, c) => `state=${s}%00&code=${c}`],
      ['a space in the code', (s, c) => `state=${s}&code=${c}%20x`],
      ['non-ASCII in the state', (s, c) => `state=${s}%C3%A9&code=${c}`],
      ['bytes that are not UTF-8 in the state', (s, c) => `state=${s}%FF%FE&code=${c}`],
      ['bytes that are not UTF-8 in the code', (s, c) => `state=${s}&code=${c}%C3%28`],
      ['__proto__[state]', (s, c) => `__proto__[state]=${s}&code=${c}`],
      ['constructor[prototype][code]', (s, c) => `state=${s}&constructor[prototype][code]=${c}`],
    ];
    for (const parser of ['simple', 'extended'] as const) {
      for (const [what, query] of malformed) {
        it(`fails a callback with ${what} as MALFORMED_CALLBACK (${parser} query parser), and the real callback still signs in`, async () => {
          const fake = await fakeX();
          const { strategy } = strategyFor(fake);
          const app = await appFor(strategy, { queryParser: parser });
          const browser = new Browser();
          const callback = new URL(await approved(app, browser));
          const state = callback.searchParams.get('state')!;
          const code = callback.searchParams.get('code')!;
          const res = await browser.get(`${app.url}${CALLBACK}?${query(state, code)}`);
          const text = await res.text();
          expect(res.status, text).to.equal(401);
          expect((JSON.parse(text) as Failure).failure.code).to.equal('MALFORMED_CALLBACK');
          expect(text, 'the code in the page').not.to.include(code);
          expect(fake.stats().oauth2Token).to.equal(0);
          expect(app.errors).to.deep.equal([]);
          expect(await pendingIn(app, browser)).to.equal(1);
          expect((await browser.get(callback.href)).status).to.equal(200);
        });
      }
    }

    it('fails a callback with another state than the one started as UNKNOWN_TOKEN, and the real one still signs in', async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake);
      const app = await appFor(strategy);
      const browser = new Browser();
      const callback = new URL(await approved(app, browser));
      const forged = `${app.url}${CALLBACK}?state=${randomBytes(32).toString('base64url')}&code=${callback.searchParams.get('code')}`;
      expect((await failureOf(await browser.get(forged))).code).to.equal('UNKNOWN_TOKEN');
      expect(fake.stats().oauth2Token).to.equal(0);
      expect((await browser.get(callback.href)).status).to.equal(200);
    });
  });

  describe("X's errors on the callback", () => {
    it('fails with DENIED when the user presses Cancel on X, and forgets that pending sign-in', async () => {
      const fake = await fakeX({ autoApprove: undefined });
      const { strategy, calls } = strategyFor(fake);
      const app = await appFor(strategy);
      const browser = new Browser();
      const authorize = await begin(app, browser);
      const state = authorize.searchParams.get('state')!;
      const page = await fetch(authorize.href);
      const authorization = /name="authorization" value="([^"]+)"/.exec(await page.text())![1]!;
      const cancelled = await fetch(`${fake.url}/i/oauth2/decide`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ authorization, decision: 'cancel' }).toString(),
      });
      expect(cancelled.status).to.equal(302);
      const back = new URL(cancelled.headers.get('location')!);
      expect(back.searchParams.get('error')).to.equal('access_denied');
      expect(back.searchParams.get('state')).to.equal(state);
      const failure = await failureOf(await browser.get(back.href));
      expect(failure.code).to.equal('DENIED');
      expect(failure.message).to.include('cancelled');
      expect(await pendingIn(app, browser)).to.equal(0);
      // The state cannot be used afterwards, with any code.
      const late = await failureOf(await browser.get(`${app.url}${CALLBACK}?state=${state}&code=anything`));
      expect(late.code).to.equal('NO_PENDING_SIGN_IN');
      expect(fake.stats().oauth2Token).to.equal(0);
      expect(calls).to.have.length(0);
      expect(app.errors).to.deep.equal([]);
    });

    it("is an error ERR_TWITTER_AUTHORIZATION (502) carrying X's error and description for any other error, and forgets the pending sign-in", async () => {
      const fake = await fakeX();
      // X refuses a scope it does not know, sending the user back with invalid_scope.
      const { strategy } = strategyFor(fake, { scope: 'tweets.read' });
      const app = await appFor(strategy);
      const browser = new Browser();
      const back = new URL(await approved(app, browser));
      expect(back.searchParams.get('error')).to.equal('invalid_scope');
      const res = await browser.get(back.href);
      expect(res.status).to.equal(502);
      expect(app.errors).to.have.length(1);
      const err = app.errors[0] as TwitterSignInError;
      expect(err).to.be.instanceOf(TwitterSignInError);
      expect(err).to.include({ code: 'ERR_TWITTER_AUTHORIZATION', status: 502, endpoint: 'authorize', providerError: 'invalid_scope' });
      expect(err.providerMessage).to.include('tweets.read');
      expect(err.message).to.include('invalid_scope');
      expect(err.message).to.include('Check the scope option');
      expect(await pendingIn(app, browser)).to.equal(0);
      expect(fake.stats().oauth2Token).to.equal(0);
    });

    it('keeps the description of a hostile error out of the message as it came: control characters replaced, megabytes clipped', async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake);
      const app = await appFor(strategy, { maxHeaderSize: 8 * 1024 * 1024 });
      const browser = new Browser();
      const state = new URL(await approved(app, browser)).searchParams.get('state')!;
      // C0 controls (a forged log line), DEL, C1 controls (NEL; CSI, which terminals obey), then a megabyte.
      const controls = 'evil\r\n2026-01-01 INFO admin signed in\u0000\u001b[31m\u007f\u0085\u009b31m';
      const description = `${controls}${'x'.repeat(1024 * 1024)}`;
      const error = `server_error\r\n${'e'.repeat(10_000)}`;
      const query = new URLSearchParams({ error, error_description: description, state }).toString();
      const res = await browser.get(`${app.url}${CALLBACK}?${query}`);
      expect(res.status).to.equal(502);
      const err = app.errors[0] as TwitterSignInError;
      expect(err.code).to.equal('ERR_TWITTER_AUTHORIZATION');
      for (const [what, text] of [
        ['message', err.message],
        ['providerMessage', err.providerMessage!],
        ['providerError', err.providerError!],
      ] as const) {
        // eslint-disable-next-line no-control-regex
        expect(/[\u0000-\u001f\u007f-\u009f]/.test(text), `control characters in ${what}: ${JSON.stringify(text.slice(0, 120))}`).to.equal(false);
      }
      expect(err.message.length).to.be.below(1000);
      expect(err.providerMessage!.length).to.be.below(1000);
      expect(err.providerMessage).to.include('2026-01-01 INFO admin signed in');
      expect((await res.text()).length).to.be.below(2000);
      expect(await pendingIn(app, browser)).to.equal(0);
    });

    it('forgets nothing of another browser when an error callback names its state', async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake);
      const app = await appFor(strategy);
      const victim = new Browser();
      const callback = new URL(await approved(app, victim));
      const state = callback.searchParams.get('state')!;
      expect((await failureOf(await new Browser().get(`${app.url}${CALLBACK}?error=access_denied&state=${state}`))).code).to.equal('DENIED');
      // Another browser's error link is a failure like any foreign callback: nothing logged as X's error.
      const foreign = await new Browser().get(`${app.url}${CALLBACK}?error=server_error&state=${state}`);
      expect(foreign.status).to.equal(401);
      expect((await victim.get(callback.href)).status).to.equal(200);
    });

    it('fails, without an error in the log, a crafted ?error= link with no state or one this browser did not start', async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake);
      const app = await appFor(strategy);
      const crafted = `error=invalid_client&error_description=${encodeURIComponent('Your secret was rotated; paste the new one at https://evil.example')}`;
      expect((await failureOf(await new Browser().get(`${app.url}${CALLBACK}?${crafted}`))).code).to.equal('MALFORMED_CALLBACK');
      expect((await failureOf(await new Browser().get(`${app.url}${CALLBACK}?${crafted}&state=made-up-state`))).code).to.equal('NO_PENDING_SIGN_IN');
    });
  });

  describe('/2/users/me refusing', () => {
    it('is an error ERR_TWITTER_RATE_LIMITED (503) with the reset time on a 429', async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake);
      const app = await appFor(strategy);
      const browser = new Browser();
      const callback = await approved(app, browser);
      const reset = Math.floor(Date.now() / 1000) + 900;
      fake.injectFault('users_me', {
        status: 429,
        body: JSON.stringify({ title: 'Too Many Requests', type: 'about:blank', status: 429, detail: 'Too Many Requests' }),
        headers: { 'x-rate-limit-limit': '75', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) },
      });
      const res = await browser.get(callback);
      expect(res.status).to.equal(503);
      const err = app.errors[0] as TwitterSignInError;
      expect(err).to.be.instanceOf(TwitterSignInError);
      expect(err).to.include({ code: 'ERR_TWITTER_RATE_LIMITED', status: 503, endpoint: 'profile', providerStatus: 429 });
      expect(err.rateLimitReset).to.be.instanceOf(Date);
      expect(err.rateLimitReset!.getTime()).to.equal(reset * 1000);
      expect(err.message).to.include(new Date(reset * 1000).toISOString());
      expect(fake.stats().usersMe).to.equal(1);
      expect(calls).to.have.length(0);
    });

    it("is an error ERR_PROFILE_UNAVAILABLE with X's reason and detail when the app is not enrolled (403 client-not-enrolled)", async () => {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake);
      const app = await appFor(strategy);
      const browser = new Browser();
      const callback = await approved(app, browser);
      const detail =
        'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.';
      fake.injectFault('users_me', {
        status: 403,
        contentType: 'application/problem+json',
        body: JSON.stringify({
          client_id: CLIENT_ID,
          detail,
          registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
          title: 'Client Forbidden',
          required_enrollment: 'Appropriate Level of API Access',
          reason: 'client-not-enrolled',
          type: 'https://api.twitter.com/2/problems/client-forbidden',
        }),
      });
      const res = await browser.get(callback);
      expect(res.status).to.equal(502);
      const err = app.errors[0] as TwitterSignInError;
      expect(err).to.include({ code: 'ERR_PROFILE_UNAVAILABLE', status: 502, endpoint: 'profile', providerStatus: 403, providerError: 'client-not-enrolled' });
      expect(err.providerMessage).to.equal(detail);
      expect(err.message).to.include(detail);
      expect(err.message).to.include('not enrolled');
      expect(calls).to.have.length(0);
    });
  });

  describe('beside the OAuth 1.0a strategy in one app', () => {
    const KEYS = { consumerKey: 'o2s-consumer-key', consumerSecret: 'o2s-consumer-secret' };

    async function both() {
      const fake = await fakeX({ ...KEYS } as Partial<FakeTwitterOptions>);
      const { strategy: oauth2, calls } = strategyFor(fake);
      const oauth1 = new TwitterSignInStrategy(
        { ...KEYS, callbackURL: '/auth/twitter/callback', ...fake.endpoints },
        (_token, _tokenSecret, profile) => ({ id: profile.id, username: profile.username, via: 'oauth1' }),
      );
      const app = await appFor(oauth2, { others: [oauth1], authenticateOptions: { keepSessionInfo: true } });
      return { fake, app, calls };
    }

    it('signs in through each, against one fake serving both protocols, each in its own session key', async () => {
      const { fake, app, calls } = await both();
      const browser = new Browser();
      const o1 = await redirectFrom(await redirectFrom(`${app.url}/auth/twitter`, browser));
      const o2 = await approved(app, browser);
      const keys = ((await (await browser.get(`${app.url}/debug/session`)).json()) as { keys: string[] }).keys.sort();
      expect(keys).to.deep.equal([PENDING_KEY, `oauth:twitter:${KEYS.consumerKey}`].sort());
      const viaOAuth1 = await browser.get(o1);
      expect(viaOAuth1.status, await viaOAuth1.clone().text()).to.equal(200);
      expect(await viaOAuth1.json()).to.deep.equal({ user: { id: USER.id, username: USER.screen_name, via: 'oauth1' } });
      const viaOAuth2 = await browser.get(o2);
      expect(viaOAuth2.status, await viaOAuth2.clone().text()).to.equal(200);
      expect(await viaOAuth2.json()).to.deep.equal({ user: { id: USER.id, username: USER.screen_name } });
      expect(calls).to.have.length(1);
      const stats = fake.stats();
      expect([stats.requestToken, stats.accessToken, stats.oauth2Token, stats.usersMe]).to.deep.equal([1, 1, 1, 1]);
    });

    it("does not let the OAuth 2.0 strategy take an OAuth 1.0a sign-in's request token for a state", async () => {
      const { fake, app } = await both();
      const browser = new Browser();
      const o1 = new URL(await redirectFrom(await redirectFrom(`${app.url}/auth/twitter`, browser)));
      const token = o1.searchParams.get('oauth_token')!;
      const verifier = o1.searchParams.get('oauth_verifier')!;
      const res = await browser.get(`${app.url}${CALLBACK}?state=${token}&code=${verifier}`);
      expect((await failureOf(res)).code).to.equal('NO_PENDING_SIGN_IN');
      expect(fake.stats().oauth2Token).to.equal(0);
      expect((await browser.get(o1.href)).status).to.equal(200);
    });

    it("does not let the OAuth 1.0a strategy take an OAuth 2.0 sign-in's state for a request token", async () => {
      const { fake, app } = await both();
      const browser = new Browser();
      const o2 = new URL(await approved(app, browser));
      const res = await browser.get(
        `${app.url}/auth/twitter/callback?oauth_token=${o2.searchParams.get('state')}&oauth_verifier=${o2.searchParams.get('code')}`,
      );
      expect((await failureOf(res)).code).to.equal('NO_PENDING_SIGN_IN');
      expect(fake.stats().accessToken).to.equal(0);
      expect((await browser.get(o2.href)).status).to.equal(200);
    });
  });

  describe('beside a second X app in one app', () => {
    it("does not let one app's strategy take the other's pending sign-in", async () => {
      const fake = await fakeX();
      const { strategy } = strategyFor(fake);
      const other = new TwitterOAuth2Strategy({ clientID: 'other-client-id', callbackURL: '/auth/x-other/callback', ...fake.oauth2Endpoints }, () => false);
      other.name = 'x-other';
      const app = await appFor(strategy, { others: [other] });
      const browser = new Browser();
      const callback = new URL(await approved(app, browser));
      const res = await browser.get(`${app.url}/auth/x-other/callback${callback.search}`);
      expect((await failureOf(res)).code).to.equal('NO_PENDING_SIGN_IN');
      expect(fake.stats().oauth2Token).to.equal(0);
      expect((await browser.get(callback.href)).status).to.equal(200);
    });
  });

  describe('with the cookie store (no session)', () => {
    const SECRET = randomBytes(32).toString('hex');

    async function cookieApp() {
      const fake = await fakeX();
      const { strategy, calls } = strategyFor(fake, { requestTokenStore: new CookieRequestTokenStore({ secret: SECRET }) });
      const app = await appFor(strategy, { session: false, authenticateOptions: { session: false } });
      return { fake, app, calls };
    }

    it('signs in with the pending sign-in in an encrypted cookie, cleared by the callback', async () => {
      const { fake, app, calls } = await cookieApp();
      const browser = new Browser();
      const authorize = await begin(app, browser);
      const sealed = browser.cookies.get('twitter_signin');
      expect(sealed).to.be.a('string');
      expect(sealed).not.to.include(authorize.searchParams.get('state'));
      const res = await browser.get(await redirectFrom(authorize.href));
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(await res.json()).to.deep.equal({ user: { id: USER.id, username: USER.screen_name } });
      expect(browser.cookies.has('twitter_signin'), 'the cookie after the callback').to.equal(false);
      expect(calls).to.have.length(1);
      expect(fake.stats().usersMe).to.equal(1);
    });

    it('refuses a replay that kept the old cookie as ALREADY_USED, and another browser as NO_PENDING_SIGN_IN, before X is called', async () => {
      const { fake, app } = await cookieApp();
      const browser = new Browser();
      const callback = await approved(app, browser);
      const kept = new Browser();
      kept.cookies.set('twitter_signin', browser.cookies.get('twitter_signin')!);
      expect((await failureOf(await new Browser().get(callback))).code).to.equal('NO_PENDING_SIGN_IN');
      expect((await browser.get(callback)).status).to.equal(200);
      expect((await failureOf(await kept.get(callback))).code).to.equal('ALREADY_USED');
      expect(fake.stats().oauth2Token).to.equal(1);
    });
  });
});
