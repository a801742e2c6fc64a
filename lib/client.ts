/**
 * The OAuth 1.0a client: the protocol's verbs (get a request token, build the authorize URL,
 * exchange the verifier) and signed API calls.
 *
 * node-oauth signs every request (RFC 5849's base string and HMAC-SHA1) and formats its
 * Authorization header. Its transport is not used, because out of the box it is fragile in a
 * server: it sends `Connection: close` and uses no agent (a new TCP and TLS handshake per call),
 * has no timeout (a stalled provider hangs the sign-in forever), follows 301/302 by re-signing
 * and re-sending to any `Location` with no hop limit, and reports HTTP failures as plain objects
 * instead of errors. Its `Math.random` nonces are replaced too. Requests go out through
 * `http.ts`, on undici.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5849 (The OAuth 1.0 Protocol)
 */
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { OAuth } from 'oauth';
import { TwitterSignInError, type ProviderError, type TwitterEndpoint } from './errors.js';
import { absoluteURL, checkDispatcher, checkTimeout, requireString } from './checks.js';
import { refused, send, type HttpCall, type HttpResponse } from './http.js';

/**
 * X's endpoints for the three-legged flow, on the host X documents them on today. api.twitter.com
 * still answers, but has been seen redirecting to api.x.com mid-flow, and a redirected OAuth call
 * is never followed (its signature names the other host), so a sign-in started there can be lost.
 * @see https://docs.x.com/fundamentals/authentication/api-reference
 */
export const TWITTER_REQUEST_TOKEN_URL = 'https://api.x.com/oauth/request_token';
export const TWITTER_ACCESS_TOKEN_URL = 'https://api.x.com/oauth/access_token';
export const TWITTER_AUTHENTICATE_URL = 'https://api.x.com/oauth/authenticate';
export const TWITTER_AUTHORIZE_URL = 'https://api.x.com/oauth/authorize';

export { DEFAULT_TIMEOUT } from './checks.js';

export interface TwitterOAuthClientOptions {
  /** The app's API key (consumer key). Required. */
  consumerKey: string;
  /** The app's API key secret (consumer secret). Required; never appears in an error or log. */
  consumerSecret: string;
  /** Default `https://api.x.com/oauth/request_token`. */
  requestTokenURL?: string;
  /** Default `https://api.x.com/oauth/access_token`. */
  accessTokenURL?: string;
  /** Where users sign in. Default `https://api.x.com/oauth/authenticate`. */
  userAuthorizationURL?: string;
  /**
   * Where users are always asked to approve (used with `authorize: true` and for PIN flows).
   * Default: `userAuthorizationURL` with its last path segment `authenticate` replaced by `authorize`.
   */
  authorizeURL?: string;
  /** Milliseconds allowed for each call to Twitter, from connect to the last byte. Default 10000. */
  timeout?: number;
  /**
   * The undici dispatcher the calls to Twitter go through: an `Agent` of the app's own (a private
   * certificate authority, connection limits), a `ProxyAgent`, or a `MockAgent` in tests. The
   * app owns it (and closes it). Default: undici's global dispatcher, read at each call, so
   * `setGlobalDispatcher()` applies to these calls as it does to `fetch`; its connections are
   * kept alive and reused.
   */
  dispatcher?: Dispatcher;
}

export interface RequestToken {
  token: string;
  tokenSecret: string;
  /** Always `true`: an unconfirmed callback is refused with `ERR_CALLBACK_NOT_CONFIRMED`. */
  callbackConfirmed: boolean;
}

export interface AccessToken {
  token: string;
  tokenSecret: string;
  userId: string;
  screenName: string;
  /** Every parameter of Twitter's answer except the token and its secret (`user_id`, `screen_name`, …). */
  params: Record<string, string>;
}

export interface AuthorizationURLOptions {
  /** Ask the user to sign in even when already signed in to Twitter (`force_login=true`). */
  forceLogin?: boolean;
  /** Pre-fill the username on Twitter's sign-in form (`screen_name`). */
  screenName?: string;
  /** Use `/oauth/authorize`, which always asks the user, instead of `/oauth/authenticate`. */
  authorize?: boolean;
}

export interface AuthorizationHeaderOptions {
  method: string;
  url: string;
  /** The request's other parameters (query or form body); `oauth_*` ones go into the header. */
  params?: Record<string, string>;
  token?: string;
  tokenSecret?: string;
  /** Fix the nonce, to reproduce a published signature. Default: 16 random bytes, hex. */
  nonce?: string;
  /** Fix the timestamp (seconds), to reproduce a published signature. Default: now. */
  timestamp?: number;
}

const USER_AGENT = 'passport-twitter-signin';
const FORM = 'application/x-www-form-urlencoded';
// Without Accept-Encoding any content coding is acceptable (RFC 9110 §12.5.3); the answers are
// a few hundred bytes, and nothing here decompresses.
const COMMON_HEADERS = { Accept: '*/*', 'Accept-Encoding': 'identity', 'User-Agent': USER_AGENT } as const;

const SECRET_PARAMS = new Set(['oauth_signature', 'oauth_nonce', 'oauth_token', 'oauth_verifier']);

interface SignedRequest {
  method: 'GET' | 'POST';
  url: string;
  endpoint: TwitterEndpoint;
  token?: string | undefined;
  tokenSecret?: string | undefined;
  params?: Record<string, string>;
}

/** An endpoint URL, parsed once: what the signature covers of it. */
interface Target {
  /** The URL as sent, serialised by WHATWG's parser. */
  href: string;
  /** The base string URI (RFC 5849 §3.4.1.2): scheme, host (port only when not the default) and path. */
  base: string;
  /** Its query's parameters, which the signature covers too (§3.4.1.3.1). */
  query: [string, string][];
}

/**
 * A promise-based OAuth 1.0a client for Twitter's three-legged flow: the strategy's own HTTP
 * path, public for command-line and desktop apps (the PIN flow) and for checking signatures.
 */
export class TwitterOAuthClient {
  readonly requestTokenURL: string;
  readonly accessTokenURL: string;
  readonly userAuthorizationURL: string;
  readonly authorizeURL: string;
  readonly timeout: number;
  /** The dispatcher given in the options; `undefined`: undici's global one, read per call. */
  readonly dispatcher: Dispatcher | undefined;
  readonly #consumerKey: string;
  readonly #oauth: OAuthInternals;
  // The few endpoint URLs this client calls, parsed once.
  readonly #targets = new Map<string, Target>();

  constructor(options: TwitterOAuthClientOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('options must be an object');
    requireString(options.consumerKey, 'consumerKey');
    requireString(options.consumerSecret, 'consumerSecret');
    this.requestTokenURL = signableURL(options.requestTokenURL ?? TWITTER_REQUEST_TOKEN_URL, 'requestTokenURL');
    this.accessTokenURL = signableURL(options.accessTokenURL ?? TWITTER_ACCESS_TOKEN_URL, 'accessTokenURL');
    this.userAuthorizationURL = signableURL(
      options.userAuthorizationURL ?? TWITTER_AUTHENTICATE_URL,
      'userAuthorizationURL',
    );
    this.authorizeURL = signableURL(
      options.authorizeURL ?? this.userAuthorizationURL.replace(/\/authenticate(?=$|\?)/, '/authorize'),
      'authorizeURL',
    );
    this.timeout = checkTimeout(options.timeout);
    this.dispatcher = checkDispatcher(options);
    this.#consumerKey = options.consumerKey;

    // Only node-oauth's signer is used (its transport, headers included, is not).
    // Version '1.0' is sent as given: '1.0A' is not a valid oauth_version (RFC 5849 §3.1).
    const oauth = new OAuth(
      this.requestTokenURL,
      this.accessTokenURL,
      options.consumerKey,
      options.consumerSecret,
      '1.0',
      null as unknown as string,
      'HMAC-SHA1',
    ) as unknown as OAuthInternals;
    // RFC 5849 §3.3: the nonce must be unique per timestamp; Math.random is predictable.
    // randomUUID draws from a pooled CSPRNG buffer: 122 random bits without a call into C++.
    oauth._getNonce = () => randomUUID().replace(/-/g, '');
    // The same RFC 3986 encoding as node-oauth's five chained regular expressions, in one pass:
    // it runs for every parameter, twice, on every signed call.
    // Most values (keys, nonces, timestamps, tokens) are unreserved characters already and are
    // returned as they are.
    oauth._encodeData = (value) =>
      value == null || value === ''
        ? ''
        : UNRESERVED.test(value)
          ? value
          : encodeURIComponent(value).replace(/[!'()*]/g, percentEncode);
    // The base string URI (RFC 5849 §3.4.1.2) from the same WHATWG parse the request is sent
    // with, so what is signed is what is sent (IPv6 brackets, default ports, dot segments and
    // path escaping agree), and without node-oauth's url.parse() (deprecated, DEP0169).
    oauth._normalizeUrl = (url) => this.#target(url).base;
    this.#oauth = oauth;
  }

  /**
   * Step 1: obtains a request token (temporary credentials).
   * `callbackURL: 'oob'` starts the PIN flow.
   * @see https://www.rfc-editor.org/rfc/rfc5849#section-2.1
   */
  async getRequestToken(options: { callbackURL: string; accessType?: 'read' | 'write' }): Promise<RequestToken> {
    requireString(options?.callbackURL, 'callbackURL');
    const params: Record<string, string> = { oauth_callback: options.callbackURL };
    if (options.accessType !== undefined) {
      if (options.accessType !== 'read' && options.accessType !== 'write') {
        throw new TypeError("accessType must be 'read' or 'write'");
      }
      params.x_auth_access_type = options.accessType;
    }
    const res = await this.#send({ method: 'POST', url: this.requestTokenURL, endpoint: 'request_token', params });
    const body = new URLSearchParams(res.body);
    const token = requiredField(body, 'oauth_token', 'request_token');
    const tokenSecret = requiredField(body, 'oauth_token_secret', 'request_token');
    // RFC 5849 §2.1: the server MUST answer oauth_callback_confirmed=true. Without it the
    // provider ignored our callback, and the user would be sent somewhere we did not choose.
    if (body.get('oauth_callback_confirmed') !== 'true') {
      throw new TwitterSignInError(
        'ERR_CALLBACK_NOT_CONFIRMED',
        'Twitter did not confirm the callback URL (oauth_callback_confirmed is not "true"); ' +
          'the sign-in was not started. Check that the callback URL is registered for the app.',
        { endpoint: 'request_token', providerStatus: res.status },
      );
    }
    return { token, tokenSecret, callbackConfirmed: true };
  }

  /**
   * Step 2: the URL to send the user to, with the request token.
   * @see https://developer.twitter.com/en/docs/authentication/api-reference/authenticate
   */
  authorizationURL(token: string, options: AuthorizationURLOptions = {}): string {
    requireString(token, 'token');
    // String building rather than URL objects: this runs on every sign-in start.
    const base = options.authorize ? this.authorizeURL : this.userAuthorizationURL;
    let url = `${base}${base.includes('?') ? '&' : '?'}oauth_token=${encodeURIComponent(token)}`;
    if (options.forceLogin) url += '&force_login=true';
    if (options.screenName) url += `&screen_name=${encodeURIComponent(options.screenName)}`;
    return url;
  }

  /**
   * Step 3: exchanges the request token and the verifier for the user's access token.
   * @see https://www.rfc-editor.org/rfc/rfc5849#section-2.3
   */
  async getAccessToken(options: { token: string; tokenSecret: string; verifier: string }): Promise<AccessToken> {
    requireString(options?.token, 'token');
    requireString(options.tokenSecret, 'tokenSecret');
    requireString(options.verifier, 'verifier');
    const res = await this.#send({
      method: 'POST',
      url: this.accessTokenURL,
      endpoint: 'access_token',
      token: options.token,
      tokenSecret: options.tokenSecret,
      params: { oauth_verifier: options.verifier },
    });
    const body = new URLSearchParams(res.body);
    const access: AccessToken = {
      token: requiredField(body, 'oauth_token', 'access_token'),
      tokenSecret: requiredField(body, 'oauth_token_secret', 'access_token'),
      userId: requiredField(body, 'user_id', 'access_token'),
      screenName: requiredField(body, 'screen_name', 'access_token'),
      params: {},
    };
    // passport-twitter's params never held the token or its secret: apps log params.
    for (const [name, value] of body) if (name !== 'oauth_token_secret' && name !== 'oauth_token') access.params[name] = value;
    return access;
  }

  /**
   * The `Authorization: OAuth …` header value this client would send for a request. With `nonce`
   * and `timestamp` fixed, it reproduces the signatures in Twitter's and the RFC's examples.
   * @see https://www.rfc-editor.org/rfc/rfc5849#section-3.5.1
   */
  authorizationHeader(options: AuthorizationHeaderOptions): string {
    requireString(options?.method, 'method');
    signableURL(options.url, 'url');
    const ordered = this.#sign(
      options.method.toUpperCase(),
      options.url,
      options.token,
      options.tokenSecret,
      { ...options.params },
      options.nonce,
      options.timestamp,
    );
    return this.#oauth._buildAuthorizationHeaders(ordered);
  }

  /**
   * A signed GET with the user's access token, answered with parsed JSON. Used for the optional
   * profile lookup; errors carry `endpoint: 'profile'`.
   */
  async getJSON(url: string, token: string, tokenSecret: string): Promise<unknown> {
    return (await this.getJSONResponse(url, token, tokenSecret)).json;
  }

  /** {@link getJSON}, with the body as it came and the response's headers. */
  async getJSONResponse(
    url: string,
    token: string,
    tokenSecret: string,
  ): Promise<{ json: unknown; body: string; headers: HttpResponse['headers'] }> {
    signableURL(url, 'url');
    const res = await this.#send({ method: 'GET', url, endpoint: 'profile', token, tokenSecret });
    try {
      return { json: JSON.parse(res.body) as unknown, body: res.body, headers: res.headers };
    } catch {
      // No cause: the parser's message quotes the text it stopped at, all of a short one.
      throw new TwitterSignInError('ERR_TWITTER_RESPONSE', `Twitter's answer from ${new URL(url).pathname} is not JSON.`, {
        endpoint: 'profile',
        providerStatus: res.status,
      });
    }
  }

  /**
   * node-oauth's `_prepareParameters`, less its `url.parse()`: the oauth_* parameters, the
   * request's own and its query's, signed (RFC 5849 §3.4: base string, HMAC-SHA1) by node-oauth,
   * in the order the header lists them.
   */
  #sign(
    method: string,
    url: string,
    token: string | undefined,
    tokenSecret: string | undefined,
    params: Record<string, string>,
    nonce?: string,
    timestamp?: number,
  ): [string, string][] {
    const oauth = this.#oauth;
    const all: Record<string, string | number> = {
      oauth_timestamp: timestamp ?? oauth._getTimestamp(),
      oauth_nonce: nonce ?? oauth._getNonce(32),
      oauth_version: '1.0',
      oauth_signature_method: 'HMAC-SHA1',
      oauth_consumer_key: this.#consumerKey,
    };
    if (token) all.oauth_token = token;
    for (const name in params) all[name] = params[name]!;
    for (const [name, value] of this.#target(url).query) all[name] = value;
    const signature = oauth._getSignature(method, url, oauth._normaliseRequestParams(all), tokenSecret ?? '');
    const ordered = oauth._sortRequestParams(oauth._makeArrayOfArgumentsHash(all));
    ordered.push(['oauth_signature', signature]);
    return ordered;
  }

  /** One signed request, unsent: built again for a resend, with a fresh nonce. */
  #prepare(request: SignedRequest): HttpCall {
    const oauth = this.#oauth;
    const params = request.params ?? {};
    const target = this.#target(request.url);
    const ordered = this.#sign(request.method, target.href, request.token, request.tokenSecret, params);
    // oauth_* parameters travel in the header (§3.5.1); the others form the body, encoded as
    // they were signed.
    let body = '';
    for (const name in params) {
      if (name.startsWith('oauth_')) continue;
      body += `${body ? '&' : ''}${oauth._encodeData(name)}=${oauth._encodeData(params[name])}`;
    }
    const authorization = oauth._buildAuthorizationHeaders(ordered);
    // What an echo of this request must not give away: the signature, the nonce, the token, the verifier.
    const secrets = ordered.filter(([name]) => SECRET_PARAMS.has(name)).map(([, value]) => value);
    return request.method === 'POST'
      ? { method: 'POST', url: target.href, headers: { ...COMMON_HEADERS, Authorization: authorization, 'Content-Type': FORM }, body, secrets }
      : { method: 'GET', url: target.href, headers: { ...COMMON_HEADERS, Authorization: authorization }, secrets };
  }

  #target(url: string): Target {
    let target = this.#targets.get(url);
    if (!target) {
      const u = new URL(url);
      target = { href: u.href, base: `${u.protocol}//${u.host}${u.pathname}`, query: [...u.searchParams] };
      if (this.#targets.size < 64) this.#targets.set(url, target);
    }
    return target;
  }

  /**
   * Sends one signed request: the response for a 2xx, a typed error for anything else, including
   * a redirect (never followed: a redirected OAuth call would be re-signed for a host we did not
   * choose).
   */
  async #send(request: SignedRequest): Promise<HttpResponse> {
    const label = request.endpoint === 'profile' ? `GET ${new URL(request.url).pathname}` : request.endpoint;
    const call = { endpoint: request.endpoint, label };
    const res = await send(() => this.#prepare(request), call, this);
    if (res.status >= 200 && res.status < 300) return res;
    throw refused(call, res, (provider, status) => hintFor(request, status, provider));
  }
}

/** node-oauth's internals this client overrides or calls; stable across its releases. */
interface OAuthInternals {
  _getNonce(size: number): string;
  _encodeData(value: string | null | undefined): string;
  _normalizeUrl(url: string): string;
  _getTimestamp(): number;
  _normaliseRequestParams(params: Record<string, string | number>): string;
  _getSignature(method: string, url: string, normalisedParams: string, tokenSecret: string): string;
  _makeArrayOfArgumentsHash(params: Record<string, string | number>): [string, string][];
  _sortRequestParams(pairs: [string, string][]): [string, string][];
  _buildAuthorizationHeaders(ordered: [string, string][]): string;
}

// RFC 3986 §2.3: the characters percent-encoding leaves alone.
const UNRESERVED = /^[A-Za-z0-9._~-]*$/;

function percentEncode(c: string): string {
  return `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
}

// What to fix, for the refusals developers meet while setting up an app.
function hintFor(request: SignedRequest, status: number, { code, message }: ProviderError): string {
  const { endpoint, params = {} } = request;
  if (code === 415 || /callback url not approved/i.test(message ?? '')) {
    return (
      ` The callback URL sent was ${params.oauth_callback ?? '(none)'}: register it exactly so ` +
      '(scheme, host, port and path) in the app settings on the X developer portal, or set callbackURL to one that is.'
    );
  }
  if (code === 135) return " The server's clock is off; synchronise it (NTP).";
  if (endpoint === 'request_token' && (status === 401 || code === 32)) {
    return ' Check consumerKey and consumerSecret, and that the server clock is right.';
  }
  if (endpoint === 'access_token' && (status === 401 || code === 89)) {
    // Twitter's PINs (the oob flow) are seven digits, for a person to type.
    return /^\d{7}$/.test(params.oauth_verifier ?? '')
      ? ' The PIN may be mistyped, or it was already used or has expired; get a new PIN and try again.'
      : ' The request token or verifier was already used or has expired; start the sign-in again.';
  }
  if (code === 88) return ' Twitter is rate limiting this app; try again later.';
  if (status >= 500) return ' Twitter is having trouble; try again later.';
  return '';
}

function requiredField(body: URLSearchParams, name: string, endpoint: TwitterEndpoint): string {
  const value = body.get(name);
  if (!value) {
    throw new TwitterSignInError(
      'ERR_TWITTER_RESPONSE',
      `Twitter's answer to ${endpoint} has no ${name}; it is not an OAuth ${endpoint.replace('_', ' ')} response.`,
      { endpoint, providerStatus: 200 },
    );
  }
  return value;
}

/**
 * An endpoint URL for node-oauth to sign: it signs a query as a flat map, so a repeated name, or
 * an oauth_* one that the signature adds itself, would be signed differently from how it is sent.
 */
function signableURL(value: string, name: string): string {
  const names = [...absoluteURL(value, name).searchParams.keys()];
  if (new Set(names).size !== names.length || names.some((n) => n.startsWith('oauth_'))) {
    throw new TypeError(`${name} must not repeat a query parameter or carry oauth_* parameters, got "${value}"`);
  }
  return value;
}
