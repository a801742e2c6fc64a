/**
 * The strategies' options: their types, defaults (in the JSDoc of each field), and the checks
 * that run once, in the constructor. What both strategies take is {@link SignInStrategyOptions},
 * checked by {@link validateSignInOptions}; the OAuth 1.0a strategy's own are here too, the
 * OAuth 2.0 strategy's in oauth2-options.ts.
 */
import type { Dispatcher } from 'undici';
import { isHostAndPort } from './callback-url.js';
import { checkDispatcher, checkTimeout, requireString } from './checks.js';
import type { TwitterOAuthClientOptions } from './client.js';
import type { ProfileLookup } from './profile.js';
import type { CallbackClaim, WarningHandler } from './sign-in.js';
import type { RequestTokenStore } from './stores/store.js';
import type { PassReqToCallbackOption } from './verify.js';

/** The options both strategies take. */
export interface SignInStrategyOptions {
  /**
   * Where Twitter sends the user back: absolute (the safe default), or relative to the request
   * that starts the sign-in (then resolved with `X-Forwarded-*` only when `proxy` is trusted).
   * Required; it must be registered in the app's settings in X's developer console.
   */
  callbackURL: string;
  /**
   * The hosts (`host[:port]`, as browsers send them in `Host`) a relative `callbackURL` may
   * resolve to, for an app that serves several. A request whose `Host` (or trusted
   * `X-Forwarded-Host`) is not listed is an `ERR_CALLBACK_HOST` error before Twitter is called.
   * Default: none, any well-formed `host[:port]` (an absolute `callbackURL` needs neither).
   */
  callbackHosts?: readonly string[];
  /** Milliseconds allowed for each call to Twitter, from connect to the last byte. Default 10000. */
  timeout?: number;
  /**
   * The undici dispatcher the calls to Twitter go through: an `Agent` of the app's own (a
   * private certificate authority, connection limits), a `ProxyAgent`, a `MockAgent`. Default:
   * undici's global dispatcher, read at each call (`setGlobalDispatcher()` applies).
   */
  dispatcher?: Dispatcher;
  /**
   * Believe `X-Forwarded-Proto`/`X-Forwarded-Host` when resolving a relative `callbackURL`, and
   * `X-Forwarded-Proto` when the cookie store decides on `Secure` and its `__Host-` name.
   * Default: Express's `trust proxy` setting.
   */
  proxy?: boolean;
  /** Where pending sign-ins wait for the callback. Default: a `SessionRequestTokenStore`. */
  requestTokenStore?: RequestTokenStore;
  /**
   * The scope of this strategy's pending sign-ins in the store: the session property with the
   * session store, a label inside the cookie with the cookie store. Default
   * `oauth:twitter:<consumerKey>` (OAuth 1.0a) or `oauth2:twitter:<clientID>` (OAuth 2.0), so
   * two apps, or both protocols, or Twitter beside other strategies, never see each other's
   * pending sign-ins.
   */
  sessionKey?: string;
  /**
   * A one-time claim taken on each callback before it is exchanged, in a store every app
   * instance shares: resolve `true` for the first claim of a key, `false` after. With it, a
   * doubled callback reaches Twitter once across any number of instances (Redis:
   * `SET key 1 NX PX ttl`). Default: none; within one process, a callback is exchanged once
   * regardless.
   */
  claimCallback?: CallbackClaim;
  /**
   * Where the strategy's warnings go: things the developer should fix before they fail a
   * sign-in, such as a sign-in started on another host than the callback URL's (the session
   * cookie will not reach the callback). Default: `process.emitWarning` (stderr), each once.
   */
  onWarning?: WarningHandler;
}

/** Options of a single OAuth 1.0a sign-in, given to `passport.authenticate('twitter', { … })`. */
export interface TwitterAuthenticateOptions {
  /** Overrides the strategy's `callbackURL` for this sign-in (give it on both routes). */
  callbackURL?: string;
  /** Overrides the strategy's `forceLogin` for this sign-in. */
  forceLogin?: boolean;
  /** Overrides the strategy's `screenName` for this sign-in. */
  screenName?: string;
  /** Overrides the strategy's `accessType` for this sign-in. */
  accessType?: 'read' | 'write';
  /** Overrides the strategy's `authorize` for this sign-in. */
  authorize?: boolean;
}

// Passport's own options type knows nothing of a strategy's: without this,
// passport.authenticate('twitter', { forceLogin: true }) does not compile.
declare module 'passport' {
  interface AuthenticateOptions extends TwitterAuthenticateOptions {}
}

/**
 * The strategy's options. `PassReq` is the type of `passReqToCallback` and picks the form of
 * `verify`: `false` (the default: absent or `false`, no `req`), `true` (`req` first), or
 * `boolean` (known only at run time: a verify that accepts either form).
 */
export type TwitterSignInStrategyOptions<PassReq extends boolean = false> = TwitterSignInStrategyBaseOptions &
  PassReqToCallbackOption<PassReq>;

/** Every option but `passReqToCallback`. */
export interface TwitterSignInStrategyBaseOptions
  extends SignInStrategyOptions,
    Pick<TwitterOAuthClientOptions, 'requestTokenURL' | 'accessTokenURL' | 'userAuthorizationURL' | 'authorizeURL'> {
  /** The app's API key (consumer key). Required. */
  consumerKey: string;
  /** The app's API key secret (consumer secret). Required. */
  consumerSecret: string;
  /** Send users to `/oauth/authorize`, which always asks for approval. Default `false` (`/oauth/authenticate`). */
  authorize?: boolean;
  /** Ask the user to sign in again even when signed in to Twitter (`force_login=true`). Default `false`. */
  forceLogin?: boolean;
  /** Pre-fill this handle on Twitter's sign-in form (`screen_name`). Default: none. */
  screenName?: string;
  /** Ask for less access than the app's setting (`x_auth_access_type`). Default: the app's setting. */
  accessType?: 'read' | 'write';
  /**
   * Look the user up after sign-in: `'v2'` (`GET /2/users/me`) or `'v1.1'`
   * (`GET /1.1/account/verify_credentials.json`). Default `false`: the profile comes from the
   * access-token answer (`user_id`, `screen_name`), which every API access level gets, at no cost.
   */
  fetchProfile?: ProfileLookup;
  /** With `fetchProfile: 'v2'`: the `user.fields` to ask for. Default `name,profile_image_url,description,created_at,verified`. */
  userFields?: string[];
  /** With `fetchProfile: 'v1.1'`: ask for the email address (`include_email=true`; needs the app's email permission). Default `false`. */
  includeEmail?: boolean;
}

export const SIGN_IN_OPTIONS = [
  'callbackURL', 'callbackHosts', 'timeout', 'dispatcher', 'proxy', 'requestTokenStore', 'sessionKey', 'claimCallback',
  'onWarning', 'passReqToCallback',
] as const;

const OAUTH1_OPTIONS = [
  ...SIGN_IN_OPTIONS,
  'consumerKey', 'consumerSecret', 'requestTokenURL', 'accessTokenURL', 'userAuthorizationURL', 'authorizeURL',
  'authorize', 'forceLogin', 'screenName', 'accessType', 'fetchProfile', 'userFields', 'includeEmail',
] as const;

// Options passport-twitter had that do something else here: refused with the replacement named,
// so a switched import cannot silently drop a profile lookup or an email address.
const PASSPORT_TWITTER_OPTIONS: Record<string, string> = {
  userProfileURL: "use fetchProfile: 'v1.1' or 'v2' (the URL follows requestTokenURL's origin)",
};

/**
 * Throws a TypeError naming the first option that is missing or of the wrong type, or that is a
 * passport-twitter option meaning something else here.
 */
export function validateStrategyOptions(options: TwitterSignInStrategyOptions<boolean>): void {
  const legacy = options as TwitterSignInStrategyOptions<boolean> & Record<string, unknown>;
  for (const [name, instead] of Object.entries(PASSPORT_TWITTER_OPTIONS)) {
    if (legacy[name] !== undefined) throw new TypeError(`${name} (a passport-twitter option) is not supported: ${instead}`);
  }
  // passport-twitter's includeEntities/includeStatus: false ask for less, which is what this
  // package does anyway; true asked for more, which it does not fetch.
  for (const name of ['includeEntities', 'includeStatus']) {
    if (legacy[name] !== undefined && legacy[name] !== false) {
      throw new TypeError(`${name}: true (a passport-twitter option) is not supported: the profile lookup does not fetch it`);
    }
  }
  // passport-twitter's skipExtendedUserProfile: true is this package's default; false asked for
  // the extra lookup, which is fetchProfile here.
  if (legacy.skipExtendedUserProfile !== undefined && legacy.skipExtendedUserProfile !== true) {
    throw new TypeError("skipExtendedUserProfile: false (passport-twitter's profile call) is fetchProfile: 'v1.1' here");
  }
  validateSignInOptions(options, [...OAUTH1_OPTIONS, 'includeEntities', 'includeStatus', 'skipExtendedUserProfile']);
  requireString(options.consumerKey, 'consumerKey', ' (the API key from the developer console)');
  requireString(options.consumerSecret, 'consumerSecret', ' (the API key secret from the developer console)');
  if (options.accessType !== undefined && options.accessType !== 'read' && options.accessType !== 'write') {
    throw new TypeError("accessType must be 'read' or 'write'");
  }
  if (options.fetchProfile !== undefined && ![false, 'v2', 'v1.1'].includes(options.fetchProfile)) {
    throw new TypeError("fetchProfile must be false, 'v2' or 'v1.1'");
  }
  if (options.includeEmail === true && options.fetchProfile !== 'v1.1') {
    throw new TypeError("includeEmail needs fetchProfile: 'v1.1' (the email comes from verify_credentials)");
  }
  if (options.userFields !== undefined && options.fetchProfile !== 'v2') {
    throw new TypeError("userFields needs fetchProfile: 'v2' (they are the user.fields of GET /2/users/me)");
  }
  checkUserFields(options.userFields);
  checkBooleans(options, ['authorize', 'forceLogin', 'includeEmail']);
  if (options.screenName !== undefined) requireString(options.screenName, 'screenName');
}

/**
 * The checks of the options both strategies take, and of names it does not know: a misspelt
 * option (`callbackUrl`, `consumerSecrets`) throws, naming the one it most likely means, instead
 * of being ignored or reported as missing.
 */
export function validateSignInOptions(options: SignInStrategyOptions & { passReqToCallback?: unknown }, known: readonly string[]): void {
  // First: `agent` is an option of earlier versions, refused with its replacement.
  checkDispatcher(options as { dispatcher?: unknown; agent?: unknown });
  for (const name of Object.keys(options)) {
    if (known.includes(name) || (options as unknown as Record<string, unknown>)[name] === undefined) continue;
    const like = closest(name, known);
    throw new TypeError(`Unknown option ${name}${like ? `: did you mean ${like}?` : `. The options are ${known.join(', ')}.`}`);
  }
  requireString(options.callbackURL, 'callbackURL', ' (absolute, or relative to the request)');
  if (options.callbackHosts !== undefined) {
    const hosts: unknown = options.callbackHosts;
    if (!Array.isArray(hosts) || hosts.length === 0 || !hosts.every((h) => typeof h === 'string' && isHostAndPort(h))) {
      throw new TypeError("callbackHosts must be a non-empty array of host[:port] strings, e.g. ['app.example', 'www.app.example:8443']");
    }
  }
  if (options.timeout !== undefined) checkTimeout(options.timeout);
  checkBooleans(options, ['passReqToCallback', 'proxy']);
  if (options.sessionKey !== undefined) requireString(options.sessionKey, 'sessionKey');
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') {
    throw new TypeError('onWarning must be a function (warning) => void');
  }
  if (options.claimCallback !== undefined && typeof options.claimCallback !== 'function') {
    throw new TypeError('claimCallback must be a function (key, ttl) => boolean | Promise<boolean>');
  }
  const store = options.requestTokenStore;
  if (store !== undefined && !['set', 'get', 'destroy'].every((m) => typeof (store as unknown as Record<string, unknown>)?.[m] === 'function')) {
    throw new TypeError('requestTokenStore must have set, get and destroy methods');
  }
}

export function checkUserFields(fields: unknown): void {
  if (fields === undefined) return;
  if (!Array.isArray(fields) || fields.length === 0 || fields.some((f) => typeof f !== 'string' || f === '')) {
    throw new TypeError('userFields must be a non-empty array of non-empty strings');
  }
}

export function checkBooleans(options: object, names: readonly string[]): void {
  for (const name of names) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean`);
  }
}

/** The known name `name` most likely means: the same but for case, or at most two edits away. */
function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    if (candidate.toLowerCase() === lower) return candidate;
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

// Levenshtein distance, for option names (a few dozen characters).
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
