/**
 * `npm start`: the example app on PORT (default 3000). Without TWITTER_CONSUMER_KEY and
 * TWITTER_CONSUMER_SECRET it starts a fake Twitter in the same process, so it runs with no keys
 * and no network; with them it signs in against real Twitter (register the callback URL it
 * prints in the developer portal).
 */
import { startFakeTwitter } from 'passport-twitter-signin/testing';
import { createApp } from './app.js';

const port = Number(process.env.PORT ?? 3000);
const origin = process.env.PUBLIC_URL ?? `http://localhost:${port}`;
const callbackURL = `${origin}/auth/twitter/callback`;
const consumerKey = process.env.TWITTER_CONSUMER_KEY;
const consumerSecret = process.env.TWITTER_CONSUMER_SECRET;

let banner: string;
let twitter: Parameters<typeof createApp>[0]['twitter'];
let stopFake: (() => Promise<void>) | undefined;
if (consumerKey && consumerSecret) {
  // With real users, a session secret from the source code would let anyone forge sessions.
  if (!process.env.SESSION_SECRET) {
    console.error('Set SESSION_SECRET (a long random string) to sign in against Twitter.');
    process.exit(1);
  }
  twitter = { consumerKey, consumerSecret };
  banner = 'Signing in against Twitter.';
} else {
  const fake = await startFakeTwitter({
    consumerKey: 'example-consumer-key',
    consumerSecret: 'example-consumer-secret',
    callbackURLs: [callbackURL],
  });
  twitter = {
    consumerKey: 'example-consumer-key',
    consumerSecret: 'example-consumer-secret',
    ...fake.endpoints,
  };
  stopFake = () => fake.close();
  banner = `Signing in against a fake Twitter at ${fake.url}: any username and password will do.`;
}

const app = createApp({
  twitter,
  callbackURL,
  sessionSecret: process.env.SESSION_SECRET ?? 'example-session-secret-change-me',
  banner,
});
const server = app.listen(port, () => {
  console.log(`Example app: open ${origin}`);
  console.log(banner);
  console.log(`Callback URL: ${callbackURL}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void stopFake?.().finally(() => process.exit(0));
    if (!stopFake) process.exit(0);
  });
}
