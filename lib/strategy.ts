/**
 * Passport strategy for Sign in with Twitter over OAuth 1.0a: the three-legged flow.
 *
 * `authenticate()` branches on the query of the request it is given:
 * - `denied`: the user cancelled on Twitter; `fail()`.
 * - neither `oauth_token` nor `oauth_verifier`: step 1, a signed request_token call, then a
 *   302 to Twitter;
 * - otherwise step 3, the callback: both must be there, the token must be one this browser
 *   started and not yet used, then it is exchanged for the access token and the app's `verify`
 *   runs.
 * What the two protocols share (pending sign-ins, the callback's checks, verify, the hand-off
 * to Passport) is in sign-in.ts.
 *
 * @see https://docs.x.com/fundamentals/authentication/guides/log-in-with-x
 */
import type { Request } from 'express';
import { TwitterOAuthClient } from './client.js';
import { validateStrategyOptions, type TwitterAuthenticateOptions, type TwitterSignInStrategyOptions } from './options.js';
import {
  DEFAULT_USER_FIELDS,
  lookUpProfile,
  profileFromAccessToken,
  type ProfileLookup,
  type ProfileLookupOptions,
  type TwitterProfile,
} from './profile.js';
import { callbackValue, failure, isOutcome, signInConfig, SignInStrategy, type Outcome, type Query } from './sign-in.js';
import type { StoreContext } from './stores/store.js';
import type { VerifyAnyForm, VerifyForms } from './verify.js';

export type { TwitterAuthenticateOptions, TwitterSignInStrategyBaseOptions, TwitterSignInStrategyOptions } from './options.js';

/** What Twitter answered at the access-token step, less the token and its secret (passport-twitter's `params`). */
export type AccessTokenParams = Record<string, string>;

type Forms = VerifyForms<Request, [token: string, tokenSecret: string], AccessTokenParams, TwitterProfile>;

/** `(token, tokenSecret, profile, done)`: `done` may be left out and the user returned instead. */
export type VerifyFunction = Forms['plain'];
/** passport-twitter's form: the access-token `params` before `profile`. */
export type VerifyFunctionWithParams = Forms['withParams'];
/** With `passReqToCallback: true`: `(req, token, tokenSecret, profile, done)`. */
export type VerifyFunctionWithRequest = Forms['withRequest'];
/** With `passReqToCallback: true`: `(req, token, tokenSecret, params, profile, done)`. */
export type VerifyFunctionWithRequestAndParams = Forms['withRequestAndParams'];
/** With a `passReqToCallback` known only at run time: a verify that accepts any of the four forms. */
export type VerifyFunctionAnyForm = VerifyAnyForm<Forms>;

export class TwitterSignInStrategy extends SignInStrategy {
  /** The client that makes every call to Twitter. */
  readonly client: TwitterOAuthClient;
  private readonly _defaults: Required<Pick<TwitterAuthenticateOptions, 'forceLogin' | 'authorize'>> &
    Pick<TwitterAuthenticateOptions, 'screenName' | 'accessType'>;
  private readonly _profileLookup: ProfileLookup;
  private readonly _profileOptions: ProfileLookupOptions;

  constructor(options: TwitterSignInStrategyOptions<false>, verify: VerifyFunction);
  constructor(options: TwitterSignInStrategyOptions<false>, verify: VerifyFunctionWithParams);
  constructor(options: TwitterSignInStrategyOptions<true>, verify: VerifyFunctionWithRequest);
  constructor(options: TwitterSignInStrategyOptions<true>, verify: VerifyFunctionWithRequestAndParams);
  constructor(options: TwitterSignInStrategyOptions<boolean>, verify: VerifyFunctionAnyForm);
  constructor(
    options: TwitterSignInStrategyOptions<boolean>,
    verify: VerifyFunction | VerifyFunctionWithParams | VerifyFunctionWithRequest | VerifyFunctionWithRequestAndParams | VerifyFunctionAnyForm,
  ) {
    if (!options || typeof options !== 'object') throw new TypeError('TwitterSignInStrategy requires options');
    if (typeof verify !== 'function') throw new TypeError('TwitterSignInStrategy requires a verify function');
    validateStrategyOptions(options);
    super(signInConfig('twitter', `oauth:twitter:${options.consumerKey}`, options, verify));
    this.client = new TwitterOAuthClient({
      consumerKey: options.consumerKey,
      consumerSecret: options.consumerSecret,
      ...pick(options, ['requestTokenURL', 'accessTokenURL', 'userAuthorizationURL', 'authorizeURL', 'timeout', 'dispatcher']),
    });
    this._defaults = {
      forceLogin: options.forceLogin === true,
      authorize: options.authorize === true,
      ...(options.screenName !== undefined ? { screenName: options.screenName } : {}),
      ...(options.accessType !== undefined ? { accessType: options.accessType } : {}),
    };
    this._profileLookup = options.fetchProfile ?? false;
    this._profileOptions = {
      apiBase: new URL(this.client.requestTokenURL).origin,
      userFields: options.userFields ?? DEFAULT_USER_FIELDS,
      includeEmail: options.includeEmail === true,
    };
  }

  protected override _run(req: Request, query: Query, options: TwitterAuthenticateOptions, context: StoreContext): Promise<Outcome> {
    if (query.denied !== undefined) return this._denied(req, callbackValue(query.denied), context);
    if (query.oauth_verifier === undefined && query.oauth_token === undefined) return this._start(req, options, context);
    return this._callback(req, query, context);
  }

  /** Step 1 and 2: obtain a request token, remember it for this browser, send the user to Twitter. */
  private async _start(req: Request, options: TwitterAuthenticateOptions, context: StoreContext): Promise<Outcome> {
    const callbackURL = await this._prepareStart(req, context, options.callbackURL);
    const accessType = options.accessType ?? this._defaults.accessType;
    const requestToken = await this.client.getRequestToken({
      callbackURL,
      ...(accessType !== undefined ? { accessType } : {}),
    });
    await this._remember(req, requestToken.token, requestToken.tokenSecret, context);
    const screenName = options.screenName ?? this._defaults.screenName;
    return {
      redirect: this.client.authorizationURL(requestToken.token, {
        forceLogin: options.forceLogin ?? this._defaults.forceLogin,
        authorize: options.authorize ?? this._defaults.authorize,
        ...(screenName !== undefined ? { screenName } : {}),
      }),
    };
  }

  /** Step 3: the user is back from Twitter. */
  private async _callback(req: Request, query: Query, context: StoreContext): Promise<Outcome> {
    const token = callbackValue(query.oauth_token);
    const verifier = callbackValue(query.oauth_verifier);
    if (token === undefined || verifier === undefined) {
      return failure(
        'MALFORMED_CALLBACK',
        'The sign-in callback is malformed: it needs one oauth_token and one oauth_verifier, each a short string. ' +
          'Start the sign-in again.',
      );
    }
    const pending = await this._take(req, token, context);
    if (isOutcome(pending)) return pending;
    const access = await this.client.getAccessToken({ token, tokenSecret: pending.tokenSecret, verifier });
    const profile = this._profileLookup
      ? await lookUpProfile(this.client, this._profileLookup, access, this._profileOptions)
      : profileFromAccessToken(access);
    return this._runVerify(req, [access.token, access.tokenSecret], access.params, profile);
  }
}

function pick<T extends object, K extends keyof T>(obj: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (obj[key] !== undefined) out[key] = obj[key];
  return out;
}
