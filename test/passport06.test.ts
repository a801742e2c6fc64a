/**
 * Passport 0.6 introduced session regeneration at login, as 0.7 does (the rest of the suite
 * runs 0.7): a sign-in must survive it there too.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import express from 'express';
import session from 'express-session';
import passport06 from 'passport06';
import { TwitterSignInStrategy } from '../lib/index.js';
import { startFakeTwitter, type FakeTwitter } from '../lib/testing/index.js';
import { Browser } from './helpers/app.js';

describe('with passport 0.6', () => {
  let fake: FakeTwitter;
  let server: Server;
  let strategy: TwitterSignInStrategy;
  let url: string;

  before(async () => {
    fake = await startFakeTwitter({ consumerKey: 'k6', consumerSecret: 's6', autoApprove: { id: '6', screen_name: 'six' } });
    const passport = new passport06.Passport();
    strategy = new TwitterSignInStrategy(
      {
        consumerKey: 'k6',
        consumerSecret: 's6',
        callbackURL: '/auth/twitter/callback',
        ...fake.endpoints,
      },
      (_t, _s, profile, done) => done(null, { id: profile.id, username: profile.username }),
    );
    passport.use(strategy);
    passport.serializeUser((u, done) => done(null, u));
    passport.deserializeUser((u: Express.User, done) => done(null, u));
    const app = express();
    app.use(session({ secret: 'passport06-test', resave: false, saveUninitialized: false }));
    app.use(passport.session());
    app.get('/auth/twitter', passport.authenticate('twitter'));
    app.get('/auth/twitter/callback', passport.authenticate('twitter'), (req, res) => {
      res.json({ user: req.user });
    });
    app.get('/me', (req, res) => {
      res.json({ user: req.user ?? null });
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await fake.close();
  });

  it('signs in through the session regeneration at login, and the user stays signed in', async () => {
    const browser = new Browser();
    const start = await browser.get(`${url}/auth/twitter`);
    const before = browser.cookies.get('connect.sid');
    const atFake = await browser.get(start.headers.get('location')!);
    const done = await browser.get(atFake.headers.get('location')!);
    expect(await done.json()).to.deep.equal({ user: { id: '6', username: 'six' } });
    expect(browser.cookies.get('connect.sid'), 'a new session id after login').not.to.equal(before);
    expect(await (await browser.get(`${url}/me`)).json()).to.deep.equal({ user: { id: '6', username: 'six' } });
  });
});
