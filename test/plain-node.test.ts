/**
 * Passport also runs without Express: on a plain node:http server there is no req.query, and the
 * strategy reads the query from the URL itself.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Passport } from 'passport';
import { TwitterSignInStrategy } from '../lib/index.js';
import { nock, useNock } from './helpers/nock.js';
import { CONSUMER_KEY, CONSUMER_SECRET, TWITTER } from './helpers/twitter-nock.js';

describe('on a plain node:http server', () => {
  useNock();
  let server: http.Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  async function serve(): Promise<string> {
    const passport = new Passport();
    const strategy = new TwitterSignInStrategy(
      { consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, callbackURL: '/cb' },
      (_t, _s, profile, done) => done(null, { id: profile.id }),
    );
    passport.use(strategy);
    server = http.createServer((req, res) => {
      (req as http.IncomingMessage & { session?: object }).session ??= {};
      // The failure's code, where there is one, is answered in a header.
      passport.authenticate('twitter', { session: false }, (err: unknown, _user: unknown, info: { code?: string }) => {
        if (info?.code) res.setHeader('x-failure', info.code);
        res.statusCode = err ? 500 : 401;
        res.end();
      })(req, res, () => res.end());
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('starts with a relative callback resolved from the Host header, and reads denied from the URL', async () => {
    const url = await serve();
    let callback: string | undefined;
    nock(TWITTER)
      .post('/oauth/request_token')
      .reply(((req: Request) => {
        callback = /oauth_callback="([^"]+)"/.exec(req.headers.get('authorization') ?? '')?.[1];
        return [200, 'oauth_token=plain&oauth_token_secret=s&oauth_callback_confirmed=true'];
      }) as never);
    const start = await fetch(`${url}/auth`, { redirect: 'manual' });
    expect(start.status).to.equal(302);
    expect(start.headers.get('location')).to.equal(`${TWITTER}/oauth/authenticate?oauth_token=plain`);
    expect(decodeURIComponent(callback!)).to.equal(`${url}/cb`);
    const denied = await fetch(`${url}/cb?denied=plain`, { redirect: 'manual' });
    expect(denied.status).to.equal(401);
    expect(denied.headers.get('x-failure')).to.equal('DENIED');
  });

  it('refuses a repeated oauth_token parsed from the raw URL', async () => {
    const url = await serve();
    const res = await fetch(`${url}/cb?oauth_token=a&oauth_token=b&oauth_verifier=v`, { redirect: 'manual' });
    expect(res.status).to.equal(401);
    expect(res.headers.get('x-failure')).to.equal('MALFORMED_CALLBACK');
  });
});
