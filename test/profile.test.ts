import { expect } from 'chai';
import { TwitterSignInStrategy } from '../lib/index.js';
import { startFakeTwitter, type FakeTwitter } from '../lib/testing/index.js';
import type { TwitterProfile } from '../lib/profile.js';
import { Browser, isolatedScope, startApp, type TestApp } from './helpers/app.js';
import {
  CONSUMER_KEY,
  CONSUMER_SECRET,
  interceptAccessToken,
  interceptRequestToken,
  parseOAuthHeader,
  TWITTER,
} from './helpers/twitter-nock.js';
import { nock, useNock } from './helpers/nock.js';

const USER = { id: '12', screen_name: 'jack' };

describe('profile', () => {
  let app: TestApp | undefined;
  useNock();
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Signs in once; returns the profile verify saw, and the HTTP answer of the callback. */
  async function signIn(options: Record<string, unknown>): Promise<{ profile?: TwitterProfile; res: Response }> {
    let profile: TwitterProfile | undefined;
    const strategy = new TwitterSignInStrategy(
      { consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, callbackURL: 'http://127.0.0.1/cb', ...isolatedScope(), ...options },
      (_t, _s, p, done) => {
        profile = p;
        done(null, { id: p.id });
      },
    );
    app = await startApp(strategy);
    const browser = new Browser();
    interceptRequestToken('rt');
    await browser.get(`${app.url}/auth/twitter`);
    interceptAccessToken(USER);
    const res = await browser.get(`${app.url}/auth/twitter/callback?oauth_token=rt&oauth_verifier=v`);
    return { profile, res };
  }

  it('makes no extra call by default: the profile comes from the access-token answer', async () => {
    const { profile } = await signIn({});
    expect(profile).to.deep.include({ id: '12', username: 'jack', displayName: 'jack' });
    expect(nock.pendingMocks()).to.deep.equal([]);
  });

  it("with fetchProfile 'v2', signs GET /2/users/me with the access token and maps it", async () => {
    let auth: Record<string, string> = {};
    nock(TWITTER)
      .get('/2/users/me')
      .query({ 'user.fields': 'name,profile_image_url,description,created_at,verified' })
      .reply(((req: Request) => {
        auth = parseOAuthHeader(req.headers.get('authorization'));
        return [200, { data: { id: '12', username: 'jack', name: 'Jack D', profile_image_url: 'https://pbs.example/j.jpg' } }];
      }) as never);
    const { profile, res } = await signIn({ fetchProfile: 'v2' });
    expect(res.status).to.equal(200);
    expect(auth.oauth_token).to.equal('access-12');
    expect(profile).to.deep.include({ provider: 'twitter', id: '12', username: 'jack', displayName: 'Jack D' });
    expect(profile!.photos).to.deep.equal([{ value: 'https://pbs.example/j.jpg' }]);
    expect(profile!._json).to.deep.include({ name: 'Jack D' });
    expect(JSON.parse(profile!._raw!)).to.deep.equal({
      data: { id: '12', username: 'jack', name: 'Jack D', profile_image_url: 'https://pbs.example/j.jpg' },
    });
  });

  it('asks v2 for the configured userFields', async () => {
    const scope = nock(TWITTER).get('/2/users/me').query({ 'user.fields': 'name' }).reply(200, { data: { id: '12', username: 'jack' } });
    const { profile } = await signIn({ fetchProfile: 'v2', userFields: ['name'] });
    expect(scope.isDone()).to.equal(true);
    expect(profile!.displayName).to.equal('jack');
  });

  it("with fetchProfile 'v1.1' and includeEmail, calls verify_credentials with include_email and maps emails", async () => {
    nock(TWITTER)
      .get('/1.1/account/verify_credentials.json')
      .query({ include_email: 'true' })
      .reply(200, { id: 12, id_str: '12', screen_name: 'jack', name: 'Jack', profile_image_url_https: 'https://pbs.example/j.jpg', email: 'jack@example.com' });
    const { profile } = await signIn({ fetchProfile: 'v1.1', includeEmail: true });
    expect(profile).to.deep.include({ id: '12', username: 'jack', displayName: 'Jack' });
    expect(profile!.emails).to.deep.equal([{ value: 'jack@example.com' }]);
    expect(profile!.photos).to.deep.equal([{ value: 'https://pbs.example/j.jpg' }]);
  });

  it('is ERR_PROFILE_UNAVAILABLE naming the endpoint and how to turn the lookup off when Twitter refuses it', async () => {
    nock(TWITTER)
      .get('/1.1/account/verify_credentials.json')
      .reply(403, { errors: [{ code: 453, message: 'You currently have access to a subset of Twitter API v2 endpoints' }] });
    const { res } = await signIn({ fetchProfile: 'v1.1' });
    expect(res.status).to.equal(500);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).to.equal('ERR_PROFILE_UNAVAILABLE');
    expect(body.message).to.include('GET /1.1/account/verify_credentials.json');
    expect(body.message).to.include('HTTP 403');
    expect(body.message).to.include('fetchProfile: false');
  });

  it('is ERR_TWITTER_RESPONSE when the v2 answer has no data.id', async () => {
    nock(TWITTER).get('/2/users/me').query(true).reply(200, { data: { username: 'jack' } });
    const { res } = await signIn({ fetchProfile: 'v2' });
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).to.equal('ERR_TWITTER_RESPONSE');
    expect(body.message).to.include('id');
  });

  it('refuses an unknown fetchProfile value', () => {
    expect(
      () => new TwitterSignInStrategy({ consumerKey: 'k', consumerSecret: 's', callbackURL: '/cb', fetchProfile: 'v3' as never }, () => {}),
    ).to.throw(TypeError, 'fetchProfile');
  });
});

describe('profile lookup against the fake Twitter (real signatures)', () => {
  let fake: FakeTwitter | undefined;
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    await fake?.close();
    app = undefined;
    fake = undefined;
  });

  for (const lookup of ['v2', 'v1.1'] as const) {
    it(`signs in with fetchProfile '${lookup}', the lookup signed with the access token`, async () => {
      const user = { id: '777', screen_name: 'alice', name: 'Alice A', email: 'alice@example.com', profile_image_url: 'https://img.example/a.png' };
      fake = await startFakeTwitter({ consumerKey: 'k', consumerSecret: 's', users: [user], autoApprove: { id: '777', screen_name: 'alice' } });
      let profile: TwitterProfile | undefined;
      const strategy = new TwitterSignInStrategy(
        {
          consumerKey: 'k',
          consumerSecret: 's',
          callbackURL: '/auth/twitter/callback',
          ...fake.endpoints,
          fetchProfile: lookup,
          includeEmail: lookup === 'v1.1',
        },
        (_t, _s, p, done) => {
          profile = p;
          done(null, { id: p.id });
        },
      );
      app = await startApp(strategy);
      const browser = new Browser();
      const start = await browser.get(`${app.url}/auth/twitter`);
      const atFake = await browser.get(start.headers.get('location')!);
      const res = await browser.get(atFake.headers.get('location')!);
      expect(res.status).to.equal(200);
      expect(profile).to.deep.include({ id: '777', username: 'alice', displayName: 'Alice A' });
      expect(profile!.photos?.[0]?.value).to.be.a('string').and.not.empty;
      if (lookup === 'v1.1') expect(profile!.emails).to.deep.equal([{ value: 'alice@example.com' }]);
      const stats = fake.stats();
      expect(lookup === 'v2' ? stats.usersMe : stats.verifyCredentials).to.equal(1);
    });
  }
});
