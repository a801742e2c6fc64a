/**
 * X failing in every way we know of at the two calls an OAuth 2.0 sign-in makes (the code
 * exchange, POST /2/oauth2/token, and the identity, GET /2/users/me), as one generated matrix
 * against a real Express app and the fake X over HTTP.
 *
 * Each case checks the whole contract at once: one typed TwitterSignInError with the right code
 * and status reaches the app's error handler within the timeout; the process emits no unhandled
 * rejection or uncaught exception; nothing the client sent that is a secret (the client secret
 * and its Basic credential, the code, the PKCE verifier, the access token) is in the error,
 * however it is printed, or in the page; each call was made once (a reset on a kept-alive
 * socket is resent once); no pending sign-in is left behind; a replayed callback does not reach
 * X again; and the app goes on serving.
 *
 * What the client sent is read off the wire with an undici interceptor on the strategy's
 * `dispatcher`, so the secrets looked for are the ones that really went out.
 */
import type { AddressInfo } from 'node:net';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { inspect } from 'node:util';
import { expect } from 'chai';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { Agent, type Dispatcher } from 'undici';
import { SessionRequestTokenStore, TwitterOAuth2Strategy, TwitterSignInError } from '../../lib/index.js';
import type { TwitterSignInErrorCode } from '../../lib/index.js';
import { startFakeTwitter, type FakeFault, type FakeTwitter } from '../../lib/testing/index.js';
import { Browser } from '../helpers/app.js';

const CLIENT_ID = 'matrix-oauth2-client-id';
const CLIENT_SECRET = 'matrix-oauth2-client-secret-DO-NOT-LEAK';
const PENDING_KEY = `oauth2:twitter:${CLIENT_ID}`;
const USER = { id: '2244994945', screen_name: 'matrixuser' };
/** The strategy's `timeout`, kept small so hangs and slow answers fail fast. */
const TIMEOUT = 300;
/** Allowed on top of TIMEOUT for an error to reach the handler (shared, busy CI machines). */
const MARGIN = 1500;
/** Put in the bodies of faulty answers where a token would be: it must not surface either. */
const PLANTED_SECRET = 'planted-access-token-DO-NOT-LEAK';

type Endpoint = 'oauth2_token' | 'users_me';
const ENDPOINTS: readonly Endpoint[] = ['oauth2_token', 'users_me'];
/** The error's `endpoint` for each faulted endpoint. */
const ERROR_ENDPOINT = { oauth2_token: 'token', users_me: 'profile' } as const;

/** The session store, recording every PKCE verifier it is given, so tests can look for leaks. */
class RecordingStore extends SessionRequestTokenStore {
  readonly secrets: string[] = [];

  override set(req: Parameters<SessionRequestTokenStore['set']>[0], token: string, tokenSecret: string, scope: string): void {
    this.secrets.push(tokenSecret);
    super.set(req, token, tokenSecret, scope);
  }
}

/** The credentials in every request the strategy sent: Basic and Bearer credentials, and form values. */
class Wire {
  /** What each credential was (`Basic`, `Bearer`, or the form field's name) and its value, in order. */
  readonly secrets: [kind: string, value: string][] = [];

  record(opts: Dispatcher.DispatchOptions): void {
    const headers: [string, string][] = Array.isArray(opts.headers)
      ? pairs(opts.headers as string[])
      : Object.entries((opts.headers ?? {}) as Record<string, string>);
    for (const [name, value] of headers) {
      if (name.toLowerCase() !== 'authorization') continue;
      const credential = /^(Basic|Bearer) (.+)$/.exec(value);
      if (credential) this.secrets.push([credential[1]!, credential[2]!]);
    }
    if (typeof opts.body === 'string') {
      for (const [name, value] of new URLSearchParams(opts.body)) {
        if (['code', 'code_verifier', 'refresh_token', 'token', 'client_secret'].includes(name)) this.secrets.push([name, value]);
      }
    }
  }
}

function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

interface MatrixApp {
  url: string;
  /** Everything that reached the app's error handler, in order. */
  errors: unknown[];
  /** Sign-ins verify was called for. */
  verified: () => number;
  close(): Promise<void>;
}

async function startMatrixApp(
  fake: FakeTwitter,
  store: RecordingStore,
  wire: Wire,
  endpoints: Partial<FakeTwitter['oauth2Endpoints']> = {},
): Promise<MatrixApp> {
  const errors: unknown[] = [];
  let verified = 0;
  const agent = new Agent();
  const dispatcher = agent.compose((dispatch) => (opts, handler) => {
    wire.record(opts);
    return dispatch(opts, handler);
  });
  const strategy = new TwitterOAuth2Strategy(
    {
      clientID: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      callbackURL: '/auth/x/callback',
      ...fake.oauth2Endpoints,
      ...endpoints,
      timeout: TIMEOUT,
      dispatcher,
      requestTokenStore: store,
    },
    async (_accessToken, _refreshToken, profile) => {
      verified += 1;
      return { id: profile.id, username: profile.username };
    },
  );
  const passport = new Passport();
  passport.use(strategy);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));

  const app = express();
  app.use(session({ secret: 'matrix-session-secret', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  const auth: express.RequestHandler = (req, res, next) =>
    passport.authenticate('twitter-oauth2', (err: unknown, user: Express.User | false, info: unknown) => {
      if (err) return next(err);
      if (!user) return res.status(401).json({ failure: info });
      req.logIn(user, (loginErr) => (loginErr ? next(loginErr) : res.json({ user })));
    })(req, res, next);
  app.get('/auth/x', auth);
  app.get('/auth/x/callback', auth);
  // How many sign-ins the session holds, for tests only.
  app.get('/debug/session', (req, res) => {
    const pending = (req.session as unknown as Record<string, unknown>)[PENDING_KEY];
    res.json({ pending: Array.isArray(pending) ? pending.length : 0 });
  });
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    errors.push(err);
    const e = err as { code?: unknown; status?: unknown; message?: unknown };
    res.status(typeof e.status === 'number' ? e.status : 500).json({ error: e.code ?? 'ERR', message: e.message });
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    errors,
    verified: () => verified,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}

/** A server that only counts requests: where the faulty redirects point. It must never be asked. */
async function startTrap(): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits += 1;
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ token_type: 'bearer', access_token: 'trap', data: { id: '1', username: 'trap' } }));
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
  /** How X misbehaves, as the end of "when <endpoint> …". */
  what: string;
  endpoints: readonly Endpoint[];
  fault(endpoint: Endpoint, trapURL: string): FakeFault;
  code: TwitterSignInErrorCode | Record<Endpoint, TwitterSignInErrorCode>;
  /** The error's `providerStatus`, when X answered with one. */
  status?: number;
  /** The error's `providerError`, when X's body names one. */
  providerError?: Partial<Record<Endpoint, string>>;
  /** A timeout case: the error may not come before `TIMEOUT`. */
  timesOut?: boolean;
  /** Milliseconds after the request during which the fake may still answer (delayed answers). */
  lateAnswerMs?: number;
  /**
   * Calls X may see: 1, except a reset, which the client resends once when it hit a kept-alive
   * socket (the documented stale-socket case), so 1 or 2.
   */
  maxCalls?: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM_TYPE = 'application/problem+json';
const problem = (status: number, title: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ title, type: 'about:blank', status, detail: title, ...extra });

/** X's refusals, in the shape each endpoint answers them. */
const REFUSALS: { status: number; body: Record<Endpoint, string>; contentType?: string; providerError?: Partial<Record<Endpoint, string>> }[] = [
  {
    status: 400,
    body: {
      oauth2_token: JSON.stringify({ error: 'invalid_request', error_description: 'Value passed for the authorization code was invalid.' }),
      users_me: JSON.stringify({
        errors: [{ parameters: { 'user.fields': ['bogus'] }, message: 'The `user.fields` query parameter value [bogus] is not one of [id,name]' }],
        title: 'Invalid Request',
        detail: 'One or more parameters to your request was invalid.',
        type: 'https://api.x.com/2/problems/invalid-request',
      }),
    },
    providerError: { oauth2_token: 'invalid_request' },
  },
  {
    status: 401,
    body: {
      oauth2_token: JSON.stringify({ error: 'unauthorized_client', error_description: 'Missing valid authorization header' }),
      users_me: problem(401, 'Unauthorized'),
    },
    providerError: { oauth2_token: 'unauthorized_client' },
  },
  {
    status: 403,
    contentType: PROBLEM_TYPE,
    body: {
      oauth2_token: problem(403, 'Forbidden'),
      users_me: JSON.stringify({
        client_id: CLIENT_ID,
        detail: 'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.',
        registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
        title: 'Client Forbidden',
        required_enrollment: 'Appropriate Level of API Access',
        reason: 'client-not-enrolled',
        type: 'https://api.twitter.com/2/problems/client-forbidden',
      }),
    },
    providerError: { users_me: 'client-not-enrolled' },
  },
  {
    status: 429,
    body: { oauth2_token: problem(429, 'Too Many Requests'), users_me: JSON.stringify({ errors: [{ code: 88, message: 'Rate limit exceeded' }] }) },
  },
  {
    status: 500,
    body: { oauth2_token: problem(500, 'Internal Server Error'), users_me: JSON.stringify({ errors: [{ code: 131, message: 'Internal error' }] }) },
  },
  {
    status: 503,
    contentType: 'text/html; charset=utf-8',
    body: { oauth2_token: '<html><body><h1>Over capacity</h1></body></html>', users_me: '<html><body><h1>Over capacity</h1></body></html>' },
  },
];

// X's rate-limit reset: the epoch second the window ends.
const RESET = Math.floor(Date.now() / 1000) + 900;

const CASES: FaultCase[] = [
  ...REFUSALS.map(
    ({ status, body, contentType, providerError }): FaultCase => ({
      what: `answers HTTP ${status}`,
      endpoints: ENDPOINTS,
      fault: (endpoint) => ({
        status,
        body: body[endpoint],
        contentType: contentType ?? JSON_TYPE,
        ...(status === 429 ? { headers: { 'x-rate-limit-reset': String(RESET), 'x-rate-limit-remaining': '0' } } : {}),
      }),
      code:
        status === 429
          ? 'ERR_TWITTER_RATE_LIMITED'
          : // A refused identity call is reported as such; a refused exchange as X's HTTP refusal.
            { oauth2_token: 'ERR_TWITTER_HTTP', users_me: 'ERR_PROFILE_UNAVAILABLE' },
      status,
      ...(providerError ? { providerError } : {}),
    }),
  ),
  {
    what: 'answers 200 with an HTML page',
    endpoints: ENDPOINTS,
    fault: () => ({ status: 200, contentType: 'text/html; charset=utf-8', body: '<!doctype html><h1>Welcome to the hotel Wi-Fi</h1>' }),
    code: 'ERR_TWITTER_RESPONSE',
  },
  {
    what: 'answers 200 with an empty body',
    endpoints: ENDPOINTS,
    fault: () => ({ status: 200, body: '' }),
    code: 'ERR_TWITTER_RESPONSE',
  },
  {
    what: 'answers 200 with JSON that is not an object',
    endpoints: ENDPOINTS,
    fault: () => ({ status: 200, body: 'null' }),
    code: 'ERR_TWITTER_RESPONSE',
  },
  {
    what: 'answers 200 without access_token',
    endpoints: ['oauth2_token'],
    fault: () => ({
      status: 200,
      body: JSON.stringify({ token_type: 'bearer', expires_in: 7200, scope: 'tweet.read users.read', refresh_token: PLANTED_SECRET }),
    }),
    code: 'ERR_TWITTER_RESPONSE',
  },
  {
    what: 'answers 200 with a token_type other than bearer',
    endpoints: ['oauth2_token'],
    fault: () => ({ status: 200, body: JSON.stringify({ token_type: 'mac', expires_in: 7200, access_token: PLANTED_SECRET, mac_key: PLANTED_SECRET }) }),
    code: 'ERR_TWITTER_RESPONSE',
  },
  {
    what: 'answers 200 with errors and no data',
    endpoints: ['users_me'],
    fault: () => ({ status: 200, body: JSON.stringify({ errors: [{ title: 'Not Found Error', detail: 'Could not find user', type: 'https://api.x.com/2/problems/resource-not-found' }] }) }),
    code: 'ERR_TWITTER_RESPONSE',
  },
  {
    what: 'answers 200 with a user without an id',
    endpoints: ['users_me'],
    fault: () => ({ status: 200, body: JSON.stringify({ data: { name: 'No Id', username: 'noid' } }) }),
    code: 'ERR_TWITTER_RESPONSE',
  },
  {
    what: 'answers 200 compressed though identity was asked for',
    endpoints: ENDPOINTS,
    fault: () => ({ status: 200, body: '\u001f\u008b garbage', headers: { 'content-encoding': 'gzip' } }),
    code: 'ERR_TWITTER_RESPONSE',
  },
  {
    what: 'answers 200 with two megabytes',
    endpoints: ENDPOINTS,
    fault: () => ({ status: 200, body: `{"access_token":"${PLANTED_SECRET}","padding":"${'x'.repeat(2 * 1024 * 1024)}"}` }),
    code: 'ERR_TWITTER_RESPONSE',
  },
  {
    what: 'redirects elsewhere (302)',
    endpoints: ENDPOINTS,
    fault: (_endpoint, trap) => ({ status: 302, body: '', headers: { location: `${trap}/elsewhere` } }),
    code: 'ERR_TWITTER_REDIRECT',
    status: 302,
  },
  {
    what: 'redirects elsewhere keeping the method and body (307)',
    endpoints: ['oauth2_token'],
    fault: (_endpoint, trap) => ({ status: 307, body: '', headers: { location: `${trap}/2/oauth2/token` } }),
    code: 'ERR_TWITTER_REDIRECT',
    status: 307,
  },
  {
    what: 'resets the connection',
    endpoints: ENDPOINTS,
    fault: () => ({ type: 'reset' }),
    code: 'ERR_TWITTER_NETWORK',
    maxCalls: 2,
  },
  {
    what: 'never answers',
    endpoints: ENDPOINTS,
    fault: () => ({ type: 'hang' }),
    code: 'ERR_TWITTER_TIMEOUT',
    timesOut: true,
  },
  {
    what: 'answers after the timeout',
    endpoints: ENDPOINTS,
    fault: () => ({ type: 'delay', ms: TIMEOUT * 2 }),
    code: 'ERR_TWITTER_TIMEOUT',
    timesOut: true,
    lateAnswerMs: TIMEOUT * 2,
  },
];

/** The app's status for each code: an upstream refusal is a bad gateway, a timeout a gateway timeout. */
const APP_STATUS: Partial<Record<TwitterSignInErrorCode, number>> = { ERR_TWITTER_TIMEOUT: 504, ERR_TWITTER_RATE_LIMITED: 503 };

/** Every string in `secrets` that occurs in `text`. */
function leaked(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((secret) => secret.length > 0 && text.includes(secret));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('OAuth 2.0: X failing at the token and users/me endpoints', () => {
  let fake: FakeTwitter;
  let trap: Awaited<ReturnType<typeof startTrap>>;
  let app: MatrixApp;
  const store = new RecordingStore();
  const wire = new Wire();
  const processEvents: string[] = [];
  const onRejection = (reason: unknown) => processEvents.push(`unhandledRejection: ${inspect(reason)}`);
  const onException = (err: Error) => processEvents.push(`uncaughtException: ${inspect(err)}`);

  before(async () => {
    fake = await startFakeTwitter({ clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, autoApprove: USER });
    trap = await startTrap();
    app = await startMatrixApp(fake, store, wire);
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
  });

  afterEach(() => fake.clearFaults());

  after(async () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    await app?.close();
    await trap?.close();
    await fake?.close();
  });

  /** Starts a sign-in and has the fake approve it; returns the callback URL and its code. */
  async function approvedSignIn(browser: Browser): Promise<{ callback: string; code: string }> {
    const start = await browser.get(`${app.url}/auth/x`);
    expect(start.status, await start.clone().text()).to.equal(302);
    const approved = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    expect(approved.status, await approved.clone().text()).to.equal(302);
    const callback = new URL(approved.headers.get('location')!);
    expect(callback.searchParams.get('code'), callback.href).to.be.a('string');
    return { callback: callback.href, code: callback.searchParams.get('code')! };
  }

  async function pendingIn(browser: Browser): Promise<number> {
    const res = await browser.get(`${app.url}/debug/session`);
    return ((await res.json()) as { pending: number }).pending;
  }

  /** A whole sign-in in a fresh browser: the app still serves after whatever came before. */
  async function expectWorkingSignIn(): Promise<void> {
    const browser = new Browser();
    const { callback } = await approvedSignIn(browser);
    const res = await browser.get(callback);
    expect(res.status, `the next sign-in: ${await res.clone().text()}`).to.equal(200);
    expect(((await res.json()) as { user: { username: string } }).user.username).to.equal(USER.screen_name);
  }

  for (const endpoint of ENDPOINTS) {
    for (const testCase of CASES) {
      if (!testCase.endpoints.includes(endpoint)) continue;
      const code = typeof testCase.code === 'string' ? testCase.code : testCase.code[endpoint];
      const appStatus = APP_STATUS[code] ?? 502;
      const expected = `${code} (${appStatus}${testCase.status !== undefined ? `, X's ${testCase.status}` : ''})`;
      it(`when ${endpoint} ${testCase.what}, the app's error handler gets ${expected} in time, with no secret, nothing pending, no second exchange, and the app keeps serving`, async function () {
        this.timeout(TIMEOUT * 4 + MARGIN * 4);
        const browser = new Browser();
        const errorsBefore = app.errors.length;
        const eventsBefore = processEvents.length;
        const verifiedBefore = app.verified();
        const wireBefore = wire.secrets.length;

        const signIn = await approvedSignIn(browser);
        expect(await pendingIn(browser), 'pending before the callback').to.equal(1);
        const callsBefore = fake.stats();
        // As many times as the client may call: a resent request meets the same fault.
        fake.injectFault(endpoint, testCase.fault(endpoint, trap.url), { times: testCase.maxCalls ?? 1 });

        const started = performance.now();
        const res = await browser.get(signIn.callback);
        const elapsed = performance.now() - started;
        const page = await res.text();

        // The error handler got one typed error, with the code and statuses expected.
        expect(app.errors.length - errorsBefore, `errors that reached the handler; the page: ${page.slice(0, 300)}`).to.equal(1);
        const err = app.errors.at(-1);
        expect(err).to.be.an.instanceOf(TwitterSignInError);
        const typed = err as TwitterSignInError;
        expect(typed.code, typed.message).to.equal(code);
        expect(typed.status).to.equal(appStatus);
        expect(res.status).to.equal(appStatus);
        expect(JSON.parse(page)).to.include({ error: code });
        expect(typed.endpoint).to.equal(ERROR_ENDPOINT[endpoint]);
        if (testCase.status !== undefined) expect(typed.providerStatus).to.equal(testCase.status);
        const providerError = testCase.providerError?.[endpoint];
        if (providerError !== undefined) expect(typed.providerError).to.equal(providerError);
        if (code === 'ERR_TWITTER_RATE_LIMITED') expect(typed.rateLimitReset?.getTime()).to.equal(RESET * 1000);
        expect(app.verified(), 'verify calls').to.equal(verifiedBefore);

        // In time: the timeout bounds every case; the timeout cases did wait for it.
        expect(elapsed, 'milliseconds until the error page').to.be.below(TIMEOUT + MARGIN);
        if (testCase.timesOut) expect(elapsed).to.be.at.least(TIMEOUT - 5);

        // One exchange (a reset on a kept-alive socket is resent once, never more), one identity
        // call when the exchange worked and none when it did not, and no redirect followed.
        const calls = fake.stats();
        const tokenCalls = calls.oauth2Token - callsBefore.oauth2Token;
        const meCalls = calls.usersMe - callsBefore.usersMe;
        if (endpoint === 'oauth2_token') {
          expect(tokenCalls, 'token calls').to.be.within(1, testCase.maxCalls ?? 1);
          expect(meCalls, 'users/me calls').to.equal(0);
        } else {
          expect(tokenCalls, 'token calls').to.equal(1);
          expect(meCalls, 'users/me calls').to.be.within(1, testCase.maxCalls ?? 1);
        }
        expect(trap.hits(), 'requests to the redirect target').to.equal(0);

        // No secret in the error, however it is printed, nor in the page.
        const sent = wire.secrets.slice(wireBefore);
        const verifier = store.secrets.at(-1)!;
        const kinds = new Set(sent.map(([kind]) => kind));
        expect(sent, 'the PKCE verifier on the wire').to.deep.include(['code_verifier', verifier]);
        expect(sent, 'the code on the wire').to.deep.include(['code', signIn.code]);
        expect(kinds.has('Basic'), 'the client credential on the wire').to.equal(true);
        expect(kinds.has('Bearer'), 'an access token on the wire').to.equal(endpoint === 'users_me');
        const secrets = [CLIENT_SECRET, PLANTED_SECRET, verifier, signIn.code, ...sent.map(([, value]) => value)];
        for (const [form, text] of [
          ['message', typed.message],
          ['toString()', String(typed)],
          ['JSON', JSON.stringify(typed)],
          ['inspect()', inspect(typed, { depth: 5 })],
          ['cause', inspect(typed.cause, { depth: 5 })],
          ['body', typed.body ?? ''],
          ['providerMessage', typed.providerMessage ?? ''],
          ['the page', page],
        ] as const) {
          expect(leaked(text, secrets), `secrets in ${form}`).to.deep.equal([]);
        }

        // Nothing pending; a replayed callback is known as used and does not reach X.
        expect(await pendingIn(browser), 'pending after the error').to.equal(0);
        const again = await browser.get(signIn.callback);
        expect(again.status).to.equal(401);
        expect(((await again.json()) as { failure: { code: string } }).failure.code).to.equal('ALREADY_USED');
        const afterReplay = fake.stats();
        expect(afterReplay.oauth2Token, 'token calls for the replay').to.equal(calls.oauth2Token);
        expect(afterReplay.usersMe, 'users/me calls for the replay').to.equal(calls.usersMe);

        await expectWorkingSignIn();
        // A late answer lands after the client gave up: it must not blow up anything either.
        if (testCase.lateAnswerMs !== undefined) await sleep(Math.max(0, testCase.lateAnswerMs - elapsed) + 50);
        expect(processEvents.slice(eventsBefore)).to.deep.equal([]);
        expect(app.errors.length - errorsBefore, 'errors after the next sign-in').to.equal(1);
      });
    }
  }
});

/** What a request to the echoing stand-in carried. */
interface Echoed {
  authorization: string;
  body: string;
  url: string;
}

/** How a stand-in for X (a mock, a misconfigured proxy) may repeat a request back in its refusal. */
interface EchoShape {
  what: string;
  status: number;
  contentType: string;
  body(echoed: Echoed): string;
}

const htmlEscape = (text: string) => text.replace(/[^A-Za-z0-9 ]/g, (c) => `&#${c.charCodeAt(0)};`);
const jsonEscape = (text: string) => text.replace(/[^A-Za-z0-9 ]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const ECHOES: EchoShape[] = [
  {
    what: "in X's OAuth 2.0 error_description",
    status: 400,
    contentType: JSON_TYPE,
    body: (e) => JSON.stringify({ error: 'invalid_request', error_description: `No match for ${e.url} Authorization: ${e.authorization} body: ${e.body}` }),
  },
  {
    what: "in X's OAuth 2.0 error name",
    status: 400,
    contentType: JSON_TYPE,
    body: (e) => JSON.stringify({ error: `no match for ${e.authorization} ${e.body}`, error_description: 'The request did not match.' }),
  },
  {
    what: "in a problem's reason and detail",
    status: 401,
    contentType: PROBLEM_TYPE,
    body: (e) => JSON.stringify({ title: 'Unauthorized', type: 'about:blank', reason: `${e.authorization} ${e.body}`, detail: `Authorization: ${e.authorization}` }),
  },
  {
    what: 'percent-encoded, in a text page',
    status: 502,
    contentType: 'text/plain; charset=utf-8',
    body: (e) => `proxy error for ${encodeURIComponent(`${e.authorization} ${decodeURIComponent(e.body.replace(/\+/g, ' '))}`)}`,
  },
  {
    what: 'as HTML character references',
    status: 500,
    contentType: 'text/html; charset=utf-8',
    body: (e) => `<html><body><pre>${htmlEscape(`${e.authorization}\n${e.body}`)}</pre></body></html>`,
  },
  {
    what: 'as JSON \\u escapes',
    status: 500,
    contentType: JSON_TYPE,
    body: (e) => `{"errors":[{"code":131,"message":"${jsonEscape(`${e.authorization} ${e.body}`)}"}]}`,
  },
];

/**
 * A stand-in for X at the token and users/me URLs: it passes calls on to the fake, except the
 * one it is told to refuse, which it answers echoing what the request carried.
 */
async function startEcho(fake: FakeTwitter): Promise<{ url: string; refuse(endpoint: Endpoint, shape: EchoShape): void; close(): Promise<void> }> {
  let refusal: { endpoint: Endpoint; shape: EchoShape } | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const endpoint: Endpoint = req.url!.startsWith('/2/users/me') ? 'users_me' : 'oauth2_token';
      if (refusal?.endpoint === endpoint) {
        const { shape } = refusal;
        refusal = undefined;
        const text = shape.body({ authorization: req.headers.authorization ?? '', body, url: `${req.method} ${req.url}` });
        res.writeHead(shape.status, { 'content-type': shape.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      forward(req, body, fake.url, (status, headers, answer) => {
        res.writeHead(status, headers);
        res.end(answer);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refuse: (endpoint, shape) => {
      refusal = { endpoint, shape };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function forward(req: IncomingMessage, body: string, target: string, answer: (status: number, headers: Record<string, string>, body: Buffer) => void): void {
  const headers: Record<string, string> = {};
  for (const name of ['authorization', 'content-type', 'accept']) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const out = httpRequest(`${target}${req.url}`, { method: req.method, headers }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => answer(res.statusCode!, { 'content-type': String(res.headers['content-type'] ?? 'application/json') }, Buffer.concat(chunks)));
  });
  out.end(body);
}

describe('OAuth 2.0: a stand-in for X that echoes the request in its refusal', () => {
  let fake: FakeTwitter;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let app: MatrixApp;
  const store = new RecordingStore();
  const wire = new Wire();

  before(async () => {
    fake = await startFakeTwitter({ clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, autoApprove: USER });
    echo = await startEcho(fake);
    app = await startMatrixApp(fake, store, wire, { tokenURL: `${echo.url}/2/oauth2/token`, profileURL: `${echo.url}/2/users/me` });
  });

  after(async () => {
    await app?.close();
    await echo?.close();
    await fake?.close();
  });

  for (const endpoint of ENDPOINTS) {
    for (const shape of ECHOES) {
      it(`keeps every credential the ${endpoint} call carried out of the error and the page when the echo is ${shape.what}`, async () => {
        const browser = new Browser();
        const errorsBefore = app.errors.length;
        const wireBefore = wire.secrets.length;
        const start = await browser.get(`${app.url}/auth/x`);
        const approved = await fetch(start.headers.get('location')!, { redirect: 'manual' });
        const callback = approved.headers.get('location')!;
        echo.refuse(endpoint, shape);
        const res = await browser.get(callback);
        const page = await res.text();
        expect(res.status, page).to.equal(502);
        expect(app.errors.length - errorsBefore).to.equal(1);
        const typed = app.errors.at(-1) as TwitterSignInError;
        expect(typed).to.be.instanceOf(TwitterSignInError);
        expect(typed.endpoint).to.equal(ERROR_ENDPOINT[endpoint]);
        // Kept only when it is one of X's error shapes, and then blanked.
        if (typed.body !== undefined) expect(typed.body, 'the body kept').to.include('[redacted]');

        const sent = wire.secrets.slice(wireBefore);
        expect(sent.some(([kind]) => kind === 'Bearer')).to.equal(endpoint === 'users_me');
        const secrets = [CLIENT_SECRET, store.secrets.at(-1)!, new URL(callback).searchParams.get('code')!, ...sent.map(([, value]) => value)];
        for (const [form, text] of [
          ['message', typed.message],
          ['toString()', String(typed)],
          ['JSON', JSON.stringify(typed)],
          ['inspect()', inspect(typed, { depth: 5 })],
          ['cause', inspect(typed.cause, { depth: 5 })],
          ['body', typed.body ?? ''],
          ['providerMessage', typed.providerMessage ?? ''],
          ['providerError', typed.providerError ?? ''],
          ['the page', page],
        ] as const) {
          expect(leaked(text, secrets), `secrets in ${form}`).to.deep.equal([]);
        }
      });
    }
  }
});
