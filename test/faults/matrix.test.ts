/**
 * Twitter failing in every way we know of, and browsers sending every malformed callback we could
 * think of, as one generated matrix against a real Express app and the fake Twitter over HTTP.
 *
 * Each fault case checks the whole contract at once: a typed TwitterSignInError with the right
 * code reaches the app's error handler within the timeout, the process emits no unhandled
 * rejection or uncaught exception, no secret is in the error or the page, the strategy made
 * one call (a reset on a kept-alive socket is resent once), no pending sign-in is left behind, and the app goes on serving.
 * Each hostile callback is a fail() that never reaches Twitter and leaves the real pending
 * sign-in usable.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { inspect } from 'node:util';
import { expect } from 'chai';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { SessionRequestTokenStore, TwitterSignInError, TwitterSignInStrategy } from '../../lib/index.js';
import type { SignInFailureCode, TwitterSignInErrorCode } from '../../lib/index.js';
import { startFakeTwitter, type FakeFault, type FakeTwitter } from '../../lib/testing/index.js';
import { Browser } from '../helpers/app.js';

const CONSUMER_KEY = 'matrix-consumer-key';
const CONSUMER_SECRET = 'matrix-consumer-secret-DO-NOT-LEAK';
const PENDING_KEY = `oauth:twitter:${CONSUMER_KEY}`;
const USER = { id: '2244994945', screen_name: 'matrixuser' };
/** The strategy's `timeout`, kept small so hangs and slow answers fail fast. */
const TIMEOUT = 300;
/** Allowed on top of TIMEOUT for an error to reach the handler (shared, busy CI machines). */
const MARGIN = 1000;
/** Put in the bodies of faulty answers where a secret would be: it must not surface either. */
const PLANTED_SECRET = 'planted-token-secret-DO-NOT-LEAK';

type Endpoint = 'request_token' | 'access_token';
type QueryParser = 'simple' | 'extended';

interface MatrixApp {
  url: string;
  /** Everything that reached the app's error handler, in order. */
  errors: unknown[];
  close(): Promise<void>;
}

/** The session store, recording every request token secret it is given, so tests can look for leaks. */
class RecordingStore extends SessionRequestTokenStore {
  readonly secrets: string[] = [];

  override set(req: Parameters<SessionRequestTokenStore['set']>[0], token: string, tokenSecret: string, scope: string): void {
    this.secrets.push(tokenSecret);
    super.set(req, token, tokenSecret, scope);
  }
}

async function startMatrixApp(fake: FakeTwitter, store: RecordingStore, queryParser: QueryParser): Promise<MatrixApp> {
  const errors: unknown[] = [];
  const strategy = new TwitterSignInStrategy(
    {
      consumerKey: CONSUMER_KEY,
      consumerSecret: CONSUMER_SECRET,
      callbackURL: '/auth/twitter/callback',
      ...fake.endpoints,
      timeout: TIMEOUT,
      requestTokenStore: store,
    },
    async (_token, _tokenSecret, profile) => ({ id: profile.id, username: profile.username }),
  );
  const passport = new Passport();
  passport.use(strategy);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));

  const app = express();
  app.set('query parser', queryParser);
  app.use(session({ secret: 'matrix-session-secret', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  const auth: express.RequestHandler = (req, res, next) =>
    passport.authenticate('twitter', (err: unknown, user: Express.User | false, info: unknown) => {
      if (err) return next(err);
      if (!user) return res.status(401).json({ failure: info });
      req.logIn(user, (loginErr) => (loginErr ? next(loginErr) : res.json({ user })));
    })(req, res, next);
  app.get('/auth/twitter', auth);
  app.get('/auth/twitter/callback', auth);
  // What the session holds, for tests only: its keys and how many sign-ins are pending.
  app.get('/debug/session', (req, res) => {
    const stored = req.session as unknown as Record<string, unknown>;
    // Under a fixed key, the store keeps each scope's entries apart: { [scope]: entries }.
    const byScope = stored[PENDING_KEY];
    const pending = byScope && typeof byScope === 'object' ? Object.values(byScope).flat().length : 0;
    res.json({ keys: Object.keys(stored), pending });
  });
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    errors.push(err);
    res.status(500).json({ error: (err as { code?: unknown }).code ?? 'ERR', message: (err as Error).message });
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    errors,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A server that only counts requests: where the faulty redirects point. It must never be asked. */
async function startTrap(): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits += 1;
    req.resume();
    res.end('oauth_token=trap&oauth_token_secret=trap&oauth_callback_confirmed=true');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface FaultCase {
  /** How Twitter misbehaves, as the end of "when <endpoint> …". */
  what: string;
  endpoints: readonly Endpoint[];
  fault(endpoint: Endpoint): FakeFault;
  code: TwitterSignInErrorCode;
  /** The error's `providerStatus`, when Twitter answered with one. */
  status?: number;
  /** A timeout case: the error may not come before `TIMEOUT`. */
  timesOut?: boolean;
  /** Milliseconds after the request during which the fake may still answer (delayed answers). */
  lateAnswerMs?: number;
  /**
   * Calls Twitter may see: 1, except a reset, which the client resends once when it hit a
   * kept-alive socket (the documented stale-socket case), so 1 or 2.
   */
  maxCalls?: number;
}

const BOTH: readonly Endpoint[] = ['request_token', 'access_token'];

function twitterError(code: number, message: string): string {
  return JSON.stringify({ errors: [{ code, message }] });
}

// Status, Twitter's code and message for that status, as Twitter answers them.
const REFUSALS: [number, number, string][] = [
  [401, 32, 'Could not authenticate you.'],
  [403, 415, 'Callback URL not approved for this client application.'],
  [429, 88, 'Rate limit exceeded'],
  [500, 131, 'Internal error'],
  [503, 130, 'Over capacity'],
];

function faultCases(trapURL: string): FaultCase[] {
  return [
    ...REFUSALS.map(
      ([status, code, message]): FaultCase => ({
        what: `answers HTTP ${status}`,
        endpoints: BOTH,
        fault: () => ({ status, body: twitterError(code, message) }),
        code: status === 429 ? 'ERR_TWITTER_RATE_LIMITED' : 'ERR_TWITTER_HTTP',
        status,
      }),
    ),
    {
      what: 'answers 200 with an HTML page',
      endpoints: BOTH,
      fault: () => ({
        status: 200,
        contentType: 'text/html; charset=utf-8',
        body: '<!doctype html><html><body><h1>Welcome to the hotel Wi-Fi</h1></body></html>',
      }),
      code: 'ERR_TWITTER_RESPONSE',
    },
    {
      what: 'answers 200 with an empty body',
      endpoints: BOTH,
      fault: () => ({ status: 200, contentType: 'text/html; charset=utf-8', body: '' }),
      code: 'ERR_TWITTER_RESPONSE',
    },
    {
      what: 'answers 200 with a body missing a required field',
      endpoints: BOTH,
      fault: (endpoint) => ({
        status: 200,
        contentType: 'text/html; charset=utf-8',
        body:
          endpoint === 'request_token'
            ? `oauth_token_secret=${PLANTED_SECRET}&oauth_callback_confirmed=true`
            : `oauth_token=1-access&oauth_token_secret=${PLANTED_SECRET}&screen_name=someone`,
      }),
      code: 'ERR_TWITTER_RESPONSE',
    },
    {
      what: 'answers oauth_callback_confirmed=false',
      endpoints: ['request_token'],
      fault: () => ({
        status: 200,
        contentType: 'text/html; charset=utf-8',
        body: `oauth_token=unconfirmed&oauth_token_secret=${PLANTED_SECRET}&oauth_callback_confirmed=false`,
      }),
      code: 'ERR_CALLBACK_NOT_CONFIRMED',
    },
    {
      what: 'redirects elsewhere (302)',
      endpoints: BOTH,
      fault: (endpoint) => ({ status: 302, body: '', headers: { location: `${trapURL}/oauth/${endpoint}` } }),
      code: 'ERR_TWITTER_REDIRECT',
      status: 302,
    },
    {
      what: 'resets the connection',
      endpoints: BOTH,
      fault: () => ({ type: 'reset' }),
      code: 'ERR_TWITTER_NETWORK',
      maxCalls: 2,
    },
    {
      what: 'never answers',
      endpoints: BOTH,
      fault: () => ({ type: 'hang' }),
      code: 'ERR_TWITTER_TIMEOUT',
      timesOut: true,
    },
    {
      what: 'answers after the timeout',
      endpoints: BOTH,
      fault: () => ({ type: 'delay', ms: TIMEOUT * 2 }),
      code: 'ERR_TWITTER_TIMEOUT',
      timesOut: true,
      lateAnswerMs: TIMEOUT * 2,
    },
  ];
}

interface HostileCase {
  /** What the callback query is, as the end of "a callback with …". */
  what: string;
  /** The query, given the real pending sign-in's token and verifier. */
  query(token: string, verifier: string): string;
  code: SignInFailureCode | Record<QueryParser, SignInFailureCode>;
}

const HOSTILE: HostileCase[] = [
  { what: 'oauth_token repeated (an array)', query: (t, v) => `oauth_token=${t}&oauth_token=${t}&oauth_verifier=${v}`, code: 'MALFORMED_CALLBACK' },
  { what: 'oauth_verifier repeated (an array)', query: (t, v) => `oauth_token=${t}&oauth_verifier=${v}&oauth_verifier=${v}`, code: 'MALFORMED_CALLBACK' },
  { what: 'oauth_token[] (an array to a rich parser)', query: (t, v) => `oauth_token[]=${t}&oauth_verifier=${v}`, code: 'MALFORMED_CALLBACK' },
  { what: 'oauth_token[x] (an object to a rich parser)', query: (t, v) => `oauth_token[x]=${t}&oauth_verifier=${v}`, code: 'MALFORMED_CALLBACK' },
  { what: 'oauth_verifier[x] (an object to a rich parser)', query: (t, v) => `oauth_token=${t}&oauth_verifier[x]=${v}`, code: 'MALFORMED_CALLBACK' },
  { what: 'a huge oauth_token', query: (_t, v) => `oauth_token=${'A'.repeat(8000)}&oauth_verifier=${v}`, code: 'MALFORMED_CALLBACK' },
  { what: 'a huge oauth_verifier', query: (t, v) => `oauth_token=${t}&oauth_verifier=${v}${'A'.repeat(8000)}`, code: 'MALFORMED_CALLBACK' },
  { what: 'empty values', query: () => 'oauth_token=&oauth_verifier=', code: 'MALFORMED_CALLBACK' },
  { what: 'an empty oauth_verifier', query: (t) => `oauth_token=${t}&oauth_verifier=`, code: 'MALFORMED_CALLBACK' },
  { what: 'no oauth_verifier', query: (t) => `oauth_token=${t}`, code: 'MALFORMED_CALLBACK' },
  { what: 'a NUL byte in oauth_verifier', query: (t, v) => `oauth_token=${t}&oauth_verifier=${v}%00`, code: 'MALFORMED_CALLBACK' },
  { what: 'non-ASCII in oauth_token', query: (t, v) => `oauth_token=${t}%C3%A9&oauth_verifier=${v}`, code: 'MALFORMED_CALLBACK' },
  {
    what: 'invalid UTF-8 in oauth_token',
    query: (t, v) => `oauth_token=${t}%FF%FE&oauth_verifier=${v}`,
    // querystring decodes it to U+FFFD; qs leaves the undecodable text as it is.
    code: 'MALFORMED_CALLBACK',
  },
  {
    what: 'invalid UTF-8 in oauth_verifier',
    query: (t, v) => `oauth_token=${t}&oauth_verifier=${v}%C3%28`,
    // qs leaves the undecodable text as it is; querystring decodes it to U+FFFD. Both are refused.
    code: 'MALFORMED_CALLBACK',
  },
  { what: '__proto__[oauth_token]', query: (t, v) => `__proto__[oauth_token]=${t}&oauth_verifier=${v}`, code: 'MALFORMED_CALLBACK' },
  { what: 'oauth_token[__proto__]', query: (t, v) => `oauth_token[__proto__]=${t}&oauth_verifier=${v}`, code: 'MALFORMED_CALLBACK' },
  { what: 'oauth_token=__proto__', query: (_t, v) => `oauth_token=__proto__&oauth_verifier=${v}`, code: 'UNKNOWN_TOKEN' },
  {
    what: 'constructor[prototype][oauth_verifier]',
    query: (t, v) => `oauth_token=${t}&constructor[prototype][oauth_verifier]=${v}`,
    code: 'MALFORMED_CALLBACK',
  },
  { what: 'another oauth_token than the one started', query: (_t, v) => `oauth_token=not-the-started-token&oauth_verifier=${v}`, code: 'UNKNOWN_TOKEN' },
];

/** Every string in `secrets` that occurs in `text`. */
function leaked(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((secret) => secret.length > 0 && text.includes(secret));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('faults and bad input', () => {
  let fake: FakeTwitter;
  let trap: Awaited<ReturnType<typeof startTrap>>;
  const store = new RecordingStore({ key: PENDING_KEY });
  const apps = {} as Record<QueryParser, MatrixApp>;
  const processEvents: string[] = [];
  const onRejection = (reason: unknown) => processEvents.push(`unhandledRejection: ${inspect(reason)}`);
  const onException = (err: Error) => processEvents.push(`uncaughtException: ${inspect(err)}`);

  before(async () => {
    fake = await startFakeTwitter({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, autoApprove: USER });
    trap = await startTrap();
    apps.simple = await startMatrixApp(fake, store, 'simple');
    apps.extended = await startMatrixApp(fake, store, 'extended');
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
  });

  afterEach(() => fake.clearFaults());

  after(async () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    await apps.simple?.close();
    await apps.extended?.close();
    await trap?.close();
    await fake?.close();
  });

  /** Starts a sign-in and has the fake approve it; returns the callback and its parts. */
  async function approvedSignIn(app: MatrixApp, browser: Browser): Promise<{ callback: string; token: string; verifier: string }> {
    const start = await browser.get(`${app.url}/auth/twitter`);
    expect(start.status, await start.clone().text()).to.equal(302);
    const approved = await browser.get(start.headers.get('location')!);
    expect(approved.status, await approved.clone().text()).to.equal(302);
    const callback = new URL(approved.headers.get('location')!);
    return {
      callback: `${app.url}${callback.pathname}${callback.search}`,
      token: callback.searchParams.get('oauth_token')!,
      verifier: callback.searchParams.get('oauth_verifier')!,
    };
  }

  async function pendingIn(app: MatrixApp, browser: Browser): Promise<number> {
    const res = await browser.get(`${app.url}/debug/session`);
    return ((await res.json()) as { pending: number }).pending;
  }

  /** A whole sign-in in a fresh browser: the app still serves after whatever came before. */
  async function expectWorkingSignIn(app: MatrixApp): Promise<void> {
    const browser = new Browser();
    const { callback } = await approvedSignIn(app, browser);
    const res = await browser.get(callback);
    expect(res.status, `the next sign-in: ${await res.clone().text()}`).to.equal(200);
    expect(((await res.json()) as { user: { username: string } }).user.username).to.equal(USER.screen_name);
  }

  describe('Twitter failing', () => {
    // The trap's URL is known once it listens; the cases only need it when they run.
    const cases = faultCases('http://127.0.0.1:0');
    for (const endpoint of BOTH) {
      for (const [index, template] of cases.entries()) {
        if (!template.endpoints.includes(endpoint)) continue;
        const expected = `${template.code}${template.status !== undefined ? ` (status ${template.status})` : ''}`;
        it(`when ${endpoint} ${template.what}, the app's error handler gets ${expected} in time, with no secret, nothing pending, and the app keeps serving`, async function () {
          this.timeout(TIMEOUT * 4 + MARGIN * 3);
          const testCase = faultCases(trap.url)[index]!;
          const app = apps.simple;
          const browser = new Browser();
          const errorsBefore = app.errors.length;
          const eventsBefore = processEvents.length;
          const secrets = [CONSUMER_SECRET, PLANTED_SECRET];

          let url = `${app.url}/auth/twitter`;
          let replay: string | undefined;
          if (endpoint === 'access_token') {
            const signIn = await approvedSignIn(app, browser);
            expect(await pendingIn(app, browser), 'pending before the callback').to.equal(1);
            secrets.push(store.secrets.at(-1)!, signIn.verifier);
            url = replay = signIn.callback;
          }
          const callsBefore = fake.stats();
          // As many times as the client may call: a resent request meets the same fault.
          fake.injectFault(endpoint, testCase.fault(endpoint), { times: testCase.maxCalls ?? 1 });

          const started = performance.now();
          const res = await browser.get(url);
          const elapsed = performance.now() - started;
          const page = await res.text();

          // The error handler got one typed error, with the code and status expected.
          expect(res.status, page).to.equal(500);
          expect(app.errors.length - errorsBefore, 'errors that reached the handler').to.equal(1);
          const err = app.errors.at(-1);
          expect(err).to.be.an.instanceOf(TwitterSignInError);
          const typed = err as TwitterSignInError;
          expect(typed.code).to.equal(testCase.code);
          expect(typed.endpoint).to.equal(endpoint);
          if (testCase.status !== undefined) expect(typed.providerStatus).to.equal(testCase.status);
          // Twitter's status is not the app's: a refusal upstream is a bad gateway, a timeout a gateway timeout.
          expect(typed.status).to.equal(
            testCase.code === 'ERR_TWITTER_TIMEOUT' ? 504 : testCase.code === 'ERR_TWITTER_RATE_LIMITED' ? 503 : 502,
          );
          expect(JSON.parse(page)).to.include({ error: testCase.code });

          // In time: the timeout bounds every case; the timeout cases did wait for it.
          expect(elapsed, 'milliseconds until the error page').to.be.below(TIMEOUT + MARGIN);
          if (testCase.timesOut) expect(elapsed).to.be.at.least(TIMEOUT - 5);

          // One call to Twitter (a reset on a kept-alive socket is resent once, never more), and
          // a redirect was never followed.
          const calls = fake.stats();
          const made = { request_token: calls.requestToken - callsBefore.requestToken, access_token: calls.accessToken - callsBefore.accessToken };
          expect(made[endpoint]).to.be.within(1, testCase.maxCalls ?? 1);
          expect(made[endpoint === 'request_token' ? 'access_token' : 'request_token']).to.equal(0);
          expect(trap.hits(), 'requests to the redirect target').to.equal(0);

          // No secret in the error, however it is printed, nor in the page.
          for (const [form, text] of [
            ['message', typed.message],
            ['toString()', String(typed)],
            ['JSON', JSON.stringify(typed)],
            ['inspect()', inspect(typed, { depth: 5 })],
            ['the page', page],
          ] as const) {
            expect(leaked(text, secrets), `secrets in ${form}`).to.deep.equal([]);
          }

          // Nothing pending; a replayed callback is known as used and does not reach Twitter.
          expect(await pendingIn(app, browser), 'pending after the error').to.equal(0);
          if (replay !== undefined) {
            const exchanges = fake.stats().accessToken;
            const again = await browser.get(replay);
            expect(again.status).to.equal(401);
            expect(((await again.json()) as { failure: { code: string } }).failure.code).to.equal('ALREADY_USED');
            expect(fake.stats().accessToken, 'access_token calls for the replay').to.equal(exchanges);
          }

          await expectWorkingSignIn(app);
          // A late answer lands after the client gave up: it must not blow up anything either.
          if (testCase.lateAnswerMs !== undefined) await sleep(Math.max(0, testCase.lateAnswerMs - elapsed) + 50);
          expect(processEvents.slice(eventsBefore)).to.deep.equal([]);
        });
      }
    }
  });

  describe('hostile callback queries', () => {
    for (const parser of ['simple', 'extended'] as const) {
      describe(`with the ${parser} query parser`, () => {
        for (const hostile of HOSTILE) {
          const code = typeof hostile.code === 'string' ? hostile.code : hostile.code[parser];
          const title = `fails a callback with ${hostile.what} as ${code}, without calling Twitter, and the real sign-in still completes`;
          it(title, async () => {
            const app = apps[parser];
            const browser = new Browser();
            const errorsBefore = app.errors.length;
            const eventsBefore = processEvents.length;
            const { callback, token, verifier } = await approvedSignIn(app, browser);
            expect(await pendingIn(app, browser)).to.equal(1);
            const callsBefore = fake.stats();

            const res = await browser.get(`${app.url}/auth/twitter/callback?${hostile.query(token, verifier)}`);
            const text = await res.text();
            expect(res.status, text).to.equal(401);
            expect((JSON.parse(text) as { failure: { code: string } }).failure.code).to.equal(code);
            expect(leaked(text, [CONSUMER_SECRET, store.secrets.at(-1)!, verifier]), 'secrets in the page').to.deep.equal([]);
            const calls = fake.stats();
            expect(calls.accessToken, 'access_token calls').to.equal(callsBefore.accessToken);
            expect(calls.requestToken, 'request_token calls').to.equal(callsBefore.requestToken);
            expect(app.errors.length, 'errors').to.equal(errorsBefore);
            expect(await pendingIn(app, browser), 'pending after the hostile callback').to.equal(1);

            const real = await browser.get(callback);
            expect(real.status, await real.clone().text()).to.equal(200);
            expect(((await real.json()) as { user: { username: string } }).user.username).to.equal(USER.screen_name);
            expect(processEvents.slice(eventsBefore)).to.deep.equal([]);
          });
        }
      });
    }
  });
});
