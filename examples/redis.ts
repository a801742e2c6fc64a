/**
 * Sign in with Twitter on several app instances that share their sessions through Redis.
 *
 *   redis-server --save '' --appendonly no &    # or set REDIS_URL to yours
 *   npm run build && npx tsx examples/redis.ts
 *
 * A sign-in waits between the redirect to Twitter and the callback, and the callback may reach
 * another instance than the one that started it (a load balancer without sticky sessions). The
 * pending sign-in lives in the session, so a session store every instance shares, such as Redis
 * with connect-redis, is all it takes.
 *
 * This starts INSTANCES (default 2) instances on PORT, PORT+1, … (default 3000). In production
 * each would be its own process or machine; here they share a process only so that they can
 * share one fake Twitter. Open http://127.0.0.1:3001, sign in, and Twitter sends you back to the
 * callback on :3000, which finishes the sign-in that :3001 started.
 *
 * Environment: REDIS_URL (default redis://127.0.0.1:6379), PORT, INSTANCES, PUBLIC_URL (the
 * callback's origin, default http://127.0.0.1:PORT), SESSION_SECRET. Without
 * TWITTER_CONSUMER_KEY and TWITTER_CONSUMER_SECRET it starts a fake Twitter in the same process,
 * so it runs with no keys and no network; with them it signs in against Twitter (register the
 * callback URL it prints in the developer portal).
 */
import type { Server } from 'node:http';
import { RedisStore } from 'connect-redis';
import express, { type Express } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { createClient } from 'redis';
import { TwitterSignInError, TwitterSignInStrategy, type TwitterSignInStrategyOptions } from 'passport-twitter-signin';
import { startFakeTwitter } from 'passport-twitter-signin/testing';
import { listen } from './listen.js';

const redisURL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const port = Number(process.env.PORT ?? 3000);
const instances = Number(process.env.INSTANCES ?? 2);
const origin = process.env.PUBLIC_URL ?? `http://127.0.0.1:${port}`;
const callbackURL = `${origin}/auth/twitter/callback`;
// Every instance must sign session cookies with the same secret, or none can read the others'.
const sessionSecret = process.env.SESSION_SECRET ?? 'example-session-secret-change-me';

type TwitterKeys = Pick<
  TwitterSignInStrategyOptions,
  'consumerKey' | 'consumerSecret' | 'requestTokenURL' | 'accessTokenURL' | 'userAuthorizationURL'
>;

interface User {
  id: string;
  username: string;
}

/** One instance, as each process of a real deployment would build it. */
function createInstance(name: string, twitter: TwitterKeys, redis: ReturnType<typeof createClient>): Express {
  const passport = new Passport();
  passport.use(
    new TwitterSignInStrategy(
      {
        ...twitter,
        callbackURL,
        // One claim per callback in the Redis every instance shares: a callback that reaches two
        // instances at once (a retrying load balancer, a reload) is exchanged once.
        claimCallback: async (key, ttl) => (await redis.set(key, '1', { NX: true, PX: ttl })) === 'OK',
      },
      async (_token, _tokenSecret, profile): Promise<User> => {
        // Find or create your user here. Keep token and tokenSecret (encrypted) only if you call
        // the API on the user's behalf; they never belong in the session.
        return { id: profile.id, username: profile.username };
      },
    ),
  );
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));

  const app = express();
  app.use(
    session({
      store: new RedisStore({ client: redis, prefix: 'example:sess:' }),
      secret: sessionSecret,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.use(passport.session());

  app.get('/', (req, res) => {
    const user = req.user as User | undefined;
    const messages = (req.session as { messages?: string[] }).messages ?? [];
    delete (req.session as { messages?: string[] }).messages;
    res.type('html').send(`<!doctype html><meta charset="utf-8"><title>Instance ${name}</title>
<h1>Instance ${name}</h1>
${messages.map((m) => `<p style="color:#b00020">${escape(m)}</p>`).join('')}
${
  user
    ? `<p>Signed in as @${escape(user.username)} (${escape(user.id)}).</p>
<form method="post" action="/logout"><button>Sign out</button></form>`
    : '<p><a href="/auth/twitter">Sign in with Twitter</a></p>'
}`);
  });

  app.get('/auth/twitter', passport.authenticate('twitter'));
  app.get(
    '/auth/twitter/callback',
    passport.authenticate('twitter', { failureRedirect: '/', failureMessage: true }),
    (_req, res) => res.redirect('/'),
  );
  app.post('/logout', (req, res, next) => {
    req.logout((err) => (err ? next(err) : res.redirect('/')));
  });

  // Twitter down, a misconfigured callback, Redis unreachable: the log gets the error's code and
  // message, which name what to fix and never contain a secret; the user a line and a way back.
  app.use((err: Error & { code?: string }, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    console.error(`Instance ${name}, ${req.path}: ${err instanceof TwitterSignInError ? `${err.code}: ${err.message}` : err.stack}`);
    res
      .status(err instanceof TwitterSignInError ? err.status : 500)
      .type('html')
      .send('<p>The sign-in did not work this time. <a href="/">Try again</a>.</p>');
  });
  return app;
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A Redis client per instance, as separate processes would each have. */
async function connectRedis(): Promise<ReturnType<typeof createClient>> {
  let connected = false;
  const client = createClient({
    url: redisURL,
    socket: {
      connectTimeout: 5000,
      // Once connected, ride out a Redis restart; at startup give up after a few tries, so a
      // wrong REDIS_URL is a message rather than a silent hang.
      reconnectStrategy: (retries, cause) => (!connected && retries >= 3 ? cause : Math.min(100 * 2 ** retries, 5000)),
    },
  });
  client.on('ready', () => (connected = true));
  // Without a listener, a connection error would crash the process.
  client.on('error', (err: Error) => {
    if (connected) console.error(`Redis: ${err.message}`);
  });
  await client.connect();
  return client;
}

let twitter: TwitterKeys;
let stopFake: (() => Promise<void>) | undefined;
if (process.env.TWITTER_CONSUMER_KEY && process.env.TWITTER_CONSUMER_SECRET) {
  // With real users, a session secret from the source code would let anyone forge sessions.
  if (!process.env.SESSION_SECRET) {
    console.error('Set SESSION_SECRET (a long random string, the same on every instance) to sign in against Twitter.');
    process.exit(1);
  }
  twitter = { consumerKey: process.env.TWITTER_CONSUMER_KEY, consumerSecret: process.env.TWITTER_CONSUMER_SECRET };
  console.log('Signing in against Twitter.');
} else {
  const keys = { consumerKey: 'example-consumer-key', consumerSecret: 'example-consumer-secret' };
  const fake = await startFakeTwitter({ ...keys, appName: 'passport-twitter-signin Redis example', callbackURLs: [callbackURL] });
  twitter = {
    ...keys,
    ...fake.endpoints,
  };
  stopFake = () => fake.close();
  console.log(`Signing in against a fake Twitter at ${fake.url}: any username and password will do.`);
}

const running: { server: Server; redis: ReturnType<typeof createClient> }[] = [];
try {
  for (let i = 0; i < instances; i++) {
    const redis = await connectRedis();
    const name = String.fromCharCode(65 + i); // A, B, …
    const server = await listen(createInstance(name, twitter, redis), port + i, 'npx tsx examples/redis.ts');
    console.log(`Instance ${name}: http://127.0.0.1:${port + i}`);
    running.push({ server, redis });
  }
} catch (err) {
  console.error(`Could not connect to Redis at ${redisURL}: ${(err as Error).message}`);
  console.error("Start one (redis-server --save '' --appendonly no) or set REDIS_URL.");
  await stopFake?.();
  process.exit(1);
}
console.log(`Callback URL: ${callbackURL} (sessions in ${redisURL})`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void (async () => {
      for (const { server, redis } of running) {
        server.close();
        server.closeAllConnections();
        await redis.close();
      }
      await stopFake?.();
      process.exit(0);
    })();
  });
}
