/**
 * Passport strategy for Sign in with Twitter: the OAuth 1.0a three-legged flow.
 *
 * `authenticate()` branches on the query of the request it is given:
 * - `denied`: the user cancelled on Twitter; `fail()`.
 * - neither `oauth_token` nor `oauth_verifier`: step 1, a signed request_token call, then a
 *   302 to Twitter;
 * - otherwise step 3, the callback: both must be there, the token must be one this browser
 *   started, then it is exchanged for the access token and the app's `verify` runs.
 *
 * @see https://developer.twitter.com/en/docs/authentication/guides/log-in-with-twitter
 */
import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import { Strategy as PassportStrategy } from 'passport-strategy';
import { resolveCallbackURL, storeContextOf } from './callback-url.js';
import { validateStrategyOptions, type TwitterAuthenticateOptions, type TwitterSignInStrategyOptions } from './options.js';
import { TwitterOAuthClient, type AccessToken } from './client.js';
import { TwitterSignInError, type SignInFailure, type SignInFailureCode } from './errors.js';
import {
  DEFAULT_USER_FIELDS,
  lookUpProfile,
  profileFromAccessToken,
  type ProfileLookup,
  type ProfileLookupOptions,
  type TwitterProfile,
} from './profile.js';
import { SessionRequestTokenStore } from './stores/session.js';
import type { RequestTokenStore, StoreContext } from './stores/store.js';
import type { VerifyAnyForm, VerifyCallback, VerifyForms, VerifyResult } from './verify.js';

export type { TwitterAuthenticateOptions, TwitterSignInStrategyBaseOptions, TwitterSignInStrategyOptions } from './options.js';

/** What Twitter answered at the access-token step, less the token secret (passport-twitter's `params`). */
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

// Longest value of a token or verifier we accept from a callback query. Twitter's are under 100
// characters; the limit keeps hostile megabyte values away from the store and from Twitter.
const MAX_CALLBACK_VALUE = 256;

type Query = Record<string, unknown>;

/** What one `authenticate()` call ends in; handed to Passport exactly once. */
type Outcome =
  | { redirect: string }
  | { fail: SignInFailure | unknown }
  | { error: Error }
  | { user: Express.User; info?: unknown };

// Passport runs each request on `Object.create(strategy)`, so the class uses TypeScript-private
// members: ECMAScript `#private` ones would throw on that derived object.
export class TwitterSignInStrategy extends PassportStrategy {
  /** Passport's strategy name. Default `'twitter'`. */
  name = 'twitter';
  /** The client that makes every call to Twitter. */
  readonly client: TwitterOAuthClient;
  private readonly _verify: (...args: unknown[]) => VerifyResult;
  private readonly _passReqToCallback: boolean;
  private readonly _callbackURL: string;
  private readonly _callbackHosts: readonly string[] | undefined;
  private readonly _defaults: Required<Pick<TwitterAuthenticateOptions, 'forceLogin' | 'authorize'>> &
    Pick<TwitterAuthenticateOptions, 'screenName' | 'accessType'>;
  private readonly _proxy: boolean | undefined;
  private readonly _store: RequestTokenStore;
  /** Keeps this strategy's pending sign-ins apart from other strategies' in a shared store. */
  private readonly _scope: string;
  private readonly _profileLookup: ProfileLookup;
  private readonly _profileOptions: ProfileLookupOptions;
  /**
   * Tokens whose callback this process is handling. A session is written back only when the
   * response ends, so a second copy of a callback (a reload while Twitter or the app is slow)
   * would still find the pending sign-in; a token stays here until its response has closed, so
   * only the first copy is exchanged.
   */
  private readonly _exchanging = new Set<string>();

  constructor(options: TwitterSignInStrategyOptions<false>, verify: VerifyFunction);
  constructor(options: TwitterSignInStrategyOptions<false>, verify: VerifyFunctionWithParams);
  constructor(options: TwitterSignInStrategyOptions<true>, verify: VerifyFunctionWithRequest);
  constructor(options: TwitterSignInStrategyOptions<true>, verify: VerifyFunctionWithRequestAndParams);
  constructor(options: TwitterSignInStrategyOptions<boolean>, verify: VerifyFunctionAnyForm);
  constructor(
    options: TwitterSignInStrategyOptions<boolean>,
    verify: VerifyFunction | VerifyFunctionWithParams | VerifyFunctionWithRequest | VerifyFunctionWithRequestAndParams | VerifyFunctionAnyForm,
  ) {
    super();
    if (!options || typeof options !== 'object') throw new TypeError('TwitterSignInStrategy requires options');
    if (typeof verify !== 'function') throw new TypeError('TwitterSignInStrategy requires a verify function');
    validateStrategyOptions(options);
    const store = options.requestTokenStore;

    this.client = new TwitterOAuthClient({
      consumerKey: options.consumerKey,
      consumerSecret: options.consumerSecret,
      ...pick(options, ['requestTokenURL', 'accessTokenURL', 'userAuthorizationURL', 'authorizeURL', 'timeout', 'dispatcher']),
    });
    this._verify = verify as (...args: unknown[]) => VerifyResult;
    this._passReqToCallback = options.passReqToCallback === true;
    this._callbackURL = options.callbackURL;
    this._callbackHosts = options.callbackHosts && [...options.callbackHosts];
    this._defaults = {
      forceLogin: options.forceLogin === true,
      authorize: options.authorize === true,
      ...(options.screenName !== undefined ? { screenName: options.screenName } : {}),
      ...(options.accessType !== undefined ? { accessType: options.accessType } : {}),
    };
    this._proxy = options.proxy;
    this._profileLookup = options.fetchProfile ?? false;
    this._profileOptions = {
      apiBase: new URL(this.client.requestTokenURL).origin,
      userFields: options.userFields ?? DEFAULT_USER_FIELDS,
      includeEmail: options.includeEmail === true,
    };
    this._scope = options.sessionKey ?? `oauth:twitter:${options.consumerKey}`;
    this._store = store ?? new SessionRequestTokenStore();
  }

  override authenticate(req: Request, options?: TwitterAuthenticateOptions): void {
    this._run(req, options ?? {}).then(
      (outcome) => this._settle(req, outcome),
      (err: unknown) => this._settle(req, { error: err instanceof Error ? err : new Error(String(err)) }),
    );
  }

  /**
   * Hands the outcome to Passport, once, outside the sign-in's own error handling: if the app's
   * callback (passport.authenticate's) throws, that must not turn into a second outcome. Its
   * throw goes to Express's `next`, as a throw from a synchronous strategy would.
   */
  private _settle(req: Request, outcome: Outcome): void {
    try {
      if ('redirect' in outcome) this.redirect(outcome.redirect);
      else if ('fail' in outcome) this.fail(outcome.fail, 401);
      else if ('error' in outcome) this.error(outcome.error);
      else this.success(outcome.user, outcome.info);
    } catch (err) {
      if (typeof req.next === 'function') req.next(err);
      else process.nextTick(() => {
        throw err;
      });
    }
  }

  private async _run(req: Request, options: TwitterAuthenticateOptions): Promise<Outcome> {
    const query = queryOf(req);
    // Worked out once, handed to every store call of this request.
    const context = storeContextOf(req, this._proxy);
    if (query.denied !== undefined) return this._denied(req, query.denied, context);
    if (query.oauth_verifier === undefined && query.oauth_token === undefined) return this._start(req, options, context);
    return this._callback(req, query, context);
  }

  /** Step 1 and 2: obtain a request token, remember it for this browser, send the user to Twitter. */
  private async _start(req: Request, options: TwitterAuthenticateOptions, context: StoreContext): Promise<Outcome> {
    // A store that cannot work here (no session) says so before Twitter is called.
    if (this._store.check) await this._storeCall(() => this._store.check!(req, context));
    const callbackURL = resolveCallbackURL(options.callbackURL ?? this._callbackURL, req, this._proxy, this._callbackHosts);
    const accessType = options.accessType ?? this._defaults.accessType;
    const requestToken = await this.client.getRequestToken({
      callbackURL,
      ...(accessType !== undefined ? { accessType } : {}),
    });
    await this._storeCall(() => this._store.set(req, requestToken.token, requestToken.tokenSecret, this._scope, context));
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
    const pending = await this._storeCall(() => this._store.get(req, token, this._scope, context));
    if (!pending || this._exchanging.has(token)) {
      const anyPending = this._store.hasPending
        ? await this._storeCall(() => this._store.hasPending!(req, this._scope, context))
        : true;
      if (!anyPending) {
        return failure(
          'NO_PENDING_SIGN_IN',
          'No sign-in with Twitter was started in this browser session, so the callback cannot be trusted. ' +
            'Most likely the session cookie was lost between the start and the callback: start and callback must use ' +
            'the same host (e.g. both localhost, not localhost and 127.0.0.1), and the session cookie must survive ' +
            "Twitter's redirect (SameSite=Lax, and no Secure cookie over plain http). It also happens when a completed " +
            'sign-in callback is loaded again.',
        );
      }
      return failure(
        'UNKNOWN_TOKEN',
        'This sign-in callback does not match a sign-in started in this browser: it was already used, ' +
          'or it was started elsewhere. Start the sign-in again.',
      );
    }
    // One-time: forget it before the exchange, so a replayed callback can never exchange twice.
    this._exchanging.add(token);
    const release = () => this._exchanging.delete(token);
    const res = (req as Request & { res?: { once?(event: string, listener: () => void): unknown } }).res;
    const releaseOnClose = typeof res?.once === 'function';
    if (releaseOnClose) res!.once!('close', release);
    try {
      await this._storeCall(() => this._store.destroy(req, token, this._scope, context));
      if (pending.expiresAt <= Date.now()) {
        return failure('EXPIRED_TOKEN', 'The sign-in with Twitter took too long and expired. Start the sign-in again.');
      }
      const access = await this.client.getAccessToken({ token, tokenSecret: pending.tokenSecret, verifier });
      const profile = this._profileLookup
        ? await lookUpProfile(this.client, this._profileLookup, access, this._profileOptions)
        : profileFromAccessToken(access);
      return await this._runVerify(req, access, profile);
    } finally {
      if (!releaseOnClose) release();
    }
  }

  private async _denied(req: Request, denied: unknown, context: StoreContext): Promise<Outcome> {
    const token = callbackValue(denied);
    if (token !== undefined) await this._storeCall(() => this._store.destroy(req, token, this._scope, context));
    return failure('DENIED', 'The sign-in with Twitter was cancelled.');
  }

  /**
   * Calls the app's `verify` in whichever form it was written: with or without `req` first,
   * with or without passport-twitter's `params` before `profile` (told apart by arity), and
   * with a `done` callback or returning a promise. The first outcome wins.
   */
  private _runVerify(req: Request, access: AccessToken, profile: TwitterProfile): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const done: VerifyCallback = (err, user, info) => {
        if (settled) return;
        settled = true;
        if (err) resolve({ error: err instanceof Error ? err : new Error(String(err)) });
        else if (!user) resolve({ fail: info ?? { message: 'The app refused this sign-in.' } });
        else resolve({ user, info });
      };
      const head: unknown[] = this._passReqToCallback ? [req] : [];
      const withParams = this._verify.length >= head.length + 5;
      const args = [...head, access.token, access.tokenSecret, ...(withParams ? [access.params] : []), profile, done];
      let result: VerifyResult;
      try {
        result = this._verify(...args);
      } catch (err) {
        done(err);
        return;
      }
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<Express.User | false | null | undefined>).then(
          (user) => done(null, user ?? false),
          (err: unknown) => done(err ?? new Error('verify rejected')),
        );
      } else if (this._verify.length < args.length) {
        // It declares no `done`, so it will never call it: what it returned is the answer.
        done(null, (result as Express.User | false | null | undefined) ?? false);
      }
    });
  }

  // A store failure is the app's infrastructure, not Twitter: keep its own typed errors, wrap others.
  private async _storeCall<T>(call: () => Promise<T> | T): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof TwitterSignInError) throw err;
      throw new TwitterSignInError('ERR_STORE', 'The request-token store failed.', { cause: err });
    }
  }
}

function failure(code: SignInFailureCode, message: string): Outcome {
  const info: SignInFailure = { code, message };
  return { fail: info };
}

/** The request's query: Express's parsed `req.query`, or parsed from the URL for plain Node. */
function queryOf(req: IncomingMessage & { query?: unknown }): Query {
  if (req.query && typeof req.query === 'object') return req.query as Query;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const query: Query = {};
  for (const [name, value] of url.searchParams) {
    const prev = query[name];
    query[name] = prev === undefined ? value : ([] as unknown[]).concat(prev, value);
  }
  return query;
}

/**
 * A callback value we are willing to look up: one string of RFC 3986 unreserved characters (all
 * Twitter's tokens and verifiers use) of sane length. Arrays (`?a=1&a=2`), objects (`?a[b]=1`
 * with a rich query parser), empty or huge values, and bytes that did not decode (qs leaves a
 * bad `%C3%28` as literal text; querystring turns it into U+FFFD) are refused before they reach
 * the store, so a mangled callback cannot use up the real pending sign-in.
 */
function callbackValue(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.length === 0 || value.length > MAX_CALLBACK_VALUE) return undefined;
  return /^[A-Za-z0-9._~-]+$/.test(value) ? value : undefined;
}

function pick<T extends object, K extends keyof T>(obj: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (obj[key] !== undefined) out[key] = obj[key];
  return out;
}
