/**
 * The fake's OAuth 1.0a provider: request_token, the browser's authenticate/authorize pages,
 * access_token, and the two profile lookups signed with an access token.
 *
 * It is as strict as Twitter where clients go wrong: every request is signed and checked with
 * this package's own RFC 5849 code, callbacks must be registered, tokens and verifiers are
 * single-use and expire, and errors come in Twitter's shapes.
 *
 * @see https://docs.x.com/fundamentals/authentication/guides/log-in-with-x
 */
import { randomInt } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { randomToken, WRONG_PASSWORD, type Context, type FakeApp, type Route } from './context.js';
import { ExpiringMap } from './expiring-map.js';
import { appendQuery, formEncode, isFormBody, redirect, send, sendJSON, sendPage, sendTwitterError } from './http.js';
import { RequestVerifier, parseOAuthRequest, requestParam, type OAuthRequest } from './oauth-request.js';
import {
  INVALID_TOKEN_MESSAGE,
  accessTypePermissions,
  approvePage,
  deniedPage,
  errorPage,
  pinPage,
  signInPage,
  type AccessType,
  type ConsentPage,
} from './pages.js';
import { parseFormEncoded, safeEqual } from './signature.js';
import {
  BAD_AUTHENTICATION_DATA,
  CALLBACK_NOT_APPROVED_XML,
  INVALID_OR_EXPIRED_TOKEN,
  invalidFieldsProblem,
} from './twitter-errors.js';
import { V2_USER_FIELDS, v1User, v2User, type StoredUser } from './users.js';

/** The form on the OAuth 1.0a sign-in and approval pages posts here. */
export const DECIDE_PATH = '/oauth/decide';

// Caps that keep a long-running fake's memory bounded; the oldest entry goes first.
const MAX_REQUEST_TOKENS = 10_000;
const MAX_ACCESS_TOKENS = 10_000;
const MAX_APPROVALS = 10_000;

interface RequestToken {
  secret: string;
  /** An absolute http(s) URL, or `oob` for the PIN flow. */
  callback: string;
  accessType: AccessType;
  /** Set once the user allows; the verifier is good for one access_token call. */
  approval?: { userId: string; verifier: string };
}

interface AccessToken {
  secret: string;
  userId: string;
  accessType: AccessType;
}

export interface OAuth1Options {
  consumerKey: string;
  consumerSecret: string;
  requestTokenTTL: number;
  /** The server's scheme: part of what is signed. */
  scheme: 'http' | 'https';
}

export class OAuth1Provider {
  readonly #app: FakeApp;
  readonly #scheme: 'http' | 'https';
  readonly #verifier: RequestVerifier;
  readonly #requestTokens: ExpiringMap<string, RequestToken>;
  readonly #accessTokens: ExpiringMap<string, AccessToken>;
  /** User id → the access the user has approved for the app (write includes read). */
  readonly #approvals = new Map<string, AccessType>();

  constructor(app: FakeApp, options: OAuth1Options) {
    this.#app = app;
    this.#scheme = options.scheme;
    this.#verifier = new RequestVerifier(options.consumerKey, options.consumerSecret, app.now);
    this.#requestTokens = new ExpiringMap(options.requestTokenTTL, MAX_REQUEST_TOKENS, app.now);
    this.#accessTokens = new ExpiringMap(Infinity, MAX_ACCESS_TOKENS, app.now);
  }

  /** Request tokens issued and not yet exchanged, cancelled or expired. */
  get pending(): number {
    return this.#requestTokens.size;
  }

  routes(): Route[] {
    return [
      { route: 'POST /oauth/request_token', endpoint: 'request_token', handle: (ctx) => this.#requestToken(ctx) },
      { route: 'POST /oauth/access_token', endpoint: 'access_token', handle: (ctx) => this.#accessToken(ctx) },
      {
        route: 'GET /1.1/account/verify_credentials.json',
        endpoint: 'verify_credentials',
        handle: (ctx) => this.#verifyCredentials(ctx),
      },
      { route: 'GET /oauth/authenticate', handle: (ctx) => this.#authorizationPage(ctx, 'authenticate') },
      { route: 'GET /oauth/authorize', handle: (ctx) => this.#authorizationPage(ctx, 'authorize') },
      { route: `POST ${DECIDE_PATH}`, handle: (ctx) => this.#decide(ctx) },
    ];
  }

  /** Parses and verifies a signed request; on failure answers Twitter's error and returns undefined. */
  #verified(ctx: Context, tokenSecret?: (token: string) => string | undefined): OAuthRequest | undefined {
    const request = parseOAuthRequest(ctx.req, ctx.path, ctx.rawQuery, ctx.body, this.#scheme);
    const error = this.#verifier.verify(request, tokenSecret);
    if (error === undefined) return request;
    sendTwitterError(ctx.res, error);
    return undefined;
  }

  /** @see https://docs.x.com/fundamentals/authentication/api-reference#post-oauth-request-token */
  #requestToken(ctx: Context): void {
    const request = this.#verified(ctx);
    if (request === undefined) return;
    // RFC 5849 §2.1: oauth_callback is REQUIRED (OAuth 1.0a); `oob` when there is no callback.
    const callback = request.oauth.get('oauth_callback');
    if (!callback) return sendTwitterError(ctx.res, BAD_AUTHENTICATION_DATA);
    if (callback !== 'oob' && !this.#app.callbackRegistered(callback, false)) {
      return send(ctx.res, 403, 'application/xml; charset=utf-8', CALLBACK_NOT_APPROVED_XML);
    }
    // Twitter falls back to the app's permission for anything but read/write; the fake's is read.
    const accessType: AccessType = requestParam(request, 'x_auth_access_type') === 'write' ? 'write' : 'read';
    const token = randomToken();
    const secret = randomToken();
    this.#requestTokens.set(token, { secret, callback, accessType });
    // Twitter answers token requests as text/html even though the body is form-encoded.
    send(
      ctx.res,
      200,
      'text/html; charset=utf-8',
      formEncode([['oauth_token', token], ['oauth_token_secret', secret], ['oauth_callback_confirmed', 'true']]),
    );
  }

  /** @see https://docs.x.com/fundamentals/authentication/api-reference#post-oauth-access-token */
  #accessToken(ctx: Context): void {
    const request = this.#verified(ctx, (token) => this.#requestTokens.get(token)?.secret);
    if (request === undefined) return;
    const token = request.oauth.get('oauth_token')!;
    const pending = this.#requestTokens.get(token);
    // One exchange per request token, whatever its outcome: a verifier works once, and a
    // wrong verifier cannot be retried to guess the right one (PINs are only 7 digits).
    this.#requestTokens.delete(token);
    const verifier = request.oauth.get('oauth_verifier');
    if (pending?.approval === undefined || verifier === undefined || !safeEqual(verifier, pending.approval.verifier)) {
      return sendTwitterError(ctx.res, INVALID_OR_EXPIRED_TOKEN);
    }
    const user = this.#app.users.get(pending.approval.userId)!;
    // Twitter's access tokens start with the user id.
    const accessToken = `${user.id}-${randomToken()}`;
    const accessSecret = randomToken();
    this.#accessTokens.set(accessToken, { secret: accessSecret, userId: user.id, accessType: pending.accessType });
    send(
      ctx.res,
      200,
      'text/html; charset=utf-8',
      formEncode([
        ['oauth_token', accessToken],
        ['oauth_token_secret', accessSecret],
        ['user_id', user.id],
        ['screen_name', user.screen_name],
      ]),
    );
  }

  /** Verifies a profile request signed with an access token; returns the token's user. */
  #profileRequest(ctx: Context): { request: OAuthRequest; user: StoredUser } | undefined {
    const request = this.#verified(ctx, (token) => this.#accessTokens.get(token)?.secret);
    if (request === undefined) return undefined;
    const { userId, accessType } = this.#accessTokens.get(request.oauth.get('oauth_token')!)!;
    // Twitter says on every call made with a user's token what access that user granted.
    ctx.res.setHeader('x-access-level', accessType === 'write' ? 'read-write' : 'read');
    return { request, user: this.#app.users.get(userId)! };
  }

  /** `GET /2/users/me` signed with an OAuth 1.0a access token. */
  usersMe(ctx: Context): void {
    const verified = this.#profileRequest(ctx);
    if (verified === undefined) return;
    const fields = (requestParam(verified.request, 'user.fields') ?? '').split(',').filter((f) => f !== '');
    const invalid = fields.filter((field) => !V2_USER_FIELDS.includes(field));
    if (invalid.length > 0) return sendJSON(ctx.res, 400, invalidFieldsProblem('user.fields', invalid, V2_USER_FIELDS));
    sendJSON(ctx.res, 200, { data: v2User(verified.user, fields, false) });
  }

  /**
   * @see https://developer.twitter.com/en/docs/twitter-api/v1/accounts-and-users/manage-account-settings/api-reference/get-account-verify_credentials
   */
  #verifyCredentials(ctx: Context): void {
    const verified = this.#profileRequest(ctx);
    if (verified === undefined) return;
    const includeEmail = requestParam(verified.request, 'include_email') === 'true';
    sendJSON(ctx.res, 200, v1User(verified.user, includeEmail));
  }

  /**
   * `GET /oauth/authenticate` and `GET /oauth/authorize`: the three situations of Twitter's
   * browser sign-in flow. Not signed in (or `force_login`): sign in and approve on one page.
   * Signed in, not yet approved (always, on /authorize): approve. Signed in and approved, on
   * /authenticate: straight back to the app.
   *
   * @see https://docs.x.com/fundamentals/authentication/guides/log-in-with-x
   */
  #authorizationPage(ctx: Context, endpoint: 'authenticate' | 'authorize'): void {
    const query = parseFormEncoded(ctx.rawQuery);
    const param = (name: string): string | undefined => query.find(([n]) => n === name)?.[1];
    const token = param('oauth_token') ?? '';
    const pending = this.#requestTokens.get(token);
    if (pending === undefined || pending.approval !== undefined) {
      return sendPage(ctx.res, 400, errorPage(INVALID_TOKEN_MESSAGE));
    }
    if (this.#app.autoApprove !== undefined) return this.#approve(ctx.res, token, pending, this.#app.autoApprove);

    const user = this.#app.sessionUser(ctx.req);
    const forceLogin = param('force_login') === 'true';
    if (user === undefined || forceLogin) {
      const username = param('screen_name');
      return sendPage(ctx.res, 200, this.#signInPage(token, pending, username === undefined ? {} : { username }));
    }
    if (endpoint === 'authenticate' && this.#hasApproved(user, pending.accessType)) {
      return this.#approve(ctx.res, token, pending, user);
    }
    sendPage(
      ctx.res,
      200,
      approvePage({
        ...this.#consent(token, pending),
        screenName: user.screen_name,
        allowLabel: endpoint === 'authorize' ? 'Authorize app' : 'Sign in',
        switchAccount: `/oauth/authenticate?oauth_token=${encodeURIComponent(token)}&force_login=true`,
      }),
    );
  }

  /** The form on the sign-in and approval pages: Cancel, or Allow (after signing in if asked to). */
  #decide(ctx: Context): void {
    const form = isFormBody(ctx.req) ? parseFormEncoded(ctx.body.toString('utf8')) : [];
    const field = (name: string): string | undefined => form.find(([n]) => n === name)?.[1];
    const token = field('oauth_token') ?? '';
    const pending = this.#requestTokens.get(token);
    if (pending === undefined || pending.approval !== undefined) {
      return sendPage(ctx.res, 400, errorPage(INVALID_TOKEN_MESSAGE));
    }
    const decision = field('decision');
    if (decision === 'cancel') {
      // The app learns of the refusal through `denied` (Twitter's name for it); the token is dead.
      this.#requestTokens.delete(token);
      if (pending.callback === 'oob') return sendPage(ctx.res, 200, deniedPage({ appName: this.#app.appName }));
      return redirect(ctx.res, appendQuery(pending.callback, [['denied', token]]));
    }
    if (decision !== 'allow') return sendPage(ctx.res, 400, errorPage('Choose Sign in or Cancel.'));

    const username = field('username');
    if (username === undefined) {
      const user = this.#app.sessionUser(ctx.req);
      // The session ended between showing the page and submitting it: ask for credentials.
      if (user === undefined) return sendPage(ctx.res, 200, this.#signInPage(token, pending));
      return this.#approve(ctx.res, token, pending, user);
    }
    const user = this.#app.signIn(ctx, username, field('password') ?? '');
    if (user === undefined) return sendPage(ctx.res, 200, this.#signInPage(token, pending, { username, error: WRONG_PASSWORD }));
    this.#approve(ctx.res, token, pending, user);
  }

  #signInPage(token: string, pending: RequestToken, extra: { username?: string; error?: string } = {}): string {
    return signInPage({ ...this.#consent(token, pending), ...extra, anyPassword: this.#app.users.openSignUp });
  }

  #consent(token: string, pending: RequestToken): ConsentPage {
    return {
      appName: this.#app.appName,
      permissions: accessTypePermissions(pending.accessType),
      action: DECIDE_PATH,
      fields: [['oauth_token', token]],
    };
  }

  /** Records the approval and sends the user back: to the callback, or to the PIN page for `oob`. */
  #approve(res: ServerResponse, token: string, pending: RequestToken, user: StoredUser): void {
    const oob = pending.callback === 'oob';
    // Twitter's PINs are 7 digits, for a person to type; callbacks get a long random verifier.
    const verifier = oob ? String(randomInt(0, 10_000_000)).padStart(7, '0') : randomToken();
    pending.approval = { userId: user.id, verifier };
    if (!this.#hasApproved(user, pending.accessType)) {
      this.#approvals.delete(user.id);
      // Bounded like every other map of the fake; the oldest approval goes first.
      if (this.#approvals.size >= MAX_APPROVALS) this.#approvals.delete(this.#approvals.keys().next().value!);
      this.#approvals.set(user.id, pending.accessType);
    }
    if (oob) return sendPage(res, 200, pinPage({ appName: this.#app.appName, pin: verifier }));
    redirect(res, appendQuery(pending.callback, [['oauth_token', token], ['oauth_verifier', verifier]]));
  }

  #hasApproved(user: StoredUser, accessType: AccessType): boolean {
    const approved = this.#approvals.get(user.id);
    return approved === 'write' || approved === accessType;
  }
}
