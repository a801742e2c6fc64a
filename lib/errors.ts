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
  /** Twitter answered with a non-2xx status (see `status` and `providerMessage`). */
  | 'ERR_TWITTER_HTTP'
  /** Twitter answered with a redirect; OAuth endpoints never redirect, so this is refused. */
  | 'ERR_TWITTER_REDIRECT'
  /** Twitter answered 200 with a body that lacks a field the protocol requires. */
  | 'ERR_TWITTER_RESPONSE'
  /** The request_token response did not carry `oauth_callback_confirmed=true` (RFC 5849 §2.1). */
  | 'ERR_CALLBACK_NOT_CONFIRMED'
  /** Twitter did not answer within `timeout` milliseconds. */
  | 'ERR_TWITTER_TIMEOUT'
  /** The connection to Twitter failed (refused, reset, DNS). */
  | 'ERR_TWITTER_NETWORK'
  /** The optional profile lookup (`fetchProfile`) was refused. */
  | 'ERR_PROFILE_UNAVAILABLE'
  /** No session is available to keep the pending sign-in in. */
  | 'ERR_SESSION_REQUIRED'
  /** The request-token store failed. */
  | 'ERR_STORE'
  /**
   * A relative `callbackURL` cannot be resolved safely: the request's `Host` (or a trusted
   * `X-Forwarded-Host`) is not a plain `host[:port]`, or not one of `callbackHosts`. `status` 400.
   */
  | 'ERR_CALLBACK_HOST';

/** Which call to Twitter an error came from. */
export type TwitterEndpoint = 'request_token' | 'access_token' | 'profile';

export interface TwitterSignInErrorOptions {
  /** Twitter's HTTP status; for an error in the app's own request, the status to answer it with. */
  status?: number;
  endpoint?: TwitterEndpoint;
  providerCode?: number;
  providerMessage?: string;
  cause?: unknown;
  /** The provider's response body; kept non-enumerable so it is not logged by accident. */
  body?: string;
}

export class TwitterSignInError extends Error {
  override name = 'TwitterSignInError';
  readonly code: TwitterSignInErrorCode;
  /**
   * HTTP status of Twitter's answer, when there was one; for `ERR_CALLBACK_HOST`, 400, the
   * status Express's error handler then answers the browser with.
   */
  readonly status?: number;
  /** The call to Twitter this error came from, when it came from one. */
  readonly endpoint?: TwitterEndpoint;
  /** Twitter's own error code (e.g. 32, 89, 415), parsed from its JSON or XML body. */
  readonly providerCode?: number;
  /** Twitter's own error message, parsed from its JSON or XML body. */
  readonly providerMessage?: string;
  /** Twitter's raw response body (non-2xx answers only). Non-enumerable. */
  declare readonly body?: string;

  constructor(code: TwitterSignInErrorCode, message: string, options: TwitterSignInErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.endpoint !== undefined) this.endpoint = options.endpoint;
    if (options.providerCode !== undefined) this.providerCode = options.providerCode;
    if (options.providerMessage !== undefined) this.providerMessage = options.providerMessage;
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
  /** The returned token is not one this browser started, or it was already used. */
  | 'UNKNOWN_TOKEN'
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

/**
 * Parses Twitter's error body: JSON `{"errors":[{"code":32,"message":"…"}]}`, the older
 * `{"error":"…"}`, or XML `<errors><error code="415">…</error></errors>`. Returns nothing for
 * anything else (HTML error pages, empty bodies), so the caller falls back to the status line.
 */
export function parseProviderError(body: string): { code?: number; message?: string } {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const json: unknown = JSON.parse(text);
      if (json && typeof json === 'object') {
        const errors = (json as { errors?: unknown }).errors;
        if (Array.isArray(errors) && errors[0] && typeof errors[0] === 'object') {
          const first = errors[0] as { code?: unknown; message?: unknown };
          return {
            ...(typeof first.code === 'number' ? { code: first.code } : {}),
            ...(typeof first.message === 'string' ? { message: clip(first.message) } : {}),
          };
        }
        const single = (json as { error?: unknown; detail?: unknown; title?: unknown });
        const message = [single.error, single.detail, single.title].find((v) => typeof v === 'string');
        if (typeof message === 'string') return { message: clip(message) };
      }
    } catch {
      return {};
    }
    return {};
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
