/**
 * The PIN flow, for programs that cannot receive a redirect (command-line tools, desktop apps).
 *
 *   npx tsx examples/pin.ts
 *
 * Prints the URL to open, reads the PIN Twitter shows after approval, prints who signed in.
 * Against a fake Twitter started in this process by default; against Twitter when
 * TWITTER_CONSUMER_KEY and TWITTER_CONSUMER_SECRET are set.
 */
import { createInterface } from 'node:readline/promises';
import { TwitterOAuthClient, TwitterSignInError } from 'passport-twitter-signin';
import { startFakeTwitter } from 'passport-twitter-signin/testing';

const consumerKey = process.env.TWITTER_CONSUMER_KEY;
const consumerSecret = process.env.TWITTER_CONSUMER_SECRET;

const fake =
  consumerKey && consumerSecret
    ? undefined
    : await startFakeTwitter({ consumerKey: 'pin-example-key', consumerSecret: 'pin-example-secret', appName: 'PIN example' });
const client = new TwitterOAuthClient(
  fake
    ? {
        consumerKey: 'pin-example-key',
        consumerSecret: 'pin-example-secret',
        ...fake.endpoints,
      }
    : { consumerKey: consumerKey!, consumerSecret: consumerSecret! },
);
const input = createInterface({ input: process.stdin, output: process.stdout });
// Node 20's question() never settles when the input ends first (Ctrl-D, an empty pipe): stop then.
const inputEnded = new AbortController();
input.once('close', () => inputEnded.abort());

try {
  // 'oob' (out of band): Twitter shows the verifier as a PIN instead of redirecting.
  const { token, tokenSecret } = await client.getRequestToken({ callbackURL: 'oob' });
  // PIN flows must use /oauth/authorize: /oauth/authenticate is for redirect flows.
  console.log(`Open this URL, approve the app, and enter the PIN it shows:\n${client.authorizationURL(token, { authorize: true })}`);
  if (fake) console.log('(a fake Twitter: any username and password will do)');
  const pin = (await input.question('PIN: ', { signal: inputEnded.signal })).trim();
  const access = await client.getAccessToken({ token, tokenSecret, verifier: pin });
  console.log(`Signed in as @${access.screenName} (user id ${access.userId})`);
  process.exitCode = 0;
} catch (err) {
  // TwitterSignInError messages say what to fix and never contain a secret or the PIN.
  console.error(
    err instanceof TwitterSignInError
      ? `Sign-in failed (${err.code}): ${err.message}`
      : inputEnded.signal.aborted
        ? 'No PIN entered.'
        : err,
  );
  process.exitCode = 1;
} finally {
  input.close();
  await fake?.close();
}
