/**
 * Passport strategy for Sign in with X over OAuth 2.0: the Authorization Code flow with PKCE,
 * which X recommends over OAuth 1.0a.
 *
 * `authenticate()` branches on the query of the request it is given:
 * - `error`: X sent the user back without a code. `access_denied` (the user cancelled) is a
 *   `fail()`; any other is an `ERR_TWITTER_AUTHORIZATION` error carrying X's words.
 * - neither `code` nor `state`: the start. A fresh `state` and PKCE verifier are kept for this
 *   browser in the request-token store (the state as the key, the verifier as the secret),
 *   then a 302 to X's authorize page.
 * - otherwise the callback: both must be there, the state must be one this browser started and
 *   not yet used; the code is exchanged (with the verifier) for the tokens, `GET /2/users/me`
 *   says who the user is (one call: the token answer names no user), and the app's `verify`
 *   runs.
 * What the two protocols share (pending sign-ins, the callback's checks, verify, the hand-off
 * to Passport) is in sign-in.ts.
 *
 * @see https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1
 */
import type { Request } from 'express';
import { TwitterSignInError } from './errors.js';
import { REQUIRED_SCOPES, TwitterOAuth2Client, type OAuth2TokenParams } from './oauth2-client.js';
import {
  scopesOf,
  validateOAuth2StrategyOptions,
  type TwitterOAuth2AuthenticateOptions,
  type TwitterOAuth2StrategyOptions,
} from './oauth2-options.js';
import { createPKCE, createState } from './pkce.js';
import { DEFAULT_USER_FIELDS, type TwitterProfile } from './profile.js';
import { callbackValue, failure, isOutcome, signInConfig, SignInStrategy, type Outcome, type Query } from './sign-in.js';
import type { StoreContext } from './stores/store.js';
import type { VerifyAnyForm, VerifyForms } from './verify.js';

export type {
  TwitterOAuth2AuthenticateOptions,
  TwitterOAuth2StrategyBaseOptions,
  TwitterOAuth2StrategyOptions,
} from './oauth2-options.js';

type Forms = VerifyForms<Request, [accessToken: string, refreshToken: string | undefined], OAuth2TokenParams, TwitterProfile>;

/** `(accessToken, refreshToken, profile, done)`: `done` may be left out and the user returned instead. */
export type OAuth2VerifyFunction = Forms['plain'];
/** passport-oauth2's form with the token answer's `params` (`expires_in`, `scope`, `token_type`) before `profile`. */
export type OAuth2VerifyFunctionWithParams = Forms['withParams'];
/** With `passReqToCallback: true`: `(req, accessToken, refreshToken, profile, done)`. */
export type OAuth2VerifyFunctionWithRequest = Forms['withRequest'];
/** With `passReqToCallback: true`: `(req, accessToken, refreshToken, params, profile, done)`. */
export type OAuth2VerifyFunctionWithRequestAndParams = Forms['withRequestAndParams'];
/** With a `passReqToCallback` known only at run time: a verify that accepts any of the four forms. */
export type OAuth2VerifyFunctionAnyForm = VerifyAnyForm<Forms>;

// X's authorization codes are base64url strings of about 90 characters; states are ours (43).
const MAX_CODE = 1024;

export class TwitterOAuth2Strategy extends SignInStrategy {
  /** The client that makes every call to X. */
  readonly client: TwitterOAuth2Client;
  private readonly _scopes: readonly string[];
  private readonly _userFields: readonly string[];
  private readonly _includeEmail: boolean;

  constructor(options: TwitterOAuth2StrategyOptions<false>, verify: OAuth2VerifyFunction);
  constructor(options: TwitterOAuth2StrategyOptions<false>, verify: OAuth2VerifyFunctionWithParams);
  constructor(options: TwitterOAuth2StrategyOptions<true>, verify: OAuth2VerifyFunctionWithRequest);
  constructor(options: TwitterOAuth2StrategyOptions<true>, verify: OAuth2VerifyFunctionWithRequestAndParams);
  constructor(options: TwitterOAuth2StrategyOptions<boolean>, verify: OAuth2VerifyFunctionAnyForm);
  constructor(
    options: TwitterOAuth2StrategyOptions<boolean>,
    verify:
      | OAuth2VerifyFunction
      | OAuth2VerifyFunctionWithParams
      | OAuth2VerifyFunctionWithRequest
      | OAuth2VerifyFunctionWithRequestAndParams
      | OAuth2VerifyFunctionAnyForm,
  ) {
    if (!options || typeof options !== 'object') throw new TypeError('TwitterOAuth2Strategy requires options');
    if (typeof verify !== 'function') throw new TypeError('TwitterOAuth2Strategy requires a verify function');
    validateOAuth2StrategyOptions(options);
    super(signInConfig('twitter-oauth2', `oauth2:twitter:${options.clientID}`, options, verify));
    const { clientID, clientSecret, authorizationURL, tokenURL, revokeURL, profileURL, timeout, dispatcher } = options;
    this.client = new TwitterOAuth2Client({
      clientID,
      ...defined({ clientSecret, authorizationURL, tokenURL, revokeURL, profileURL, timeout, dispatcher }),
    });
    this._includeEmail = options.includeEmail === true;
    this._scopes = union(REQUIRED_SCOPES, this._includeEmail ? ['users.email'] : [], scopesOf(options.scope, 'scope'));
    this._userFields = options.userFields ?? DEFAULT_USER_FIELDS;
  }

  protected override _run(req: Request, query: Query, options: TwitterOAuth2AuthenticateOptions, context: StoreContext): Promise<Outcome> {
    if (query.error !== undefined) return this._authorizationError(req, query, context);
    if (query.code === undefined && query.state === undefined) return this._start(req, options, context);
    return this._callback(req, query, options, context);
  }

  /** The start: a state and a PKCE verifier for this browser, then off to X's authorize page. */
  private async _start(req: Request, options: TwitterOAuth2AuthenticateOptions, context: StoreContext): Promise<Outcome> {
    const redirectURI = await this._prepareStart(req, context, options.callbackURL);
    // Checked before anything is kept: a start that throws must not leave a session behind.
    const scope = union(this._scopes, scopesOf(options.scope, 'scope'));
    const state = createState();
    const pkce = createPKCE();
    await this._remember(req, state, pkce.codeVerifier, context);
    return {
      redirect: this.client.authorizationURL({
        redirectURI,
        scope,
        state,
        codeChallenge: pkce.codeChallenge,
      }),
    };
  }

  /** The callback: the state must be this browser's, once; then code → tokens → who. */
  private async _callback(req: Request, query: Query, options: TwitterOAuth2AuthenticateOptions, context: StoreContext): Promise<Outcome> {
    const state = callbackValue(query.state);
    const code = callbackValue(query.code, MAX_CODE);
    if (state === undefined || code === undefined) {
      return failure(
        'MALFORMED_CALLBACK',
        'The sign-in callback is malformed: it needs one code and one state, each a short string. Start the sign-in again.',
      );
    }
    const pending = await this._take(req, state, context);
    if (isOutcome(pending)) return pending;
    // RFC 6749 §4.1.3: the same redirect_uri as the authorize request's, resolved the same way.
    const redirectURI = this._resolveCallbackURL(req, options.callbackURL);
    const token = await this.client.exchangeCode({ code, redirectURI, codeVerifier: pending.tokenSecret });
    const profile = await this.client.getProfile(token.accessToken, { userFields: this._userFields, includeEmail: this._includeEmail });
    return this._runVerify(req, [token.accessToken, token.refreshToken], token.params, profile);
  }

  /**
   * X came back with `error` (RFC 6749 §4.1.2.1). The pending sign-in its state names is dropped
   * either way: that sign-in is over.
   */
  private async _authorizationError(req: Request, query: Query, context: StoreContext): Promise<Outcome> {
    const state = callbackValue(query.state);
    const error = typeof query.error === 'string' && query.error !== '' ? plain(query.error, 64) : 'an unnamed error';
    if (error === 'access_denied') return this._denied(req, state, context);
    // Anyone can write a link to the callback with ?error=…: it is X's word, worth an error in
    // the app's log, only when its state is a sign-in this browser started. Otherwise it is a
    // failure like any callback for a sign-in that is not this browser's.
    if (state === undefined) {
      return failure('MALFORMED_CALLBACK', 'The sign-in callback is malformed: an error without a state. Start the sign-in again.');
    }
    const pending = await this._peek(req, state, context);
    if (isOutcome(pending)) return pending;
    await this._storeCall(() => this._store.destroy(req, state, this._scope, context));
    const description = typeof query.error_description === 'string' ? plain(query.error_description, 300) : undefined;
    throw new TwitterSignInError(
      'ERR_TWITTER_AUTHORIZATION',
      `X did not authorize the sign-in: ${error}${description ? ` (${description})` : ''}.` +
        (error === 'invalid_scope' ? ' Check the scope option: every scope must be one X documents.' : ' Start the sign-in again.'),
      { endpoint: 'authorize', providerError: error, ...(description !== undefined ? { providerMessage: description } : {}) },
    );
  }
}

/**
 * Text from the callback's query, which anyone can write into a link: clipped, and without
 * control characters, before it goes into an error message and a log line. C1 as well as C0:
 * U+009B is CSI to a terminal (as ESC [ is) and U+0085 a line break to some log readers.
 */
function plain(text: string, max: number): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

function union(...lists: (readonly string[])[]): string[] {
  return [...new Set(lists.flat())];
}

function defined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
