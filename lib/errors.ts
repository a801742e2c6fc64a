/**
 * Errors raised while talking to Twitter or handling a sign-in.
 *
 * Every error is a {@link TwitterSignInError} with a stable string `code`, so applications can
 * branch on `err.code` instead of parsing messages. Messages say what to fix. None of them ever
 * contains the consumer secret, a token secret or a verifier: they are built from our own text,
 * the endpoint name, the HTTP status and the provider's own error message only.
 */

/** Stable codes of {@link TwitterSignInError}. */
export type TwitterSignInErrorCode =
  /** Twitter answered with a non-2xx status (see `providerStatus` and `providerMessage`). */
  | 'ERR_TWITTER_HTTP'
  /** Twitter answered with a redirect; OAuth endpoints never redirect, so this is refused. */
  | 'ERR_TWITTER_REDIRECT'
  /** Twitter answered 200 with a body that lacks a field the protocol requires, or that cannot be read. */
  | 'ERR_TWITTER_RESPONSE'
  /** Twitter answered 429: this app (or this user) is rate-limited; see `rateLimitReset`. */
  | 'ERR_TWITTER_RATE_LIMITED'
  /** The request_token response did not carry `oauth_callback_confirmed=true` (RFC 5849 §2.1). */
  | 'ERR_CALLBACK_NOT_CONFIRMED'
  /** Twitter did not answer within `timeout` milliseconds. */
  | 'ERR_TWITTER_TIMEOUT'
  /** The connection to Twitter failed (refused, reset, DNS, certificate). */
  | 'ERR_TWITTER_NETWORK'
  /** X sent the user back with an OAuth 2.0 `error` other than `access_denied` (see `providerError`). */
  | 'ERR_TWITTER_AUTHORIZATION'
  /** The profile lookup was refused. */
  | 'ERR_PROFILE_UNAVAILABLE'
  /** No session is available to keep the pending sign-in in. */
  | 'ERR_SESSION_REQUIRED'
  /** The request-token store (or the one-time claim) failed. */
  | 'ERR_STORE'
  /**
   * A relative `callbackURL` cannot be resolved safely: the request's `Host` (or a trusted
   * `X-Forwarded-Host`) is not a plain `host[:port]`, or not one of `callbackHosts`.
   */
  | 'ERR_CALLBACK_HOST';

/**
 * The HTTP status an app should answer with for each code, as `err.status` (Express's error
 * handler uses it). A refusal or a breakdown at Twitter is not the user's doing: it is a bad
 * gateway (502), a timeout a gateway timeout (504), a rate limit a service briefly unavailable
 * (503). Twitter's own status is `providerStatus`.
 */
const STATUS: Record<TwitterSignInErrorCode, number> = {
  ERR_TWITTER_HTTP: 502,
  ERR_TWITTER_REDIRECT: 502,
  ERR_TWITTER_RESPONSE: 502,
  ERR_TWITTER_RATE_LIMITED: 503,
  ERR_CALLBACK_NOT_CONFIRMED: 502,
  ERR_TWITTER_TIMEOUT: 504,
  ERR_TWITTER_NETWORK: 502,
  ERR_TWITTER_AUTHORIZATION: 502,
  ERR_PROFILE_UNAVAILABLE: 502,
  ERR_SESSION_REQUIRED: 500,
  ERR_STORE: 500,
  // The request itself is bad: its Host is not one the app serves sign-ins on.
  ERR_CALLBACK_HOST: 400,
};

/** Which call to Twitter an error came from. */
export type TwitterEndpoint =
  /** OAuth 1.0a: `POST oauth/request_token`. */
  | 'request_token'
  /** OAuth 1.0a: `POST oauth/access_token`. */
  | 'access_token'
  /** A profile lookup: `GET /2/users/me` or `GET /1.1/account/verify_credentials.json`. */
  | 'profile'
  /** OAuth 2.0: `POST /2/oauth2/token` (the code exchange, or a refresh). */
  | 'token'
  /** OAuth 2.0: `POST /2/oauth2/revoke`. */
  | 'revoke'
  /** OAuth 2.0: the authorize step, reported back on the callback. */
  | 'authorize';

export interface TwitterSignInErrorOptions {
  /** Twitter's HTTP status, when it answered. */
  providerStatus?: number;
  endpoint?: TwitterEndpoint;
  providerCode?: number;
  providerError?: string;
  providerMessage?: string;
  rateLimitReset?: Date;
  cause?: unknown;
  /** The provider's response body; kept non-enumerable so it is not logged by accident. */
  body?: string;
}

// The optional fields are `declare`d: set only when there is a value, so an error carries (and
// logs, and `in` sees) only what it has.
export class TwitterSignInError extends Error {
  override name = 'TwitterSignInError';
  readonly code: TwitterSignInErrorCode;
  /**
   * The HTTP status for the app's answer: 502 when Twitter refused or broke, 504 when it did not
   * answer in time, 503 when it rate-limits, 500 for the app's own setup (no session, a store),
   * 400 for a request whose Host cannot be trusted to build the callback URL.
   */
  readonly status: number;
  /** Twitter's HTTP status, when it answered (401 for a wrong consumer secret, …). */
  declare readonly providerStatus?: number;
  /** The call to Twitter this error came from, when it came from one. */
  declare readonly endpoint?: TwitterEndpoint;
  /** Twitter's own numeric error code (e.g. 32, 89, 415), parsed from its JSON or XML body. */
  declare readonly providerCode?: number;
  /**
   * Twitter's own error name: OAuth 2.0's `error` (`invalid_request`, `invalid_scope`) or an API
   * problem's `reason`/type (`client-not-enrolled`).
   */
  declare readonly providerError?: string;
  /** Twitter's own error message: `error_description`, a problem's `detail`, or an API error `message`. */
  declare readonly providerMessage?: string;
  /** With `ERR_TWITTER_RATE_LIMITED`: when the limit resets (`x-rate-limit-reset`), if Twitter said. */
  declare readonly rateLimitReset?: Date;
  /** Twitter's raw response body (non-2xx answers only), with what the request carried blanked. Non-enumerable. */
  declare readonly body?: string;

  constructor(code: TwitterSignInErrorCode, message: string, options: TwitterSignInErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = STATUS[code] ?? 500;
    if (options.providerStatus !== undefined) this.providerStatus = options.providerStatus;
    if (options.endpoint !== undefined) this.endpoint = options.endpoint;
    if (options.providerCode !== undefined) this.providerCode = options.providerCode;
    if (options.providerError !== undefined) this.providerError = options.providerError;
    if (options.providerMessage !== undefined) this.providerMessage = options.providerMessage;
    if (options.rateLimitReset !== undefined) this.rateLimitReset = options.rateLimitReset;
    if (options.body !== undefined) {
      Object.defineProperty(this, 'body', { value: options.body, enumerable: false });
    }
  }
}

/** Stable codes of a sign-in that failed through the user or the browser (passed to `fail()`). */
export type SignInFailureCode =
  /** The user pressed Cancel on Twitter (`denied` in the callback). */
  | 'DENIED'
  /** The callback query is not a well-formed OAuth callback. */
  | 'MALFORMED_CALLBACK'
  /** No sign-in was started in this browser session: the session cookie was most likely lost. */
  | 'NO_PENDING_SIGN_IN'
  /** The returned token (OAuth 2.0: `state`) is not one this browser started. */
  | 'UNKNOWN_TOKEN'
  /** This callback was already used: a reload, a double click, an old link or a replay. */
  | 'ALREADY_USED'
  /** The sign-in was started too long ago. */
  | 'EXPIRED_TOKEN';

/**
 * What the strategy passes to Passport's `fail()`: `message` shows up in `failureMessage` /
 * `failureFlash`, `code` lets an application choose its own wording.
 */
export interface SignInFailure {
  code: SignInFailureCode;
  message: string;
}

/** What Twitter said in an error body, as far as it can be read. */
export interface ProviderError {
  /** A numeric code (API v1.1 and OAuth 1.0a: `{"errors":[{"code":32,…}]}`). */
  code?: number;
  /** A name: OAuth 2.0's `error` (RFC 6749 §5.2), or an API v2 problem's `reason` or type. */
  error?: string;
  /** A message: `error_description`, a problem's `detail` or `title`, or an error's `message`. */
  message?: string;
}

/**
 * Parses Twitter's error bodies, in each shape X uses:
 * - OAuth 2.0 (RFC 6749 §5.2): `{"error":"invalid_request","error_description":"…"}`;
 * - API v2 problems (RFC 9457): `{"title":"Client Forbidden","detail":"…","reason":"client-not-enrolled","type":"https://api.x.com/2/problems/client-forbidden"}`;
 * - API v1.1 and OAuth 1.0a: `{"errors":[{"code":32,"message":"…"}]}`, the older `{"error":"…"}`,
 *   or XML `<errors><error code="415">…</error></errors>`.
 * Returns nothing for anything else (HTML error pages, empty bodies), so the caller falls back
 * to the status line.
 */
export function parseProviderError(body: string): ProviderError {
  const text = body.trim();
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return {};
    }
    if (!json || typeof json !== 'object') return {};
    const o = json as Record<string, unknown>;
    // OAuth 2.0 first: X adds an `errors` array beside `error`, `error_description`.
    if (typeof o.error === 'string' && (typeof o.error_description === 'string' || /^[a-z_]+$/.test(o.error))) {
      return {
        error: clip(o.error),
        ...(typeof o.error_description === 'string' ? { message: clip(o.error_description) } : {}),
      };
    }
    if (Array.isArray(o.errors) && o.errors[0] && typeof o.errors[0] === 'object') {
      const first = o.errors[0] as { code?: unknown; message?: unknown };
      return {
        ...(typeof first.code === 'number' ? { code: first.code } : {}),
        ...(typeof first.message === 'string' ? { message: clip(first.message) } : {}),
      };
    }
    const message = [o.detail, o.title, o.error].find((v) => typeof v === 'string') as string | undefined;
    // A problem names itself by `reason` or by its type URI's last segment (…/problems/client-forbidden).
    const type = typeof o.type === 'string' && o.type !== 'about:blank' ? /\/problems\/([\w.-]+)$/.exec(o.type)?.[1] : undefined;
    const error = typeof o.reason === 'string' ? o.reason : type;
    return { ...(error !== undefined ? { error: clip(error) } : {}), ...(message !== undefined ? { message: clip(message) } : {}) };
  }
  const xml = /<error(?:\s+code="(\d+)")?[^>]*>([^<]*)<\/error>/i.exec(text);
  if (xml) {
    return {
      ...(xml[1] ? { code: Number(xml[1]) } : {}),
      ...(xml[2] ? { message: clip(xml[2].trim()) } : {}),
    };
  }
  return {};
}

// Provider messages are shown to developers in logs; a hostile or broken provider must not be
// able to fill them with megabytes.
function clip(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
