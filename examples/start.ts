/**
 * `npm start`: the example app on PORT (default 3000), with both sign-ins. Without X keys in the
 * environment it starts a fake Twitter in the same process, so it runs with no keys and no
 * network. With TWITTER_CONSUMER_KEY and TWITTER_CONSUMER_SECRET (OAuth 1.0a) and/or
 * X_CLIENT_ID (and X_CLIENT_SECRET for a confidential "Web App") it signs in against X: register
 * the callback URLs it prints in the developer console.
 */
import { startFakeTwitter } from 'passport-twitter-signin/testing';
import { CALLBACK_PATHS, createApp, type ExampleOptions } from './app.js';
import { listen } from './listen.js';

const port = Number(process.env.PORT ?? 3000);
// 127.0.0.1, as X's docs ask for local development; the callback URLs must use the same host
// the browser opens, or the session cookie does not come back with the callback.
const origin = process.env.PUBLIC_URL ?? `http://127.0.0.1:${port}`;
const callbackURLs = [`${origin}${CALLBACK_PATHS.twitter}`, `${origin}${CALLBACK_PATHS.x}`];
const env = process.env;
const real = Boolean((env.TWITTER_CONSUMER_KEY && env.TWITTER_CONSUMER_SECRET) || env.X_CLIENT_ID);

let providers: Pick<ExampleOptions, 'twitter' | 'x' | 'banner'>;
let stopFake: (() => Promise<void>) | undefined;
if (real) {
  // With real users, a session secret from the source code would let anyone forge sessions.
  if (!env.SESSION_SECRET) {
    console.error('Set SESSION_SECRET (a long random string) to sign in against X.');
    process.exit(1);
  }
  providers = {
    ...(env.TWITTER_CONSUMER_KEY && env.TWITTER_CONSUMER_SECRET
      ? { twitter: { consumerKey: env.TWITTER_CONSUMER_KEY, consumerSecret: env.TWITTER_CONSUMER_SECRET } }
      : {}),
    ...(env.X_CLIENT_ID ? { x: { clientID: env.X_CLIENT_ID, ...(env.X_CLIENT_SECRET ? { clientSecret: env.X_CLIENT_SECRET } : {}) } } : {}),
    banner: 'Signing in against X.',
  };
} else {
  const keys = { consumerKey: 'example-consumer-key', consumerSecret: 'example-consumer-secret' };
  const client = { clientID: 'example-client-id', clientSecret: 'example-client-secret' };
  const fake = await startFakeTwitter({ ...keys, ...client, appName: 'passport-twitter-signin example', callbackURLs });
  providers = {
    twitter: { ...keys, ...fake.endpoints },
    x: { ...client, ...fake.oauth2Endpoints },
    banner: `Signing in against a fake Twitter at ${fake.url}: any username and password will do.`,
  };
  stopFake = () => fake.close();
}

const app = createApp({ ...providers, origin, sessionSecret: env.SESSION_SECRET ?? 'example-session-secret-change-me' });
const server = await listen(app, port);
console.log(`Example app: open ${origin}`);
console.log(providers.banner);
console.log(`Callback URLs: ${callbackURLs.join(' and ')}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void (stopFake?.() ?? Promise.resolve()).finally(() => process.exit(0));
  });
}
