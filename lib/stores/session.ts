/**
 * The default request-token store: pending sign-ins kept in the session (express-session or any
 * middleware that sets `req.session`).
 */
import type { IncomingMessage } from 'node:http';
import { timingSafeEqualString } from '../compare.js';
import { TwitterSignInError } from '../errors.js';
import type { PendingSignIn, RequestTokenStore } from './store.js';

/** How long a pending sign-in is accepted by default: 10 minutes. */
export const DEFAULT_PENDING_TTL = 10 * 60 * 1000;
/** How many pending sign-ins one browser keeps by default; the newest win. */
export const DEFAULT_MAX_PENDING = 5;

export interface SessionRequestTokenStoreOptions {
  /** The session property that holds this strategy's pending sign-ins. Required. */
  key: string;
  /** Milliseconds a pending sign-in is accepted. Default 600000 (10 minutes). */
  ttl?: number;
  /** Pending sign-ins kept per browser (two tabs, a double click); the newest win. Default 5. */
  max?: number;
}

// [token, tokenSecret, expiresAt]: a tuple keeps the session small (it is serialised on every
// request that touches it, and stored in Redis or a cookie by many apps).
type Entry = [string, string, number];

type SessionLike = Record<string, unknown>;

export class SessionRequestTokenStore implements RequestTokenStore {
  readonly key: string;
  readonly ttl: number;
  readonly max: number;

  constructor(options: SessionRequestTokenStoreOptions) {
    if (typeof options?.key !== 'string' || options.key.length === 0) {
      throw new TypeError('key is required and must be a non-empty string');
    }
    this.key = options.key;
    this.ttl = positive(options.ttl ?? DEFAULT_PENDING_TTL, 'ttl');
    this.max = positive(options.max ?? DEFAULT_MAX_PENDING, 'max');
  }

  set(req: IncomingMessage, token: string, tokenSecret: string): void {
    const session = sessionOf(req);
    const now = Date.now();
    // Abandoned starts must not grow the session: drop the expired ones, keep the newest few.
    const entries = this.#entries(session).filter((e) => e[2] > now);
    entries.push([token, tokenSecret, now + this.ttl]);
    session[this.key] = entries.slice(-this.max);
  }

  get(req: IncomingMessage, token: string): PendingSignIn | undefined {
    const session = sessionOf(req);
    let found: Entry | undefined;
    // Look at every entry, not just until the first match, so timing does not reveal which.
    for (const entry of this.#entries(session)) {
      if (timingSafeEqualString(entry[0], token) && !found) found = entry;
    }
    return found && { token: found[0], tokenSecret: found[1], expiresAt: found[2] };
  }

  destroy(req: IncomingMessage, token: string): void {
    const session = sessionOf(req);
    const entries = this.#entries(session).filter((e) => !timingSafeEqualString(e[0], token));
    if (entries.length > 0) session[this.key] = entries;
    else delete session[this.key];
  }

  hasPending(req: IncomingMessage): boolean {
    return this.#entries(sessionOf(req)).length > 0;
  }

  // Whatever is in the session came from a store we do not control (an older version, another
  // library using the same key): only well-formed entries count.
  #entries(session: SessionLike): Entry[] {
    const value = Object.hasOwn(session, this.key) ? session[this.key] : undefined;
    if (!Array.isArray(value)) return [];
    return value.filter(
      (e): e is Entry =>
        Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string' && typeof e[2] === 'number',
    );
  }
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

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number`);
  return value;
}
