// The strategy's options as apps write them: inline, annotated with the exported type, built
// elsewhere, with passReqToCallback true, false or known only at run time. Each verify's
// parameters must be inferred (not `any`) wherever TypeScript can know them.
import type { Request } from 'express';
import {
  TwitterSignInStrategy,
  type AccessTokenParams,
  type TwitterProfile,
  type TwitterSignInStrategyOptions,
  type VerifyCallback,
  type VerifyFunctionAnyForm,
} from 'passport-twitter-signin';
import { notAny, same } from './check.js';

const keys = { consumerKey: 'k', consumerSecret: 's', callbackURL: '/auth/twitter/callback' };

// Inline options: the promise form, the callback form, and the strategy's name.
const inline = new TwitterSignInStrategy({ ...keys, forceLogin: true }, async (token, tokenSecret, profile) => {
  same<string, typeof token>(true);
  same<string, typeof tokenSecret>(true);
  same<TwitterProfile, typeof profile>(true);
  return { id: profile.id, username: profile.username };
});
const name: string = inline.name;
new TwitterSignInStrategy(keys, (_token, _secret, profile, done) => {
  same<VerifyCallback, typeof done>(true);
  done(null, { id: profile.id });
});

// The options annotated with the exported type, then passed on: the first case.
const annotated: TwitterSignInStrategyOptions = { ...keys, fetchProfile: 'v2', timeout: 5000 };
new TwitterSignInStrategy(annotated, async (_token, _secret, profile) => {
  notAny(profile);
  same<TwitterProfile, typeof profile>(true);
  return { id: profile.id };
});
function makeOptions(): TwitterSignInStrategyOptions {
  return { ...keys, passReqToCallback: false };
}
new TwitterSignInStrategy(makeOptions(), (_t, _s, profile, done) => done(null, { id: profile.id }));

// passport-twitter's params form, told apart at run time by arity: annotated, as the README says.
new TwitterSignInStrategy(
  keys,
  (_token: string, _secret: string, params: AccessTokenParams, profile: TwitterProfile, done: VerifyCallback) =>
    done(null, { id: profile.id, uid: params.user_id }),
);

// req first: inline `true`, or the options type with `true` as its type argument.
new TwitterSignInStrategy({ ...keys, passReqToCallback: true }, (req, _token, _secret, profile, done) => {
  same<Request, typeof req>(true);
  done(null, { id: profile.id, ip: req.ip });
});
const withRequest: TwitterSignInStrategyOptions<true> = { ...keys, passReqToCallback: true };
new TwitterSignInStrategy(withRequest, async (req, _token, _secret, profile) => {
  notAny(req);
  same<Request, typeof req>(true);
  return { id: profile.id };
});
// @ts-expect-error the options type without a type argument means passReqToCallback is false or absent
const wrongAnnotation: TwitterSignInStrategyOptions = { ...keys, passReqToCallback: true };
// @ts-expect-error with `true` the flag is required: without it, verify would get no req
const missingFlag: TwitterSignInStrategyOptions<true> = { ...keys };

// passReqToCallback known only at run time: verify may be called either way, and its
// parameters say so (the first is req or the token).
declare const fromConfig: boolean;
new TwitterSignInStrategy({ ...keys, passReqToCallback: fromConfig }, (first, _second, third) => {
  same<Request | string, typeof first>(true);
  notAny(third);
  return typeof first === 'string' ? false : { id: first.ip ?? '' };
});
const computed: TwitterSignInStrategyOptions<boolean> = { ...keys, passReqToCallback: fromConfig };
const eitherForm: VerifyFunctionAnyForm = async (...args) => (args.length > 0 ? false : null);
new TwitterSignInStrategy(computed, eitherForm);
// @ts-expect-error the first argument may be the token, which has no ip
new TwitterSignInStrategy(computed, (first) => ({ id: first.ip }));

// What must not compile.
// @ts-expect-error consumerSecret is required
new TwitterSignInStrategy({ consumerKey: 'k', callbackURL: '/cb' }, () => false);
// @ts-expect-error timeout is a number of milliseconds
new TwitterSignInStrategy({ ...keys, timeout: '10s' }, () => false);
// @ts-expect-error forceLogin is a boolean
new TwitterSignInStrategy({ ...keys, forceLogin: 'yes' }, () => false);
// @ts-expect-error fetchProfile is false, 'v2' or 'v1.1'
new TwitterSignInStrategy({ ...keys, fetchProfile: 'v3' }, () => false);

export { name, wrongAnnotation, missingFlag };
