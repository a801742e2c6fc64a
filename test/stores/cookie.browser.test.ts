/**
 * Cookie tossing against the cookie store, in a real browser: headless Chromium, with
 * app.site.test and evil.site.test both mapped to loopback. An attacker starts a sign-in of
 * their own, plants its cookie in the victim's browser from a sibling subdomain (or from a
 * plain-http answer for the app's host), and sends the victim the callback link: the victim must
 * not end up signed in to the attacker's account.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { chromium, type BrowserContext } from 'playwright-core';
import { CookieRequestTokenStore, type CookieRequestTokenStoreOptions } from '../../lib/stores/cookie.js';
import { TwitterSignInStrategy } from '../../lib/strategy.js';
import { startFakeTwitter, type FakeTwitter } from '../../lib/testing/index.js';
import { Browser, startApp, type TestApp } from '../helpers/app.js';
import { CHROMIUM_ARGS as SHARED_CHROMIUM_ARGS, requireBinary } from '../helpers/services.js';
import { selfSignedCertificate, type Certificate } from '../helpers/tls.js';

const CHROMIUM_ARGS = [
  ...SHARED_CHROMIUM_ARGS,
  // Two sibling hosts under one parent, both this machine.
  '--host-resolver-rules=MAP *.site.test 127.0.0.1',
];
const SECRET = randomBytes(32).toString('hex');

describe('cookie store against cookie tossing, in Chromium', function () {
  this.timeout(20_000);

  let certificate: Certificate;
  let context: BrowserContext | undefined;
  let userDataDir: string | undefined;
  let fake: FakeTwitter;
  const apps: TestApp[] = [];
  const servers: http.Server[] = [];
  // What the attacker's servers answer /plant with.
  let planted: string[] = [];

  before(async function () {
    this.timeout(40_000);
    const executablePath = requireBinary(this, 'chromium', 'chromium');
    certificate = selfSignedCertificate(this, ['*.site.test']);
    fake = await startFakeTwitter({ consumerKey: 'key', consumerSecret: 'secret', autoApprove: { id: '666', screen_name: 'mallory' } });
    userDataDir = await mkdtemp(join(tmpdir(), 'cookie-tossing-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      ignoreHTTPSErrors: true,
      timeout: 30_000,
    });
    context.setDefaultTimeout(5_000);
    context.setDefaultNavigationTimeout(5_000);
  });

  after(async () => {
    await context?.close().catch(() => {});
    await fake?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await context?.clearCookies();
    planted = [];
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
  });

  /** The app on HTTPS as https://app.site.test:PORT, keeping sign-ins in the cookie store. */
  async function appWith(options: Partial<CookieRequestTokenStoreOptions> = {}): Promise<string> {
    const strategy = new TwitterSignInStrategy(
      {
        consumerKey: 'key',
        consumerSecret: 'secret',
        callbackURL: '/auth/twitter/callback',
        requestTokenStore: new CookieRequestTokenStore({ secret: SECRET, ...options }),
        ...fake.endpoints,
      },
      (_t, _s, profile, done) => done(null, { id: profile.id, username: profile.username }),
    );
    const app = await startApp(strategy, { session: false, authenticateOptions: { session: false }, tls: certificate });
    apps.push(app);
    return `https://app.site.test:${new URL(app.url).port}`;
  }

  /** The attacker's own sign-in: the cookie it set, and the callback link Twitter sent back. */
  async function attackersSignIn(origin: string): Promise<{ name: string; value: string; callback: string }> {
    const attacker = new Browser({ ca: certificate.cert });
    const local = origin.replace('app.site.test', '127.0.0.1');
    const start = await attacker.get(`${local}/auth/twitter`, { host: new URL(origin).host });
    expect(start.status, await start.clone().text()).to.equal(302);
    const approved = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const callback = approved.headers.get('location')!;
    expect(callback.startsWith(`${origin}/auth/twitter/callback?oauth_token=`)).to.equal(true);
    const [[name, value]] = [...attacker.cookies] as [[string, string]];
    return { name, value, callback };
  }

  /** A server of the attacker's that answers /plant with the Set-Cookie lines in `planted`. */
  async function attackerServer(secure: boolean): Promise<number> {
    const handler = (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.setHeader('Set-Cookie', planted);
      res.end('planted');
    };
    const server = secure ? https.createServer(certificate, handler) : http.createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  /** The victim follows the attacker's callback link; returns what the app answered. */
  async function victimFollows(callback: string): Promise<unknown> {
    const page = await context!.newPage();
    try {
      const res = await page.goto(callback);
      return JSON.parse(await res!.text());
    } finally {
      await page.close();
    }
  }

  async function visit(url: string): Promise<void> {
    const page = await context!.newPage();
    try {
      expect((await page.goto(url))!.status()).to.equal(200);
    } finally {
      await page.close();
    }
  }

  const cookieNames = async (origin: string) => (await context!.cookies(origin)).map((c) => c.name);

  it('a sibling subdomain cannot plant the default __Host- cookie, so the victim is not signed in as the attacker', async () => {
    const origin = await appWith();
    const { name, value, callback } = await attackersSignIn(origin);
    expect(name).to.equal('__Host-twitter_signin');
    const evil = await attackerServer(true);
    planted = [
      `__Host-twitter_signin=${value}; Domain=site.test; Path=/; Secure; HttpOnly; SameSite=Lax`,
      `twitter_signin=${value}; Domain=site.test; Path=/; Secure; HttpOnly; SameSite=Lax`,
    ];
    await visit(`https://evil.site.test:${evil}/plant`);
    // Chromium refused the __Host- cookie with a Domain; the plain one it took for the whole parent.
    expect(await cookieNames(origin)).to.deep.equal(['twitter_signin']);
    expect(((await victimFollows(callback)) as { failure?: { code?: string } }).failure?.code).to.equal('NO_PENDING_SIGN_IN');
  });

  it('while the plain name, planted the same way, signs the victim in to the attacker\'s account', async () => {
    // What the default name was before: the attack the __Host- name stops.
    const origin = await appWith({ name: 'twitter_signin' });
    const { value, callback } = await attackersSignIn(origin);
    const evil = await attackerServer(true);
    planted = [`twitter_signin=${value}; Domain=site.test; Path=/; Secure; HttpOnly; SameSite=Lax`];
    await visit(`https://evil.site.test:${evil}/plant`);
    expect(await victimFollows(callback)).to.deep.equal({ user: { id: '666', username: 'mallory' } });
  });

  it('a plain-http answer for the app\'s own host cannot plant the __Host- cookie either', async () => {
    const origin = await appWith();
    const { value, callback } = await attackersSignIn(origin);
    const plain = await attackerServer(false);
    planted = [
      `__Host-twitter_signin=${value}; Path=/; Secure; HttpOnly; SameSite=Lax`,
      `__Host-twitter_signin=${value}; Path=/; HttpOnly; SameSite=Lax`,
    ];
    await visit(`http://app.site.test:${plain}/plant`);
    expect(await cookieNames(origin)).not.to.include('__Host-twitter_signin');
    expect(await cookieNames(`http://app.site.test:${plain}`)).not.to.include('__Host-twitter_signin');
    expect(((await victimFollows(callback)) as { failure?: { code?: string } }).failure?.code).to.equal('NO_PENDING_SIGN_IN');
  });
});
