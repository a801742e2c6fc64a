/**
 * The HTTP seam (lib/http.ts) as apps meet it: which dispatcher the calls to Twitter take (the
 * global one read per call, nock, MockAgent, a proxy, a private certificate authority), and how
 * they end when the other side misbehaves at the socket: garbage, resets, trickles, idle closes.
 */
import { execFileSync } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { expect } from 'chai';
import {
  Agent,
  EnvHttpProxyAgent,
  MockAgent,
  ProxyAgent,
  getGlobalDispatcher,
  request,
  setGlobalDispatcher,
  type Dispatcher,
} from 'undici';
import { TwitterOAuthClient, TwitterSignInStrategy } from '../lib/index.js';
import { startFakeTwitter, type FakeTwitter, type FakeTwitterOptions } from '../lib/testing/index.js';
import { Browser, startApp, type TestApp } from './helpers/app.js';
import { nock, useNock } from './helpers/nock.js';
import { rejection } from './helpers/rejection.js';
import { requireBinary } from './helpers/services.js';

const KEYS = { consumerKey: 'http-test-key', consumerSecret: 'http-test-consumer-secret' };
const OK_REQUEST_TOKEN = 'oauth_token=rt&oauth_token_secret=rts&oauth_callback_confirmed=true';

/** A TCP server that answers each connection with `answer` (raw bytes, or nothing). */
async function rawServer(answer: (socket: net.Socket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', () => answer(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function clientFor(url: string, extra: Partial<ConstructorParameters<typeof TwitterOAuthClient>[0]> = {}): TwitterOAuthClient {
  return new TwitterOAuthClient({
    ...KEYS,
    requestTokenURL: `${url}/oauth/request_token`,
    accessTokenURL: `${url}/oauth/access_token`,
    userAuthorizationURL: `${url}/oauth/authenticate`,
    ...extra,
  });
}

/**
 * A whole sign-in through a real Express app: start, the fake's authorize step (autoApprove
 * redirects straight back), callback. `provider` fetches the fake's page (a test may need its
 * own dispatcher to reach it).
 */
async function signIn(app: TestApp, provider: (url: string) => Promise<string | null> = fakeRedirect): Promise<unknown> {
  const browser = new Browser();
  const start = await browser.get(`${app.url}/auth/twitter`);
  expect(start.status, await start.clone().text()).to.equal(302);
  const callback = await provider(start.headers.get('location')!);
  const done = await browser.get(callback!);
  return done.json();
}

async function fakeRedirect(url: string, dispatcher?: Dispatcher): Promise<string | null> {
  const res = await request(url, dispatcher ? { dispatcher } : {});
  await res.body.dump();
  return (res.headers.location as string | undefined) ?? null;
}

function strategyFor(fake: FakeTwitter, extra: Record<string, unknown> = {}): TwitterSignInStrategy {
  return new TwitterSignInStrategy(
    { ...KEYS, callbackURL: '/auth/twitter/callback', ...fake.endpoints, ...extra },
    (_t, _s, profile) => ({ id: profile.id, username: profile.username }),
  );
}

const ALICE = { id: '101', screen_name: 'alice' };

describe('HTTP to Twitter', () => {
  let fake: FakeTwitter | undefined;
  let app: TestApp | undefined;
  const closers: (() => Promise<unknown> | unknown)[] = [];
  async function startFake(options: Partial<FakeTwitterOptions> = {}): Promise<FakeTwitter> {
    fake = await startFakeTwitter({ ...KEYS, autoApprove: ALICE, ...options });
    return fake;
  }
  afterEach(async () => {
    await app?.close();
    await fake?.close();
    for (const close of closers.splice(0).reverse()) await close();
    app = undefined;
    fake = undefined;
  });

  describe('the dispatcher', () => {
    it("reads undici's global dispatcher at each call: one set after the client was made is used", async () => {
      const client = clientFor('https://api.x.com');
      const previous = getGlobalDispatcher();
      const mock = new MockAgent();
      mock.disableNetConnect();
      mock.get('https://api.x.com').intercept({ path: '/oauth/request_token', method: 'POST' }).reply(200, OK_REQUEST_TOKEN);
      setGlobalDispatcher(mock);
      try {
        expect(await client.getRequestToken({ callbackURL: 'oob' })).to.deep.equal({ token: 'rt', tokenSecret: 'rts', callbackConfirmed: true });
        mock.assertNoPendingInterceptors();
      } finally {
        setGlobalDispatcher(previous);
        await mock.close();
      }
    });

    it('sends through a MockAgent given as dispatcher, signed, without touching the global one', async () => {
      const mock = new MockAgent();
      mock.disableNetConnect();
      closers.push(() => mock.close());
      const seen: string[] = [];
      mock
        .get('https://api.x.com')
        .intercept({ path: '/oauth/request_token', method: 'POST' })
        .reply(200, (opts) => {
          seen.push(String((opts.headers as Record<string, string>).Authorization ?? (opts.headers as Record<string, string>).authorization));
          return OK_REQUEST_TOKEN;
        });
      const global = getGlobalDispatcher();
      const client = clientFor('https://api.x.com', { dispatcher: mock });
      expect(client.dispatcher).to.equal(mock);
      expect(await client.getRequestToken({ callbackURL: 'oob' })).to.include({ token: 'rt' });
      expect(seen[0]).to.match(/^OAuth .*oauth_signature="[^"]+"/);
      expect(getGlobalDispatcher()).to.equal(global);
    });

    it('signs in through the strategy with a MockAgent as dispatcher, no network at all', async () => {
      const mock = new MockAgent();
      mock.disableNetConnect();
      closers.push(() => mock.close());
      const x = mock.get('https://api.x.com');
      x.intercept({ path: '/oauth/request_token', method: 'POST' }).reply(200, OK_REQUEST_TOKEN);
      x.intercept({ path: '/oauth/access_token', method: 'POST' }).reply(200, 'oauth_token=at&oauth_token_secret=ats&user_id=7&screen_name=seven');
      const strategy = new TwitterSignInStrategy(
        {
          ...KEYS,
          callbackURL: '/auth/twitter/callback',
          requestTokenURL: 'https://api.x.com/oauth/request_token',
          accessTokenURL: 'https://api.x.com/oauth/access_token',
          userAuthorizationURL: 'https://api.x.com/oauth/authenticate',
          dispatcher: mock,
        },
        (_t, _s, profile) => ({ id: profile.id }),
      );
      app = await startApp(strategy);
      const browser = new Browser();
      const start = await browser.get(`${app.url}/auth/twitter`);
      expect(start.headers.get('location')).to.equal('https://api.x.com/oauth/authenticate?oauth_token=rt');
      const done = await browser.get(`${app.url}/auth/twitter/callback?oauth_token=rt&oauth_verifier=v`);
      expect(await done.json()).to.deep.equal({ user: { id: '7' } });
      mock.assertNoPendingInterceptors();
    });

    it("refuses the agent option with a TypeError that names dispatcher and shows the replacement", () => {
      const agent = new http.Agent();
      expect(() => clientFor('https://api.x.com', { agent } as never)).to.throw(TypeError, /dispatcher: new ProxyAgent\(/);
      expect(() => strategyFor({ endpoints: {} } as FakeTwitter, { agent })).to.throw(TypeError, /Pass an undici dispatcher as `dispatcher`/);
      expect(() => clientFor('https://api.x.com', { dispatcher: {} as Dispatcher })).to.throw(TypeError, 'dispatcher must be an undici Dispatcher');
    });
  });

  it("publishes each call on undici's diagnostics channels, where APM agents look", async () => {
    const seen: string[] = [];
    const onCreate = (message: unknown) => {
      const { request: req } = message as { request: { method: string; path: string } };
      seen.push(`${req.method} ${req.path}`);
    };
    diagnostics.subscribe('undici:request:create', onCreate);
    try {
      await startFake();
      await clientFor(fake!.url).getRequestToken({ callbackURL: 'oob' });
    } finally {
      diagnostics.unsubscribe('undici:request:create', onCreate);
    }
    expect(seen).to.include('POST /oauth/request_token');
  });

  describe('with nock 15.0.0 and no option at all', () => {
    useNock();

    for (const origin of ['https://api.x.com', 'https://api.twitter.com']) {
      it(`intercepts the calls to ${origin}`, async () => {
        const scope = nock(origin)
          .post('/oauth/request_token')
          .reply(200, OK_REQUEST_TOKEN)
          .post('/oauth/access_token')
          .reply(200, 'oauth_token=at&oauth_token_secret=ats&user_id=9&screen_name=nine');
        const client = clientFor(origin);
        const { token, tokenSecret } = await client.getRequestToken({ callbackURL: 'oob' });
        expect(await client.getAccessToken({ token, tokenSecret, verifier: 'v' })).to.include({ userId: '9', screenName: 'nine' });
        expect(scope.isDone()).to.equal(true);
      });
    }

    it('keeps the verifier and the signature out of the error when nock has no match', async () => {
      nock('https://api.x.com').post('/something-else').reply(200, '');
      const client = clientFor('https://api.x.com');
      const err = await rejection(client.getAccessToken({ token: 't', tokenSecret: 'token-secret-value', verifier: 'verifier-value' }));
      const text = [err.message, inspect(err, { depth: 8 }), JSON.stringify(err), err.body ?? ''].join('\n');
      expect(text).not.to.include('verifier-value');
      expect(text).not.to.include('token-secret-value');
      expect(text).not.to.include(KEYS.consumerSecret);
      expect(text).not.to.match(/oauth_signature="[^"[]/);
    });
  });

  describe('through a proxy', () => {
    /** An HTTP CONNECT proxy on loopback that tunnels only to loopback; records each CONNECT. */
    async function connectProxy(): Promise<{ url: string; tunnels: string[] }> {
      const tunnels: string[] = [];
      const server = http.createServer((_req, res) => res.writeHead(405).end());
      server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
        tunnels.push(req.url!);
        const [host, port] = req.url!.split(':');
        client.on('error', () => {});
        if (host !== '127.0.0.1' && host !== 'localhost') return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        const upstream = net.connect(Number(port), host, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.write(head);
          upstream.pipe(client).pipe(upstream);
        });
        upstream.on('error', () => client.destroy());
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      closers.push(
        () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      );
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tunnels };
    }

    it('signs in through a ProxyAgent given as dispatcher: every call tunnels through the proxy', async () => {
      const proxy = await connectProxy();
      await startFake();
      const dispatcher = new ProxyAgent(proxy.url);
      closers.push(() => dispatcher.close());
      app = await startApp(strategyFor(fake!, { dispatcher }));
      expect(await signIn(app)).to.deep.equal({ user: { id: ALICE.id, username: ALICE.screen_name } });
      const host = new URL(fake!.url).host;
      expect(proxy.tunnels.length).to.be.at.least(1);
      expect(proxy.tunnels.every((t) => t === host)).to.equal(true);
      expect(fake!.stats()).to.include({ requestToken: 1, accessToken: 1 });
    });

    it("goes through an EnvHttpProxyAgent set as undici's global dispatcher", async () => {
      const proxy = await connectProxy();
      await startFake();
      const previous = getGlobalDispatcher();
      const global = new EnvHttpProxyAgent({ httpProxy: proxy.url, noProxy: '' });
      setGlobalDispatcher(global);
      try {
        const client = clientFor(fake!.url);
        expect(await client.getRequestToken({ callbackURL: 'oob' })).to.have.property('token').that.is.a('string');
      } finally {
        setGlobalDispatcher(previous);
        await global.close();
      }
      expect(proxy.tunnels).to.deep.equal([new URL(fake!.url).host]);
    });
  });

  describe('over TLS with a private certificate authority', () => {
    let dir: string | undefined;
    let ca: Buffer;
    let tls: { cert: Buffer; key: Buffer };
    before(function () {
      const openssl = requireBinary(this, 'openssl', 'openssl');
      dir = mkdtempSync(join(tmpdir(), 'twitter-signin-ca-'));
      const file = (name: string) => join(dir!, name);
      const run = (...args: string[]) => execFileSync(openssl, args, { stdio: 'ignore' });
      const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
      run('req', '-x509', ...ec, '-days', '1', '-subj', '/CN=Test Private CA', '-keyout', file('ca.key'), '-out', file('ca.pem'),
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
      run('req', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', file('leaf.key'), '-out', file('leaf.csr'));
      writeFileSync(file('leaf.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
      run('x509', '-req', '-in', file('leaf.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
        '-days', '1', '-extfile', file('leaf.ext'), '-out', file('leaf.pem'));
      ca = readFileSync(file('ca.pem'));
      tls = { cert: readFileSync(file('leaf.pem')), key: readFileSync(file('leaf.key')) };
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("signs in over HTTPS through an undici Agent that trusts the app's authority", async () => {
      await startFake({ tls });
      expect(fake!.url.startsWith('https://127.0.0.1:')).to.equal(true);
      const dispatcher = new Agent({ connect: { ca } });
      closers.push(() => dispatcher.close());
      app = await startApp(strategyFor(fake!, { dispatcher }));
      expect(await signIn(app, (url) => fakeRedirect(url, dispatcher))).to.deep.equal({
        user: { id: ALICE.id, username: ALICE.screen_name },
      });
    });

    it('refuses the same server without the authority: ERR_TWITTER_NETWORK naming the host, with the TLS code as cause', async () => {
      await startFake({ tls });
      const err = await rejection(clientFor(fake!.url, { dispatcher: new Agent() }).getRequestToken({ callbackURL: 'oob' }));
      expect(err.code).to.equal('ERR_TWITTER_NETWORK');
      expect(err.message).to.include(new URL(fake!.url).host);
      expect((err.cause as { code?: string }).code).to.match(/CERT|SIGNATURE|ISSUER/);
      expect(fake!.stats().requestToken).to.equal(0);
    });
  });

  describe('when the server misbehaves', () => {
    it('refuses garbage that is not HTTP as ERR_TWITTER_RESPONSE, in well under the timeout', async () => {
      const server = await rawServer((s) => s.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
      closers.push(() => server.close());
      const started = Date.now();
      const err = await rejection(clientFor(server.url, { timeout: 5000 }).getRequestToken({ callbackURL: 'oob' }));
      expect(err.code).to.equal('ERR_TWITTER_RESPONSE');
      expect(err.message).to.include('cannot be read');
      expect(Date.now() - started).to.be.below(2000);
    });

    it('refuses a malformed chunked body as ERR_TWITTER_RESPONSE, keeping the status', async () => {
      const server = await rawServer((s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'));
      closers.push(() => server.close());
      const err = await rejection(clientFor(server.url).getRequestToken({ callbackURL: 'oob' }));
      expect(err.code).to.equal('ERR_TWITTER_RESPONSE');
      expect(err.message).to.include('cannot be read');
      expect(err.providerStatus).to.equal(200);
    });

    it('reports a reset mid-body as ERR_TWITTER_NETWORK without resending (the answer had begun)', async () => {
      let connections = 0;
      const server = await rawServer((s) => {
        connections += 1;
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\noauth_token=');
        setTimeout(() => s.resetAndDestroy(), 20);
      });
      closers.push(() => server.close());
      const err = await rejection(clientFor(server.url).getRequestToken({ callbackURL: 'oob' }));
      expect(err.code).to.equal('ERR_TWITTER_NETWORK');
      expect(err.providerStatus).to.equal(200);
      expect(connections).to.equal(1);
    });

    it('times out a body trickled a byte at a time past the timeout: the timeout covers the whole body', async () => {
      const server = await rawServer((s) => {
        s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
        const drip = setInterval(() => s.write('1\r\nx\r\n'), 20);
        s.on('close', () => clearInterval(drip));
      });
      closers.push(() => server.close());
      const started = Date.now();
      const err = await rejection(clientFor(server.url, { timeout: 300 }).getRequestToken({ callbackURL: 'oob' }));
      expect(err.code).to.equal('ERR_TWITTER_TIMEOUT');
      expect(Date.now() - started).to.be.within(280, 1500);
    });

    it('cuts off a body over 1 MiB while reading it, not after: the server is still sending', async () => {
      let sent = 0;
      const server = await rawServer((s) => {
        s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
        const chunk = Buffer.alloc(64 * 1024, 'a');
        const pump = () => {
          // 64 MiB at most: far more than the cap, far less than the timeout allows.
          while (sent < 64 * 1024 * 1024 && !s.destroyed) {
            sent += chunk.length;
            if (!s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)) return void s.once('drain', pump);
          }
        };
        pump();
      });
      closers.push(() => server.close());
      const err = await rejection(clientFor(server.url, { timeout: 10_000 }).getRequestToken({ callbackURL: 'oob' }));
      expect(err.code).to.equal('ERR_TWITTER_RESPONSE');
      expect(err.message).to.include('too large');
      expect(sent, 'the server had not finished').to.be.below(64 * 1024 * 1024);
    });

    it('refuses a declared Content-Length over 1 MiB before reading the body', async () => {
      const server = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n'));
      closers.push(() => server.close());
      const started = Date.now();
      const err = await rejection(clientFor(server.url, { timeout: 5000 }).getRequestToken({ callbackURL: 'oob' }));
      expect(err.code).to.equal('ERR_TWITTER_RESPONSE');
      expect(err.message).to.include('too large');
      expect(Date.now() - started).to.be.below(2000);
    });
  });

  describe('kept-alive connections the other side closes', () => {
    /**
     * A relay in front of the fake that closes a client connection after `idleMs` without
     * traffic, the way load balancers do, without telling the client in advance (the fake's own
     * `Keep-Alive: timeout=5` passes through, so the client believes it has 5 s).
     */
    async function idleClosingRelay(target: string, idleMs: number): Promise<{ url: string; idleCloses: () => number }> {
      const { port } = new URL(target);
      let idleCloses = 0;
      const sockets = new Set<net.Socket>();
      const server = net.createServer((client) => {
        const upstream = net.connect(Number(port), '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => sockets.delete(s));
        }
        client.setTimeout(idleMs, () => {
          idleCloses += 1;
          client.destroy();
          upstream.destroy();
        });
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      closers.push(
        () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      );
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, idleCloses: () => idleCloses };
    }

    it('loses no sign-in to a server that closes idle connections at 1 s, under a steady trickle of sign-ins', async function () {
      this.timeout(30_000);
      await startFake();
      const relay = await idleClosingRelay(fake!.url, 1000);
      const relayed = Object.fromEntries(
        Object.entries(fake!.endpoints).map(([name, url]) => [name, url.replace(fake!.url, relay.url)]),
      );
      const strategy = new TwitterSignInStrategy(
        { ...KEYS, callbackURL: '/auth/twitter/callback', ...relayed },
        (_t, _s, profile) => ({ id: profile.id, username: profile.username }),
      );
      app = await startApp(strategy);
      // Gaps around the idle limit: some calls find their connection closed a moment before.
      const gaps = [990, 995, 1000, 1002, 1005, 1010, 1020, 1050];
      const results: unknown[] = [];
      for (const gap of gaps) {
        results.push(await signIn(app, (url) => fakeRedirect(url.replace(fake!.url, relay.url))).catch((err: Error) => err.message));
        await new Promise((r) => setTimeout(r, gap));
      }
      expect(results).to.deep.equal(gaps.map(() => ({ user: { id: ALICE.id, username: ALICE.screen_name } })));
      expect(relay.idleCloses(), 'the relay did close idle connections between sign-ins').to.be.at.least(gaps.filter((g) => g >= 1000).length);
      expect(fake!.stats().accessToken).to.equal(gaps.length);
    });
  });
});
