/**
 * One contender's app, as a user would write it: Express 5, express-session (MemoryStore),
 * passport, `/auth/twitter` and `/auth/twitter/callback` (success: 200 and a short body).
 *
 * Besides the sign-in routes it serves, for the driver only:
 * - `GET /__bench[?reset=1]`: CPU time, RSS (current, sampled peak since the last reset,
 *   lifetime max), and `process.hrtime` for cutting a `--cpu-prof` profile to a window.
 * - `GET /__bench/session`: bytes of the caller's session as the MemoryStore holds it.
 *
 * Prints one JSON line ({@link AppReady}) once it listens. Exits when its stdin closes or on
 * SIGINT/SIGTERM (through `process.exit`, so `--cpu-prof` writes its profile).
 *
 * Usage: node bench/out/js/bench/app.js <contender> <port> <fake Twitter URL>
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { Passport, type Strategy } from 'passport';
import { TwitterOAuth2Strategy, TwitterSignInStrategy, type TwitterProfile, type VerifyCallback } from '../lib/index.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  CONSUMER_KEY,
  CONSUMER_SECRET,
  SUCCESS_BODY,
  exitWithParent,
  isContender,
  type AppReady,
  type AppStats,
  type Contender,
  type SessionSize,
} from './common.js';

const [contenderArg = '', portArg = '0', twitterURL = process.env.BENCH_TWITTER_URL ?? ''] = process.argv.slice(2);
if (!isContender(contenderArg)) throw new TypeError(`Unknown contender "${contenderArg}"`);
if (!/^https?:\/\//.test(twitterURL)) throw new TypeError('The fake Twitter URL is required (third argument)');
const contender: Contender = contenderArg;

// Peak RSS, sampled: getrusage's maxRSS never goes down, so it cannot give a per-round peak.
let peakRss = process.memoryUsage.rss();
setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 50).unref();

const store = new session.MemoryStore();
// express-session's MemoryStore keeps each session as its JSON string, by session id.
const storedSessions = (store as unknown as { sessions: Record<string, string> }).sessions;

const app = express();
app.disable('x-powered-by');

// Before the session middleware: reading the stats must not create or touch a session.
app.get('/__bench', (req, res) => {
  if (req.query.reset !== undefined) peakRss = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  peakRss = Math.max(peakRss, mem.rss);
  const stats: AppStats = {
    cpuUser: cpu.user,
    cpuSystem: cpu.system,
    rss: mem.rss,
    peakRss,
    maxRss: process.resourceUsage().maxRSS * 1024,
    heapUsed: mem.heapUsed,
    hrtimeUs: Number(process.hrtime.bigint() / 1000n),
    sessions: Object.keys(storedSessions).length,
  };
  res.json(stats);
});

app.use(session({ store, secret: 'bench-session-secret', resave: false, saveUninitialized: false }));

app.get('/__bench/session', (req, res) => {
  const json = storedSessions[req.sessionID];
  const size: SessionSize = { bytes: 0, strategyBytes: 0, key: null };
  if (json !== undefined) {
    size.bytes = Buffer.byteLength(json);
    const stored = JSON.parse(json) as Record<string, unknown>;
    const key = Object.keys(stored).find((k) => k.startsWith('oauth:twitter') || k.startsWith('oauth2:twitter'));
    if (key !== undefined) {
      size.key = key;
      size.strategyBytes = Buffer.byteLength(`${JSON.stringify(key)}:${JSON.stringify(stored[key])}`);
    }
  }
  res.json(size);
});

const passport = new Passport();
app.use(passport.session());
passport.serializeUser((user, done) => done(null, user));
passport.deserializeUser((user: Express.User, done) => done(null, user));

// The same verify for every contender: the callback form both packages accept.
const verify = (_token: string, _tokenSecret: string, profile: TwitterProfile, done: VerifyCallback): void => {
  done(null, { id: profile.id, username: profile.username });
};

const server = app.listen(Number(portArg), '127.0.0.1');
await new Promise<void>((resolve, reject) => {
  server.once('listening', resolve);
  server.once('error', reject);
});
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const callbackURL = `${url}/auth/twitter/callback`;
const endpoints = {
  requestTokenURL: `${twitterURL}/oauth/request_token`,
  accessTokenURL: `${twitterURL}/oauth/access_token`,
  userAuthorizationURL: `${twitterURL}/oauth/authenticate`,
};

let strategy: Strategy;
if (contender === 'signin') {
  strategy = new TwitterSignInStrategy({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, callbackURL, ...endpoints }, verify);
} else if (contender === 'signin-oauth2') {
  // Mounted under the name 'twitter', so the routes below serve every contender alike.
  const oauth2 = new TwitterOAuth2Strategy(
    {
      clientID: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      callbackURL,
      authorizationURL: `${twitterURL}/i/oauth2/authorize`,
      tokenURL: `${twitterURL}/2/oauth2/token`,
      revokeURL: `${twitterURL}/2/oauth2/revoke`,
      profileURL: `${twitterURL}/2/users/me`,
    },
    (_accessToken: string, _refreshToken: string | undefined, profile: TwitterProfile, done: VerifyCallback) =>
      verify(_accessToken, '', profile, done),
  );
  oauth2.name = 'twitter';
  strategy = oauth2;
} else {
  // passport-twitter has no types; it takes the same verify.
  const require = createRequire(import.meta.url);
  const { Strategy: TwitterStrategy } = require('passport-twitter') as {
    Strategy: new (options: Record<string, unknown>, verifyFn: typeof verify) => Strategy;
  };
  strategy = new TwitterStrategy(
    {
      consumerKey: CONSUMER_KEY,
      consumerSecret: CONSUMER_SECRET,
      callbackURL,
      ...endpoints,
      userProfileURL: `${twitterURL}/1.1/account/verify_credentials.json`,
      skipExtendedUserProfile: contender === 'passport-twitter-skip',
    },
    verify,
  );
}
passport.use(strategy);

app.get('/auth/twitter', passport.authenticate('twitter'));
app.get('/auth/twitter/callback', passport.authenticate('twitter'), (_req, res) => {
  res.type('text').send(SUCCESS_BODY);
});

// The first few errors on stderr, so a failing run says why; the driver fails on any non-200.
let errorsLogged = 0;
app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
  if (errorsLogged++ < 5) console.error(`[app ${contender}]`, err);
  res.status(500).type('text').send(`error: ${(err as { code?: string }).code ?? (err as Error).message}`);
});

exitWithParent(() => {
  server.closeAllConnections();
  server.close();
});

const ready: AppReady = { url, contender };
process.stdout.write(`${JSON.stringify(ready)}\n`);
