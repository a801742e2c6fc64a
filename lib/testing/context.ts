/**
 * What the fake's two protocols share: the app as its developer registered it (name, callback
 * URLs), the accounts, and who is signed in to the fake in each browser. Each protocol module
 * (oauth1.ts, oauth2.ts) adds its own routes on top; server.ts serves them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { ExpiringMap } from './expiring-map.js';
import { readCookie } from './http.js';
import type { FakeEndpoint } from './server.js';
import { UserDirectory, type FakeTwitterUser, type StoredUser } from './users.js';

/** One request, read: what a route handler gets. */
export interface Context {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  rawQuery: string;
  body: Buffer;
}

/** A route a protocol module serves: `METHOD /path`, and the fault/stats endpoint it counts as. */
export interface Route {
  route: string;
  endpoint?: FakeEndpoint;
  handle(ctx: Context): void | Promise<void>;
}

const MAX_SESSIONS = 10_000;
const SESSION_TTL = 24 * 60 * 60 * 1000;
const SESSION_COOKIE = 'fake_twitter_session';

export interface FakeAppOptions {
  appName: string;
  callbackURLs: string[] | undefined;
  users: FakeTwitterUser[] | undefined;
  autoApprove: { id: string; screen_name: string } | undefined;
  now: () => number;
}

export class FakeApp {
  /** What the consent pages call the app. */
  readonly appName: string;
  readonly users: UserDirectory;
  /** Approve every sign-in at once as this user. */
  readonly autoApprove: StoredUser | undefined;
  readonly now: () => number;
  readonly #callbackURLs: URL[] | undefined;
  /** The registered URLs as the developer typed them, for OAuth 2.0's exact match. */
  readonly #callbackStrings: ReadonlySet<string> | undefined;
  /** Session cookie value → user id: who is signed in to the fake in each browser. */
  readonly #sessions: ExpiringMap<string, string>;

  constructor(options: FakeAppOptions) {
    this.appName = options.appName;
    this.now = options.now;
    this.#callbackURLs = resolveCallbackURLs(options.callbackURLs);
    this.#callbackStrings = options.callbackURLs === undefined ? undefined : new Set(options.callbackURLs);
    this.users = new UserDirectory(options.users);
    this.autoApprove =
      options.autoApprove === undefined ? undefined : this.users.ensure(options.autoApprove, 'options.autoApprove');
    this.#sessions = new ExpiringMap(SESSION_TTL, MAX_SESSIONS, options.now);
  }

  /**
   * Whether `callback` is registered for the app. OAuth 1.0a compares scheme, host, port and path
   * (Twitter ignores the query); OAuth 2.0 asks for the exact URL (`exact`), as X does: the
   * string itself, not what a URL parser makes of it (RFC 6749 §3.1.2.3, simple string
   * comparison), so `HTTP://…`, `/./` or `127.1` do not pass for the registered spelling.
   * Without registered URLs, any http(s) URL is.
   */
  callbackRegistered(callback: string, exact: boolean): boolean {
    const url = parseHttpURL(callback);
    if (url === undefined) return false;
    if (this.#callbackURLs === undefined) return true;
    if (exact) return this.#callbackStrings!.has(callback);
    return this.#callbackURLs.some((r) => r.protocol === url.protocol && r.host === url.host && r.pathname === url.pathname);
  }

  /** Who is signed in to the fake in the browser that sent `req`. */
  sessionUser(req: IncomingMessage): StoredUser | undefined {
    const session = readCookie(req, SESSION_COOKIE);
    const userId = session === undefined ? undefined : this.#sessions.get(session);
    return userId === undefined ? undefined : this.users.get(userId);
  }

  /**
   * Signs the browser in with a username and password; `undefined` when they do not match. A
   * fresh session id at sign-in, so a session id planted before it is worth nothing after.
   */
  signIn(ctx: Context, username: string, password: string): StoredUser | undefined {
    const user = this.users.signIn(username, password);
    if (user === undefined) return undefined;
    const previous = readCookie(ctx.req, SESSION_COOKIE);
    if (previous !== undefined) this.#sessions.delete(previous);
    const session = randomToken();
    this.#sessions.set(session, user.id);
    ctx.res.setHeader('set-cookie', `${SESSION_COOKIE}=${session}; Path=/; HttpOnly; SameSite=Lax`);
    return user;
  }
}

/** The sign-in form's wording when credentials do not match, as Twitter's. */
export const WRONG_PASSWORD =
  'The username and password you entered did not match our records. Please double-check and try again.';

function resolveCallbackURLs(callbackURLs: string[] | undefined): URL[] | undefined {
  if (callbackURLs === undefined) return undefined;
  if (!Array.isArray(callbackURLs)) throw new TypeError('options.callbackURLs must be an array of URLs.');
  return callbackURLs.map((value, i) => {
    const url = typeof value === 'string' ? parseHttpURL(value) : undefined;
    if (url === undefined) throw new TypeError(`options.callbackURLs[${i}] must be an absolute http(s) URL.`);
    return url;
  });
}

export function parseHttpURL(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** 256 random bits, URL-safe, for tokens, secrets, verifiers, codes and session ids. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}
