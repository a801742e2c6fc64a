import { expect } from 'chai';
import type { FakeTwitter } from '../../lib/testing/index.js';
import {
  Browser,
  Signer,
  exchange,
  formResponse,
  getRequestToken,
  redirectQuery,
  signedFetch,
  startFake,
  twitterError,
} from './helpers.js';

const FRANK = {
  id: '2244994945',
  screen_name: 'frank',
  name: 'Frank <Fake>',
  password: 'pw',
  email: 'frank@example.com',
  profile_image_url: 'https://pbs.twimg.com/profile_images/1/frank_normal.jpg',
};

describe('profile endpoints', () => {
  let fake: FakeTwitter;
  let access: { token: string; secret: string };
  beforeEach(async () => {
    fake = await startFake({ users: [FRANK] });
    const requestToken = await getRequestToken(fake);
    const browser = new Browser();
    const res = await browser.submit(`${fake.url}/oauth/decide`, {
      oauth_token: requestToken.token,
      username: 'frank',
      password: 'pw',
      decision: 'allow',
    });
    const body = await formResponse(await exchange(fake, requestToken, redirectQuery(res).get('oauth_verifier')!));
    access = { token: body.oauth_token!, secret: body.oauth_token_secret! };
  });
  afterEach(() => fake.close());

  function get(path: string, token = access.token, tokenSecret = access.secret): Promise<Response> {
    return signedFetch(new Signer(fake), { method: 'GET', url: `${fake.url}${path}`, token, tokenSecret });
  }

  describe('GET /2/users/me', () => {
    it('returns id, name and username', async () => {
      const res = await get('/2/users/me');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/json; charset=utf-8');
      expect(await res.json()).to.deep.equal({ data: { id: FRANK.id, name: FRANK.name, username: 'frank' } });
    });

    it('adds the fields asked for in user.fields', async () => {
      const res = await get('/2/users/me?user.fields=profile_image_url,protected');
      const { data } = (await res.json()) as { data: Record<string, unknown> };
      expect(data).to.include({ profile_image_url: FRANK.profile_image_url, protected: false, id: FRANK.id });
    });

    it('refuses a user.fields value Twitter does not know with 400', async () => {
      const res = await get('/2/users/me?user.fields=profile_image_url,avatar');
      expect(res.status).to.equal(400);
      const body = (await res.json()) as { title: string; errors: Array<{ parameters: Record<string, string[]> }> };
      expect(body.title).to.equal('Invalid Request');
      expect(body.errors[0]!.parameters).to.deep.equal({ 'user.fields': ['avatar'] });
    });

    it('counts calls in stats', async () => {
      await get('/2/users/me');
      await get('/2/users/me', 'unknown', 'x');
      expect(fake.stats().usersMe).to.equal(2);
    });
  });

  describe('GET /1.1/account/verify_credentials.json', () => {
    it('returns the v1.1 user object without email by default', async () => {
      const res = await get('/1.1/account/verify_credentials.json');
      expect(res.status).to.equal(200);
      const user = (await res.json()) as Record<string, unknown>;
      expect(user).to.include({
        id: 2244994945,
        id_str: FRANK.id,
        name: FRANK.name,
        screen_name: 'frank',
        profile_image_url_https: FRANK.profile_image_url,
      });
      expect(user.created_at).to.match(/^\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \+0000 \d{4}$/);
      expect(user).not.to.have.property('email');
      expect(fake.stats().verifyCredentials).to.equal(1);
    });

    it('adds email with include_email=true', async () => {
      const res = await get('/1.1/account/verify_credentials.json?include_email=true&skip_status=true');
      expect(((await res.json()) as Record<string, unknown>).email).to.equal(FRANK.email);
    });
  });

  describe('authentication', () => {
    it('refuses a signature made with the wrong access token secret with 401 code 32', async () => {
      const res = await get('/1.1/account/verify_credentials.json', access.token, 'wrong-secret');
      expect(res.status).to.equal(401);
      expect((await twitterError(res)).code).to.equal(32);
    });

    it('refuses an unknown access token with 401 code 89', async () => {
      const res = await get('/2/users/me', 'unknown-token', access.secret);
      expect(res.status).to.equal(401);
      expect((await twitterError(res)).code).to.equal(89);
    });

    it('refuses a request token in place of an access token with 401 code 89', async () => {
      const requestToken = await getRequestToken(fake);
      const res = await get('/2/users/me', requestToken.token, requestToken.secret);
      expect(res.status).to.equal(401);
      expect((await twitterError(res)).code).to.equal(89);
    });

    it('refuses a request signed without a token with 400 code 215', async () => {
      const res = await signedFetch(new Signer(fake), { method: 'GET', url: `${fake.url}/2/users/me` });
      expect(res.status).to.equal(400);
      expect((await twitterError(res)).code).to.equal(215);
    });

    it('signs the query: a user.fields changed after signing gives 401 code 32', async () => {
      const signer = new Signer(fake);
      const params = signer.protocolParams('GET', `${fake.url}/2/users/me?user.fields=id`, {}, access.token, access.secret);
      const res = await fetch(`${fake.url}/2/users/me?user.fields=profile_image_url`, {
        headers: { authorization: signer.authorizationHeader(params) },
      });
      expect(res.status).to.equal(401);
    });
  });
});
