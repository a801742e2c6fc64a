/**
 * The README's rate-limit snippet (examples/rate-limit.ts, shown byte for byte) limits the
 * sign-in start against the fake Twitter, and with saveUninitialized: false the starts it
 * refuses store no session.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { expect } from 'chai';
import express from 'express';
import session from 'express-session';
import passport from 'passport';
import { signInRoutes } from '../../examples/rate-limit.js';
import { TwitterSignInStrategy } from '../../lib/index.js';
import { startFakeTwitter, type FakeTwitter } from '../../lib/testing/index.js';

const root = resolve(import.meta.dirname, '../..');
const LIMIT = 10;

describe('example: rate-limiting the sign-in start', () => {
  let fake: FakeTwitter;
  let server: Server | undefined;
  let strategy: TwitterSignInStrategy | undefined;

  beforeEach(async () => {
    fake = await startFakeTwitter({ consumerKey: 'key', consumerSecret: 'secret' });
  });
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    // The snippet uses passport's default instance, as the README's usage does.
    if (strategy) passport.unuse('twitter');
    server = strategy = undefined;
    await fake.close();
  });

  /** The README's setup with the snippet mounted; returns its URL and its session store. */
  async function serve(saveUninitialized: boolean, trustProxy = false): Promise<{ url: string; store: session.MemoryStore }> {
    strategy = new TwitterSignInStrategy(
      { consumerKey: 'key', consumerSecret: 'secret', callbackURL: '/auth/twitter/callback', ...fake.endpoints },
      (_t, _s, profile, done) => done(null, { id: profile.id }),
    );
    passport.use(strategy);
    const store = new session.MemoryStore();
    const app = express();
    if (trustProxy) app.set('trust proxy', 'loopback');
    app.use(session({ store, secret: 'test-session-secret', resave: false, saveUninitialized, cookie: { httpOnly: true, sameSite: 'lax' } }));
    app.use(passport.session());
    app.get('/', (_req, res) => {
      res.send('home');
    });
    signInRoutes(app);
    server = await new Promise<Server>((ready) => {
      const s = app.listen(0, '127.0.0.1', () => ready(s));
    });
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, store };
  }

  const sessions = (store: session.MemoryStore) =>
    new Promise<number>((done, fail) => store.length((err, n) => (err ? fail(err) : done(n ?? 0))));
  // Each start from a new browser, as a script hitting the route would.
  const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { redirect: 'manual', headers });

  it("is what the README's production checklist shows: every line of its snippet is in this example", () => {
    const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Production checklist'));
    const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(snippet, 'the snippet').to.be.a('string');
    const example = readFileSync(resolve(root, 'examples/rate-limit.ts'), 'utf8');
    for (const line of snippet!.split('\n').map((l) => l.trim()).filter(Boolean)) expect(example).to.include(line);
  });

  it(`lets ${LIMIT} starts from one address reach Twitter, and answers the next with 429 without calling Twitter`, async () => {
    const { url, store } = await serve(false);
    for (let i = 0; i < LIMIT; i++) {
      const res = await get(`${url}/auth/twitter`);
      expect(res.status, `start ${i + 1}`).to.equal(302);
      expect(res.headers.get('location')).to.match(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/authenticate\?oauth_token=/);
    }
    const limited = await get(`${url}/auth/twitter`);
    expect(limited.status).to.equal(429);
    expect(fake.stats().requestToken).to.equal(LIMIT);
    // saveUninitialized: false: the refused start, like any other anonymous request, stores nothing.
    expect(limited.headers.getSetCookie()).to.deep.equal([]);
    expect((await get(`${url}/`)).headers.getSetCookie()).to.deep.equal([]);
    expect(await sessions(store)).to.equal(LIMIT);
  });

  it('would store a session for every refused start and every other request with saveUninitialized: true', async () => {
    const { url, store } = await serve(true);
    for (let i = 0; i < LIMIT; i++) await get(`${url}/auth/twitter`);
    const limited = await get(`${url}/auth/twitter`);
    expect(limited.status).to.equal(429);
    expect(limited.headers.getSetCookie().some((line) => line.startsWith('connect.sid='))).to.equal(true);
    await get(`${url}/`);
    expect(await sessions(store)).to.equal(LIMIT + 2);
  });

  it("counts each client behind a proxy that Express's trust proxy trusts by the client's own address", async () => {
    const { url } = await serve(false, true);
    for (let i = 0; i <= LIMIT; i++) {
      const res = await get(`${url}/auth/twitter`, { 'X-Forwarded-For': `203.0.113.${i + 1}` });
      expect(res.status, `client ${i + 1}`).to.equal(302);
    }
    expect(fake.stats().requestToken).to.equal(LIMIT + 1);
  });
});
