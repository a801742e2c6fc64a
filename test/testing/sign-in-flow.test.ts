import { expect } from 'chai';
import type { FakeTwitter } from '../../lib/testing/index.js';
import {
  CALLBACK,
  CONSUMER_SECRET,
  Browser,
  exchange,
  formResponse,
  getRequestToken,
  ManualClock,
  redirectQuery,
  startFake,
} from './helpers.js';

const DECIDE = '/oauth/decide';

describe('sign-in flow', () => {
  let fake: FakeTwitter;
  afterEach(() => fake.close());

  /** Signs in on the fake's page and allows; returns the redirect. */
  async function signIn(browser: Browser, token: string, username = 'alice', password = 'pw'): Promise<Response> {
    await browser.get(`${fake.userAuthorizationURL}?oauth_token=${token}`);
    return browser.submit(`${fake.url}${DECIDE}`, { oauth_token: token, username, password, decision: 'allow' });
  }

  describe('in development mode (no users configured)', () => {
    beforeEach(async () => {
      fake = await startFake();
    });

    it('answers an unknown request token with a 400 HTML page, not a redirect', async () => {
      const res = await new Browser().get(`${fake.userAuthorizationURL}?oauth_token=nope`);
      expect(res.status).to.equal(400);
      expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      expect(res.headers.get('location')).to.equal(null);
      expect(await res.text()).to.include('The request token for this page is invalid');
    });

    it('answers bad percent-encoding in the page query with 400', async () => {
      const res = await new Browser().get(`${fake.userAuthorizationURL}?oauth_token=%zz`);
      expect(res.status).to.equal(400);
      expect((await res.json()) as unknown).to.deep.equal({ errors: [{ code: 215, message: 'Bad Authentication data.' }] });
    });

    it('shows a signed-out user one page with username, password, the permissions, the app and Sign in / Cancel', async () => {
      const { token } = await getRequestToken(fake);
      const res = await new Browser().get(`${fake.userAuthorizationURL}?oauth_token=${token}`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
      const page = await res.text();
      for (const id of ['username', 'password', 'allow', 'cancel']) expect(page).to.include(`id="${id}"`);
      expect(page).to.include(`action="${DECIDE}"`);
      expect(page).to.include(`Authorize Example App to access your account?`);
      expect(page).to.include("accepts any username and password");
      expect(page).to.include('See your Twitter profile information');
      expect(page).to.match(/id="allow"[^>]*>Sign in</);
      expect(page).to.match(/id="cancel"[^>]*>Cancel</);
    });

    it('pre-fills the username from screen_name, escaped', async () => {
      const { token } = await getRequestToken(fake);
      const page = await (
        await new Browser().get(`${fake.userAuthorizationURL}?oauth_token=${token}&screen_name=${encodeURIComponent('<b>"bob')}`)
      ).text();
      expect(page).to.include('value="&#60;b&#62;&#34;bob"');
      expect(page).not.to.include('<b>"bob');
    });

    it('signs in, sets an HttpOnly session cookie and redirects to the callback with oauth_token and oauth_verifier', async () => {
      const { token, secret } = await getRequestToken(fake);
      const browser = new Browser();
      const res = await signIn(browser, token, 'carol');
      expect(res.status).to.equal(302);
      expect(res.headers.getSetCookie()[0]).to.match(/^fake_twitter_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
      const query = redirectQuery(res);
      expect(res.headers.get('location')!.startsWith(`${CALLBACK}?`)).to.equal(true);
      expect(query.get('oauth_token')).to.equal(token);

      const access = await exchange(fake, { token, secret }, query.get('oauth_verifier')!);
      const body = await formResponse(access);
      expect(body.screen_name).to.equal('carol');
      expect(body.user_id).to.match(/^\d+$/);
    });

    it('keeps the query the callback already had', async () => {
      const { token } = await getRequestToken(fake, `${CALLBACK}?next=%2Fhome`);
      const res = await signIn(new Browser(), token);
      expect(res.headers.get('location')).to.match(new RegExp(`^${CALLBACK}\\?next=%2Fhome&oauth_token=${token}&oauth_verifier=`));
    });

    it('signs the same name in as the same user every time', async () => {
      const first = await getRequestToken(fake);
      const second = await getRequestToken(fake);
      const firstVerifier = redirectQuery(await signIn(new Browser(), first.token, 'dave')).get('oauth_verifier')!;
      const secondVerifier = redirectQuery(await signIn(new Browser(), second.token, 'DAVE')).get('oauth_verifier')!;
      const a = await formResponse(await exchange(fake, first, firstVerifier));
      const b = await formResponse(await exchange(fake, second, secondVerifier));
      expect(b.user_id).to.equal(a.user_id);
    });

    it('sends a signed-in user who approved the app straight back from /authenticate', async () => {
      const browser = new Browser();
      await signIn(browser, (await getRequestToken(fake)).token);
      const { token } = await getRequestToken(fake);
      const res = await browser.get(`${fake.userAuthorizationURL}?oauth_token=${token}`);
      expect(res.status).to.equal(302);
      expect(redirectQuery(res).get('oauth_token')).to.equal(token);
      expect(redirectQuery(res).get('oauth_verifier')).to.be.a('string');
    });

    it('asks a signed-in user again on /authorize, with Authorize app and no credentials', async () => {
      const browser = new Browser();
      await signIn(browser, (await getRequestToken(fake)).token);
      const { token } = await getRequestToken(fake);
      const res = await browser.get(`${fake.authorizeURL}?oauth_token=${token}`);
      expect(res.status).to.equal(200);
      const page = await res.text();
      expect(page).to.match(/id="allow"[^>]*>Authorize app</);
      expect(page).to.include('@alice');
      expect(page).not.to.include('id="password"');
      const allowed = await browser.submit(`${fake.url}${DECIDE}`, { oauth_token: token, decision: 'allow' });
      expect(allowed.status).to.equal(302);
      expect(redirectQuery(allowed).get('oauth_token')).to.equal(token);
    });

    it('asks for credentials with force_login=true even when signed in and approved', async () => {
      const browser = new Browser();
      await signIn(browser, (await getRequestToken(fake)).token);
      const { token } = await getRequestToken(fake);
      const res = await browser.get(`${fake.userAuthorizationURL}?oauth_token=${token}&force_login=true`);
      expect(res.status).to.equal(200);
      expect(await res.text()).to.include('id="password"');
    });

    it('asks a signed-in user with Sign in when the app now wants write access it was not given', async () => {
      const browser = new Browser();
      await signIn(browser, (await getRequestToken(fake)).token);
      const { token } = await getRequestToken(fake, CALLBACK, { x_auth_access_type: 'write' });
      const res = await browser.get(`${fake.userAuthorizationURL}?oauth_token=${token}`);
      expect(res.status).to.equal(200);
      const page = await res.text();
      expect(page).to.include('Post and delete Tweets for you');
      expect(page).to.match(/id="allow"[^>]*>Sign in</);
      expect(page).to.include('id="cancel"');
      expect(page).not.to.include('id="password"');
    });

    it('redirects Cancel to the callback with denied=T and drops the request token', async () => {
      const { token, secret } = await getRequestToken(fake);
      const browser = new Browser();
      await browser.get(`${fake.userAuthorizationURL}?oauth_token=${token}`);
      const res = await browser.submit(`${fake.url}${DECIDE}`, { oauth_token: token, decision: 'cancel' });
      expect(res.status).to.equal(302);
      expect(res.headers.get('location')).to.equal(`${CALLBACK}?denied=${token}`);
      expect(browser.cookies.size).to.equal(0);
      expect(fake.stats().pendingRequestTokens).to.equal(0);
      expect((await browser.get(`${fake.userAuthorizationURL}?oauth_token=${token}`)).status).to.equal(400);
      expect((await exchange(fake, { token, secret }, 'x')).status).to.equal(401);
    });

    it('shows the PIN page for oob instead of redirecting, and the PIN is the verifier', async () => {
      const requestToken = await getRequestToken(fake, 'oob');
      const res = await signIn(new Browser(), requestToken.token);
      expect(res.status).to.equal(200);
      const pin = /<code id="pin">(\d{7})<\/code>/.exec(await res.text())?.[1];
      expect(pin).to.be.a('string');
      expect((await exchange(fake, requestToken, pin!)).status).to.equal(200);
    });

    it('shows a page for Cancel with oob, there being no callback', async () => {
      const { token } = await getRequestToken(fake, 'oob');
      const res = await new Browser().submit(`${fake.url}${DECIDE}`, { oauth_token: token, decision: 'cancel' });
      expect(res.status).to.equal(200);
      expect(await res.text()).to.include('You have not granted access');
      expect(fake.stats().pendingRequestTokens).to.equal(0);
    });

    it('refuses to show a page for a token the user already approved', async () => {
      const { token } = await getRequestToken(fake);
      await signIn(new Browser(), token);
      expect((await new Browser().get(`${fake.userAuthorizationURL}?oauth_token=${token}`)).status).to.equal(400);
      const again = await new Browser().submit(`${fake.url}${DECIDE}`, {
        oauth_token: token,
        username: 'x',
        password: 'y',
        decision: 'allow',
      });
      expect(again.status).to.equal(400);
    });

    it('asks for credentials when Allow comes without them and without a session', async () => {
      const { token } = await getRequestToken(fake);
      const res = await new Browser().submit(`${fake.url}${DECIDE}`, { oauth_token: token, decision: 'allow' });
      expect(res.status).to.equal(200);
      expect(res.headers.get('location')).to.equal(null);
      expect(await res.text()).to.include('id="password"');
    });

    it('refuses a form without a decision with 400', async () => {
      const { token } = await getRequestToken(fake);
      const res = await new Browser().submit(`${fake.url}${DECIDE}`, { oauth_token: token, username: 'a', password: 'b' });
      expect(res.status).to.equal(400);
    });

    it('refuses an empty password', async () => {
      const { token } = await getRequestToken(fake);
      const res = await signIn(new Browser(), token, 'alice', '');
      expect(res.status).to.equal(200);
      expect(await res.text()).to.include('did not match our records');
    });

    it('replaces a session id planted before sign-in', async () => {
      const browser = new Browser();
      browser.cookies.set('fake_twitter_session', 'planted-by-an-attacker');
      await signIn(browser, (await getRequestToken(fake)).token);
      expect(browser.cookies.get('fake_twitter_session')).not.to.equal('planted-by-an-attacker');
    });
  });

  describe('with configured users', () => {
    beforeEach(async () => {
      fake = await startFake({
        users: [{ id: '1001', screen_name: 'Erin', password: 'correct horse', email: 'erin@example.com' }],
      });
    });

    it("signs a configured user in by screen name, case-insensitively, with the user's id", async () => {
      const requestToken = await getRequestToken(fake);
      const res = await signIn(new Browser(), requestToken.token, '@erin', 'correct horse');
      const body = await formResponse(await exchange(fake, requestToken, redirectQuery(res).get('oauth_verifier')!));
      expect(body).to.include({ user_id: '1001', screen_name: 'Erin' });
    });

    it('refuses a wrong password: the page says so, keeps the username, and nothing redirects', async () => {
      const { token } = await getRequestToken(fake);
      const res = await signIn(new Browser(), token, 'erin', 'wrong horse');
      expect(res.status).to.equal(200);
      expect(res.headers.get('location')).to.equal(null);
      expect(res.headers.getSetCookie()).to.deep.equal([]);
      const page = await res.text();
      expect(page).to.include('did not match our records');
      expect(page).to.include('value="erin"');
      expect(page).not.to.include('wrong horse');
    });

    it('refuses a username that is not configured', async () => {
      const { token } = await getRequestToken(fake);
      const res = await signIn(new Browser(), token, 'mallory', 'anything');
      expect(res.status).to.equal(200);
      expect(await res.text()).to.include('did not match our records');
    });

    it('never shows the token secret, the consumer secret or the password in a page', async () => {
      const requestToken = await getRequestToken(fake, 'oob');
      const browser = new Browser();
      const pages = [
        await (await browser.get(`${fake.userAuthorizationURL}?oauth_token=${requestToken.token}`)).text(),
        await (await signIn(browser, requestToken.token, 'erin', 'correct horsE')).text(),
        await (await signIn(browser, requestToken.token, 'erin', 'correct horse')).text(),
      ];
      const next = await getRequestToken(fake, 'oob');
      pages.push(await (await browser.get(`${fake.authorizeURL}?oauth_token=${next.token}`)).text());
      expect(pages[2]).to.include('id="pin"');
      expect(pages[3]).to.include('Authorize app');
      for (const page of pages) {
        for (const secret of [requestToken.secret, next.secret, CONSUMER_SECRET, 'correct horse', 'correct horsE']) {
          expect(page).not.to.include(secret);
        }
      }
    });
  });

  describe('with autoApprove', () => {
    beforeEach(async () => {
      fake = await startFake({ autoApprove: { id: '42', screen_name: 'robot' } });
    });

    for (const endpoint of ['userAuthorizationURL', 'authorizeURL'] as const) {
      it(`redirects ${endpoint} straight to the callback, with no page`, async () => {
        const requestToken = await getRequestToken(fake);
        const res = await new Browser().get(`${fake[endpoint]}?oauth_token=${requestToken.token}`);
        expect(res.status).to.equal(302);
        const body = await formResponse(await exchange(fake, requestToken, redirectQuery(res).get('oauth_verifier')!));
        expect(body).to.include({ user_id: '42', screen_name: 'robot' });
      });
    }
  });

  describe('with a short requestTokenTTL', () => {
    const TTL = 100;
    // The fake's clock moves only when the test moves it: no race with how long requests take.
    let clock: ManualClock;
    beforeEach(async () => {
      clock = new ManualClock();
      fake = await startFake({ requestTokenTTL: TTL }, clock);
    });

    it('answers an expired request token with a 400 HTML page', async () => {
      const { token } = await getRequestToken(fake);
      const page = `${fake.userAuthorizationURL}?oauth_token=${token}`;
      clock.advance(TTL - 1);
      expect((await new Browser().get(page)).status).to.equal(200);
      clock.advance(1);
      const res = await new Browser().get(page);
      expect(res.status).to.equal(400);
      expect(await res.text()).to.include('expired because it is too old');
    });
  });
});
