/**
 * The store contract as the strategy keeps it: every method gets the request's StoreContext as
 * its last argument, worked out by the strategy's `proxy` rule.
 */
import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import type { Express } from 'express';
import { TwitterSignInStrategy } from '../../lib/strategy.js';
import type { PendingSignIn, RequestTokenStore, StoreContext } from '../../lib/stores/store.js';
import { startFakeTwitter, type FakeTwitter } from '../../lib/testing/index.js';
import { Browser, startApp, type TestApp } from '../helpers/app.js';

/** A working store that records, per method, the context it was given with the request it came with. */
class RecordingStore implements RequestTokenStore {
  readonly calls: { method: string; req: IncomingMessage; context: StoreContext | undefined }[] = [];
  readonly #entries = new Map<string, PendingSignIn>();

  check(req: IncomingMessage, context?: StoreContext): void {
    this.calls.push({ method: 'check', req, context });
  }

  set(req: IncomingMessage, token: string, tokenSecret: string, scope: string, context?: StoreContext): void {
    this.calls.push({ method: 'set', req, context });
    this.#entries.set(`${scope} ${token}`, { token, tokenSecret, expiresAt: Date.now() + 60_000 });
  }

  get(req: IncomingMessage, token: string, scope: string, context?: StoreContext): PendingSignIn | undefined {
    this.calls.push({ method: 'get', req, context });
    return this.#entries.get(`${scope} ${token}`);
  }

  destroy(req: IncomingMessage, token: string, scope: string, context?: StoreContext): void {
    this.calls.push({ method: 'destroy', req, context });
    this.#entries.delete(`${scope} ${token}`);
  }

  hasPending(req: IncomingMessage, scope: string, context?: StoreContext): boolean {
    this.calls.push({ method: 'hasPending', req, context });
    return [...this.#entries.keys()].some((key) => key.startsWith(`${scope} `));
  }
}

describe('the request-token store contract', () => {
  let fake: FakeTwitter;
  let app: TestApp | undefined;
  let strategy: TwitterSignInStrategy | undefined;

  beforeEach(async () => {
    fake = await startFakeTwitter({ consumerKey: 'key', consumerSecret: 'secret', autoApprove: { id: '42', screen_name: 'alice' } });
  });
  afterEach(async () => {
    await app?.close();
    app = strategy = undefined;
    await fake.close();
  });

  /** Signs in, replays the callback, then cancels a second sign-in; returns what the store saw. */
  async function signIn(proxy: boolean | undefined, configure: (app: Express) => void, headers: Record<string, string>) {
    const store = new RecordingStore();
    strategy = new TwitterSignInStrategy(
      { consumerKey: 'key', consumerSecret: 'secret', callbackURL: '/auth/twitter/callback', requestTokenStore: store, ...fake.endpoints, ...(proxy === undefined ? {} : { proxy }) },
      (_t, _s, profile, done) => done(null, { id: profile.id }),
    );
    app = await startApp(strategy, { configure });
    const browser = new Browser();
    const callbackQuery = async () => {
      const start = await browser.get(`${app!.url}/auth/twitter`, headers);
      expect(start.status, await start.clone().text()).to.equal(302);
      const approved = await fetch(start.headers.get('location')!, { redirect: 'manual' });
      // The proxy in front would take the callback to the app; here it is sent to the app directly.
      return new URL(approved.headers.get('location')!).search;
    };
    const query = await callbackQuery();
    expect((await browser.get(`${app.url}/auth/twitter/callback${query}`, headers)).status).to.equal(200);
    expect((await browser.get(`${app.url}/auth/twitter/callback${query}`, headers)).status, 'replayed').to.equal(401);
    const token = new URLSearchParams(await callbackQuery()).get('oauth_token')!;
    expect((await browser.get(`${app.url}/auth/twitter/callback?denied=${token}`, headers)).status, 'denied').to.equal(401);
    return store.calls;
  }

  it('hands every method the same context object per request, as its last argument', async () => {
    const calls = await signIn(undefined, () => {}, {});
    // The replayed callback (the second get) is known as used: no hasPending call, nothing written.
    expect(calls.map((c) => c.method)).to.deep.equal(['check', 'set', 'get', 'destroy', 'get', 'check', 'set', 'destroy']);
    for (const call of calls) expect(call.context, call.method).to.deep.equal({ secure: false });
    const [check, set, get, destroy] = calls;
    expect(set!.context).to.equal(check!.context);
    expect(destroy!.context).to.equal(get!.context);
  });

  const https = { 'X-Forwarded-Proto': 'https' };
  const cases: [string, boolean | undefined, (app: Express) => void, boolean][] = [
    ["proxy: true believes the proxy's X-Forwarded-Proto", true, () => {}, true],
    ["proxy: false does not, even where Express's trust proxy would", false, (a) => a.set('trust proxy', true), false],
    ["proxy unset follows Express's trust proxy when it trusts the proxy", undefined, (a) => a.set('trust proxy', 'loopback'), true],
    ["proxy unset follows Express's trust proxy when it does not", undefined, (a) => a.set('trust proxy', '10.0.0.0/8'), false],
  ];
  for (const [what, proxy, configure, secure] of cases) {
    it(`says secure: ${secure} where ${what}`, async () => {
      const calls = await signIn(proxy, configure, https);
      for (const call of calls) expect(call.context, call.method).to.deep.equal({ secure });
    });
  }
});
