import { expect } from 'chai';
import type { FakeTwitter } from '../../lib/testing/index.js';
import { CALLBACK, Browser, Signer, formResponse, signedFetch, startFake, twitterError } from './helpers.js';

const CALLBACK_NOT_APPROVED =
  '<?xml version="1.0" encoding="UTF-8"?><errors><error code="415">Callback URL not approved for this client application. Approved callback URLs can be adjusted in your application settings</error></errors>';

describe('request_token', () => {
  let fake: FakeTwitter;
  afterEach(() => fake.close());

  function requestToken(callback: string | undefined, body: Record<string, string> = {}): Promise<Response> {
    return signedFetch(new Signer(fake), {
      url: fake.requestTokenURL,
      ...(callback === undefined ? {} : { oauth: { oauth_callback: callback } }),
      body,
    });
  }

  describe('without registered callbacks', () => {
    beforeEach(async () => {
      fake = await startFake();
    });

    it("answers 200 text/html, as Twitter does, with a random token, secret and oauth_callback_confirmed", async () => {
      const res = await requestToken(CALLBACK);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      const body = await formResponse(res);
      expect(Object.keys(body)).to.deep.equal(['oauth_token', 'oauth_token_secret', 'oauth_callback_confirmed']);
      expect(body.oauth_callback_confirmed).to.equal('true');
      expect(body.oauth_token).to.match(/^[A-Za-z0-9_-]{32,}$/);
      expect(body.oauth_token_secret).to.match(/^[A-Za-z0-9_-]{32,}$/);
      const again = await formResponse(await requestToken(CALLBACK));
      expect(again.oauth_token).not.to.equal(body.oauth_token);
      expect(again.oauth_token_secret).not.to.equal(body.oauth_token_secret);
    });

    it('refuses a request without oauth_callback with 400 code 215 (required since OAuth 1.0a)', async () => {
      const res = await requestToken(undefined);
      expect(res.status).to.equal(400);
      expect((await twitterError(res)).code).to.equal(215);
    });

    it('refuses a callback that is not an http(s) URL with 403 and code 415', async () => {
      const res = await requestToken('javascript:alert(1)');
      expect(res.status).to.equal(403);
      expect(await res.text()).to.equal(CALLBACK_NOT_APPROVED);
    });

    it('counts the token as pending until it is used', async () => {
      await requestToken(CALLBACK);
      await requestToken(CALLBACK);
      expect(fake.stats()).to.include({ requestToken: 2, pendingRequestTokens: 2 });
    });

    it('remembers x_auth_access_type=write from the body and asks for write permissions', async () => {
      const { oauth_token: token } = await formResponse(await requestToken(CALLBACK, { x_auth_access_type: 'write' }));
      const page = await (await new Browser().get(`${fake.userAuthorizationURL}?oauth_token=${token}`)).text();
      expect(page).to.include('Post and delete Tweets for you');
    });

    it('remembers x_auth_access_type=write from the query', async () => {
      const res = await signedFetch(new Signer(fake), {
        url: `${fake.requestTokenURL}?x_auth_access_type=write`,
        oauth: { oauth_callback: CALLBACK },
      });
      const { oauth_token: token } = await formResponse(res);
      const page = await (await new Browser().get(`${fake.userAuthorizationURL}?oauth_token=${token}`)).text();
      expect(page).to.include('Post and delete Tweets for you');
    });

    it('asks for read permissions only by default', async () => {
      const { oauth_token: token } = await formResponse(await requestToken(CALLBACK));
      const page = await (await new Browser().get(`${fake.userAuthorizationURL}?oauth_token=${token}`)).text();
      expect(page).to.include('See your Twitter profile information');
      expect(page).not.to.include('Post and delete Tweets for you');
    });
  });

  describe('with registered callbacks', () => {
    beforeEach(async () => {
      fake = await startFake({ callbackURLs: [CALLBACK] });
    });

    it("refuses an unregistered callback with 403 and Twitter's XML error 415", async () => {
      const res = await requestToken('http://evil.test/auth/twitter/callback');
      expect(res.status).to.equal(403);
      expect(res.headers.get('content-type')).to.equal('application/xml; charset=utf-8');
      expect(await res.text()).to.equal(CALLBACK_NOT_APPROVED);
      expect(fake.stats().pendingRequestTokens).to.equal(0);
    });

    it('refuses a registered callback on another port, path or scheme', async () => {
      for (const callback of [
        'http://127.0.0.1:3001/auth/twitter/callback',
        'http://127.0.0.1:3000/auth/twitter/callback/evil',
        'https://127.0.0.1:3000/auth/twitter/callback',
      ]) {
        expect((await requestToken(callback)).status, callback).to.equal(403);
      }
    });

    it('accepts a registered callback with a query string of its own', async () => {
      expect((await requestToken(`${CALLBACK}?next=%2Fhome`)).status).to.equal(200);
    });

    it('accepts oob, the PIN flow, whatever is registered', async () => {
      expect((await requestToken('oob')).status).to.equal(200);
    });
  });
});
