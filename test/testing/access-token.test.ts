import { expect } from 'chai';
import { OAuth } from 'oauth';
import type { FakeTwitter } from '../../lib/testing/index.js';
import {
  CALLBACK,
  CONSUMER_KEY,
  CONSUMER_SECRET,
  ManualClock,
  Signer,
  exchange,
  formResponse,
  getRequestToken,
  redirectQuery,
  signedFetch,
  startFake,
  twitterError,
} from './helpers.js';

const ALICE = { id: '783214', screen_name: 'alice' };

describe('access_token', () => {
  let fake: FakeTwitter;
  afterEach(() => fake.close());

  /** request_token, then /oauth/authenticate (auto-approved): the token and its verifier. */
  async function approvedToken(): Promise<{ token: string; secret: string; verifier: string }> {
    const requestToken = await getRequestToken(fake);
    const res = await fetch(`${fake.userAuthorizationURL}?oauth_token=${requestToken.token}`, { redirect: 'manual' });
    return { ...requestToken, verifier: redirectQuery(res).get('oauth_verifier')! };
  }

  async function expectInvalidToken(res: Response): Promise<void> {
    expect(res.status).to.equal(401);
    expect(await res.json()).to.deep.equal({ errors: [{ code: 89, message: 'Invalid or expired token.' }] });
  }

  describe('with autoApprove', () => {
    beforeEach(async () => {
      fake = await startFake({ autoApprove: ALICE });
    });

    it('completes request_token → authenticate → access_token with the oauth package as the client', async () => {
      const client = new OAuth(fake.requestTokenURL, fake.accessTokenURL, CONSUMER_KEY, CONSUMER_SECRET, '1.0', CALLBACK, 'HMAC-SHA1');
      const requestToken = await new Promise<{ token: string; secret: string; confirmed: unknown }>((resolve, reject) =>
        client.getOAuthRequestToken((err, token, secret, results) =>
          err ? reject(new Error(JSON.stringify(err))) : resolve({ token, secret, confirmed: results.oauth_callback_confirmed }),
        ),
      );
      expect(requestToken.confirmed).to.equal('true');

      const redirect = await fetch(`${fake.userAuthorizationURL}?oauth_token=${requestToken.token}`, { redirect: 'manual' });
      expect(redirect.status).to.equal(302);
      const location = new URL(redirect.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).to.equal(CALLBACK);
      expect(location.searchParams.get('oauth_token')).to.equal(requestToken.token);
      const verifier = location.searchParams.get('oauth_verifier')!;

      const access = await new Promise<{ token: string; secret: string; results: Record<string, unknown> }>((resolve, reject) =>
        client.getOAuthAccessToken(requestToken.token, requestToken.secret, verifier, (err, token, secret, results) =>
          err ? reject(new Error(JSON.stringify(err))) : resolve({ token, secret, results }),
        ),
      );
      expect(access.token).to.match(/^783214-[A-Za-z0-9_-]+$/);
      expect(access.secret).to.match(/^[A-Za-z0-9_-]{32,}$/);
      expect({ ...access.results }).to.deep.equal({ user_id: '783214', screen_name: 'alice' });
      expect(fake.stats()).to.include({ requestToken: 1, accessToken: 1, pendingRequestTokens: 0 });
    });

    it('answers text/html, as Twitter does', async () => {
      const approved = await approvedToken();
      const res = await exchange(fake, approved, approved.verifier);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      expect(Object.keys(await formResponse(res))).to.deep.equal(['oauth_token', 'oauth_token_secret', 'user_id', 'screen_name']);
    });

    it('accepts oauth_verifier in the form body', async () => {
      const approved = await approvedToken();
      const res = await signedFetch(new Signer(fake), {
        url: fake.accessTokenURL,
        token: approved.token,
        tokenSecret: approved.secret,
        body: { oauth_verifier: approved.verifier },
      });
      expect(res.status).to.equal(200);
    });

    it('refuses a used verifier with 401 code 89', async () => {
      const approved = await approvedToken();
      expect((await exchange(fake, approved, approved.verifier)).status).to.equal(200);
      await expectInvalidToken(await exchange(fake, approved, approved.verifier));
    });

    it('refuses a wrong verifier with 401 code 89, and the token cannot be retried', async () => {
      const approved = await approvedToken();
      await expectInvalidToken(await exchange(fake, approved, 'not-the-verifier'));
      await expectInvalidToken(await exchange(fake, approved, approved.verifier));
    });

    it('refuses a missing verifier with 401 code 89', async () => {
      const approved = await approvedToken();
      const res = await signedFetch(new Signer(fake), { url: fake.accessTokenURL, token: approved.token, tokenSecret: approved.secret });
      await expectInvalidToken(res);
    });

    it('refuses a request token the user has not approved yet with 401 code 89', async () => {
      const requestToken = await getRequestToken(fake);
      await expectInvalidToken(await exchange(fake, requestToken, 'anything'));
    });

    it('refuses an unknown token with 401 code 89', async () => {
      await expectInvalidToken(await exchange(fake, { token: 'unknown', secret: 'unknown' }, 'v'));
    });

    it('refuses a signature made with the wrong token secret with 401 code 32, and keeps the token', async () => {
      const approved = await approvedToken();
      const res = await exchange(fake, { token: approved.token, secret: 'wrong-secret' }, approved.verifier);
      expect(res.status).to.equal(401);
      expect((await twitterError(res)).code).to.equal(32);
      // A forger knows the token (it was in the browser's URL) but not its secret: no harm done.
      expect((await exchange(fake, approved, approved.verifier)).status).to.equal(200);
    });

    it('refuses an access token in place of a request token with 401 code 89', async () => {
      const approved = await approvedToken();
      const access = await formResponse(await exchange(fake, approved, approved.verifier));
      await expectInvalidToken(
        await exchange(fake, { token: access.oauth_token!, secret: access.oauth_token_secret! }, approved.verifier),
      );
    });
  });

  describe('with a short requestTokenTTL', () => {
    const TTL = 100;
    // The fake's clock moves only when the test moves it: no race with how long requests take.
    let clock: ManualClock;
    beforeEach(async () => {
      clock = new ManualClock();
      fake = await startFake({ autoApprove: ALICE, requestTokenTTL: TTL }, clock);
    });

    it('refuses an expired request token with 401 code 89, even with its verifier', async () => {
      const early = await approvedToken();
      const late = await approvedToken();
      clock.advance(TTL - 1);
      expect((await exchange(fake, early, early.verifier)).status).to.equal(200);
      clock.advance(1);
      await expectInvalidToken(await exchange(fake, late, late.verifier));
      expect(fake.stats().pendingRequestTokens).to.equal(0);
    });
  });
});
