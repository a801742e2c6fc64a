/**
 * The one HTTP seam: every call to Twitter (X) leaves through undici's dispatcher here, and
 * nothing else in the package opens a connection.
 *
 * undici does the HTTP itself (llhttp parses the answers, its pools keep connections alive);
 * this module adds what an authentication library needs on top:
 * - one deadline per call, from connect to the last byte of the body;
 * - a size cap enforced while the body is read, so a hostile answer cannot fill memory;
 * - no redirect followed (a dispatcher follows none unless the app composed it with undici's
 *   redirect interceptor), no compressed body taken as text;
 * - one resend, freshly signed, when a kept-alive connection turns out closed before any answer;
 * - typed errors whose messages and causes hold nothing the request carried.
 *
 * The dispatcher is the one given in the options or, when none is, undici's global dispatcher
 * read at call time, so `setGlobalDispatcher()` (a `MockAgent`, an `EnvHttpProxyAgent`, nock)
 * works for these calls as it does for `fetch`.
 *
 * @see https://undici.nodejs.org/#/docs/api/Dispatcher?id=dispatcherdispatchoptions-handler
 */
import { getGlobalDispatcher, util, type Dispatcher } from 'undici';
import { parseProviderError, TwitterSignInError, type ProviderError, type TwitterEndpoint } from './errors.js';
import { redactOAuthParams, redactValues } from './redact.js';

/** One request, ready to send: built afresh for a resend (a new nonce, a new signature). */
export interface HttpCall {
  method: 'GET' | 'POST';
  /** Absolute URL, as sent. */
  url: string;
  /** Header fields; undici adds Host, Content-Length and the connection framing. */
  headers: Record<string, string>;
  /** The form body, for a POST. */
  body?: string;
  /**
   * The values this request carries that must never be repeated in an error (a signature, a
   * verifier, a code, a token): blanked, in any encoding, wherever a provider's or a mock's
   * echo of the request is kept.
   */
  secrets?: readonly string[];
}

/** A complete answer, whatever its status. */
export interface HttpResponse {
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: string;
  /** The request's `secrets`, for {@link refused} to blank in what it keeps of the body. */
  secrets: readonly string[];
  /** This answer is to the resend, after the first attempt's connection closed before an answer. */
  resent?: boolean;
}

/** What is being asked, for the messages of the errors a call ends in. */
export interface CallInfo {
  /** Which call to Twitter this is. */
  endpoint: TwitterEndpoint;
  /** How messages name it: `request_token`, `GET /2/users/me`. */
  label: string;
}

export interface HttpOptions {
  /** Milliseconds for the whole call, a resend included. */
  timeout: number;
  /** The dispatcher to send through; `undefined`: undici's global dispatcher, read per call. */
  dispatcher: Dispatcher | undefined;
}

// Twitter's answers to these calls are a few hundred bytes; anything far larger is not Twitter.
export const MAX_RESPONSE_BYTES = 1024 * 1024;

// Node's timers take at most 2^31 - 1 ms (about 24.8 days); more would fire at once.
export const MAX_TIMEOUT = 2 ** 31 - 1;

// The content codings that compress (RFC 9110 §8.4.1, and the registered br and zstd).
const COMPRESSION = /(?:^|,)[ \t]*(?:x-)?(?:gzip|deflate|compress|br|zstd)[ \t]*(?:,|$)/i;

/** Why a call did not end in a complete answer. */
type FailureKind = 'timeout' | 'closed' | 'malformed' | 'too-large' | 'network';

/** A call that ended without a complete answer; turned into a `TwitterSignInError` by {@link send}. */
class CallFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

const NO_SECRETS: readonly string[] = [];

// The reason the deadline aborts a call with: told apart from any other abort by identity.
const DEADLINE = new CallFailure('timeout', 'deadline');

/**
 * Sends one call and answers with its complete response, whatever the status, or throws a
 * `TwitterSignInError`: `ERR_TWITTER_TIMEOUT` past the deadline, `ERR_TWITTER_RESPONSE` for an
 * answer that cannot be read or is too large, `ERR_TWITTER_NETWORK` for a connection that failed.
 *
 * A connection that closes before any answer is, almost always, a kept-alive connection the
 * server closed as the request went out: `prepare()` builds the call again (freshly signed) and
 * it is sent once more within what is left of the timeout. undici has taken the dead connection
 * out of its pool by then, so the resend goes out on another. undici does not say whether the
 * server had read the request; when it had, the resend of a one-time exchange (a verifier, a
 * code, a refresh token) is refused by X, which ends the sign-in as the lost connection would
 * have, and the refusal says the first attempt may have reached X.
 */
export async function send(prepare: () => HttpCall, call: CallInfo, options: HttpOptions): Promise<HttpResponse> {
  const deadline = Date.now() + options.timeout;
  let sent = prepare();
  try {
    try {
      return await attempt(sent, options.timeout, options.dispatcher);
    } catch (err) {
      if (!(err instanceof CallFailure && err.kind === 'closed' && err.status === undefined)) throw err;
      const left = deadline - Date.now();
      if (left <= 0) throw DEADLINE;
      sent = prepare();
      const res = await attempt(sent, left, options.dispatcher);
      res.resent = true;
      return res;
    }
  } catch (err) {
    throw failure(err, call, options.timeout, sent);
  }
}

/**
 * One request on `dispatcher` within `timeout` ms; rejects with a {@link CallFailure}.
 *
 * It goes through the dispatcher's own `dispatch()` with a handler of undici's dispatch API
 * (the one undici's `request()` is itself built on), not through `request()`: the answers are a
 * few hundred bytes read into one string, and `request()`'s body stream, async resource and
 * AbortSignal cost about twice the client CPU of the call itself (52.7 against 26.8 µs per
 * unsigned call, bench/TRANSPORT.md). undici still does all of HTTP: the connection pool, writing the
 * request, llhttp's parse of the answer.
 */
function attempt(call: HttpCall, timeout: number, dispatcher: Dispatcher | undefined): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let abort: ((reason: Error) => void) | undefined;
    let status: number | undefined;
    let headers: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (failure: CallFailure): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Closes the connection of a call that is given up on: nothing more is read from it.
      abort?.(failure);
      reject(failure);
    };
    const timer = setTimeout(() => fail(DEADLINE), timeout);
    const handler = {
      onConnect(abortRequest: (reason: Error) => void): void {
        abort = abortRequest;
        if (settled) abortRequest(DEADLINE);
      },
      onHeaders(statusCode: number, rawHeaders: (Buffer | string)[]): boolean {
        // Interim 1xx answers are not the answer.
        if (statusCode < 200) return true;
        status = statusCode;
        headers = util.parseHeaders(rawHeaders as Buffer[]) as Record<string, string | string[] | undefined>;
        const encoding = header(headers['content-encoding']);
        if (encoding !== undefined && COMPRESSION.test(encoding)) {
          // Requests ask for identity; a compressed body would be handed on as if it were the text.
          fail(new CallFailure('malformed', `the answer is compressed (${encoding.slice(0, 40)}) though identity was asked for`, status));
          return false;
        }
        if (Number(header(headers['content-length'])) > MAX_RESPONSE_BYTES) {
          fail(new CallFailure('too-large', 'too large', status));
          return false;
        }
        return true;
      },
      onData(chunk: Buffer): boolean {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          // Cut off while reading, not after: a hostile answer cannot fill memory.
          fail(new CallFailure('too-large', 'too large', status));
          return false;
        }
        chunks.push(chunk);
        return true;
      },
      onComplete(): void {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
        resolve({ status: status ?? 0, headers, body, secrets: call.secrets ?? NO_SECRETS });
      },
      onError(err: Error): void {
        fail(classify(err, status));
      },
    };
    const { origin, path } = targetOf(call.url);
    try {
      (dispatcher ?? getGlobalDispatcher()).dispatch(
        { origin, path, method: call.method, headers: call.headers, ...(call.body !== undefined ? { body: call.body } : {}) },
        handler as unknown as Dispatcher.DispatchHandler,
      );
    } catch (err) {
      fail(classify(err, undefined));
    }
  });
}

// The few endpoint URLs the clients call, split once into undici's origin and path.
const targets = new Map<string, { origin: string; path: string }>();

function targetOf(url: string): { origin: string; path: string } {
  let target = targets.get(url);
  if (target === undefined) {
    const u = new URL(url);
    target = { origin: u.origin, path: `${u.pathname}${u.search}` };
    if (targets.size < 64) targets.set(url, target);
  }
  return target;
}

/** undici's error as a {@link CallFailure}; `status` is set once the answer's head had arrived. */
function classify(err: unknown, status: number | undefined): CallFailure {
  if (err instanceof CallFailure) return err;
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    // A dispatcher's own timeouts (an app's Agent with short ones) mean the same as ours.
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new CallFailure('timeout', 'timeout', status);
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
    case 'EPIPE':
      return new CallFailure('closed', 'the connection closed before the answer was complete', status, err);
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'UND_ERR_INFO':
      return new CallFailure('malformed', 'it is not well-formed HTTP', status, err);
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return new CallFailure('too-large', 'too large', status, err);
  }
  // llhttp's parse errors (HPE_INVALID_CONSTANT, HPE_INVALID_CHUNK_SIZE, …; some have no code).
  // They keep the bytes that failed to parse in `data`: only the message is ever kept of them.
  if ((typeof code === 'string' && code.startsWith('HPE_')) || (err as Error | null)?.name === 'HTTPParserError') {
    return new CallFailure('malformed', 'it is not well-formed HTTP', status, err);
  }
  return new CallFailure('network', 'network', status, err);
}

/** A failed call as the typed error the app sees, naming what was asked and of whom. */
function failure(err: unknown, call: CallInfo, timeout: number, sent: HttpCall): TwitterSignInError {
  const failed = err instanceof CallFailure ? err : classify(err, undefined);
  const { endpoint, label } = call;
  const status = failed.status !== undefined ? { providerStatus: failed.status } : {};
  switch (failed.kind) {
    case 'timeout':
      return new TwitterSignInError('ERR_TWITTER_TIMEOUT', `Twitter did not answer ${label} within ${timeout} ms.`, {
        endpoint,
        ...status,
      });
    case 'too-large':
      return new TwitterSignInError('ERR_TWITTER_RESPONSE', `Twitter's answer to ${label} is too large.`, { endpoint, ...status });
    case 'malformed':
      return new TwitterSignInError('ERR_TWITTER_RESPONSE', `Twitter's answer to ${label} cannot be read: ${failed.message}.`, {
        endpoint,
        ...status,
        ...(failed.cause !== undefined ? { cause: sanitizeCause(failed.cause, sent.secrets) } : {}),
      });
    default: {
      const host = new URL(sent.url).host;
      const cause = failed.cause !== undefined ? sanitizeCause(failed.cause, sent.secrets) : undefined;
      const why = failed.kind === 'closed' ? failed.message : (cause?.message ?? 'the connection failed');
      return new TwitterSignInError('ERR_TWITTER_NETWORK', `The connection to ${host} failed during ${label}: ${why}.`, {
        endpoint,
        ...status,
        ...(cause ? { cause } : {}),
      });
    }
  }
}

/**
 * The typed error for an answer that is not a success: a redirect (never followed: a redirected
 * OAuth call would be re-signed or re-sent for a host we did not choose) is
 * `ERR_TWITTER_REDIRECT`, a 429 `ERR_TWITTER_RATE_LIMITED` with the reset time, anything else
 * `ERR_TWITTER_HTTP`, each with Twitter's own words when its body has them. `hint` adds what to
 * fix for the refusals developers meet while setting up an app.
 */
export function refused(
  call: CallInfo,
  res: HttpResponse,
  hint: (provider: ProviderError, status: number) => string = () => '',
): TwitterSignInError {
  const { endpoint, label } = call;
  const status = res.status;
  if (status >= 300 && status < 400) {
    return new TwitterSignInError(
      'ERR_TWITTER_REDIRECT',
      `Twitter answered ${label} with a redirect (HTTP ${status}); its OAuth endpoints do not redirect, ` +
        'so it was not followed. Check the configured endpoint URL.',
      { endpoint, providerStatus: status },
    );
  }
  const provider = parseProviderError(res.body);
  const redact = (text: string) => redactValues(redactOAuthParams(text), res.secrets);
  // Both go into the message: an echo can sit in an OAuth 2.0 `error` or a problem's `reason` too.
  if (provider.message !== undefined) provider.message = redact(provider.message);
  if (provider.error !== undefined) provider.error = redact(provider.error);
  const fields = {
    endpoint,
    providerStatus: status,
    ...(provider.code !== undefined ? { providerCode: provider.code } : {}),
    ...(provider.error !== undefined ? { providerError: provider.error } : {}),
    ...(provider.message !== undefined ? { providerMessage: provider.message } : {}),
    // Successful bodies (which hold tokens) are never kept. Twitter's refusals hold no
    // credentials, but what answers in its place may echo the request (a mock's "no match"
    // page lists its headers), in encodings no redaction can know (base64, hex): the body is
    // kept only when it is one of X's error shapes, and then with OAuth parameter values and
    // every value the request carried blanked.
    ...(provider.code !== undefined || provider.error !== undefined || provider.message !== undefined
      ? { body: redact(res.body.slice(0, 4096)) }
      : {}),
  };
  const said = [provider.error, provider.message].filter((s) => s !== undefined).join(': ');
  const saidText = said ? `: ${said}${provider.code !== undefined ? ` (code ${provider.code})` : ''}` : '';
  // After a resend, a one-time exchange's refusal may be X refusing a copy of what it took.
  const resent = res.resent ? ' (The first attempt lost its connection before an answer; X may have received it.)' : '';
  if (status === 429) {
    const reset = rateLimitReset(res.headers['x-rate-limit-reset']);
    return new TwitterSignInError(
      'ERR_TWITTER_RATE_LIMITED',
      `Twitter is rate-limiting ${label} (HTTP 429${saidText})` +
        `${reset ? `; the limit resets at ${reset.toISOString()}` : ''}. Try again later.`,
      { ...fields, ...(reset ? { rateLimitReset: reset } : {}) },
    );
  }
  return new TwitterSignInError('ERR_TWITTER_HTTP', `Twitter refused ${label} with HTTP ${status}${saidText}.${hint(provider, status)}${resent}`, fields);
}

// X's x-rate-limit-reset is the epoch second at which the window resets.
function rateLimitReset(value: string | string[] | undefined): Date | undefined {
  const seconds = Number(header(value));
  return Number.isSafeInteger(seconds) && seconds > 0 ? new Date(seconds * 1000) : undefined;
}

/**
 * undici's errors can carry the request (a mock's "no match" lists its headers, with the
 * Authorization signature) or the socket. Keep the message, with OAuth values blanked, and the
 * code only.
 */
function sanitizeCause(cause: unknown, secrets: readonly string[] = NO_SECRETS): Error & { code?: string } {
  const clean: Error & { code?: string } = new Error(
    redactValues(redactOAuthParams(cause instanceof Error ? cause.message : String(cause)), secrets),
  );
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code) clean.code = code;
  return clean;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
