/**
 * What the two strategies share: a sign-in waits in a request-token store between the redirect
 * to Twitter and the callback; the callback must find it, once; then the app's `verify` runs
 * and the outcome goes to Passport, once. OAuth 1.0a's request token and OAuth 2.0's `state`
 * play the same part here (the key of the pending sign-in), as do the token secret and the PKCE
 * verifier (its secret).
 *
 * Each protocol's strategy (strategy.ts, oauth2-strategy.ts) says what its start and callback
 * send to Twitter; everything about pending sign-ins, the callback's checks and failures, verify
 * and the hand-off to Passport is here, once.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import { Strategy as PassportStrategy } from 'passport-strategy';
import { isHostAndPort, requestOrigin, resolveCallbackURL, storeContextOf } from './callback-url.js';
import { DEFAULT_TIMEOUT } from './checks.js';
import { TwitterSignInError, type SignInFailure, type SignInFailureCode } from './errors.js';
import type { SignInStrategyOptions } from './options.js';
import { SessionRequestTokenStore } from './stores/session.js';
import type { PendingSignIn, RequestTokenStore, StoreContext } from './stores/store.js';
import type { VerifyCallback, VerifyResult } from './verify.js';

/**
 * A one-time claim on a callback, taken before it is exchanged: resolves `true` for the first
 * claim of `key`, `false` for any later one, remembering it for `ttl` milliseconds. Backed by a
 * store every app instance shares (Redis `SET key 1 NX PX ttl`), it makes a doubled callback
 * (a reload, two tabs, a retrying proxy) reach Twitter exactly once across instances.
 */
export type CallbackClaim = (key: string, ttl: number) => Promise<boolean> | boolean;

/** Something the app's developer should know, though no sign-in failed because of it yet. */
export interface TwitterSignInWarning {
  /** `CALLBACK_HOST_MISMATCH`: a sign-in started on another host than its callback URL's. */
  code: 'CALLBACK_HOST_MISMATCH';
  message: string;
}

/** Where warnings go. Default: node's `process.emitWarning` (printed on stderr), once per kind and hosts. */
export type WarningHandler = (warning: TwitterSignInWarning) => void;

/** What one `authenticate()` call ends in; handed to Passport exactly once. */
export type Outcome =
  | { redirect: string }
  | { fail: SignInFailure | unknown }
  | { error: Error }
  | { user: Express.User; info?: unknown };

/** The request's query, as Express parsed it or from the URL. */
export type Query = Record<string, unknown>;

export interface SignInStrategyConfig {
  /** Passport's strategy name. */
  name: string;
  store: RequestTokenStore;
  /** Keeps this strategy's pending sign-ins apart from other strategies' in a shared store. */
  scope: string;
  proxy: boolean | undefined;
  callbackURL: string;
  callbackHosts: readonly string[] | undefined;
  verify: (...args: unknown[]) => VerifyResult;
  passReqToCallback: boolean;
  claim: CallbackClaim | undefined;
  onWarning: WarningHandler | undefined;
  timeout: number;
}

/**
 * The config of the shared core from a strategy's options (both strategies take the same shared
 * options: options.ts's SignInStrategyOptions).
 */
export function signInConfig(
  name: string,
  scope: string,
  options: SignInStrategyOptions & { passReqToCallback?: boolean },
  verify: (...args: never[]) => unknown,
): SignInStrategyConfig {
  return {
    name,
    store: options.requestTokenStore ?? new SessionRequestTokenStore(),
    scope: options.sessionKey ?? scope,
    proxy: options.proxy,
    callbackURL: options.callbackURL,
    callbackHosts: options.callbackHosts && [...options.callbackHosts],
    verify: verify as unknown as (...args: unknown[]) => VerifyResult,
    passReqToCallback: options.passReqToCallback === true,
    claim: options.claimCallback,
    onWarning: options.onWarning,
    timeout: options.timeout ?? DEFAULT_TIMEOUT,
  };
}

// Callbacks this process has taken, remembered until their pending sign-in would have expired,
// at most this many (the oldest forgotten first; the shared claim still covers those).
const MAX_USED = 50_000;

/**
 * Tokens (or states) whose callback this process has already taken. A second copy of a
 * callback may read a session that still lists the pending sign-in: a reload that aborted the
 * first request while its exchange runs, or slow middleware that loaded the session before the
 * first copy wrote it back. Remembered for the pending sign-in's lifetime, so that copy fails
 * before Twitter is called and writes nothing back.
 */
export class UsedTokens {
  readonly #expiry = new Map<string, number>();

  /** Takes `token` until `expiresAt`; `false` when it was already taken. */
  take(token: string, expiresAt: number): boolean {
    const now = Date.now();
    const known = this.#expiry.get(token);
    if (known !== undefined && known > now) return false;
    // Entries go in roughly in expiry order (one ttl per store): expired ones sit at the front.
    for (const [old, at] of this.#expiry) {
      if (at > now && this.#expiry.size < MAX_USED) break;
      this.#expiry.delete(old);
    }
    this.#expiry.set(token, Math.max(expiresAt, now + 1000));
    return true;
  }

  /** Forgets `token`: taken by a callback that failed before anything was sent to Twitter. */
  release(token: string): void {
    this.#expiry.delete(token);
  }

  has(token: string): boolean {
    const at = this.#expiry.get(token);
    return at !== undefined && at > Date.now();
  }

  /** How many tokens are remembered. */
  get size(): number {
    return this.#expiry.size;
  }
}

/**
 * The used callbacks of each scope, for the whole process: a strategy built per request (a
 * multi-tenant app) or two strategies of one app (`'twitter'` and a `'twitter-force'` twin)
 * share the scope's memory, so a callback taken by one is refused by the others.
 */
const usedByScope = new Map<string, UsedTokens>();

function usedTokensOf(scope: string): UsedTokens {
  let used = usedByScope.get(scope);
  if (used === undefined) usedByScope.set(scope, (used = new UsedTokens()));
  return used;
}

/**
 * The base of both strategies. Passport runs each request on `Object.create(strategy)`, so the
 * class uses TypeScript-private members: ECMAScript `#private` ones would throw on that derived
 * object.
 */
export abstract class SignInStrategy extends PassportStrategy {
  /** Passport's strategy name. */
  name: string;
  protected readonly _store: RequestTokenStore;
  protected readonly _scope: string;
  protected readonly _proxy: boolean | undefined;
  protected readonly _callbackURL: string;
  private readonly _callbackHosts: readonly string[] | undefined;
  private readonly _verify: (...args: unknown[]) => VerifyResult;
  private readonly _passReqToCallback: boolean;
  private readonly _claim: CallbackClaim | undefined;
  private readonly _onWarning: WarningHandler;
  /** This scope's used callbacks: shared by every strategy object of the scope in this process. */
  private readonly _used: UsedTokens;
  /** Milliseconds a store or claim call may take (the strategy's `timeout`). */
  private readonly _timeout: number;
  /** The warnings given already: each once per strategy, so a busy app's log is not flooded. */
  private readonly _warned = new Set<string>();

  protected constructor(config: SignInStrategyConfig) {
    super();
    this.name = config.name;
    this._store = config.store;
    this._scope = config.scope;
    this._proxy = config.proxy;
    this._callbackURL = config.callbackURL;
    this._callbackHosts = config.callbackHosts;
    this._verify = config.verify;
    this._passReqToCallback = config.passReqToCallback;
    this._claim = config.claim;
    this._used = usedTokensOf(config.scope);
    this._timeout = config.timeout;
    this._onWarning =
      config.onWarning ??
      ((warning) => process.emitWarning(warning.message, { type: 'TwitterSignInWarning', code: warning.code }));
  }

  override authenticate(req: Request, options?: Record<string, unknown>): void {
    // Worked out once, handed to every store call of this request.
    const callbackURL = typeof options?.callbackURL === 'string' ? options.callbackURL : this._callbackURL;
    const context = storeContextOf(req, this._proxy, callbackURL);
    this._run(req, queryOf(req), options ?? {}, context).then(
      (outcome) => this._settle(req, outcome),
      (err: unknown) => this._settle(req, { error: err instanceof Error ? err : new Error(String(err)) }),
    );
  }

  /** The protocol: the start or the callback, by the query. */
  protected abstract _run(req: Request, query: Query, options: Record<string, unknown>, context: StoreContext): Promise<Outcome>;

  /**
   * Hands the outcome to Passport, once, outside the sign-in's own error handling: if the app's
   * callback (passport.authenticate's) throws, that must not turn into a second outcome. Its
   * throw goes to Express's `next`, as a throw from a synchronous strategy would.
   */
  private _settle(req: Request, outcome: Outcome): void {
    try {
      if ('redirect' in outcome) this.redirect(outcome.redirect);
      else if ('fail' in outcome) this.fail(outcome.fail, 401);
      else if ('error' in outcome) this.error(outcome.error);
      else this.success(outcome.user, outcome.info);
    } catch (err) {
      if (typeof req.next === 'function') req.next(err);
      else process.nextTick(() => {
        throw err;
      });
    }
  }

  /**
   * Before a sign-in starts: the store says whether it can work here (no session), and the
   * callback URL is resolved (a relative one against a Host that must be a host), both before
   * Twitter is called.
   */
  protected async _prepareStart(req: Request, context: StoreContext, callbackURL: unknown): Promise<string> {
    if (this._store.check) await this._storeCall(() => this._store.check!(req, context));
    const resolved = this._resolveCallbackURL(req, callbackURL);
    this._warnOnHostMismatch(req, resolved);
    return resolved;
  }

  /**
   * The commonest mistake is silent: browsing `localhost` with a callback on `127.0.0.1` (or any
   * other host). Cookies are per host, so the session cookie set now is not sent to the callback,
   * and the callback fails with NO_PENDING_SIGN_IN. Said once per pair of hosts, as it starts.
   */
  private _warnOnHostMismatch(req: Request, callbackURL: string): void {
    const { host } = requestOrigin(req, this._proxy);
    if (host === undefined) return;
    // The Host header is the client's: only a plain host[:port] is compared.
    const started = cached(`host ${host}`, () => (isHostAndPort(host) ? new URL(`http://${host}`).hostname : undefined));
    const callback = cached(`url ${callbackURL}`, () => new URL(callbackURL).hostname);
    if (started === undefined || callback === undefined) return;
    if (started === callback) return;
    const key = `${started} ${callback}`;
    if (this._warned.has(key) || this._warned.size >= 100) return;
    this._warned.add(key);
    this._onWarning({
      code: 'CALLBACK_HOST_MISMATCH',
      message:
        `A sign-in with Twitter started on ${started}, but its callback URL ${callbackURL} is on ${callback}. ` +
        `The browser will not send the session cookie set on ${started} to ${callback}, so the callback will fail ` +
        `with NO_PENDING_SIGN_IN. Open the app on ${callback}, or set callbackURL to a URL on ${started} (registered ` +
        'in the developer console).',
    });
  }

  /** This sign-in's callback URL: the per-sign-in one, or the strategy's, resolved against the request. */
  protected _resolveCallbackURL(req: Request, override: unknown): string {
    const configured = typeof override === 'string' && override !== '' ? override : this._callbackURL;
    return resolveCallbackURL(configured, req, this._proxy, this._callbackHosts);
  }

  /** Remembers a pending sign-in for this browser: `key` comes back on the callback, `secret` stays here. */
  protected _remember(req: Request, key: string, secret: string, context: StoreContext): Promise<void> {
    return this._storeCall(() => this._store.set(req, key, secret, this._scope, context));
  }

  /**
   * The callback's pending sign-in for `key`, taken once: a failure when this browser has none
   * (a lost session cookie), none for this key (another browser's, or made up), when it was
   * already taken (a reload, a double click, an old link, a replay; here or, with the shared
   * claim, in any instance), or when it expired. Twitter is not called in any of those cases,
   * and a copy of a callback taken elsewhere changes nothing in the store, so it cannot write
   * a stale session over the one that signed in.
   */
  protected async _take(req: Request, key: string, context: StoreContext): Promise<PendingSignIn | Outcome> {
    const pending = await this._peek(req, key, context);
    if (isOutcome(pending)) return pending;
    if (!this._used.take(key, pending.expiresAt)) return ALREADY_USED;
    if (this._claim) {
      const claim = this._claim;
      const ttl = Math.max(1000, pending.expiresAt - Date.now());
      let claimed: boolean;
      try {
        claimed = await this._storeCall(() => claim(claimKey(this._scope, key), ttl));
      } catch (err) {
        // The claim's store is down: nothing was exchanged, so a retry once it is back may try again.
        this._used.release(key);
        throw err;
      }
      if (!claimed) return ALREADY_USED;
    }
    // One-time: forget it before the exchange, so a replayed callback can never exchange twice.
    await this._storeCall(() => this._store.destroy(req, key, this._scope, context));
    if (pending.expiresAt <= Date.now()) {
      return failure('EXPIRED_TOKEN', 'The sign-in with Twitter took too long and expired. Start the sign-in again.');
    }
    return pending;
  }

  /**
   * The pending sign-in for `key` in this browser, without taking it; or the failure that says
   * why there is none (`_take`'s, above).
   */
  protected async _peek(req: Request, key: string, context: StoreContext): Promise<PendingSignIn | Outcome> {
    const pending = await this._storeCall(() => this._store.get(req, key, this._scope, context));
    if (!pending) {
      if (this._used.has(key)) return ALREADY_USED;
      const anyPending = this._store.hasPending
        ? await this._storeCall(() => this._store.hasPending!(req, this._scope, context))
        : true;
      return anyPending ? UNKNOWN : NO_PENDING;
    }
    // A custom store that forgets to stamp expiresAt would otherwise keep it forever.
    if (typeof pending.expiresAt !== 'number' || !Number.isFinite(pending.expiresAt) || typeof pending.tokenSecret !== 'string') {
      throw new TwitterSignInError(
        'ERR_STORE',
        'The request-token store returned a pending sign-in without a tokenSecret string and a finite expiresAt (milliseconds since the epoch): set() must stamp it.',
      );
    }
    return pending;
  }

  /** The user cancelled at Twitter: that pending sign-in (when the callback names one) is dropped. */
  protected async _denied(req: Request, key: string | undefined, context: StoreContext): Promise<Outcome> {
    if (key !== undefined) await this._storeCall(() => this._store.destroy(req, key, this._scope, context));
    return failure('DENIED', 'The sign-in with Twitter was cancelled.');
  }

  /**
   * Calls the app's `verify` in whichever form it was written: with or without `req` first,
   * with or without `params` before `profile` (told apart by arity), and with a `done`
   * callback or returning a promise or a value. The first outcome wins.
   */
  protected _runVerify(req: Request, credentials: readonly unknown[], params: unknown, profile: unknown): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const done: VerifyCallback = (err, user, info) => {
        if (settled) return;
        settled = true;
        if (err) resolve({ error: err instanceof Error ? err : new Error(String(err)) });
        else if (!user) resolve({ fail: info ?? { message: 'The app refused this sign-in.' } });
        else resolve({ user, info });
      };
      const head: unknown[] = this._passReqToCallback ? [req] : [];
      const withParams = this._verify.length >= head.length + credentials.length + 3;
      const args = [...head, ...credentials, ...(withParams ? [params] : []), profile, done];
      let result: VerifyResult;
      try {
        result = this._verify(...args);
      } catch (err) {
        done(err);
        return;
      }
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<Express.User | false | null | undefined>).then(
          (user) => done(null, user ?? false),
          (err: unknown) => done(err ?? new Error('verify rejected')),
        );
      } else if (this._verify.length < args.length) {
        // It declares no `done`, so it will never call it: what it returned is the answer.
        done(null, (result as Express.User | false | null | undefined) ?? false);
      }
    });
  }

  // A store failure is the app's infrastructure, not Twitter: keep its own typed errors, wrap others.
  protected async _storeCall<T>(call: () => Promise<T> | T): Promise<T> {
    try {
      const result = call();
      // A store or claim on the network (Redis while it is down: node-redis queues commands)
      // must not hold the sign-in forever: the strategy's timeout applies to it too.
      return isThenable(result) ? await withDeadline(result, this._timeout) : result;
    } catch (err) {
      if (err instanceof TwitterSignInError) throw err;
      throw new TwitterSignInError('ERR_STORE', 'The request-token store (or the callback claim) failed.', { cause: err });
    }
  }
}

function isThenable<T>(value: Promise<T> | T): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (err: unknown) => (clearTimeout(timer), reject(err)),
    );
  });
}

export function failure(code: SignInFailureCode, message: string): Outcome {
  const info: SignInFailure = { code, message };
  return { fail: info };
}

// Host names of the few hosts and callback URLs a strategy sees, parsed once: this runs on
// every sign-in start.
const hostnames = new Map<string, string | undefined>();

function cached(key: string, parse: () => string | undefined): string | undefined {
  if (hostnames.has(key)) return hostnames.get(key);
  let hostname: string | undefined;
  try {
    hostname = parse();
  } catch {
    hostname = undefined;
  }
  // Bounded: the Host header is the client's to choose.
  if (hostnames.size < 256) hostnames.set(key, hostname);
  return hostname;
}

/** Whether `_take` answered a failure rather than the pending sign-in. */
export function isOutcome(value: PendingSignIn | Outcome): value is Outcome {
  return !('tokenSecret' in value);
}

const NO_PENDING = failure(
  'NO_PENDING_SIGN_IN',
  'No sign-in with Twitter was started in this browser session, so the callback cannot be trusted. ' +
    'Most likely the session cookie was lost between the start and the callback: start and callback must use ' +
    'the same host (e.g. both localhost, not localhost and 127.0.0.1), and the session cookie must survive ' +
    "Twitter's redirect (SameSite=Lax, and no Secure cookie over plain http).",
);
const UNKNOWN = failure(
  'UNKNOWN_TOKEN',
  'This sign-in callback does not match a sign-in started in this browser: it was started elsewhere, ' +
    'or it was already used. Start the sign-in again.',
);
const ALREADY_USED = failure(
  'ALREADY_USED',
  'This sign-in callback was already used (a reload, a double click or an old link), so it cannot sign anyone in ' +
    'again. If you are not signed in, start the sign-in again.',
);

/**
 * The claim's key: the scope and a hash of the token, so the shared store holds no token and
 * two strategies never share keys.
 */
function claimKey(scope: string, key: string): string {
  return `${scope}:callback:${createHash('sha256').update(key).digest('base64url')}`;
}

// Longest token, verifier, state or code accepted from a callback query by default. Twitter's
// are under 100 characters; the limit keeps hostile megabyte values away from the store.
const MAX_CALLBACK_VALUE = 256;

/**
 * A callback value we are willing to look up: one string of RFC 3986 unreserved characters (all
 * Twitter's tokens, verifiers, states and codes use) of sane length. Arrays (`?a=1&a=2`),
 * objects (`?a[b]=1` with a rich query parser), empty or huge values, and bytes that did not
 * decode (qs leaves a bad `%C3%28` as literal text; querystring turns it into U+FFFD) are
 * refused before they reach the store, so a mangled callback cannot use up the real pending
 * sign-in.
 */
export function callbackValue(value: unknown, max = MAX_CALLBACK_VALUE): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.length === 0 || value.length > max) return undefined;
  return /^[A-Za-z0-9._~-]+$/.test(value) ? value : undefined;
}

/** The request's query: Express's parsed `req.query`, or parsed from the URL for plain Node. */
function queryOf(req: IncomingMessage & { query?: unknown }): Query {
  if (req.query && typeof req.query === 'object') return req.query as Query;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const query: Query = {};
  for (const [name, value] of url.searchParams) {
    const prev = query[name];
    query[name] = prev === undefined ? value : ([] as unknown[]).concat(prev, value);
  }
  return query;
}
