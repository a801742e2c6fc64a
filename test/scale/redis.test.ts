/**
 * Several app instances behind one Redis: a sign-in may start on one instance and come back to
 * another (any load balancer without sticky sessions does that), so the pending sign-in must
 * live in the shared session store, be consumed exactly once, and be gone after the sign-in.
 *
 * Everything is real: redis-server, two Express apps on two loopback ports (each with its own
 * Redis client, RedisStore, Passport and strategy), the fake Twitter over HTTP, and browsers
 * with cookie jars that drive the fake's sign-in page as a person would.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { createClient } from 'redis';
import { TwitterSignInStrategy } from '../../lib/index.js';
import { startFakeTwitter, type FakeTwitter } from '../../lib/testing/index.js';
import { requireBinary } from '../helpers/services.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

const CONSUMER_KEY = 'scale-consumer-key';
const CONSUMER_SECRET = 'scale-consumer-secret';
// Every instance signs the session cookie with the same secret, or none could read the others'.
const SESSION_SECRET = 'scale-session-secret';
const SESSION_COOKIE = 'sid';
const SESSION_PREFIX = 'sess:';
const PENDING_KEY = `oauth:twitter:${CONSUMER_KEY}`;
const CONCURRENT_SIGN_INS = 300;
const KEEP_SESSION_INFO_CALLBACK = '/auth/twitter/callback-keep-session-info';

type Redis = ReturnType<typeof createClient>;

interface Instance {
  name: string;
  url: string;
  close(): Promise<void>;
}

interface SignedInUser {
  id: string;
  username: string;
}

/** One app instance: its own Redis client, RedisStore, Passport and strategy, on its own port. */
async function startInstance(name: string, redisURL: string, fake: FakeTwitter, redisErrors: Error[]): Promise<Instance> {
  const client: Redis = createClient({ url: redisURL, socket: { reconnectStrategy: false, connectTimeout: 1000 } });
  client.on('error', (err: Error) => redisErrors.push(err));
  await client.connect();

  const strategy = new TwitterSignInStrategy(
    {
      consumerKey: CONSUMER_KEY,
      consumerSecret: CONSUMER_SECRET,
      // Relative: resolved against the instance that starts the sign-in.
      callbackURL: '/auth/twitter/callback',
      ...fake.endpoints,
    },
    async (_token, _tokenSecret, profile): Promise<SignedInUser> => ({ id: profile.id, username: profile.username }),
  );
  const passport = new Passport();
  passport.use(strategy);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));

  const app = express();
  app.use(
    session({
      name: SESSION_COOKIE,
      store: new RedisStore({ client, prefix: SESSION_PREFIX }),
      secret: SESSION_SECRET,
      resave: false,
      saveUninitialized: false,
    }),
  );
  app.use(passport.session());
  const handler =
    (keepSessionInfo: boolean): express.RequestHandler =>
    (req, res, next) =>
      passport.authenticate('twitter', (err: unknown, user: Express.User | false, info: unknown) => {
        if (err) {
          res.status(500).json({ error: (err as { code?: string }).code ?? 'ERR', instance: name });
          return;
        }
        if (!user) {
          res.status(401).json({ failure: info, instance: name });
          return;
        }
        req.logIn(user, { keepSessionInfo, session: true }, (loginErr) =>
          loginErr ? next(loginErr) : res.json({ user, instance: name }),
        );
      })(req, res, next);
  app.get('/auth/twitter', handler(false));
  app.get('/auth/twitter/callback', handler(false));
  // The same callback, logging in with keepSessionInfo: the session's other contents (another
  // tab's pending sign-in) survive the regeneration, so only the strategy can have removed this one.
  app.get(KEEP_SESSION_INFO_CALLBACK, handler(true));
  app.get('/me', (req, res) => {
    res.json({ user: req.user ?? null, instance: name });
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    name,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await client.close();
    },
  };
}

/**
 * A browser: one cookie jar for every host (cookies are per host, not per port, and everything
 * here is 127.0.0.1), redirects not followed so each hop can be checked.
 */
class Browser {
  readonly cookies = new Map<string, string>();

  get(url: string): Promise<Response> {
    return this.#send(url, { method: 'GET' });
  }

  post(url: string, form: URLSearchParams): Promise<Response> {
    return this.#send(url, {
      method: 'POST',
      body: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  /** The express-session id this browser holds, from its signed `sid` cookie (`s:<id>.<signature>`). */
  sessionId(): string | undefined {
    const value = this.cookies.get(SESSION_COOKIE);
    if (value === undefined) return undefined;
    const signed = decodeURIComponent(value);
    return signed.startsWith('s:') ? signed.slice(2, signed.lastIndexOf('.')) : undefined;
  }

  async #send(url: string, init: { method: string; body?: string; headers?: Record<string, string> }): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, ...(cookie ? { cookie } : {}) },
    });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0|expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
}

/** The sign-in form of the fake's page: where it posts, and its hidden fields. */
function parseSignInForm(html: string): { action: string; hidden: [string, string][] } {
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  if (action === undefined) throw new Error(`no sign-in form on the page:\n${html.slice(0, 500)}`);
  const decode = (s: string) => s.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
  const hidden = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
    (m): [string, string] => [decode(m[1]!), decode(m[2]!)],
  );
  return { action: decode(action), hidden };
}

/**
 * Steps 1 and 2 in `browser`: starts on `startOn`, then signs in on the fake's page as
 * `username`, or, when this browser is already signed in to the fake and approved the app, is
 * sent straight back. Returns the callback URL the fake redirected to, and the request token.
 */
async function startAndSignIn(
  browser: Browser,
  startOn: Instance,
  username: string,
): Promise<{ callback: URL; token: string }> {
  const start = await browser.get(`${startOn.url}/auth/twitter`);
  expect(start.status, await start.clone().text()).to.equal(302);
  const authorize = new URL(start.headers.get('location')!);
  const token = authorize.searchParams.get('oauth_token')!;

  const page = await browser.get(authorize.href);
  if (page.status === 302) return { callback: new URL(page.headers.get('location')!), token };
  expect(page.status).to.equal(200);
  const form = parseSignInForm(await page.text());
  const body = new URLSearchParams(form.hidden);
  body.set('username', username);
  body.set('password', `password-of-${username}`);
  body.set('decision', 'allow');
  const decided = await browser.post(new URL(form.action, authorize).href, body);
  expect(decided.status, await decided.clone().text()).to.equal(302);
  return { callback: new URL(decided.headers.get('location')!), token };
}

/** The callback URL as a load balancer would route it: same query (and path, unless given), on `instance`. */
function on(instance: Instance, callback: URL, path = callback.pathname): string {
  return `${instance.url}${path}${callback.search}`;
}

/** The request tokens of pending sign-ins in one stored session. */
function pendingTokens(stored: unknown): string[] {
  if (!stored || typeof stored !== 'object') return [];
  const tokens: string[] = [];
  for (const [key, value] of Object.entries(stored)) {
    if (!key.startsWith('oauth:twitter:') || !Array.isArray(value)) continue;
    for (const entry of value) if (Array.isArray(entry) && typeof entry[0] === 'string') tokens.push(entry[0]);
  }
  return tokens;
}

/** Every session in Redis, parsed. */
async function storedSessions(redis: Redis): Promise<Map<string, Record<string, unknown>>> {
  const keys: string[] = [];
  for await (const batch of redis.scanIterator({ MATCH: `${SESSION_PREFIX}*`, COUNT: 1000 })) {
    keys.push(...(Array.isArray(batch) ? batch : [batch]));
  }
  const sessions = new Map<string, Record<string, unknown>>();
  if (keys.length === 0) return sessions;
  const values = await redis.mGet(keys);
  keys.forEach((key, i) => {
    const value = values[i];
    if (typeof value === 'string') sessions.set(key, JSON.parse(value) as Record<string, unknown>);
  });
  return sessions;
}

async function storedSession(redis: Redis, sessionId: string | undefined): Promise<Record<string, unknown> | null> {
  if (sessionId === undefined) return null;
  const value = await redis.get(`${SESSION_PREFIX}${sessionId}`);
  return typeof value === 'string' ? (JSON.parse(value) as Record<string, unknown>) : null;
}

describe('several instances sharing sessions in Redis', function () {
  let server: RedisServer | undefined;
  let fake: FakeTwitter | undefined;
  let redis: Redis | undefined;
  let a: Instance;
  let b: Instance;
  const instances: Instance[] = [];
  const redisErrors: Error[] = [];

  before(async function () {
    this.timeout(20_000);
    const binary = requireBinary(this, 'redis-server', 'redis-server');
    server = await startRedisServer(binary);
    // No autoApprove: each browser signs in to the fake as its own user on the fake's page.
    fake = await startFakeTwitter({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET });
    redis = createClient({ url: server.url, socket: { reconnectStrategy: false, connectTimeout: 1000 } });
    redis.on('error', (err: Error) => redisErrors.push(err));
    await redis.connect();
    a = await startInstance('A', server.url, fake, redisErrors);
    instances.push(a);
    b = await startInstance('B', server.url, fake, redisErrors);
    instances.push(b);
  });

  beforeEach(async () => {
    await redis!.flushAll();
  });

  afterEach(() => {
    expect(redisErrors.map((e) => e.message), 'errors reported by the Redis clients').to.deep.equal([]);
  });

  after(async function () {
    this.timeout(10_000);
    for (const instance of instances) await instance.close();
    if (redis?.isOpen) await redis.close();
    await fake?.close();
    await server?.stop();
  });

  for (const [from, to] of [
    ['A', 'B'],
    ['B', 'A'],
  ] as const) {
    it(`finishes on instance ${to} a sign-in started on instance ${from}`, async () => {
      const [start, finish] = from === 'A' ? [a, b] : [b, a];
      const browser = new Browser();
      const { callback, token } = await startAndSignIn(browser, start, `cross${from}${to}`);
      expect(callback.origin, 'the callback the starting instance asked for').to.equal(start.url);

      const before = browser.sessionId();
      expect(pendingTokens(await storedSession(redis!, before)), 'the pending sign-in, in Redis').to.deep.equal([token]);

      const res = await browser.get(on(finish, callback));
      expect(res.status, await res.clone().text()).to.equal(200);
      const body = (await res.json()) as { user: SignedInUser; instance: string };
      expect(body.instance).to.equal(to);
      expect(body.user.username).to.equal(`cross${from}${to}`);

      const after = browser.sessionId();
      expect(after, 'passport regenerated the session at login').to.be.a('string').and.not.equal(before);
      expect(await storedSession(redis!, before), 'the pre-login session, destroyed').to.equal(null);
      const stored = await storedSession(redis!, after);
      expect(stored, 'the signed-in session').to.have.nested.property('passport.user.username', `cross${from}${to}`);
      expect(pendingTokens(stored)).to.deep.equal([]);

      // Both instances now see the signed-in user.
      for (const instance of [a, b]) {
        const me = (await (await browser.get(`${instance.url}/me`)).json()) as { user: SignedInUser | null };
        expect(me.user?.username, `/me on ${instance.name}`).to.equal(`cross${from}${to}`);
      }
    });
  }

  it('refuses on the other instance a callback already used on one, without calling Twitter', async () => {
    const browser = new Browser();
    const { callback } = await startAndSignIn(browser, a, 'replayer');
    expect((await browser.get(on(a, callback))).status).to.equal(200);
    const exchanges = fake!.stats().accessToken;

    const replay = await browser.get(on(b, callback));
    expect(replay.status).to.equal(401);
    const body = (await replay.json()) as { failure: { code: string } };
    // The instances share this test's process, and with it the memory of used callbacks; in
    // processes of their own, the shared session alone refuses the replay (NO_PENDING_SIGN_IN).
    expect(body.failure.code).to.be.oneOf(['ALREADY_USED', 'NO_PENDING_SIGN_IN']);
    expect(fake!.stats().accessToken, 'access_token calls').to.equal(exchanges);
  });

  it('consumes the pending sign-in in the shared session, keeping another tab\'s, when login keeps the session info', async () => {
    const browser = new Browser();
    const tab1 = await startAndSignIn(browser, a, 'twotabs');
    // Signed in to the fake and approved now: the second tab comes straight back.
    const tab2 = await startAndSignIn(browser, b, 'twotabs');
    expect(pendingTokens(await storedSession(redis!, browser.sessionId()))).to.deep.equal([tab1.token, tab2.token]);

    const first = await browser.get(on(b, tab1.callback, KEEP_SESSION_INFO_CALLBACK));
    expect(first.status, await first.clone().text()).to.equal(200);
    expect(pendingTokens(await storedSession(redis!, browser.sessionId())), 'left after tab 1').to.deep.equal([tab2.token]);

    const exchanges = fake!.stats().accessToken;
    const replay = await browser.get(on(a, tab1.callback, KEEP_SESSION_INFO_CALLBACK));
    expect(replay.status).to.equal(401);
    expect(((await replay.json()) as { failure: { code: string } }).failure.code).to.be.oneOf(['ALREADY_USED', 'UNKNOWN_TOKEN']);
    expect(fake!.stats().accessToken, 'access_token calls for the replay').to.equal(exchanges);

    const second = await browser.get(on(a, tab2.callback, KEEP_SESSION_INFO_CALLBACK));
    expect(second.status, await second.clone().text()).to.equal(200);
    expect(((await second.json()) as { user: SignedInUser }).user.username).to.equal('twotabs');
    const stored = await storedSession(redis!, browser.sessionId());
    expect(stored).to.have.nested.property('passport.user.username', 'twotabs');
    expect(pendingTokens(stored), 'left after tab 2').to.deep.equal([]);
  });

  it(`signs in ${CONCURRENT_SIGN_INS} browsers at once across both instances, each as its own user, leaving nothing pending`, async function () {
    this.timeout(60_000);
    const exchangesBefore = fake!.stats().accessToken;

    const results = await Promise.all(
      Array.from({ length: CONCURRENT_SIGN_INS }, async (_, i) => {
        const username = `user${i}`;
        // All four routes: A→A, B→A, A→B, B→B.
        const start = instances[i % 2]!;
        const finish = instances[Math.floor(i / 2) % 2]!;
        const other = finish === a ? b : a;
        const browser = new Browser();
        const { callback, token } = await startAndSignIn(browser, start, username);
        const before = browser.sessionId();
        const pendingBefore = pendingTokens(await storedSession(redis!, before));

        const res = await browser.get(on(finish, callback));
        const status = res.status;
        const body = (await res.json()) as { user?: SignedInUser; instance: string };
        const me = (await (await browser.get(`${other.url}/me`)).json()) as { user: SignedInUser | null };
        const preLogin = await storedSession(redis!, before);
        return { i, username, token, status, body, finish, before, after: browser.sessionId(), pendingBefore, me, preLogin };
      }),
    );

    const ids = new Set<string>();
    for (const r of results) {
      const label = `browser ${r.i}`;
      expect(r.pendingBefore, `${label}: its pending sign-in in Redis before the callback`).to.deep.equal([r.token]);
      expect(r.status, `${label}: ${JSON.stringify(r.body)}`).to.equal(200);
      expect(r.body.instance, label).to.equal(r.finish.name);
      expect(r.body.user?.username, label).to.equal(r.username);
      expect(r.me.user?.username, `${label}: /me on the other instance`).to.equal(r.username);
      expect(r.after, `${label}: session id regenerated at login`).to.be.a('string').and.not.equal(r.before);
      expect(r.preLogin, `${label}: pre-login session destroyed`).to.equal(null);
      ids.add(r.body.user!.id);
    }
    expect(ids.size, 'distinct Twitter user ids').to.equal(CONCURRENT_SIGN_INS);
    expect(fake!.stats().accessToken - exchangesBefore, 'one access_token exchange per sign-in').to.equal(CONCURRENT_SIGN_INS);

    const sessions = await storedSessions(redis!);
    expect(sessions.size, 'one signed-in session per browser, and no other').to.equal(CONCURRENT_SIGN_INS);
    const leftovers = [...sessions].filter(([, s]) => pendingTokens(s).length > 0 || Object.hasOwn(s, PENDING_KEY));
    expect(leftovers.map(([key]) => key), 'sessions still holding a pending sign-in').to.deep.equal([]);
    const usernames = new Set(
      [...sessions.values()].map((s) => (s as { passport?: { user?: SignedInUser } }).passport?.user?.username),
    );
    expect(usernames).to.deep.equal(new Set(results.map((r) => r.username)));
  });
});
