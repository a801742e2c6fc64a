// The OAuth 2.0 strategy's options as apps write them, as for OAuth 1.0a in options.ts: inline,
// annotated with the exported type, req first; verify's parameters inferred, and what must not
// compile. Also the README's per-sign-in scope and the OAuth 2.0 client.
import type { Request } from 'express';
import { Passport } from 'passport';
import {
  TwitterOAuth2Client,
  TwitterOAuth2Strategy,
  createPKCE,
  type OAuth2Token,
  type OAuth2TokenParams,
  type TwitterOAuth2StrategyOptions,
  type TwitterProfile,
  type VerifyCallback,
} from 'passport-twitter-signin';
import { notAny, same } from './check.js';

const client = { clientID: 'id', clientSecret: 'secret', callbackURL: 'http://127.0.0.1:3000/auth/x/callback' };

new TwitterOAuth2Strategy({ ...client, scope: ['offline.access'] }, async (accessToken, refreshToken, profile) => {
  same<string, typeof accessToken>(true);
  same<string | undefined, typeof refreshToken>(true);
  same<TwitterProfile, typeof profile>(true);
  return { id: profile.id };
});

const annotated: TwitterOAuth2StrategyOptions = { ...client, includeEmail: true };
new TwitterOAuth2Strategy(annotated, (_access, _refresh, profile, done) => {
  notAny(profile);
  same<VerifyCallback, typeof done>(true);
  done(null, { id: profile.id, email: profile.emails?.[0]?.verified });
});

new TwitterOAuth2Strategy(
  client,
  (_access: string, _refresh: string | undefined, params: OAuth2TokenParams, profile: TwitterProfile, done: VerifyCallback) =>
    done(null, { id: profile.id, scope: params.scope }),
);

const withRequest: TwitterOAuth2StrategyOptions<true> = { ...client, passReqToCallback: true };
new TwitterOAuth2Strategy(withRequest, async (req, _access, _refresh, profile) => {
  same<Request, typeof req>(true);
  return { id: profile.id };
});

// @ts-expect-error clientID is required
new TwitterOAuth2Strategy({ callbackURL: '/cb' }, () => false);
// @ts-expect-error scope is a string or an array of strings
new TwitterOAuth2Strategy({ ...client, scope: 42 }, () => false);

const passport = new Passport();
passport.authenticate('twitter-oauth2', { scope: ['tweet.write'] });
passport.authenticate('twitter-oauth2', { scope: 'tweet.write', callbackURL: '/other/callback' });

async function withoutPassport(): Promise<OAuth2Token> {
  const x = new TwitterOAuth2Client({ clientID: 'id' });
  const { codeVerifier, codeChallenge } = createPKCE();
  x.authorizationURL({ redirectURI: 'http://127.0.0.1:8080/cb', scope: ['tweet.read', 'users.read'], state: 's', codeChallenge });
  const token = await x.exchangeCode({ code: 'c', redirectURI: 'http://127.0.0.1:8080/cb', codeVerifier });
  // @ts-expect-error tokenTypeHint is 'access_token' or 'refresh_token'
  await x.revoke(token.accessToken, { tokenTypeHint: 'id_token' });
  return x.refresh(token.refreshToken!);
}

export { withoutPassport };
