/**
 * What both strategies share (lib/sign-in.ts), as an attacker or a flaky network meets it: a
 * callback is exchanged once, whatever arrives twice, and a copy that lost the race changes
 * nothing; the shared claim; the used-token memory and its bound.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { TwitterSignInStrategy } from '../lib/index.js';
import { UsedTokens } from '../lib/sign-in.js';
import { startFakeTwitter, type FakeTwitter } from '../lib/testing/index.js';
import { Browser, startApp, type TestApp } from './helpers/app.js';

const KEYS = { consumerKey: 'sign-in-test-key', consumerSecret: 'sign-in-test-secret' };
const ALICE = { id: '2001', screen_name: 'alice' };

type Stored = Record<string, { passport?: { user?: unknown } } & Record<string, unknown>>;

/** Every session in a MemoryStore, parsed. */
function sessionsIn(store: session.MemoryStore): Promise<Stored> {
  return new Promise((resolve, reject) =>
    store.all((err, all) => (err ? reject(err) : resolve((all ?? {}) as unknown as Stored))),
  );
}

async function until(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a sign-in callback', () => {
  let fake: FakeTwitter;
  let app: TestApp | undefined;
  beforeEach(async () => {
    fake = await startFakeTwitter({ ...KEYS, autoApprove: ALICE });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await fake.close();
  });

  function strategy(extra: Record<string, unknown> = {}): TwitterSignInStrategy {
    return new TwitterSignInStrategy(
      { ...KEYS, callbackURL: '/auth/twitter/callback', ...fake.endpoints, ...extra },
      (_t, _s, profile) => ({ id: profile.id, username: profile.username }),
    );
  }

  /** Start, and the fake's auto-approval: the callback URL the browser would be sent to. */
  async function startedCallback(browser: Browser): Promise<string> {
    const start = await browser.get(`${app!.url}/auth/twitter`);
    expect(start.status, await start.clone().text()).to.equal(302);
    const approved = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    return approved.headers.get('location')!;
  }

  it('is exchanged once when a reload aborts the first copy during a slow Twitter; the reload fails before Twitter and writes nothing back', async () => {
    for (let round = 0; round < 5; round++) {
      const store = new session.MemoryStore();
      app = await startApp(strategy(), { sessionStore: store });
      const browser = new Browser();
      const callback = await startedCallback(browser);
      const [before] = Object.keys(await sessionsIn(store));
      const exchanges = fake.stats().accessToken;
      fake.injectFault('access_token', { type: 'delay', ms: 400 }, { times: 1 });

      // The first copy: the browser gives up on it (a reload) while Twitter is still answering.
      const first = new AbortController();
      const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const aborted = fetch(callback, { redirect: 'manual', headers: { cookie }, signal: first.signal }).catch(() => 'aborted');
      await until('the first copy reached Twitter', async () => fake.stats().accessToken > exchanges);
      first.abort();
      expect(await aborted).to.equal('aborted');

      // The reload: refused at once, before Twitter is called a second time.
      const reload = await browser.get(callback);
      expect(reload.status).to.equal(401);
      expect(((await reload.json()) as { failure: { code: string } }).failure.code).to.equal('ALREADY_USED');
      expect(fake.stats().accessToken, 'calls to access_token').to.equal(exchanges + 1);

      // The first copy still signs the user in (its answer is lost with the aborted request), and
      // the pre-login session is not written back beside it.
      await until('the first copy signed in', async () => Object.values(await sessionsIn(store)).some((s) => s.passport?.user));
      await new Promise((r) => setTimeout(r, 100));
      const after = await sessionsIn(store);
      expect(Object.keys(after), 'the pre-login session').not.to.include(before);
      expect(Object.values(after).filter((s) => s.passport?.user)).to.have.length(1);
      expect(fake.stats().accessToken).to.equal(exchanges + 1);
      await app.close();
      app = undefined;
    }
  });

  it('is exchanged once when a second copy read the session before the first wrote it back (slow middleware)', async () => {
    const store = new session.MemoryStore();
    let firstDone!: () => void;
    const firstFinished = new Promise<void>((resolve) => (firstDone = resolve));
    app = await startApp(strategy(), {
      sessionStore: store,
      // The slow copy has loaded its session; it goes on only once the other copy has answered.
      beforeAuthenticate: (req, _res, next) => (req.headers['x-slow'] ? void firstFinished.then(() => next()) : next()),
    });
    const browser = new Browser();
    const callback = await startedCallback(browser);
    const [before] = Object.keys(await sessionsIn(store));

    const slow = browser.get(callback, { 'x-slow': '1' });
    await new Promise((r) => setTimeout(r, 50));
    const first = await browser.get(callback);
    expect(first.status, await first.clone().text()).to.equal(200);
    firstDone();
    const copy = await slow;
    expect(copy.status).to.equal(401);
    expect(((await copy.json()) as { failure: { code: string } }).failure.code).to.equal('ALREADY_USED');
    expect(fake.stats().accessToken).to.equal(1);
    const after = await sessionsIn(store);
    expect(Object.keys(after), 'the stale pre-login session, written back').not.to.include(before);
    expect(Object.values(after).filter((s) => s.passport?.user)).to.have.length(1);
  });

  it('is exchanged once when each copy meets its own strategy object of the scope (a strategy built per request)', async () => {
    const scope = `per-request:${Date.now()}`;
    const perRequest = () => strategy({ sessionKey: scope });
    const passport = new Passport();
    passport.serializeUser((u, done) => done(null, u));
    const app_ = express();
    app_.use(session({ secret: 'per-request', resave: false, saveUninitialized: false }));
    const route: express.RequestHandler = (req, res, next) =>
      passport.authenticate(perRequest(), (err: unknown, user: unknown, info: { code?: string } | undefined) => {
        if (err) return void res.status(500).json({ error: (err as { code?: string }).code });
        if (!user) return void res.status(401).json({ failure: info?.code });
        res.json({ user });
      })(req, res, next);
    app_.get('/auth/twitter', route);
    app_.get('/auth/twitter/callback', route);
    const server: Server = await new Promise((resolve) => {
      const s = app_.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const browser = new Browser();
      const start = await browser.get(`${url}/auth/twitter`);
      const approved = await fetch(start.headers.get('location')!, { redirect: 'manual' });
      const callback = new URL(approved.headers.get('location')!);
      fake.injectFault('access_token', { type: 'delay', ms: 200 }, { times: 1 });
      const answers = await Promise.all([0, 1].map(() => browser.get(`${url}${callback.pathname}${callback.search}`)));
      expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 401]);
      expect(fake.stats().accessToken).to.equal(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('says a completed callback loaded again was already used, rather than that the cookie was lost', async () => {
    app = await startApp(strategy());
    const browser = new Browser();
    const callback = await startedCallback(browser);
    expect((await browser.get(callback)).status).to.equal(200);
    const again = await browser.get(callback);
    const { failure } = (await again.json()) as { failure: { code: string; message: string } };
    expect(failure.code).to.equal('ALREADY_USED');
    expect(failure.message).to.include('was already used');
    expect(failure.message).not.to.include('session cookie was lost');
  });

  describe('with a shared claim (claimCallback)', () => {
    it('takes it before the exchange, keyed by the scope and a hash of the token, for the pending sign-in\'s lifetime', async () => {
      const claims: [string, number][] = [];
      app = await startApp(strategy({ claimCallback: (key: string, ttl: number) => (claims.push([key, ttl]), true) }));
      const browser = new Browser();
      const callback = await startedCallback(browser);
      const token = new URL(callback).searchParams.get('oauth_token')!;
      expect((await browser.get(callback)).status).to.equal(200);
      expect(claims).to.have.length(1);
      const [key, ttl] = claims[0]!;
      expect(key.startsWith(`oauth:twitter:${KEYS.consumerKey}:callback:`)).to.equal(true);
      expect(key).not.to.include(token);
      expect(ttl).to.be.within(1000, 10 * 60 * 1000);
    });

    it('fails a callback whose claim another instance already holds, before Twitter is called, writing nothing', async () => {
      const store = new session.MemoryStore();
      app = await startApp(strategy({ claimCallback: async () => false }), { sessionStore: store });
      const browser = new Browser();
      const callback = await startedCallback(browser);
      const before = JSON.stringify(await sessionsIn(store));
      const res = await browser.get(callback);
      expect(((await res.json()) as { failure: { code: string } }).failure.code).to.equal('ALREADY_USED');
      expect(fake.stats().accessToken).to.equal(0);
      expect(JSON.stringify(await sessionsIn(store)), 'the session, untouched').to.equal(before);
    });

    it('is ERR_STORE within the timeout when the claim never answers (Redis down, its commands queued)', async () => {
      app = await startApp(strategy({ claimCallback: () => new Promise<boolean>(() => {}), timeout: 300 }));
      const browser = new Browser();
      const callback = await startedCallback(browser);
      const started = Date.now();
      const res = await browser.get(callback);
      expect(((await res.json()) as { error: string }).error).to.equal('ERR_STORE');
      expect(Date.now() - started).to.be.below(3000);
      expect(fake.stats().accessToken).to.equal(0);
    });

    it('is ERR_STORE when the claim fails, and the same callback may be tried again once the store is back', async () => {
      let down = true;
      app = await startApp(strategy({ claimCallback: () => (down ? Promise.reject(new Error('redis down')) : true) }));
      const browser = new Browser();
      const callback = await startedCallback(browser);
      const res = await browser.get(callback);
      expect(res.status).to.equal(500);
      expect(((await res.json()) as { error: string }).error).to.equal('ERR_STORE');
      expect(fake.stats().accessToken).to.equal(0);
      down = false;
      expect((await browser.get(callback)).status).to.equal(200);
    });
  });
});

describe('a custom store', () => {
  it('that returns a pending sign-in without expiresAt is an ERR_STORE error naming it, not a sign-in that never expires', async () => {
    const fake = await startFakeTwitter({ ...KEYS, autoApprove: ALICE });
    const secrets = new Map<string, string>();
    const store = {
      set: (_req: unknown, token: string, secret: string) => void secrets.set(token, secret),
      get: (_req: unknown, token: string) => (secrets.has(token) ? ({ token, tokenSecret: secrets.get(token)! } as never) : undefined),
      destroy: (_req: unknown, token: string) => void secrets.delete(token),
    };
    const app = await startApp(
      new TwitterSignInStrategy({ ...KEYS, callbackURL: '/auth/twitter/callback', ...fake.endpoints, requestTokenStore: store }, (_t, _s, p) => ({ id: p.id })),
    );
    try {
      const browser = new Browser();
      const start = await browser.get(`${app.url}/auth/twitter`);
      const approved = await fetch(start.headers.get('location')!, { redirect: 'manual' });
      const res = await browser.get(approved.headers.get('location')!);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).to.equal('ERR_STORE');
      expect(body.message).to.include('expiresAt');
      expect(fake.stats().accessToken).to.equal(0);
    } finally {
      await app.close();
      await fake.close();
    }
  });
});

describe('UsedTokens', () => {
  it('takes a token once until it expires', () => {
    const used = new UsedTokens();
    expect(used.take('a', Date.now() + 60_000)).to.equal(true);
    expect(used.take('a', Date.now() + 60_000)).to.equal(false);
    expect(used.has('a')).to.equal(true);
    expect(used.has('b')).to.equal(false);
  });

  it('keeps at most 50000 tokens, forgetting the oldest first, so a flood of callbacks cannot grow memory', () => {
    const used = new UsedTokens();
    const later = Date.now() + 60_000;
    for (let i = 0; i < 50_010; i++) used.take(`t${i}`, later);
    expect(used.size).to.be.at.most(50_000);
    expect(used.has('t0')).to.equal(false);
    expect(used.has('t50009')).to.equal(true);
  });
});
