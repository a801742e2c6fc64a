/**
 * The OAuth 2.0 client for X: the protocol's verbs (build the authorize URL, exchange the code,
 * refresh, revoke) and the one identity call, `GET /2/users/me`.
 *
 * X's flow is the Authorization Code grant with PKCE. Confidential clients (a "Web App" or
 * "Automated App or Bot" in X's developer console, with a client secret) authenticate to the
 * token endpoint with HTTP Basic only: X rejects a secret in the body. Public clients ("Native
 * App", "Single page App") send `client_id` in the body instead.
 *
 * @see https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code
 * @see https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token
 * @see https://www.rfc-editor.org/rfc/rfc6749 (OAuth 2.0)
 */
import type { Dispatcher } from 'undici';
import { absoluteURL, checkDispatcher, checkTimeout, requireString } from './checks.js';
import { TwitterSignInError, type ProviderError, type TwitterEndpoint } from './errors.js';
import { refused, send, type CallInfo, type HttpCall, type HttpResponse } from './http.js';
import { DEFAULT_USER_FIELDS, profileFromUsersMe, type TwitterProfile } from './profile.js';

/** Where users approve the app: X's OAuth 2.0 authorize page. */
export const X_AUTHORIZATION_URL = 'https://x.com/i/oauth2/authorize';
/** The token endpoint: code exchange and refresh. */
export const X_TOKEN_URL = 'https://api.x.com/2/oauth2/token';
/** The revocation endpoint. */
export const X_REVOKE_URL = 'https://api.x.com/2/oauth2/revoke';
/** The authenticated user. */
export const X_PROFILE_URL = 'https://api.x.com/2/users/me';

/** Scopes `GET /2/users/me` needs: without both, X refuses to say who signed in. */
export const REQUIRED_SCOPES: readonly string[] = ['tweet.read', 'users.read'];

export interface TwitterOAuth2ClientOptions {
  /** The app's OAuth 2.0 Client ID (X's developer console, "Keys and tokens"). Required. */
  clientID: string;
  /**
   * The app's OAuth 2.0 Client Secret, for a confidential client (type "Web App" or "Automated
   * App or Bot"): sent as HTTP Basic to the token and revoke endpoints, never in a body or an
   * error. Default: none, a public client ("Native App", "Single page App").
   */
  clientSecret?: string;
  /** Default `https://x.com/i/oauth2/authorize`. */
  authorizationURL?: string;
  /** Default `https://api.x.com/2/oauth2/token`. */
  tokenURL?: string;
  /** Default `https://api.x.com/2/oauth2/revoke`. */
  revokeURL?: string;
  /** Default `https://api.x.com/2/users/me`. */
  profileURL?: string;
  /** Milliseconds allowed for each call to X, from connect to the last byte. Default 10000. */
  timeout?: number;
  /** The undici dispatcher the calls go through. Default: undici's global dispatcher, read per call. */
  dispatcher?: Dispatcher;
}

export interface AuthorizationRequest {
  /** The `redirect_uri`: registered in X's developer console exactly (scheme, host, port, path). */
  redirectURI: string;
  /** The scopes asked for. */
  scope: readonly string[];
  /** The `state` (see `createState()`). */
  state: string;
  /** The PKCE S256 challenge (see `createPKCE()`). */
  codeChallenge: string;
}

/** What X answered at the token endpoint, less the tokens: safe to log, as `verify`'s `params`. */
export interface OAuth2TokenParams {
  token_type: string;
  /** Seconds the access token lives (X: 7200). */
  expires_in?: number;
  /** The scopes granted, space separated. */
  scope?: string;
}

export interface OAuth2Token {
  accessToken: string;
  /** Only with the `offline.access` scope. X's refresh tokens are single-use: keep the newest. */
  refreshToken?: string;
  tokenType: string;
  /** When the access token stops working, from `expires_in`. */
  expiresAt?: Date;
  /** The scopes granted. */
  scope: string[];
  params: OAuth2TokenParams;
}

export interface ProfileOptions {
  /** The `user.fields` asked for. Default `name,profile_image_url,description,created_at,verified`. */
  userFields?: readonly string[];
  /** Ask for `confirmed_email` too (the token needs the `users.email` scope). Default `false`. */
  includeEmail?: boolean;
}

const FORM = 'application/x-www-form-urlencoded';
// The form fields whose values are credentials (the grant type and redirect_uri are not).
const SECRET_PARAMS = ['code', 'code_verifier', 'refresh_token', 'token'];
const COMMON_HEADERS = { Accept: 'application/json', 'Accept-Encoding': 'identity', 'User-Agent': 'passport-twitter-signin' } as const;

/**
 * A promise-based OAuth 2.0 client for X: the OAuth 2.0 strategy's HTTP path, public for apps
 * that keep tokens (refresh, revoke) and for apps without Passport (a CLI or desktop app with a
 * loopback redirect).
 */
export class TwitterOAuth2Client {
  readonly clientID: string;
  readonly authorizationURLBase: string;
  readonly tokenURL: string;
  readonly revokeURL: string;
  readonly profileURL: string;
  readonly timeout: number;
  readonly dispatcher: Dispatcher | undefined;
  /** `Basic base64(client_id:client_secret)`, for a confidential client. Never exposed. */
  readonly #basic: string | undefined;
  readonly #secret: string | undefined;

  constructor(options: TwitterOAuth2ClientOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('options must be an object');
    requireString(options.clientID, 'clientID', ' (the OAuth 2.0 Client ID from the developer console)');
    if (options.clientSecret !== undefined) requireString(options.clientSecret, 'clientSecret', ' when given (omit it for a public client)');
    this.clientID = options.clientID;
    this.authorizationURLBase = absoluteURL(options.authorizationURL ?? X_AUTHORIZATION_URL, 'authorizationURL').href;
    this.tokenURL = absoluteURL(options.tokenURL ?? X_TOKEN_URL, 'tokenURL').href;
    this.revokeURL = absoluteURL(options.revokeURL ?? X_REVOKE_URL, 'revokeURL').href;
    this.profileURL = absoluteURL(options.profileURL ?? X_PROFILE_URL, 'profileURL').href;
    this.timeout = checkTimeout(options.timeout);
    this.dispatcher = checkDispatcher(options);
    this.#secret = options.clientSecret;
    // RFC 6749 §2.3.1: both halves form-encoded, then joined by a colon and base64-encoded.
    this.#basic =
      options.clientSecret === undefined
        ? undefined
        : `Basic ${Buffer.from(`${formEncode(options.clientID)}:${formEncode(options.clientSecret)}`).toString('base64')}`;
  }

  /** Whether this client authenticates with a client secret (confidential) or not (public). */
  get confidential(): boolean {
    return this.#basic !== undefined;
  }

  /**
   * The URL to send the user to: `response_type=code`, `client_id`, `redirect_uri`, `scope`
   * (space separated), `state`, `code_challenge` and `code_challenge_method=S256`.
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
   * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.3
   */
  authorizationURL(request: AuthorizationRequest): string {
    requireString(request?.redirectURI, 'redirectURI');
    requireString(request.state, 'state');
    requireString(request.codeChallenge, 'codeChallenge');
    if (!Array.isArray(request.scope) || request.scope.length === 0) throw new TypeError('scope must be a non-empty array');
    const params: [string, string][] = [
      ['response_type', 'code'],
      ['client_id', this.clientID],
      ['redirect_uri', request.redirectURI],
      ['scope', request.scope.join(' ')],
      ['state', request.state],
      ['code_challenge', request.codeChallenge],
      ['code_challenge_method', 'S256'],
    ];
    // encodeURIComponent writes a space as %20, as X's own examples do (URLSearchParams would
    // write '+'); the configured URL's own path and query are kept as they are.
    const query = params.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
    const base = this.authorizationURLBase;
    return `${base}${base.includes('?') ? '&' : '?'}${query}`;
  }

  /**
   * Exchanges the authorization code (good for 30 seconds at X) and the PKCE verifier for the
   * user's tokens. `redirectURI` must be the authorize request's, character for character.
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
   */
  async exchangeCode(options: { code: string; redirectURI: string; codeVerifier: string }): Promise<OAuth2Token> {
    requireString(options?.code, 'code');
    requireString(options.redirectURI, 'redirectURI');
    requireString(options.codeVerifier, 'codeVerifier');
    return this.#token({
      grant_type: 'authorization_code',
      code: options.code,
      redirect_uri: options.redirectURI,
      code_verifier: options.codeVerifier,
    });
  }

  /**
   * A new access token for a refresh token (issued with the `offline.access` scope). X's
   * refresh tokens are single-use: the answer carries a new one, which replaces the old; store
   * it before using the new access token, or the user must sign in again.
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
   */
  async refresh(refreshToken: string): Promise<OAuth2Token> {
    requireString(refreshToken, 'refreshToken');
    return this.#token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  /**
   * Revokes an access token or a refresh token (the app's side; users revoke under X's
   * "Connected apps").
   * @see https://www.rfc-editor.org/rfc/rfc7009
   */
  async revoke(token: string, options: { tokenTypeHint?: 'access_token' | 'refresh_token' } = {}): Promise<void> {
    requireString(token, 'token');
    const hint = options.tokenTypeHint;
    if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') {
      throw new TypeError("tokenTypeHint must be 'access_token' or 'refresh_token'");
    }
    await this.#post(this.revokeURL, { endpoint: 'revoke', label: 'POST /2/oauth2/revoke' }, {
      token,
      ...(hint ? { token_type_hint: hint } : {}),
    });
  }

  /**
   * Who the access token belongs to: one `GET /2/users/me` (the token needs `tweet.read` and
   * `users.read`). X rate-limits it per user and bills it on its paid tiers; a 429 is
   * `ERR_TWITTER_RATE_LIMITED`, any other refusal `ERR_PROFILE_UNAVAILABLE` with X's reason.
   */
  async getProfile(accessToken: string, options: ProfileOptions = {}): Promise<TwitterProfile> {
    requireString(accessToken, 'accessToken');
    const given: unknown = options.userFields;
    if (given !== undefined && (!Array.isArray(given) || given.some((f) => typeof f !== 'string' || f === ''))) {
      throw new TypeError('userFields must be an array of non-empty strings');
    }
    const fields = [...(options.userFields ?? DEFAULT_USER_FIELDS)];
    if (options.includeEmail && !fields.includes('confirmed_email')) fields.push('confirmed_email');
    const url = new URL(this.profileURL);
    url.searchParams.set('user.fields', fields.join(','));
    const call: CallInfo = { endpoint: 'profile', label: `GET ${url.pathname}` };
    const res = await send(
      (): HttpCall => ({
        method: 'GET',
        url: url.href,
        headers: { ...COMMON_HEADERS, Authorization: `Bearer ${accessToken}` },
        secrets: [accessToken],
      }),
      call,
      this,
    );
    if (res.status < 200 || res.status >= 300) throw profileRefusal(call, res);
    return profileFromUsersMe(parseJSON(res, call), res.body, call.label);
  }

  async #token(params: Record<string, string>): Promise<OAuth2Token> {
    const res = await this.#post(this.tokenURL, { endpoint: 'token', label: 'POST /2/oauth2/token' }, params);
    return tokenOf(parseJSON(res, { endpoint: 'token', label: 'POST /2/oauth2/token' }));
  }

  /** A form POST to the token or revoke endpoint, authenticated as X documents for the client type. */
  async #post(url: string, call: CallInfo, params: Record<string, string>): Promise<HttpResponse> {
    const form = new URLSearchParams(params);
    // A public client names itself in the body; a confidential one in the Basic header only.
    if (!this.#basic) form.set('client_id', this.clientID);
    const headers: Record<string, string> = { ...COMMON_HEADERS, 'Content-Type': FORM };
    if (this.#basic) headers.Authorization = this.#basic;
    const body = form.toString();
    // The code, the verifier, the tokens and the client's credentials, wherever an echo repeats them.
    const secrets = [
      ...SECRET_PARAMS.flatMap((name) => (params[name] !== undefined ? [params[name]] : [])),
      ...(this.#basic ? [this.#basic.slice('Basic '.length), this.#secret!] : []),
    ];
    const res = await send(() => ({ method: 'POST', url, headers, body, secrets }), call, this);
    if (res.status >= 200 && res.status < 300) return res;
    throw refused(call, res, (provider, status) => tokenHint(call.endpoint, status, provider, this.confidential, params.grant_type));
  }
}

/** The token answer, narrowed: `access_token` and a bearer `token_type` are required (RFC 6749 §5.1). */
function tokenOf(json: unknown): OAuth2Token {
  const o = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>;
  const missing = (field: string) =>
    new TwitterSignInError('ERR_TWITTER_RESPONSE', `X's answer to POST /2/oauth2/token has no ${field}; it is not an OAuth 2.0 token response.`, {
      endpoint: 'token',
      providerStatus: 200,
    });
  if (typeof o.access_token !== 'string' || o.access_token === '') throw missing('access_token');
  const tokenType = typeof o.token_type === 'string' ? o.token_type : '';
  // RFC 6749 §7.1: a client must not use a token whose type it does not understand.
  if (tokenType.toLowerCase() !== 'bearer') throw missing('bearer token_type');
  const expiresIn = typeof o.expires_in === 'number' && o.expires_in > 0 ? o.expires_in : undefined;
  const scope = typeof o.scope === 'string' ? o.scope : undefined;
  return {
    accessToken: o.access_token,
    ...(typeof o.refresh_token === 'string' && o.refresh_token ? { refreshToken: o.refresh_token } : {}),
    tokenType,
    ...(expiresIn !== undefined ? { expiresAt: new Date(Date.now() + expiresIn * 1000) } : {}),
    scope: scope ? scope.split(' ').filter(Boolean) : [],
    params: {
      token_type: tokenType,
      ...(expiresIn !== undefined ? { expires_in: expiresIn } : {}),
      ...(scope !== undefined ? { scope } : {}),
    },
  };
}

function parseJSON(res: HttpResponse, call: CallInfo): unknown {
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    // No cause: the parser's message quotes the text it stopped at (all of a short one), and
    // the answer may hold a token.
    throw new TwitterSignInError('ERR_TWITTER_RESPONSE', `X's answer to ${call.label} is not JSON.`, {
      endpoint: call.endpoint,
      providerStatus: res.status,
    });
  }
}

// What to fix, for the token endpoint's refusals. `grant` tells a code exchange from a refresh:
// X answers a spent code and a spent refresh token alike (invalid_request), and a server that
// follows RFC 6749 §5.2 says invalid_grant for either.
function tokenHint(endpoint: TwitterEndpoint, status: number, { error }: ProviderError, confidential: boolean, grant: string | undefined): string {
  if (error === 'unauthorized_client' || error === 'invalid_client' || status === 401) {
    return confidential
      ? ' Check clientID and clientSecret (the OAuth 2.0 ones, not the API key), and that the app is a confidential client (Web App) in the developer console.'
      : ' Check clientID (the OAuth 2.0 Client ID), and whether the app is a confidential client (Web App) that needs clientSecret.';
  }
  if (endpoint === 'token' && (error === 'invalid_request' || error === 'invalid_grant')) {
    return grant === 'refresh_token'
      ? ' The refresh token was already used or revoked: X refresh tokens work once; sign the user in again.'
      : ' The code may be older than 30 seconds or already used, or redirect_uri differs from the authorize request; start the sign-in again.';
  }
  if (status >= 500) return ' X is having trouble; try again later.';
  return '';
}

/** A refused `GET /2/users/me`, with what X said and what to fix. */
function profileRefusal(call: CallInfo, res: HttpResponse): TwitterSignInError {
  const err = refused(call, res);
  if (err.code !== 'ERR_TWITTER_HTTP') return err;
  const reason = err.providerError;
  const fix =
    reason === 'client-not-enrolled' || /client-forbidden/.test(reason ?? '')
      ? ' The app is not enrolled for this endpoint: in the developer console, attach it to a project with API access (Pay-per-use, Production).'
      : res.status === 403
        ? ' The token may lack the tweet.read and users.read scopes, or the app lacks access to this endpoint.'
        : res.status === 401
          ? ' The access token was refused: it may have expired or been revoked.'
          : '';
  return new TwitterSignInError(
    'ERR_PROFILE_UNAVAILABLE',
    `X refused ${call.label} with HTTP ${res.status}${reason ? ` (${reason})` : ''}` +
      `${err.providerMessage ? `: ${err.providerMessage}` : ''}, so the user who signed in is unknown.${fix}`,
    {
      endpoint: 'profile',
      providerStatus: res.status,
      ...(reason !== undefined ? { providerError: reason } : {}),
      ...(err.providerMessage !== undefined ? { providerMessage: err.providerMessage } : {}),
      ...(err.body !== undefined ? { body: err.body } : {}),
      cause: err,
    },
  );
}

// application/x-www-form-urlencoded, for the Basic credentials (RFC 6749 §2.3.1, Appendix B).
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
