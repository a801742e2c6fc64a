/**
 * The example app (examples/app.ts) in a real browser: headless Chromium, driven by
 * playwright-core, signs in against the fake Twitter the way a person would, through each
 * protocol (OAuth 1.0a and OAuth 2.0), and cancels through each.
 *
 * The app and the fake both listen on 127.0.0.1 and the callback URL uses 127.0.0.1 too:
 * cookies are per host, so the session cookie set at the start must come back on the callback.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium, type BrowserContext, type Page, type Response } from 'playwright-core';
import { CALLBACK_PATHS, createApp } from '../../examples/app.js';
import { startFakeTwitter, type FakeTwitter } from '../../lib/testing/index.js';
import { CHROMIUM_ARGS, requireBinary } from '../helpers/services.js';

const CONSUMER_KEY = 'browser-example-key';
const CLIENT_ID = 'browser-example-client';
const CLIENT_SECRET = 'browser-example-client-secret-8c1d4f';
const APP_NAME = 'Browser Example';
// Distinctive, so finding it anywhere the browser can see is unambiguous.
const CONSUMER_SECRET = 'browser-example-secret-3b7f0c2e9d6a';
/** A step that takes longer than this failed; each test stays well under mocha's timeout. */
const STEP_TIMEOUT = 5_000;

describe('example app in a browser', function () {
  this.timeout(15_000);

  let userDataDir: string | undefined;
  let context: BrowserContext | undefined;
  let server: Server | undefined;
  let fake: FakeTwitter | undefined;
  let appURL: string;
  let page: Page;
  const logged: string[] = [];

  before(async function () {
    this.timeout(30_000);
    const executablePath = requireBinary(this, 'chromium', 'chromium');

    // The callback URL needs the app's port, and the app needs the fake's URLs: listen first,
    // attach the app once both exist.
    server = createServer();
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(0, '127.0.0.1', () => resolve());
    });
    appURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fake = await startFakeTwitter({
      consumerKey: CONSUMER_KEY,
      consumerSecret: CONSUMER_SECRET,
      clientID: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      appName: APP_NAME,
      callbackURLs: [`${appURL}${CALLBACK_PATHS.twitter}`, `${appURL}${CALLBACK_PATHS.x}`],
    });
    server.on(
      'request',
      createApp({
        // A short timeout, so the test of a stalled Twitter waits 2 s, not 10.
        twitter: { consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, ...fake.endpoints, timeout: 2000 },
        x: { clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, ...fake.oauth2Endpoints },
        origin: appURL,
        sessionSecret: 'browser-test-session-secret',
        log: (message) => logged.push(message),
      }),
    );

    userDataDir = await mkdtemp(join(tmpdir(), 'twitter-signin-chromium-'));
    // An explicit launch timeout: a Chromium that never comes up fails this hook, not the run.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout: 20_000,
    });
    context.setDefaultTimeout(STEP_TIMEOUT);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  });

  after(async () => {
    await context?.close().catch(() => {});
    if (server) {
      const closing = server;
      closing.closeAllConnections();
      await new Promise<void>((resolve) => closing.close(() => resolve()));
    }
    await fake?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  // Each test starts as a new visitor: no app session, not signed in at the fake.
  beforeEach(async () => {
    await context!.clearCookies();
    page = await context!.newPage();
  });

  afterEach(async () => {
    await page?.close().catch(() => {});
  });

  /** Clicks `selector` on the app's home page and waits for the fake's not-signed-in page. */
  async function startSignIn(selector: string): Promise<void> {
    await page.goto(`${appURL}/`);
    await page.click(selector);
    const at = selector === '#sign-in-x' ? `${fake!.oauth2Endpoints.authorizationURL}?` : `${fake!.userAuthorizationURL}?oauth_token=`;
    await page.waitForURL((url) => url.href.startsWith(at));
    await page.locator('#username').waitFor();
  }

  /** On the fake's sign-in page: types credentials, allows, waits for the app's profile page. */
  async function allowAs(username: string): Promise<void> {
    await page.fill('#username', username);
    await page.fill('#password', 'any password');
    await page.click('#allow');
    await page.waitForURL(`${appURL}/profile`);
  }

  async function expectProfileOf(username: string): Promise<void> {
    expect(await page.textContent('#screen-name')).to.equal(`@${username}`);
    expect(await page.textContent('#user-id')).to.match(/^\d+$/);
  }

  it('signs a new visitor in: the button leads to the fake sign-in page, which shows the permissions, then to the profile', async () => {
    // Everything the browser receives, to show the consumer secret is never in any of it.
    const seen: Promise<string>[] = [];
    page.on('response', (response: Response) => seen.push(everythingIn(response)));

    await startSignIn('#sign-in');
    expect(await page.textContent('h1')).to.equal(`Authorize ${APP_NAME} to access your account?`);
    const permissions = await page.locator('#permissions li').allTextContents();
    expect(permissions).to.include('See your Twitter profile information and account settings.');
    // The app asked for no more than read access.
    expect(permissions.join(' ')).not.to.include('Post and delete Tweets');

    await allowAs('ada');
    await expectProfileOf('ada');
    expect(await page.textContent('#via')).to.equal('OAuth 1.0a');
    expect(await page.content()).not.to.include(CONSUMER_SECRET);

    const contents = await Promise.all(seen);
    // Home, start, the fake's page, its form's answer, callback, profile: bodies included.
    expect(contents.length).to.be.at.least(6);
    expect(contents.some((content) => content.includes('id="permissions"'))).to.equal(true);
    expect(contents.some((content) => content.includes('id="screen-name"'))).to.equal(true);
    for (const content of contents) expect(content).not.to.include(CONSUMER_SECRET);
  });

  it('brings a visitor who cancels at the fake back home, not signed in, with a message saying so', async () => {
    await startSignIn('#sign-in');
    await page.click('#cancel');
    await page.waitForURL(`${appURL}/`);

    expect(await page.textContent('#error')).to.equal('The sign-in with Twitter was cancelled.');
    expect(await page.locator('#sign-in').count()).to.equal(1);
    expect(await page.locator('#sign-out').count()).to.equal(0);
    await page.goto(`${appURL}/profile`);
    expect(new URL(page.url()).pathname).to.equal('/');
  });

  it('signs a returning user in again with redirects only: no fake page is shown the second time', async () => {
    await startSignIn('#sign-in');
    await allowAs('grace');
    await page.click('#sign-out');
    await page.waitForURL(`${appURL}/`);
    expect(await page.locator('#sign-in').count()).to.equal(1);

    // Redirects never commit a navigation: every page the browser actually shows is in here.
    const shown: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) shown.push(frame.url());
    });
    const atFake: { url: string; status: number }[] = [];
    page.on('response', (response: Response) => {
      if (response.url().startsWith(`${fake!.url}/`)) atFake.push({ url: response.url(), status: response.status() });
    });

    await page.click('#sign-in');
    // Stop at the first page shown, the profile or (the failure this test is about) the fake's.
    await page.waitForURL((url) => url.href === `${appURL}/profile` || url.href.startsWith(`${fake!.url}/`));
    expect(shown, 'pages shown during the second sign-in').to.deep.equal([`${appURL}/profile`]);
    expect(await page.locator('#username').count()).to.equal(0);
    await expectProfileOf('grace');

    // It did go through the fake, which answered with a redirect and not a page.
    expect(atFake).to.have.lengthOf(1);
    expect(atFake[0]!.url.startsWith(`${fake!.userAuthorizationURL}?oauth_token=`)).to.equal(true);
    expect(atFake[0]!.status).to.equal(302);
  });

  it('signs a new visitor in with X over OAuth 2.0: the scopes on the fake page, then the profile, no secret shown', async () => {
    const seen: Promise<string>[] = [];
    page.on('response', (response: Response) => seen.push(everythingIn(response)));
    await startSignIn('#sign-in-x');
    expect(await page.textContent('h1')).to.equal(`Authorize ${APP_NAME} to access your account?`);
    const permissions = await page.locator('#permissions li').allTextContents();
    // tweet.read and users.read: what GET /2/users/me needs, and no more.
    expect(permissions).to.deep.equal([
      'All the Tweets you can view, including Tweets from protected accounts.',
      'Any account you can view, including protected accounts.',
    ]);
    await allowAs('hedy');
    await expectProfileOf('hedy');
    expect(await page.textContent('#via')).to.equal('OAuth 2.0');
    for (const content of await Promise.all(seen)) {
      expect(content).not.to.include(CLIENT_SECRET);
      expect(content).not.to.include(CONSUMER_SECRET);
    }
  });

  it('brings a visitor who cancels at the OAuth 2.0 page back home, not signed in, with a message saying so', async () => {
    await startSignIn('#sign-in-x');
    await page.click('#cancel');
    await page.waitForURL(`${appURL}/`);
    expect(await page.textContent('#error')).to.equal('The sign-in with Twitter was cancelled.');
    expect(await page.locator('#sign-in-x').count()).to.equal(1);
    expect(await page.locator('#sign-out').count()).to.equal(0);
  });

  it('shows a short retry page, not a stack trace, when X does not answer in time, and logs what to fix', async function () {
    this.timeout(30_000);
    fake!.injectFault('request_token', { type: 'hang' }, { times: 1 });
    logged.length = 0;
    await page.goto(`${appURL}/`);
    await page.click('#sign-in');
    await page.locator('#try-again').waitFor();
    expect(new URL(page.url()).pathname).to.equal('/auth/twitter');
    expect(await page.textContent('#error')).to.equal('X did not answer in time. Please try again in a moment.');
    expect(await page.locator('#try-again').count()).to.equal(1);
    expect(await page.content()).not.to.match(/at \w+ \(|node_modules/);
    expect(logged.join('\n')).to.include('ERR_TWITTER_TIMEOUT');
  });

  it('signs in from the link-style variant too', async () => {
    await startSignIn('#sign-in-link');
    await allowAs('linus');
    await expectProfileOf('linus');
  });
});

/** The URL, headers and (for anything but a redirect, whose body Chromium drops) body of a response. */
async function everythingIn(response: Response): Promise<string> {
  const headers = JSON.stringify(await response.allHeaders());
  const status = response.status();
  const body = status >= 300 && status < 400 ? '' : (await response.body()).toString('utf8');
  return `${response.url()}\n${headers}\n${body}`;
}
