/**
 * The contract of a request-token store: where a sign-in waits between the redirect to Twitter
 * and the callback.
 *
 * A pending sign-in holds the request token and its secret. The secret signs the access-token
 * exchange, so it must stay on the server side of the browser (the session) or be encrypted
 * (the cookie store). Each entry is one-time and expires.
 */
import type { IncomingMessage } from 'node:http';

/** A sign-in started by this browser and not yet finished. */
export interface PendingSignIn {
  /** The request token (`oauth_token`). */
  token: string;
  /** The request token's secret. */
  tokenSecret: string;
  /** When this pending sign-in stops being accepted, in milliseconds since the epoch. */
  expiresAt: number;
}

/**
 * What the strategy tells a store about the request, as the last argument of every method:
 * worked out once per request, by the rule that also gives a relative callback URL its scheme.
 * A store written before it existed ignores it; a store called without it (by older code, or by
 * the app directly) decides for itself.
 */
export interface StoreContext {
  /**
   * Whether the request reached the app over HTTPS, by the strategy's `proxy` option: `true`
   * believes a proxy's `X-Forwarded-Proto`, `false` only the socket's TLS, unset Express's
   * `trust proxy`. A cookie store sets `Secure` (and may use a `__Host-` name) by it.
   */
  readonly secure: boolean;
}

/**
 * Where pending sign-ins are kept. Every method may return a promise. `scope` names the strategy
 * (its `sessionKey`): a store keeps each scope's entries apart, so two Twitter apps never see
 * each other's tokens. `context`, the last argument, is optional, so stores written before it
 * existed keep working. Implementations must also:
 * - key entries by browser (session, cookie), so two browsers never see each other's tokens;
 * - match tokens in constant time (see `timingSafeEqualString`);
 * - bound what they keep (expired entries dropped, at most a few per browser).
 * A store that writes the response (a cookie store) finds it at `req.res`, which Express sets.
 */
export interface RequestTokenStore {
  /** Remembers a pending sign-in for this browser; the store stamps `expiresAt`. */
  set(req: IncomingMessage, token: string, tokenSecret: string, scope: string, context?: StoreContext): Promise<void> | void;
  /** The pending sign-in with this token, expired or not; `undefined` when there is none. */
  get(
    req: IncomingMessage,
    token: string,
    scope: string,
    context?: StoreContext,
  ): Promise<PendingSignIn | undefined> | PendingSignIn | undefined;
  /** Forgets the pending sign-in with this token (a no-op when there is none). */
  destroy(req: IncomingMessage, token: string, scope: string, context?: StoreContext): Promise<void> | void;
  /**
   * Whether this browser has any pending sign-in in this scope, expired or not. Lets the strategy
   * tell a lost session cookie (nothing pending) from a token that is unknown or already used.
   */
  hasPending?(req: IncomingMessage, scope: string, context?: StoreContext): Promise<boolean> | boolean;
  /**
   * Called before a sign-in starts: throws when the store cannot work for this request (no
   * session), so the app hears of it before Twitter is called.
   */
  check?(req: IncomingMessage, context?: StoreContext): Promise<void> | void;
}
