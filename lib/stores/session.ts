/**
 * The default request-token store: pending sign-ins kept in the session (express-session or any
 * middleware that sets `req.session`).
 */
import type { IncomingMessage } from 'node:http';
import { TwitterSignInError } from '../errors.js';
import {
  DEFAULT_MAX_PENDING,
  DEFAULT_PENDING_TTL,
  entriesOf,
  findEntry,
  positiveInteger,
  withEntry,
  withoutEntry,
  type Entry,
} from './entries.js';
import type { PendingSignIn, RequestTokenStore } from './store.js';

export { DEFAULT_MAX_PENDING, DEFAULT_PENDING_TTL };

export interface SessionRequestTokenStoreOptions {
  /**
   * The session property that holds the pending sign-ins. Default: the strategy's scope
   * (`sessionKey`, itself `oauth:twitter:<consumerKey>` by default), so one store can serve
   * several strategies. Set it only to move the data: under a fixed key, each strategy's entries
   * stay apart by scope (`{ [scope]: entries }`), so one strategy's token is never another's.
   */
  key?: string;
  /** Milliseconds a pending sign-in is accepted. Default 600000 (10 minutes). */
  ttl?: number;
  /** Pending sign-ins kept per browser (two tabs, a double click); the newest win. Default 5. */
  max?: number;
}

type SessionLike = Record<string, unknown>;

export class SessionRequestTokenStore implements RequestTokenStore {
  readonly key: string | undefined;
  readonly ttl: number;
  readonly max: number;

  constructor(options: SessionRequestTokenStoreOptions = {}) {
    if (options.key !== undefined && (typeof options.key !== 'string' || options.key.length === 0)) {
      throw new TypeError('key must be a non-empty string');
    }
    this.key = options.key;
    this.ttl = positiveInteger(options.ttl ?? DEFAULT_PENDING_TTL, 'ttl');
    this.max = positiveInteger(options.max ?? DEFAULT_MAX_PENDING, 'max');
  }

  check(req: IncomingMessage): void {
    sessionOf(req);
  }

  set(req: IncomingMessage, token: string, tokenSecret: string, scope: string): void {
    const session = sessionOf(req);
    this.#write(session, scope, withEntry(this.#entries(session, scope), token, tokenSecret, this.ttl, this.max));
  }

  get(req: IncomingMessage, token: string, scope: string): PendingSignIn | undefined {
    return findEntry(this.#entries(sessionOf(req), scope), token);
  }

  destroy(req: IncomingMessage, token: string, scope: string): void {
    const session = sessionOf(req);
    this.#write(session, scope, withoutEntry(this.#entries(session, scope), token));
  }

  hasPending(req: IncomingMessage, scope: string): boolean {
    return this.#entries(sessionOf(req), scope).length > 0;
  }

  #entries(session: SessionLike, scope: string): Entry[] {
    if (this.key === undefined) return entriesOf(Object.hasOwn(session, scope) ? session[scope] : undefined);
    const byScope = Object.hasOwn(session, this.key) ? session[this.key] : undefined;
    return entriesOf(isRecord(byScope) && Object.hasOwn(byScope, scope) ? byScope[scope] : undefined);
  }

  /** Stores `entries` as this scope's, removing what becomes empty (sessions stay small). */
  #write(session: SessionLike, scope: string, entries: Entry[]): void {
    if (this.key === undefined) {
      if (entries.length > 0) session[scope] = entries;
      else delete session[scope];
      return;
    }
    const current = Object.hasOwn(session, this.key) ? session[this.key] : undefined;
    const byScope: Record<string, unknown> = isRecord(current) ? { ...current } : {};
    if (entries.length > 0) byScope[scope] = entries;
    else delete byScope[scope];
    if (Object.keys(byScope).length > 0) session[this.key] = byScope;
    else delete session[this.key];
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sessionOf(req: IncomingMessage): SessionLike {
  const session = (req as IncomingMessage & { session?: unknown }).session;
  if (!session || typeof session !== 'object') {
    throw new TwitterSignInError(
      'ERR_SESSION_REQUIRED',
      'Sign in with Twitter needs a session to keep the pending sign-in in, and req.session is missing. ' +
        'Did you forget to use express-session middleware (app.use(session(...))) before passport? ' +
        'Apps without sessions can use CookieRequestTokenStore as requestTokenStore instead.',
    );
  }
  return session as SessionLike;
}
