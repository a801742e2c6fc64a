/**
 * A fake Twitter (X) on loopback, for tests and local development: OAuth 1.0a and OAuth 2.0 on
 * one server, with one set of accounts, pages and faults.
 *
 * It is as strict as X where clients go wrong (signatures, registered callbacks, one-time
 * tokens, codes and verifiers, PKCE, client authentication), and errors come in X's shapes.
 * Faults (error answers, resets, hangs, delays) can be injected per endpoint to test a client's
 * failure handling. The protocols live in oauth1.ts and oauth2.ts; what they share (the app,
 * accounts, browser sessions) in context.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTLSServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { FakeApp, type Context, type Route } from './context.js';
import { BodyTooLargeError, readBody, sendTwitterError } from './http.js';
import { OAuth1Provider } from './oauth1.js';
import { AUTHORIZE_PATH, OAuth2Provider } from './oauth2.js';
import { MalformedRequestError } from './signature.js';
import { BAD_AUTHENTICATION_DATA, BODY_TOO_LARGE, INTERNAL_ERROR, PAGE_DOES_NOT_EXIST } from './twitter-errors.js';
import type { FakeTwitterUser } from './users.js';

export type { FakeTwitterUser } from './users.js';

/**
 * The fake's options: the app's OAuth 1.0a keys (`consumerKey` and `consumerSecret`), its OAuth
 * 2.0 client (`clientID`, and `clientSecret` for a confidential one), or both.
 */
export type FakeTwitterOptions = FakeTwitterCommonOptions &
  (
    | {
        /** The app's OAuth 1.0a consumer key (API key). */
        consumerKey: string;
        /** The app's OAuth 1.0a consumer secret (API key secret). */
        consumerSecret: string;
      }
    | { consumerKey?: undefined; consumerSecret?: undefined; clientID: string }
  );

export interface FakeTwitterCommonOptions {
  /** The app's OAuth 2.0 Client ID. Default: none, and the fake serves OAuth 1.0a only. */
  clientID?: string;
  /**
   * The app's OAuth 2.0 Client Secret: set, the app is a confidential client (X's "Web App"),
   * which must authenticate with HTTP Basic; unset, a public client, which sends `client_id`.
   */
  clientSecret?: string;
  /** The app's name on the consent pages. Default `'Example App'`. */
  appName?: string;
  /** Port on 127.0.0.1. Default: 0, any free port (read it from `url`). */
  port?: number;
  /**
   * The app's registered callback URLs. When given, OAuth 1.0a's `oauth_callback` must match one
   * in scheme, host, port and path (its query is ignored) or be `oob`, else 403 with Twitter's
   * code 415; OAuth 2.0's `redirect_uri` must be one exactly, else X's error page.
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
export type FakeEndpoint =
  | 'request_token'
  | 'access_token'
  | 'users_me'
  | 'verify_credentials'
  | 'oauth2_authorize'
  | 'oauth2_token'
  | 'oauth2_revoke';

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
  oauth2Authorize: number;
  oauth2Token: number;
  oauth2Revoke: number;
  /** TCP connections accepted so far: a client reusing keep-alive connections keeps this low. */
  connections: number;
  /** OAuth 1.0a request tokens issued and not yet exchanged, cancelled or expired. */
  pendingRequestTokens: number;
  /** OAuth 2.0 authorize requests not yet decided, and codes not yet exchanged or expired. */
  pendingAuthorizations: number;
}

/** The fake's OAuth 1.0a endpoint URLs, named as `TwitterSignInStrategy`'s options name them. */
export interface FakeTwitterEndpoints {
  requestTokenURL: string;
  accessTokenURL: string;
  userAuthorizationURL: string;
  authorizeURL: string;
}

/** The fake's OAuth 2.0 endpoint URLs, named as `TwitterOAuth2Strategy`'s options name them. */
export interface FakeTwitterOAuth2Endpoints {
  authorizationURL: string;
  tokenURL: string;
  revokeURL: string;
  profileURL: string;
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
  /**
   * The OAuth 2.0 endpoint URLs, to spread likewise:
   * `new TwitterOAuth2Strategy({ clientID, clientSecret, callbackURL, ...fake.oauth2Endpoints }, verify)`.
   */
  oauth2Endpoints: FakeTwitterOAuth2Endpoints;
  consumerKey: string | undefined;
  clientID: string | undefined;
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
const DEFAULT_APP_NAME = 'Example App';

type CallStat = Exclude<keyof FakeTwitterStats, 'pendingRequestTokens' | 'pendingAuthorizations'>;

/** The stats field each faultable endpoint counts in. */
const STAT: Record<FakeEndpoint, Exclude<CallStat, 'connections'>> = {
  request_token: 'requestToken',
  access_token: 'accessToken',
  users_me: 'usersMe',
  verify_credentials: 'verifyCredentials',
  oauth2_authorize: 'oauth2Authorize',
  oauth2_token: 'oauth2Token',
  oauth2_revoke: 'oauth2Revoke',
};

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
  const oauth2Endpoints: FakeTwitterOAuth2Endpoints = {
    authorizationURL: `${url}${AUTHORIZE_PATH}`,
    tokenURL: `${url}/2/oauth2/token`,
    revokeURL: `${url}/2/oauth2/revoke`,
    profileURL: `${url}/2/users/me`,
  };
  return {
    url,
    ...endpoints,
    endpoints,
    oauth2Endpoints,
    consumerKey: options.consumerKey,
    clientID: options.clientID,
    close: () => provider.close(),
    injectFault: (endpoint, fault, opts) => provider.injectFault(endpoint, fault, opts),
    clearFaults: () => provider.clearFaults(),
    stats: () => provider.stats(),
  };
}

class FakeTwitterProvider {
  readonly #port: number;
  readonly #server: Server;
  readonly #scheme: 'http' | 'https';
  readonly #routes = new Map<string, Route>();
  readonly #oauth1: OAuth1Provider | undefined;
  readonly #oauth2: OAuth2Provider | undefined;

  readonly #faults = new Map<FakeEndpoint, { fault: FakeFault; remaining: number }>();
  readonly #delays = new Set<NodeJS.Timeout>();
  readonly #stats: Record<CallStat, number> = {
    requestToken: 0,
    accessToken: 0,
    usersMe: 0,
    verifyCredentials: 0,
    oauth2Authorize: 0,
    oauth2Token: 0,
    oauth2Revoke: 0,
    connections: 0,
  };
  #closed: Promise<void> | undefined;

  constructor(options: FakeTwitterOptions, now: () => number) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object.');
    const oauth1 = options.consumerKey !== undefined || options.consumerSecret !== undefined || options.clientID === undefined;
    if (oauth1) {
      for (const field of ['consumerKey', 'consumerSecret'] as const) {
        if (typeof options[field] !== 'string' || options[field] === '') {
          throw new TypeError(`options.${field} is required: the fake checks OAuth 1.0a signatures with it (or give clientID for OAuth 2.0 only).`);
        }
      }
    }
    for (const field of ['clientID', 'clientSecret', 'appName'] as const) {
      if (options[field] !== undefined && (typeof options[field] !== 'string' || options[field] === '')) {
        throw new TypeError(`options.${field} must be a non-empty string.`);
      }
    }
    if (options.clientSecret !== undefined && options.clientID === undefined) {
      throw new TypeError('options.clientSecret needs options.clientID.');
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
    this.#scheme = options.tls === undefined ? 'http' : 'https';
    const app = new FakeApp({
      appName: options.appName ?? DEFAULT_APP_NAME,
      callbackURLs: options.callbackURLs,
      users: options.users,
      autoApprove: options.autoApprove,
      now,
    });
    this.#oauth1 = oauth1
      ? new OAuth1Provider(app, {
          consumerKey: options.consumerKey!,
          consumerSecret: options.consumerSecret!,
          requestTokenTTL: ttl,
          scheme: this.#scheme,
        })
      : undefined;
    this.#oauth2 =
      options.clientID === undefined ? undefined : new OAuth2Provider(app, { clientID: options.clientID, clientSecret: options.clientSecret });
    const routes: Route[] = [
      ...(this.#oauth1?.routes() ?? []),
      ...(this.#oauth2?.routes() ?? []),
      // One path, two protocols, told apart as X tells them: a bearer token, or an OAuth 1.0a signature.
      { route: 'GET /2/users/me', endpoint: 'users_me', handle: (ctx) => this.#usersMe(ctx) },
    ];
    for (const route of routes) this.#routes.set(route.route, route);

    const handle = (req: IncomingMessage, res: ServerResponse): void => {
      this.#dispatch(req, res).catch((error: unknown) => answerFailure(res, error));
    };
    // An https.Server is a tls.Server, but it has every method of an http.Server used here.
    this.#server =
      options.tls === undefined
        ? createServer(handle)
        : (createTLSServer({ cert: options.tls.cert, key: options.tls.key }, handle) as unknown as Server);
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
    if (!Object.hasOwn(STAT, endpoint)) {
      throw new TypeError(`endpoint must be one of ${Object.keys(STAT).join(', ')}.`);
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
    return {
      ...this.#stats,
      pendingRequestTokens: this.#oauth1?.pending ?? 0,
      pendingAuthorizations: this.#oauth2?.pending ?? 0,
    };
  }

  #usersMe(ctx: Context): void {
    if (/^Bearer /i.test(ctx.req.headers.authorization ?? '')) {
      if (this.#oauth2) return this.#oauth2.usersMe(ctx);
    } else if (this.#oauth1) {
      return this.#oauth1.usersMe(ctx);
    }
    sendTwitterError(ctx.res, { status: 401, message: 'Unauthorized' });
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const rawQuery = q === -1 ? '' : target.slice(q + 1);
    const route = this.#routes.get(`${req.method} ${path}`);
    if (!route) {
      req.resume();
      sendTwitterError(res, PAGE_DOES_NOT_EXIST);
      return;
    }
    if (route.endpoint !== undefined) {
      this.#stats[STAT[route.endpoint]] += 1;
      const fault = this.#takeFault(route.endpoint);
      if (fault !== undefined && (await this.#applyFault(fault, req, res))) return;
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    await route.handle({ req, res, path, rawQuery, body });
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
