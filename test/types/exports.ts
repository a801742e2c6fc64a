// The rest of the package's surface, from both entry points, as the README shows it.
import {
  CookieRequestTokenStore,
  SessionRequestTokenStore,
  Strategy,
  TwitterOAuthClient,
  TwitterSignInError,
  TwitterSignInStrategy,
  type RequestTokenStore,
  type SignInFailure,
  type TwitterSignInErrorCode,
} from 'passport-twitter-signin';
import { startFakeTwitter, type FakeTwitter } from 'passport-twitter-signin/testing';
import { notAny, same } from './check.js';

// passport-twitter's export name is the same class.
same<typeof Strategy, typeof TwitterSignInStrategy>(true);

const err = new TwitterSignInError('ERR_TWITTER_HTTP', 'x');
same<TwitterSignInErrorCode, typeof err.code>(true);
// @ts-expect-error not one of the error codes
new TwitterSignInError('ERR_NOPE', 'x');
const failure: SignInFailure = { code: 'DENIED', message: 'The sign-in with Twitter was cancelled.' };

const stores: RequestTokenStore[] = [
  new SessionRequestTokenStore({ ttl: 5 * 60_000 }),
  new CookieRequestTokenStore({ secret: 'a secret of at least thirty-two characters' }),
];

async function pin(readLine: () => Promise<string>): Promise<string> {
  const client = new TwitterOAuthClient({ consumerKey: 'k', consumerSecret: 's', timeout: 5000 });
  const { token, tokenSecret } = await client.getRequestToken({ callbackURL: 'oob' });
  const url: string = client.authorizationURL(token, { authorize: true, forceLogin: true });
  const access = await client.getAccessToken({ token, tokenSecret, verifier: await readLine() });
  notAny(access);
  return `${url} @${access.screenName} (${access.userId})`;
}

async function withFake(): Promise<void> {
  const fake: FakeTwitter = await startFakeTwitter({
    consumerKey: 'test-key',
    consumerSecret: 'test-secret',
    callbackURLs: ['http://127.0.0.1:3000/auth/twitter/callback'],
    autoApprove: { id: '42', screen_name: 'alice' },
  });
  new TwitterSignInStrategy(
    { consumerKey: 'test-key', consumerSecret: 'test-secret', callbackURL: 'http://127.0.0.1:3000/auth/twitter/callback', ...fake.endpoints },
    async (_token, _secret, profile) => ({ id: profile.id }),
  );
  // @ts-expect-error consumerSecret is required
  await startFakeTwitter({ consumerKey: 'test-key' });
  await fake.close();
}

export { failure, stores, pin, withFake };
