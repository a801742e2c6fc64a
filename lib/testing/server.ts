/**
 * A fake Twitter OAuth 1.0a provider on loopback, for tests and local development.
 *
 * It is as strict as Twitter where clients go wrong: every request is signed and checked with
 * this package's own RFC 5849 code, callbacks must be registered, tokens and verifiers are
 * single-use and expire, and errors come in Twitter's shapes. Faults (error answers, resets,
 * hangs, delays) can be injected per endpoint to test a client's failure handling.
 *
 * @see https://developer.twitter.com/en/docs/authentication/guides/log-in-with-twitter
 */
import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTLSServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ExpiringMap } from './expiring-map.js';
import {
  BodyTooLargeError,
  appendQuery,
  formEncode,
  isFormBody,
  readBody,
  readCookie,
  redirect,
  send,
  sendJSON,
  sendPage,
  sendTwitterError,
} from './http.js';
import { RequestVerifier, parseOAuthRequest, requestParam, type OAuthRequest } from './oauth-request.js';
import {
  DECIDE_PATH,
  INVALID_TOKEN_MESSAGE,
  approvePage,
  deniedPage,
  errorPage,
  pinPage,
  signInPage,
  type AccessType,
} from './pages.js';
import { MalformedRequestError, parseFormEncoded, safeEqual } from './signature.js';
import {
  BAD_AUTHENTICATION_DATA,
  BODY_TOO_LARGE,
  CALLBACK_NOT_APPROVED_XML,
  INTERNAL_ERROR,
  INVALID_OR_EXPIRED_TOKEN,
  PAGE_DOES_NOT_EXIST,
  invalidFieldsProblem,
} from './twitter-errors.js';
import { UserDirectory, V2_USER_FIELDS, v1User, v2User, type FakeTwitterUser, type StoredUser } from './users.js';

export type { FakeTwitterUser } from './users.js';

export interface FakeTwitterOptions {
  /** The app's consumer key (API key). Required. */
  consumerKey: string;
  /** The app's consumer secret (API secret). Required. */
  consumerSecret: string;
  /** Port on 127.0.0.1. Default: 0, any free port (read it from `url`). */
  port?: number;
  /**
   * The app's registered callback URLs. When given, `oauth_callback` must match one in scheme,
   * host, port and path (its query is ignored) or be `oob`, else 403 with Twitter's code 415.
   * Default: any http(s) callback is accepted.
   */
  callbackURLs?: string[];
  /**
   * Accounts that can sign in on the fake's pages. Default: none, and then any non-empty
   * username and password sign in, creating the account (development mode).
   */
  users?: FakeTwitterUser[];
  /**
   * Approve every sign-in at once as this user: `/oauth/authenticate` and `/oauth/authorize`
   * redirect straight to the callback, with no pages (for test suites without a browser).
   */
  autoApprove?: { id: string; screen_name: string };
  /** Milliseconds a request token (and its verifier) lives. Default: 15 minutes. */
  requestTokenTTL?: number;
  /**
   * Serve HTTPS with this certificate and key (PEM) instead of plain HTTP, e.g. to test an app's
   * private certificate authority (undici `Agent({ connect: { ca } })`). The certificate must name
   * 127.0.0.1 (subjectAltName IP:127.0.0.1). Default: plain HTTP.
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/** The endpoints faults can be injected into. */
export type FakeEndpoint = 'request_token' | 'access_token' | 'users_me' | 'verify_credentials';

/** What an injected fault does instead of (or before) the endpoint's normal answer. */
export type FakeFault =
  /** Answer this instead. `contentType` default: `application/json; charset=utf-8`. */
  | { status: number; body?: string; contentType?: string; headers?: Record<string, string> }
  /** Reset the connection (TCP RST) without answering. */
  | { type: 'reset' }
  /** Never answer; the connection stays open until `close()`. */
  | { type: 'hang' }
  /** Answer normally after `ms` milliseconds. */
  | { type: 'delay'; ms: number };

export interface FakeTwitterStats {
  /** Calls to each endpoint so far, rejected and faulted ones included. */
  requestToken: number;
  accessToken: number;
  usersMe: number;
  verifyCredentials: number;
  /** TCP connections accepted so far: a client reusing keep-alive connections keeps this low. */
  connections: number;
  /** Request tokens issued and not yet exchanged, cancelled or expired. */
  pendingRequestTokens: number;
}

/** The fake's endpoint URLs, named as the strategy's and the client's options name them. */
export interface FakeTwitterEndpoints {
  requestTokenURL: string;
  accessTokenURL: string;
  userAuthorizationURL: string;
  authorizeURL: string;
}

export interface FakeTwitter {
  /** `http://127.0.0.1:PORT` (`https://` with the `tls` option). */
  url: string;
  /** `POST` here for a request token. */
  requestTokenURL: string;
  /** `POST` here to exchange the approved request token for an access token. */
  accessTokenURL: string;
  /** Send the user here (Sign in with Twitter: skips the approval page once approved). */
  userAuthorizationURL: string;
  /** Like `userAuthorizationURL`, but always asks the user to approve. */
  authorizeURL: string;
  /**
   * The four endpoint URLs above as one object, to spread into the strategy's or the client's
   * options: `new TwitterSignInStrategy({ consumerKey, consumerSecret, callbackURL, ...fake.endpoints }, verify)`.
   */
  endpoints: FakeTwitterEndpoints;
  consumerKey: string;
  /** Stops the server, closing every connection (idle keep-alive and hanging ones too). */
  close(): Promise<void>;
  /** The next `times` calls (default: all until `clearFaults()`) to `endpoint` get `fault`. */
  injectFault(endpoint: FakeEndpoint, fault: FakeFault, opts?: { times?: number }): void;
  clearFaults(): void;
  stats(): FakeTwitterStats;
}

const HOST = '127.0.0.1';
const MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_REQUEST_TOKEN_TTL = 15 * 60 * 1000;
// Caps that keep a long-running fake's memory bounded; the oldest entry goes first.
const MAX_REQUEST_TOKENS = 10_000;
const MAX_ACCESS_TOKENS = 10_000;
const MAX_SESSIONS = 10_000;
const SESSION_TTL = 24 * 60 * 60 * 1000;
const SESSION_COOKIE = 'fake_twitter_session';

type CallStat = 'requestToken' | 'accessToken' | 'usersMe' | 'verifyCredentials';

/** Method and path of each endpoint that counts in `stats()` and can be faulted. */
const ENDPOINTS: Record<FakeEndpoint, { route: string; stat: CallStat }> = {
  request_token: { route: 'POST /oauth/request_token', stat: 'requestToken' },
  access_token: { route: 'POST /oauth/access_token', stat: 'accessToken' },
  users_me: { route: 'GET /2/users/me', stat: 'usersMe' },
  verify_credentials: { route: 'GET /1.1/account/verify_credentials.json', stat: 'verifyCredentials' },
};

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
}

interface Context {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  rawQuery: string;
  body: Buffer;
}

/**
 * Starts a fake Twitter on 127.0.0.1. Throws TypeError, naming the option, when an option is
 * missing or malformed.
 */
export function startFakeTwitter(options: FakeTwitterOptions): Promise<FakeTwitter> {
  return startFakeTwitterWithClock(options, Date.now);
}

/**
 * {@link startFakeTwitter} on a clock of the caller's: `now` (milliseconds, never going
 * backwards) decides when request tokens, sessions and nonces expire and which
 * `oauth_timestamp`s are in bounds. The fake's own tests move it by hand, so expiry is
 * checked exactly instead of by sleeping past a short TTL, which a loaded machine turns into
 * a race. Timers (the `delay` fault) still run on real time.
 *
 * @internal Not exported from `passport-twitter-signin/testing`; not part of the API.
 */
export async function startFakeTwitterWithClock(options: FakeTwitterOptions, now: () => number): Promise<FakeTwitter> {
  const provider = new FakeTwitterProvider(options, now);
  const url = await provider.listen();
  const endpoints: FakeTwitterEndpoints = {
    requestTokenURL: `${url}/oauth/request_token`,
    accessTokenURL: `${url}/oauth/access_token`,
    userAuthorizationURL: `${url}/oauth/authenticate`,
    authorizeURL: `${url}/oauth/authorize`,
  };
  return {
    url,
    ...endpoints,
    endpoints,
    consumerKey: options.consumerKey,
    close: () => provider.close(),
    injectFault: (endpoint, fault, opts) => provider.injectFault(endpoint, fault, opts),
    clearFaults: () => provider.clearFaults(),
    stats: () => provider.stats(),
  };
}

class FakeTwitterProvider {
  readonly #port: number;
  readonly #consumerKey: string;
  readonly #callbackURLs: URL[] | undefined;
  readonly #autoApprove: StoredUser | undefined;
  readonly #users: UserDirectory;
  readonly #verifier: RequestVerifier;
  readonly #server: Server;
  readonly #scheme: 'http' | 'https';
  readonly #routes: Map<string, (ctx: Context) => void | Promise<void>>;

  readonly #requestTokens: ExpiringMap<string, RequestToken>;
  readonly #accessTokens: ExpiringMap<string, AccessToken>;
  /** Session cookie value → user id: who is signed in to the fake in each browser. */
  readonly #sessions: ExpiringMap<string, string>;
  /** User id → the access the user has approved for the app (write includes read). */
  readonly #approvals = new Map<string, AccessType>();

  readonly #faults = new Map<FakeEndpoint, { fault: FakeFault; remaining: number }>();
  readonly #delays = new Set<NodeJS.Timeout>();
  readonly #stats: Record<CallStat | 'connections', number> = {
    requestToken: 0,
    accessToken: 0,
    usersMe: 0,
    verifyCredentials: 0,
    connections: 0,
  };
  #closed: Promise<void> | undefined;

  constructor(options: FakeTwitterOptions, now: () => number) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object.');
    for (const field of ['consumerKey', 'consumerSecret'] as const) {
      if (typeof options[field] !== 'string' || options[field] === '') {
        throw new TypeError(`options.${field} is required: the fake checks signatures with it.`);
      }
    }
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TypeError('options.port must be an integer from 0 to 65535.');
    }
    const ttl = options.requestTokenTTL ?? DEFAULT_REQUEST_TOKEN_TTL;
    if (typeof ttl !== 'number' || !(ttl > 0) || !Number.isFinite(ttl)) {
      throw new TypeError('options.requestTokenTTL must be a positive number of milliseconds.');
    }
    if (options.tls !== undefined) {
      const { cert, key } = (options.tls ?? {}) as { cert?: unknown; key?: unknown };
      if (![cert, key].every((pem) => typeof pem === 'string' || Buffer.isBuffer(pem))) {
        throw new TypeError('options.tls must be { cert, key }, each a PEM string or Buffer.');
      }
    }
    this.#port = port;
    this.#consumerKey = options.consumerKey;
    this.#callbackURLs = resolveCallbackURLs(options.callbackURLs);
    this.#users = new UserDirectory(options.users);
    this.#autoApprove =
      options.autoApprove === undefined ? undefined : this.#users.ensure(options.autoApprove, 'options.autoApprove');
    this.#verifier = new RequestVerifier(options.consumerKey, options.consumerSecret, now);
    this.#requestTokens = new ExpiringMap(ttl, MAX_REQUEST_TOKENS, now);
    this.#accessTokens = new ExpiringMap(Infinity, MAX_ACCESS_TOKENS, now);
    this.#sessions = new ExpiringMap(SESSION_TTL, MAX_SESSIONS, now);

    this.#routes = new Map<string, (ctx: Context) => void | Promise<void>>([
      [ENDPOINTS.request_token.route, (ctx) => this.#requestToken(ctx)],
      [ENDPOINTS.access_token.route, (ctx) => this.#accessToken(ctx)],
      [ENDPOINTS.users_me.route, (ctx) => this.#usersMe(ctx)],
      [ENDPOINTS.verify_credentials.route, (ctx) => this.#verifyCredentials(ctx)],
      ['GET /oauth/authenticate', (ctx) => this.#authorizationPage(ctx, 'authenticate')],
      ['GET /oauth/authorize', (ctx) => this.#authorizationPage(ctx, 'authorize')],
      [`POST ${DECIDE_PATH}`, (ctx) => this.#decide(ctx)],
    ]);
    const handle = (req: IncomingMessage, res: ServerResponse): void => {
      this.#dispatch(req, res).catch((error: unknown) => answerFailure(res, error));
    };
    this.#scheme = options.tls === undefined ? 'http' : 'https';
    // An https.Server is a tls.Server, but it has every method of an http.Server used here.
    this.#server =
      options.tls === undefined ? createServer(handle) : (createTLSServer({ cert: options.tls.cert, key: options.tls.key }, handle) as unknown as Server);
    this.#server.on('connection', () => {
      this.#stats.connections += 1;
    });
  }

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, HOST, () => {
        this.#server.off('error', reject);
        resolve(`${this.#scheme}://${HOST}:${(this.#server.address() as AddressInfo).port}`);
      });
    });
  }

  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      for (const timer of this.#delays) clearTimeout(timer);
      this.#delays.clear();
      this.#server.close(() => resolve());
      // close() only stops accepting; hanging requests and idle keep-alive sockets would keep
      // it (and the test run) waiting.
      this.#server.closeAllConnections();
    });
    return this.#closed;
  }

  injectFault(endpoint: FakeEndpoint, fault: FakeFault, opts: { times?: number } = {}): void {
    if (!Object.hasOwn(ENDPOINTS, endpoint)) {
      throw new TypeError(`endpoint must be one of ${Object.keys(ENDPOINTS).join(', ')}.`);
    }
    assertFault(fault);
    const times = opts.times ?? Infinity;
    if (times !== Infinity && !(Number.isInteger(times) && times > 0)) {
      throw new TypeError('opts.times must be a positive integer.');
    }
    this.#faults.set(endpoint, { fault, remaining: times });
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  stats(): FakeTwitterStats {
    return { ...this.#stats, pendingRequestTokens: this.#requestTokens.size };
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const rawQuery = q === -1 ? '' : target.slice(q + 1);
    const route = `${req.method} ${path}`;
    const handler = this.#routes.get(route);
    if (!handler) {
      req.resume();
      sendTwitterError(res, PAGE_DOES_NOT_EXIST);
      return;
    }
    const endpoint = (Object.keys(ENDPOINTS) as FakeEndpoint[]).find((name) => ENDPOINTS[name].route === route);
    if (endpoint !== undefined) {
      this.#stats[ENDPOINTS[endpoint].stat] += 1;
      const fault = this.#takeFault(endpoint);
      if (fault !== undefined && (await this.#applyFault(fault, req, res))) return;
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    await handler({ req, res, path, rawQuery, body });
  }

  #takeFault(endpoint: FakeEndpoint): FakeFault | undefined {
    const entry = this.#faults.get(endpoint);
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.#faults.delete(endpoint);
    return entry.fault;
  }

  /** Returns true when the fault took the place of the answer. */
  async #applyFault(fault: FakeFault, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if ('status' in fault) {
      req.resume();
      res.writeHead(fault.status, {
        'content-type': fault.contentType ?? 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(fault.body ?? ''),
        ...fault.headers,
      });
      res.end(fault.body ?? '');
      return true;
    }
    switch (fault.type) {
      case 'reset':
        req.socket.resetAndDestroy();
        return true;
      case 'hang':
        // Read the request so it is complete: only the answer is missing, as with a stalled server.
        req.resume();
        return true;
      case 'delay':
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.#delays.delete(timer);
            resolve();
          }, fault.ms);
          this.#delays.add(timer);
        });
        return false;
    }
  }

  /** Parses and verifies a signed request; on failure answers Twitter's error and returns undefined. */
  #verified(ctx: Context, tokenSecret?: (token: string) => string | undefined): OAuthRequest | undefined {
    const request = parseOAuthRequest(ctx.req, ctx.path, ctx.rawQuery, ctx.body, this.#scheme);
    const error = this.#verifier.verify(request, tokenSecret);
    if (error === undefined) return request;
    sendTwitterError(ctx.res, error);
    return undefined;
  }

  /** @see https://developer.twitter.com/en/docs/authentication/api-reference/request_token */
  #requestToken(ctx: Context): void {
    const request = this.#verified(ctx);
    if (request === undefined) return;
    // RFC 5849 §2.1: oauth_callback is REQUIRED (OAuth 1.0a); `oob` when there is no callback.
    const callback = request.oauth.get('oauth_callback');
    if (!callback) return sendTwitterError(ctx.res, BAD_AUTHENTICATION_DATA);
    if (!this.#callbackApproved(callback)) {
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

  #callbackApproved(callback: string): boolean {
    if (callback === 'oob') return true;
    const url = parseHttpURL(callback);
    if (url === undefined) return false;
    return (
      this.#callbackURLs === undefined ||
      this.#callbackURLs.some((r) => r.protocol === url.protocol && r.host === url.host && r.pathname === url.pathname)
    );
  }

  /** @see https://developer.twitter.com/en/docs/authentication/api-reference/access_token */
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
    const user = this.#users.get(pending.approval.userId)!;
    // Twitter's access tokens start with the user id.
    const accessToken = `${user.id}-${randomToken()}`;
    const accessSecret = randomToken();
    this.#accessTokens.set(accessToken, { secret: accessSecret, userId: user.id });
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
    const { userId } = this.#accessTokens.get(request.oauth.get('oauth_token')!)!;
    return { request, user: this.#users.get(userId)! };
  }

  /** @see https://developer.twitter.com/en/docs/twitter-api/users/lookup/api-reference/get-users-me */
  #usersMe(ctx: Context): void {
    const verified = this.#profileRequest(ctx);
    if (verified === undefined) return;
    const fields = (requestParam(verified.request, 'user.fields') ?? '').split(',').filter((f) => f !== '');
    const invalid = fields.filter((field) => !V2_USER_FIELDS.includes(field));
    if (invalid.length > 0) return sendJSON(ctx.res, 400, invalidFieldsProblem('user.fields', invalid, V2_USER_FIELDS));
    sendJSON(ctx.res, 200, { data: v2User(verified.user, fields) });
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
   * @see https://developer.twitter.com/en/docs/authentication/guides/log-in-with-twitter#tab2
   */
  #authorizationPage(ctx: Context, endpoint: 'authenticate' | 'authorize'): void {
    const query = parseFormEncoded(ctx.rawQuery);
    const param = (name: string): string | undefined => query.find(([n]) => n === name)?.[1];
    const token = param('oauth_token') ?? '';
    const pending = this.#requestTokens.get(token);
    if (pending === undefined || pending.approval !== undefined) {
      return sendPage(ctx.res, 400, errorPage(INVALID_TOKEN_MESSAGE));
    }
    if (this.#autoApprove !== undefined) return this.#approve(ctx.res, token, pending, this.#autoApprove);

    const user = this.#sessionUser(ctx.req);
    const forceLogin = param('force_login') === 'true';
    if (user === undefined || forceLogin) {
      const page = signInPage({ ...this.#app(pending), oauthToken: token, username: param('screen_name') });
      return sendPage(ctx.res, 200, page);
    }
    if (endpoint === 'authenticate' && this.#hasApproved(user, pending.accessType)) {
      return this.#approve(ctx.res, token, pending, user);
    }
    sendPage(
      ctx.res,
      200,
      approvePage({
        ...this.#app(pending),
        oauthToken: token,
        screenName: user.screen_name,
        allowLabel: endpoint === 'authorize' ? 'Authorize app' : 'Sign in',
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
      if (pending.callback === 'oob') return sendPage(ctx.res, 200, deniedPage(this.#app(pending)));
      return redirect(ctx.res, appendQuery(pending.callback, [['denied', token]]));
    }
    if (decision !== 'allow') return sendPage(ctx.res, 400, errorPage('Choose Sign in or Cancel.'));

    const username = field('username');
    if (username === undefined) {
      const user = this.#sessionUser(ctx.req);
      // The session ended between showing the page and submitting it: ask for credentials.
      if (user === undefined) return sendPage(ctx.res, 200, signInPage({ ...this.#app(pending), oauthToken: token }));
      return this.#approve(ctx.res, token, pending, user);
    }
    const user = this.#users.signIn(username, field('password') ?? '');
    if (user === undefined) {
      return sendPage(
        ctx.res,
        200,
        signInPage({
          ...this.#app(pending),
          oauthToken: token,
          username,
          error: 'The username and password you entered did not match our records. Please double-check and try again.',
        }),
      );
    }
    // A fresh session id at sign-in, so a session id planted before it is worth nothing after.
    const previous = readCookie(ctx.req, SESSION_COOKIE);
    if (previous !== undefined) this.#sessions.delete(previous);
    const session = randomToken();
    this.#sessions.set(session, user.id);
    ctx.res.setHeader('set-cookie', `${SESSION_COOKIE}=${session}; Path=/; HttpOnly; SameSite=Lax`);
    this.#approve(ctx.res, token, pending, user);
  }

  /** Records the approval and sends the user back: to the callback, or to the PIN page for `oob`. */
  #approve(res: ServerResponse, token: string, pending: RequestToken, user: StoredUser): void {
    const oob = pending.callback === 'oob';
    // Twitter's PINs are 7 digits, for a person to type; callbacks get a long random verifier.
    const verifier = oob ? String(randomInt(0, 10_000_000)).padStart(7, '0') : randomToken();
    pending.approval = { userId: user.id, verifier };
    if (!this.#hasApproved(user, pending.accessType)) this.#approvals.set(user.id, pending.accessType);
    if (oob) return sendPage(res, 200, pinPage({ ...this.#app(pending), pin: verifier }));
    redirect(res, appendQuery(pending.callback, [['oauth_token', token], ['oauth_verifier', verifier]]));
  }

  #hasApproved(user: StoredUser, accessType: AccessType): boolean {
    const approved = this.#approvals.get(user.id);
    return approved === 'write' || approved === accessType;
  }

  #sessionUser(req: IncomingMessage): StoredUser | undefined {
    const session = readCookie(req, SESSION_COOKIE);
    const userId = session === undefined ? undefined : this.#sessions.get(session);
    return userId === undefined ? undefined : this.#users.get(userId);
  }

  /** What the pages show about the app: the fake knows it only by its consumer key. */
  #app(pending: RequestToken): { appName: string; accessType: AccessType } {
    return { appName: this.#consumerKey, accessType: pending.accessType };
  }
}

/** Answers a request whose handler threw; the server keeps running whatever happened. */
function answerFailure(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof MalformedRequestError) return sendTwitterError(res, BAD_AUTHENTICATION_DATA);
  // Close the connection rather than read the rest of an oversized body.
  if (error instanceof BodyTooLargeError) return sendTwitterError(res, BODY_TOO_LARGE, { connection: 'close' });
  sendTwitterError(res, INTERNAL_ERROR);
}

function resolveCallbackURLs(callbackURLs: string[] | undefined): URL[] | undefined {
  if (callbackURLs === undefined) return undefined;
  if (!Array.isArray(callbackURLs)) throw new TypeError('options.callbackURLs must be an array of URLs.');
  return callbackURLs.map((value, i) => {
    const url = typeof value === 'string' ? parseHttpURL(value) : undefined;
    if (url === undefined) throw new TypeError(`options.callbackURLs[${i}] must be an absolute http(s) URL.`);
    return url;
  });
}

function parseHttpURL(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function assertFault(fault: FakeFault): void {
  if (typeof fault !== 'object' || fault === null) throw new TypeError('fault must be an object.');
  if ('status' in fault) {
    if (!Number.isInteger(fault.status) || fault.status < 200 || fault.status > 599) {
      throw new TypeError('fault.status must be an HTTP status from 200 to 599.');
    }
    return;
  }
  if (fault.type === 'delay') {
    if (!(fault.ms >= 0) || !Number.isFinite(fault.ms)) throw new TypeError('fault.ms must be a non-negative number.');
    return;
  }
  if (fault.type !== 'reset' && fault.type !== 'hang') {
    throw new TypeError("fault must have a status, or type 'reset', 'hang' or 'delay'.");
  }
}

/** 256 random bits, URL-safe, for tokens, secrets, verifiers and session ids. */
function randomToken(): string {
  return randomBytes(32).toString('base64url');
}
