/**
 * Most passport-twitter apps run Express 4: the strategy must work there too, relative callback
 * URLs (Express 4's req.host has no port) and trust proxy included.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import express4 from 'express4';
import session from 'express-session';
import { Passport } from 'passport';
import { TwitterSignInStrategy } from '../lib/index.js';
import { startFakeTwitter, type FakeTwitter } from '../lib/testing/index.js';
import { Browser } from './helpers/app.js';

describe('with Express 4', () => {
  let fake: FakeTwitter;
  let server: Server | undefined;
  let strategy: TwitterSignInStrategy | undefined;

  beforeEach(async () => {
    fake = await startFakeTwitter({ consumerKey: 'k4', consumerSecret: 's4', autoApprove: { id: '4', screen_name: 'four' } });
  });
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await fake.close();
  });

  async function start(trustProxy: unknown): Promise<string> {
    const passport = new Passport();
    strategy = new TwitterSignInStrategy(
      {
        consumerKey: 'k4',
        consumerSecret: 's4',
        callbackURL: '/auth/twitter/callback',
        ...fake.endpoints,
      },
      (_t, _s, profile, done) => done(null, { id: profile.id, username: profile.username }),
    );
    passport.use(strategy);
    passport.serializeUser((u, done) => done(null, u));
    passport.deserializeUser((u: Express.User, done) => done(null, u));
    const app = express4();
    app.set('trust proxy', trustProxy);
    app.use(session({ secret: 'express4-test', resave: false, saveUninitialized: false }));
    app.use(passport.session());
    app.get('/auth/twitter', passport.authenticate('twitter'));
    app.get('/auth/twitter/callback', passport.authenticate('twitter'), (req, res) => {
      res.json({ user: req.user });
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('resolves a relative callbackURL with the port, and completes a sign-in', async () => {
    const url = await start(false);
    const browser = new Browser();
    const begin = await browser.get(`${url}/auth/twitter`);
    expect(begin.status).to.equal(302);
    const atFake = await browser.get(begin.headers.get('location')!);
    const callback = atFake.headers.get('location')!;
    expect(callback.startsWith(`${url}/auth/twitter/callback?`), callback).to.equal(true);
    const done = await browser.get(callback);
    expect(await done.json()).to.deep.equal({ user: { id: '4', username: 'four' } });
  });

  it("follows Express 4's trust proxy setting for X-Forwarded-*", async () => {
    const trusted = await start('loopback');
    const res = await new Browser().get(`${trusted}/auth/twitter`, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example' });
    const atFake = await fetch(res.headers.get('location')!, { redirect: 'manual' });
    expect(atFake.headers.get('location')).to.match(/^https:\/\/app\.example\/auth\/twitter\/callback\?/);
  });

  it('ignores X-Forwarded-* when Express 4 does not trust the proxy', async () => {
    const url = await start(false);
    const res = await new Browser().get(`${url}/auth/twitter`, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example' });
    const atFake = await fetch(res.headers.get('location')!, { redirect: 'manual' });
    expect(atFake.headers.get('location')!.startsWith(`${url}/auth/twitter/callback?`)).to.equal(true);
  });
});
