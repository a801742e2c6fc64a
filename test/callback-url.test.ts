import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Passport } from 'passport';
import { resolveCallbackURL } from '../lib/callback-url.js';
import { TwitterSignInError } from '../lib/errors.js';
import { TwitterSignInStrategy } from '../lib/strategy.js';
import { startFakeTwitter, type FakeTwitter } from '../lib/testing/index.js';
import { rawGet, startApp, type TestApp } from './helpers/app.js';

function req(headers: Record<string, string>, encrypted = false): IncomingMessage {
  return { headers, socket: { encrypted } } as unknown as IncomingMessage;
}

describe('resolveCallbackURL', () => {
  it('returns an absolute callback URL unchanged', () => {
    expect(resolveCallbackURL('https://app.example/cb', req({ host: 'other' }), true)).to.equal('https://app.example/cb');
  });

  it('resolves a relative one against the Host, over http or https by the socket', () => {
    expect(resolveCallbackURL('/cb', req({ host: 'localhost:3000' }), false)).to.equal('http://localhost:3000/cb');
    expect(resolveCallbackURL('/cb', req({ host: 'app.example' }, true), false)).to.equal('https://app.example/cb');
  });

  it('ignores X-Forwarded-* from an untrusted client', () => {
    const r = req({ host: 'app.example', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' });
    expect(resolveCallbackURL('/cb', r, false)).to.equal('http://app.example/cb');
  });

  it('uses the first X-Forwarded-Proto and X-Forwarded-Host of a trusted proxy chain', () => {
    const r = req({ host: 'internal:8080', 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'app.example, internal' });
    expect(resolveCallbackURL('/cb', r, true)).to.equal('https://app.example/cb');
  });

  it("asks Express's trust proxy function about the connecting address when the choice is left to Express", () => {
    const headers = { host: 'internal:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example:8443' };
    const asked: unknown[] = [];
    const withTrust = (trusts: boolean) =>
      Object.assign(req(headers), {
        socket: { encrypted: false, remoteAddress: '10.0.0.7' },
        app: { get: (name: string) => (name === 'trust proxy fn' ? (addr: string, i: number) => (asked.push([addr, i]), trusts) : undefined) },
      }) as unknown as IncomingMessage;
    expect(resolveCallbackURL('/cb', withTrust(true), undefined)).to.equal('https://app.example:8443/cb');
    expect(resolveCallbackURL('/cb', withTrust(false), undefined)).to.equal('http://internal:8080/cb');
    expect(asked[0]).to.deep.equal(['10.0.0.7', 0]);
    expect(resolveCallbackURL('/cb', req(headers), undefined), 'no Express: not trusted').to.equal('http://internal:8080/cb');
  });

  it('refuses a request with no Host at all (HTTP/1.0) rather than guess one', () => {
    expect(() => resolveCallbackURL('/cb', req({}), false)).to.throw(TwitterSignInError).with.property('code', 'ERR_CALLBACK_HOST');
  });

  it('compares callbackHosts as URLs compare hosts: any case, the default port implied', () => {
    const hosts = ['App.Example', 'secure.example:443'];
    expect(resolveCallbackURL('/cb', req({ host: 'app.example:80' }), false, hosts)).to.equal('http://app.example/cb');
    expect(resolveCallbackURL('/cb', req({ host: 'secure.example' }, true), false, hosts)).to.equal('https://secure.example/cb');
    expect(() => resolveCallbackURL('/cb', req({ host: 'secure.example' }), false, hosts), 'port 443 over http').to.throw(
      TwitterSignInError,
      'not in callbackHosts',
    );
  });

  it('ignores an X-Forwarded-Proto that is neither http nor https', () => {
    const r = req({ host: 'app.example', 'x-forwarded-proto': 'javascript' });
    expect(resolveCallbackURL('/cb', r, true)).to.equal('http://app.example/cb');
  });
});

describe('a relative callbackURL over HTTP', () => {
  let fake: FakeTwitter;
  let app: TestApp | undefined;

  beforeEach(async () => {
    fake = await startFakeTwitter({ consumerKey: 'key', consumerSecret: 'secret', autoApprove: { id: '42', screen_name: 'alice' } });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await fake.close();
  });

  function strategy(extra: Record<string, unknown> = {}): TwitterSignInStrategy {
    const s = new TwitterSignInStrategy(
      { consumerKey: 'key', consumerSecret: 'secret', callbackURL: '/auth/twitter/callback', ...fake.endpoints, ...extra },
      (_t, _s, profile, done) => done(null, { id: profile.id }),
    );
    return s;
  }

  /** Starts a sign-in with these headers; when Twitter was called, where it sends the user back. */
  async function startWith(headers: Record<string, string>): Promise<{ status: number; error?: string; callback?: URL }> {
    const res = await rawGet(`${app!.url}/auth/twitter`, headers);
    if (res.status !== 302) return { status: res.status, error: (JSON.parse(res.body) as { error?: string }).error };
    // The fake approves at once and redirects to the callback, verifier and all.
    const approved = await fetch(res.headers.location!, { redirect: 'manual' });
    return { status: 302, callback: new URL(approved.headers.get('location')!) };
  }

  // Each would put the user's verifier in a URL whose host is not what the header seemed to say
  // ('legit@evil' and 'evil/x?' are host evil), or cannot be a host at all.
  const HOSTILE = ['legit@evil', 'evil/x?', 'evil\\x', 'evil#x', 'a b', '', 'a,b', '%65vil', 'evil:80x', 'evil:', 'evil:99999', '[::1', 'ev"il'];

  it('refuses a Host header that is not host[:port] with ERR_CALLBACK_HOST, before Twitter is called', async () => {
    app = await startApp(strategy());
    for (const host of HOSTILE) {
      expect(await startWith({ host }), JSON.stringify(host)).to.deep.equal({ status: 500, error: 'ERR_CALLBACK_HOST' });
    }
    expect(fake.stats().requestToken).to.equal(0);
  });

  it('refuses such an X-Forwarded-Host from a trusted proxy', async () => {
    app = await startApp(strategy({ proxy: true }));
    for (const forwarded of ['legit@evil', 'evil/x?', 'legit@evil, proxy.internal']) {
      const res = await startWith({ host: 'proxy.internal', 'x-forwarded-host': forwarded });
      expect(res, forwarded).to.deep.equal({ status: 500, error: 'ERR_CALLBACK_HOST' });
    }
    expect(fake.stats().requestToken).to.equal(0);
  });

  it('is a 400 with a message that says what to fix, when the app leaves the error to Express', async () => {
    const passport = new Passport();
    passport.use(strategy());
    const express = (await import('express')).default;
    const session = (await import('express-session')).default;
    const bare = express();
    bare.set('env', 'test'); // Express's error handler then logs nothing
    bare.use(session({ secret: 'test-session-secret', resave: false, saveUninitialized: false }));
    bare.get('/auth/twitter', passport.authenticate('twitter'));
    const server = bare.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const res = await rawGet(`http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/twitter`, { host: 'legit@evil' });
      expect(res.status).to.equal(400);
      expect(res.body).to.include('absolute callbackURL');
    } finally {
      server.closeAllConnections();
      server.close();
    }
    expect(fake.stats().requestToken).to.equal(0);
  });

  it('sends the user back to a well-formed Host: a name, an IPv4 address or an IP literal, with a port', async () => {
    app = await startApp(strategy());
    const port = new URL(app.url).port;
    for (const host of [`127.0.0.1:${port}`, 'localhost:3000', `[::1]:${port}`, 'App.Example', 'xn--bcher-kva.example:8080']) {
      const res = await startWith({ host });
      expect(res.status, host).to.equal(302);
      expect(res.callback!.host, host).to.equal(host.toLowerCase());
      expect(res.callback!.pathname).to.equal('/auth/twitter/callback');
    }
  });

  it('leaves an absolute callbackURL alone whatever the Host says', async () => {
    app = await startApp(strategy({ callbackURL: 'http://app.example/auth/twitter/callback' }));
    const res = await startWith({ host: 'legit@evil' });
    expect(res.status).to.equal(302);
    expect(res.callback!.host).to.equal('app.example');
  });

  describe('callbackHosts', () => {
    it('resolves only against a listed host; any other is ERR_CALLBACK_HOST before Twitter is called', async () => {
      app = await startApp(strategy({ callbackHosts: ['app.example', 'www.app.example:8443'] }));
      expect((await startWith({ host: 'app.example' })).callback?.host).to.equal('app.example');
      expect((await startWith({ host: 'WWW.App.Example:8443' })).callback?.host).to.equal('www.app.example:8443');
      const calls = fake.stats().requestToken;
      for (const host of [new URL(app.url).host, 'evil.example', 'www.app.example', 'app.example:8443', 'legit@evil']) {
        expect(await startWith({ host }), host).to.deep.equal({ status: 500, error: 'ERR_CALLBACK_HOST' });
      }
      expect(fake.stats().requestToken).to.equal(calls);
    });

    it("applies to a trusted proxy's X-Forwarded-Host too", async () => {
      app = await startApp(strategy({ callbackHosts: ['app.example'], proxy: true }));
      expect((await startWith({ host: 'internal', 'x-forwarded-host': 'app.example' })).callback?.host).to.equal('app.example');
      expect(await startWith({ host: 'app.example', 'x-forwarded-host': 'evil.example' })).to.deep.equal({
        status: 500,
        error: 'ERR_CALLBACK_HOST',
      });
    });

    it('is refused in the constructor unless it is a non-empty list of host[:port]', () => {
      for (const callbackHosts of ['app.example', [], ['legit@evil'], ['https://app.example'], ['app.example/'], [''], [42], ['app.example:x']]) {
        expect(() => strategy({ callbackHosts }), JSON.stringify(callbackHosts)).to.throw(TypeError, 'callbackHosts');
      }
    });
  });
});
