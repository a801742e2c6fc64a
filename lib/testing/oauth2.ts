/**
 * The fake's OAuth 2.0 provider, as strict as X: the authorize page (the same sign-in
 * situations and pages as OAuth 1.0a), the token endpoint (code exchange with PKCE, refresh
 * with rotation), revocation, and `GET /2/users/me` with a bearer token and its scopes.
 *
 * - Authorize: `client_id` and `redirect_uri` (exactly a registered callback URL) must be right,
 *   or X shows an error page and redirects nowhere; then `response_type=code`, known scopes,
 *   a `state`, and a PKCE challenge (S256 or plain, as X accepts), or X redirects back with
 *   `error`.
 * - Token: a confidential client (`clientSecret` set) authenticates with HTTP Basic only; a
 *   public one sends `client_id` in the body. A code works once, for 30 seconds, with the same
 *   `redirect_uri` and the verifier of its challenge. A refresh token works once.
 *
 * @see https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code
 * @see https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { randomToken, WRONG_PASSWORD, type Context, type FakeApp, type Route } from './context.js';
import { ExpiringMap } from './expiring-map.js';
import { appendQuery, isFormBody, redirect, sendJSON, sendPage } from './http.js';
import { approvePage, errorPage, signInPage, type ConsentPage } from './pages.js';
import { parseFormEncoded, safeEqual } from './signature.js';
import { invalidFieldsProblem } from './twitter-errors.js';
import { V2_USER_FIELDS, v2User, type StoredUser } from './users.js';

/** X's authorize page, on the fake's own origin. */
export const AUTHORIZE_PATH = '/i/oauth2/authorize';
/** The form on the OAuth 2.0 sign-in and approval pages posts here. */
export const OAUTH2_DECIDE_PATH = '/i/oauth2/decide';

/** X's authorization codes work for 30 seconds. */
export const CODE_TTL = 30_000;
/** X's access tokens work for two hours. */
export const ACCESS_TOKEN_TTL = 2 * 60 * 60 * 1000;
// What a pending authorize request, a refresh token may live; caps keep memory bounded.
const AUTHORIZATION_TTL = 15 * 60 * 1000;
const REFRESH_TOKEN_TTL = 180 * 24 * 60 * 60 * 1000;
const MAX_ENTRIES = 10_000;

/**
 * The scopes X documents, with what its consent page says about each.
 * @see https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code#scopes
 */
export const OAUTH2_SCOPES: Readonly<Record<string, string>> = {
  'tweet.read': 'All the Tweets you can view, including Tweets from protected accounts.',
  'tweet.write': 'Tweet and Retweet for you.',
  'tweet.moderate.write': 'Hide and unhide replies to your Tweets.',
  'users.email': 'Your email address.',
  'users.read': 'Any account you can view, including protected accounts.',
  'follows.read': 'People who follow you and people who you follow.',
  'follows.write': 'Follow and unfollow people for you.',
  'offline.access': 'Stay connected to your account until you revoke access.',
  'space.read': 'All the Spaces you can view.',
  'mute.read': 'Accounts you’ve muted.',
  'mute.write': 'Mute and unmute accounts for you.',
  'like.read': 'Tweets you’ve liked and likes you can view.',
  'like.write': 'Like and un-like Tweets for you.',
  'list.read': 'Lists, list members, and list followers of lists you’ve created or are a member of.',
  'list.write': 'Create and manage Lists for you.',
  'block.read': 'Accounts you’ve blocked.',
  'block.write': 'Block and unblock accounts for you.',
  'bookmark.read': 'Get Bookmarked Tweets from an authenticated user.',
  'bookmark.write': 'Bookmark and remove Bookmarks from Tweets.',
  'dm.read': 'All your Direct Messages.',
  'dm.write': 'Send and manage Direct Messages for you.',
  'media.write': 'Upload media.',
};

/** An authorize request waiting for the user's decision. */
interface Authorization {
  redirectURI: string;
  state: string;
  scopes: string[];
  challenge: string;
  method: 'S256' | 'plain';
}

/** An issued code: good once, for 30 s, for exactly this redirect_uri and verifier. */
interface Code {
  authorization: Authorization;
  userId: string;
}

interface Grant {
  userId: string;
  scopes: string[];
}

export interface OAuth2Options {
  clientID: string;
  /** Set: a confidential client, which must use HTTP Basic. */
  clientSecret: string | undefined;
}

export class OAuth2Provider {
  readonly #app: FakeApp;
  readonly #clientID: string;
  readonly #clientSecret: string | undefined;
  readonly #authorizations: ExpiringMap<string, Authorization>;
  readonly #codes: ExpiringMap<string, Code>;
  readonly #accessTokens: ExpiringMap<string, Grant>;
  readonly #refreshTokens: ExpiringMap<string, Grant>;

  constructor(app: FakeApp, options: OAuth2Options) {
    this.#app = app;
    this.#clientID = options.clientID;
    this.#clientSecret = options.clientSecret;
    this.#authorizations = new ExpiringMap(AUTHORIZATION_TTL, MAX_ENTRIES, app.now);
    this.#codes = new ExpiringMap(CODE_TTL, MAX_ENTRIES, app.now);
    this.#accessTokens = new ExpiringMap(ACCESS_TOKEN_TTL, MAX_ENTRIES, app.now);
    this.#refreshTokens = new ExpiringMap(REFRESH_TOKEN_TTL, MAX_ENTRIES, app.now);
  }

  /** Authorize requests shown and not yet decided, and codes issued and not yet exchanged. */
  get pending(): number {
    return this.#authorizations.size + this.#codes.size;
  }

  routes(): Route[] {
    return [
      { route: `GET ${AUTHORIZE_PATH}`, endpoint: 'oauth2_authorize', handle: (ctx) => this.#authorize(ctx) },
      { route: `POST ${OAUTH2_DECIDE_PATH}`, handle: (ctx) => this.#decide(ctx) },
      { route: 'POST /2/oauth2/token', endpoint: 'oauth2_token', handle: (ctx) => this.#token(ctx) },
      { route: 'POST /2/oauth2/revoke', endpoint: 'oauth2_revoke', handle: (ctx) => this.#revoke(ctx) },
    ];
  }

  /**
   * `GET /i/oauth2/authorize`. A wrong client or redirect_uri gets X's error page: redirecting
   * there would hand a code to whoever forged the link. Everything else wrong goes back to the
   * app as `error` (RFC 6749 §4.1.2.1).
   */
  #authorize(ctx: Context): void {
    const query = parseFormEncoded(ctx.rawQuery);
    const param = (name: string): string | undefined => query.find(([n]) => n === name)?.[1];
    const redirectURI = param('redirect_uri') ?? '';
    if (param('client_id') !== this.#clientID || !this.#app.callbackRegistered(redirectURI, true)) {
      return sendPage(ctx.res, 400, errorPage("Something went wrong. You weren't able to give access to the App. Go back and try logging in again."));
    }
    const state = param('state') ?? '';
    const back = (error: string, description: string) =>
      redirect(ctx.res, appendQuery(redirectURI, [['error', error], ['error_description', description], ...(state ? [['state', state] as [string, string]] : [])]));
    if (param('response_type') !== 'code') return back('unsupported_response_type', 'response_type must be code.');
    const scopes = (param('scope') ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0 || scopes.some((s) => !Object.hasOwn(OAUTH2_SCOPES, s))) {
      return back('invalid_scope', `Unknown or missing scope: ${param('scope') ?? ''}`);
    }
    if (state === '' || state.length > 500) return back('invalid_request', 'state is required, at most 500 characters.');
    const challenge = param('code_challenge') ?? '';
    const method = param('code_challenge_method');
    if (challenge === '' || (method !== 'S256' && method !== 'plain')) {
      return back('invalid_request', 'code_challenge and code_challenge_method (S256 or plain) are required.');
    }
    const id = randomToken();
    const authorization: Authorization = { redirectURI, state, scopes, challenge, method };
    this.#authorizations.set(id, authorization);
    if (this.#app.autoApprove !== undefined) return this.#approve(ctx.res, id, authorization, this.#app.autoApprove);
    const user = this.#app.sessionUser(ctx.req);
    if (user === undefined || param('force_login') === 'true') return sendPage(ctx.res, 200, this.#signInPage(id, authorization));
    sendPage(
      ctx.res,
      200,
      approvePage({
        ...this.#consent(id, authorization),
        screenName: user.screen_name,
        allowLabel: 'Authorize app',
        switchAccount: `${AUTHORIZE_PATH}?${ctx.rawQuery}&force_login=true`,
      }),
    );
  }

  #decide(ctx: Context): void {
    const form = isFormBody(ctx.req) ? parseFormEncoded(ctx.body.toString('utf8')) : [];
    const field = (name: string): string | undefined => form.find(([n]) => n === name)?.[1];
    const id = field('authorization') ?? '';
    const authorization = this.#authorizations.get(id);
    if (authorization === undefined) {
      return sendPage(ctx.res, 400, errorPage('This authorization request is no longer valid. Go back to the app and try again.'));
    }
    const decision = field('decision');
    if (decision === 'cancel') {
      this.#authorizations.delete(id);
      return redirect(
        ctx.res,
        appendQuery(authorization.redirectURI, [
          ['error', 'access_denied'],
          ['error_description', 'The user denied the request.'],
          ['state', authorization.state],
        ]),
      );
    }
    if (decision !== 'allow') return sendPage(ctx.res, 400, errorPage('Choose Authorize app or Cancel.'));
    const username = field('username');
    if (username === undefined) {
      const user = this.#app.sessionUser(ctx.req);
      if (user === undefined) return sendPage(ctx.res, 200, this.#signInPage(id, authorization));
      return this.#approve(ctx.res, id, authorization, user);
    }
    const user = this.#app.signIn(ctx, username, field('password') ?? '');
    if (user === undefined) return sendPage(ctx.res, 200, this.#signInPage(id, authorization, { username, error: WRONG_PASSWORD }));
    this.#approve(ctx.res, id, authorization, user);
  }

  #signInPage(id: string, authorization: Authorization, extra: { username?: string; error?: string } = {}): string {
    return signInPage({ ...this.#consent(id, authorization), ...extra, anyPassword: this.#app.users.openSignUp });
  }

  #consent(id: string, authorization: Authorization): ConsentPage {
    return {
      appName: this.#app.appName,
      permissions: authorization.scopes.map((s) => OAUTH2_SCOPES[s]!),
      action: OAUTH2_DECIDE_PATH,
      fields: [['authorization', id]],
    };
  }

  /** Issues the one-time code and sends the user back with it and the app's state. */
  #approve(res: ServerResponse, id: string, authorization: Authorization, user: StoredUser): void {
    this.#authorizations.delete(id);
    const code = randomToken();
    this.#codes.set(code, { authorization, userId: user.id });
    redirect(res, appendQuery(authorization.redirectURI, [['state', authorization.state], ['code', code]]));
  }

  /** `POST /2/oauth2/token`: `authorization_code` and `refresh_token` grants. */
  #token(ctx: Context): void {
    const form = this.#form(ctx);
    if (form === undefined) return;
    const client = this.#authenticateClient(ctx, form);
    if (client !== true) return;
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') return this.#exchangeCode(ctx.res, form);
    if (grantType === 'refresh_token') return this.#refresh(ctx.res, form);
    oauthError(ctx.res, 400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token.');
  }

  #exchangeCode(res: ServerResponse, form: Map<string, string>): void {
    const codeValue = form.get('code') ?? '';
    const code = this.#codes.get(codeValue);
    // One exchange per code, whatever its outcome: a failed one cannot be retried to guess.
    this.#codes.delete(codeValue);
    const invalid = () => oauthError(res, 400, 'invalid_request', 'Value passed for the authorization code was invalid.');
    if (code === undefined) return invalid();
    if (form.get('redirect_uri') !== code.authorization.redirectURI) return invalid();
    const verifier = form.get('code_verifier') ?? '';
    const { challenge, method } = code.authorization;
    // RFC 7636 §4.1: 43 to 128 unreserved characters; §4.6: the server recomputes the challenge.
    const expected = method === 'S256' ? createHash('sha256').update(verifier, 'ascii').digest('base64url') : verifier;
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || !safeEqual(expected, challenge)) return invalid();
    this.#issue(res, { userId: code.userId, scopes: code.authorization.scopes });
  }

  /** Rotation: the refresh token works once; the answer carries its successor. */
  #refresh(res: ServerResponse, form: Map<string, string>): void {
    const value = form.get('refresh_token') ?? '';
    const grant = this.#refreshTokens.get(value);
    this.#refreshTokens.delete(value);
    if (grant === undefined) return oauthError(res, 400, 'invalid_request', 'Value passed for the token was invalid.');
    this.#issue(res, grant);
  }

  #issue(res: ServerResponse, grant: Grant): void {
    const accessToken = randomToken();
    this.#accessTokens.set(accessToken, grant);
    const refreshToken = grant.scopes.includes('offline.access') ? randomToken() : undefined;
    if (refreshToken !== undefined) this.#refreshTokens.set(refreshToken, grant);
    sendJSON(res, 200, {
      token_type: 'bearer',
      expires_in: ACCESS_TOKEN_TTL / 1000,
      access_token: accessToken,
      scope: grant.scopes.join(' '),
      ...(refreshToken !== undefined ? { refresh_token: refreshToken } : {}),
    });
  }

  /** `POST /2/oauth2/revoke`: an access or refresh token stops working. */
  #revoke(ctx: Context): void {
    const form = this.#form(ctx);
    if (form === undefined) return;
    if (this.#authenticateClient(ctx, form) !== true) return;
    const token = form.get('token') ?? '';
    const known = this.#accessTokens.has(token) || this.#refreshTokens.has(token);
    this.#accessTokens.delete(token);
    this.#refreshTokens.delete(token);
    sendJSON(ctx.res, 200, { revoked: known });
  }

  /** `GET /2/users/me` with `Authorization: Bearer`: the token's user, if it has the scopes. */
  usersMe(ctx: Context): void {
    const token = /^Bearer (.+)$/.exec(ctx.req.headers.authorization ?? '')?.[1] ?? '';
    const grant = this.#accessTokens.get(token);
    if (grant === undefined) return sendJSON(ctx.res, 401, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' });
    if (!grant.scopes.includes('tweet.read') || !grant.scopes.includes('users.read')) {
      return sendJSON(ctx.res, 403, {
        title: 'Forbidden',
        type: 'https://api.x.com/2/problems/oauth2-insufficient-scope',
        status: 403,
        detail: 'Missing required scopes: tweet.read users.read',
      });
    }
    const fields = (new URLSearchParams(ctx.rawQuery).get('user.fields') ?? '').split(',').filter((f) => f !== '');
    const invalid = fields.filter((f) => !V2_USER_FIELDS.includes(f));
    if (invalid.length > 0) return sendJSON(ctx.res, 400, invalidFieldsProblem('user.fields', invalid, V2_USER_FIELDS));
    sendJSON(ctx.res, 200, { data: v2User(this.#app.users.get(grant.userId)!, fields, grant.scopes.includes('users.email')) });
  }

  /** The form body, or `undefined` after answering 400 for anything else. */
  #form(ctx: Context): Map<string, string> | undefined {
    if (!isFormBody(ctx.req)) {
      oauthError(ctx.res, 400, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
      return undefined;
    }
    const params = parseFormEncoded(ctx.body.toString('utf8'));
    // RFC 6749 §3.2: parameters must not be included more than once.
    const form = new Map(params);
    if (form.size !== params.length) {
      oauthError(ctx.res, 400, 'invalid_request', 'A parameter was included more than once.');
      return undefined;
    }
    return form;
  }

  /**
   * Client authentication as X does it: HTTP Basic for a confidential client (a secret in the
   * body is refused), `client_id` in the body for a public one. Answers the refusal itself.
   */
  #authenticateClient(ctx: Context, form: Map<string, string>): true | undefined {
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(ctx.req.headers.authorization ?? '')?.[1];
    if (form.has('client_secret')) {
      oauthError(ctx.res, 401, 'unauthorized_client', 'client_secret in the body is not supported; use HTTP Basic authentication.');
      return undefined;
    }
    if (this.#clientSecret !== undefined) {
      const [id, secret] = decodeBasic(basic);
      if (id === undefined || !safeEqual(id, this.#clientID) || !safeEqual(secret ?? '', this.#clientSecret)) {
        oauthError(ctx.res, 401, 'unauthorized_client', 'Missing valid authorization header');
        return undefined;
      }
      // A client_id in the body beside Basic must name the same client.
      if (form.has('client_id') && form.get('client_id') !== this.#clientID) {
        oauthError(ctx.res, 400, 'invalid_request', 'client_id does not match the authorization header.');
        return undefined;
      }
      return true;
    }
    if (basic !== undefined || form.get('client_id') !== this.#clientID) {
      oauthError(ctx.res, 400, 'invalid_request', 'Missing required parameter [client_id].');
      return undefined;
    }
    return true;
  }
}

/** RFC 6749 §5.2's error answer, as X gives it. */
function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  sendJSON(res, status, { error, error_description: description });
}

/** `id:secret` from a Basic credential, each half form-decoded (RFC 6749 §2.3.1). */
function decodeBasic(basic: string | undefined): [string | undefined, string | undefined] {
  if (basic === undefined) return [undefined, undefined];
  const text = Buffer.from(basic, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon === -1) return [undefined, undefined];
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return undefined;
    }
  };
  return [decode(text.slice(0, colon)), decode(text.slice(colon + 1))];
}
